/**
 * InferenceService YAML for `inferlog up`, derived from the shipped example so the bench
 * serves exactly the model users run: the example's predictor, with the logger section
 * replaced (or removed for "logging off").
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

export interface LoggerSection {
  mode: 'all' | 'request' | 'response';
  url: string;
  batchSize?: number;
  /** Go duration, as KServe writes it: `50ms`. */
  batchInterval?: string;
}

export function writeIsvcYaml(examplePath: string, outPath: string, logger: LoggerSection | undefined): void {
  const docs = parseAllDocuments(readFileSync(examplePath, 'utf8')).map((d) => d.toJS() as unknown);
  const isvc = docs.find(
    (d): d is { kind: string; spec: { predictor: Record<string, unknown> } } =>
      typeof d === 'object' && d !== null && (d as { kind?: unknown }).kind === 'InferenceService',
  );
  if (!isvc) throw new Error(`${examplePath}: no InferenceService document`);
  // The copy lives in a temp dir: relative storageUris must keep pointing where the example meant.
  const model = isvc.spec.predictor.model as { storageUri?: unknown } | undefined;
  if (
    model &&
    typeof model.storageUri === 'string' &&
    !/^[a-z][a-z0-9+.-]*:/i.test(model.storageUri) &&
    !isAbsolute(model.storageUri)
  ) {
    model.storageUri = resolve(dirname(examplePath), model.storageUri);
  }
  delete isvc.spec.predictor.logger;
  if (logger) isvc.spec.predictor.logger = { ...logger };
  writeFileSync(outPath, stringify(isvc));
}
