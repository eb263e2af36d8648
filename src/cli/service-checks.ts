// Checks beyond the schema, reported at the YAML line they concern (see config/inferenceservice.ts).
import type { ServiceCheck } from '../config/inferenceservice.js';
import { ANNOTATION_PREFIX } from '../config/annotations.js';
import { createRedactor } from '../pipeline/redaction.js';
import { resolveModelPath, SUPPORTED_MODEL_FORMATS } from '../model-server/index.js';

/** Redaction rules compile (JSON paths parse, regexes are valid). */
export const redactionCheck: ServiceCheck = (svc) => {
  const problems: Array<{ path: string[]; message: string }> = [];
  for (const comp of [svc.predictor, ...svc.others]) {
    if (!comp.logger) continue;
    try {
      createRedactor(comp.logger.redaction);
    } catch (e) {
      const key = Object.keys(svc.annotations).find((k) => k.startsWith(ANNOTATION_PREFIX + 'redact')) ?? ANNOTATION_PREFIX + 'redact-json-paths';
      problems.push({ path: ['metadata', 'annotations', key], message: (e as Error).message });
      break;
    }
  }
  return problems;
};

/** `inferlog up` can serve the predictor: a supported modelFormat whose storageUri is a local file. */
export const servableCheck: ServiceCheck = (svc) => {
  const model = svc.predictor.model;
  if (!model) {
    return [
      {
        path: ['spec', 'predictor'],
        message:
          'inferlog up serves `model: {modelFormat: {name: onnx}, storageUri: …}` predictors; for another server, run it yourself and put `inferlog agent` in front of it',
      },
    ];
  }
  if (!SUPPORTED_MODEL_FORMATS.includes(model.modelFormat)) {
    return [
      {
        path: ['spec', 'predictor', 'model', 'modelFormat', 'name'],
        message: `inferlog up cannot serve modelFormat "${model.modelFormat}"; it serves: ${SUPPORTED_MODEL_FORMATS.join(', ')}`,
      },
    ];
  }
  if (model.storageUri === undefined) return [];
  try {
    resolveModelPath(model.storageUri, svc.baseDir);
    return [];
  } catch (e) {
    return [{ path: ['spec', 'predictor', 'model', 'storageUri'], message: (e as Error).message }];
  }
};
