/**
 * Loads a KServe InferenceService YAML (the same file you would `kubectl apply`) into
 * frozen settings for `inferlog up`.
 *
 *   YAML text ──parse (positions kept)──┬─▶ field names at every level (KServe's schema, did-you-mean)
 *                                       ├─▶ zod schema (CRD + KServe webhook rules, for what inferlog reads)
 *                                       ├─▶ inferlog.dev/* annotations
 *                                       └─▶ (all passed the schema) ServiceConfig ──▶ checks (model file…)
 *
 * Every problem is reported at once, sorted by position, as `FILE:LINE:COL: field.path: message`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { z } from 'zod';
import type { LogMode } from '../core/exchange.js';
import { ANNOTATION_PREFIX, EXTENSION_KEYS, EXTENSION_OPTIONS } from './annotations.js';
import { configError, type ConfigProblem } from './config-error.js';
import { kserveFieldProblems } from './kserve-fields.js';
import {
  DEFAULT_MARSHALLER_PORT,
  isEmbeddedMarshaller,
  loggerSpecSchema,
  type LoggerSpec,
} from './logger-spec.js';
import {
  BATCHER_SETTING_DEFAULTS,
  defaultLoggerSettings,
  type BatcherSettings,
  type LoggerSettings,
  type StoreFormat,
} from './settings.js';
import { parseDuration } from '../core/units.js';

const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

const modelSpecSchema = z
  .object({
    modelFormat: z.object({ name: z.string().min(1), version: z.string().optional() }).passthrough(),
    storageUri: z.string().optional(),
    runtime: z.string().optional(),
    protocolVersion: z.string().optional(),
  })
  .passthrough();

// KServe's Batcher type: *int fields; its agent refuses values that are not above 0 (it exits at start).
const positiveInt = z.number().int('must be an integer').positive('must be above 0');
const batcherSchema = z
  .object({
    maxBatchSize: positiveInt.optional(),
    maxLatency: positiveInt.optional(),
    // Accepted as in KServe's CRD; its agent does not read it either.
    timeout: z.number().int('must be an integer').optional(),
  })
  .strict();

// Components carry any pod-spec field Kubernetes allows; we validate what we read.
const componentSchema = z
  .object({
    logger: loggerSpecSchema.optional(),
    batcher: batcherSchema.optional(),
    model: modelSpecSchema.optional(),
  })
  .passthrough();

const isvcSchema = z.object({
  apiVersion: z.string().refine((v) => v.startsWith('serving.kserve.io/'), {
    message: 'must be serving.kserve.io/v1beta1 for an InferenceService',
  }),
  kind: z.literal('InferenceService'),
  metadata: z
    .object({
      name: z
        .string()
        .max(63, 'must be at most 63 characters')
        .regex(
          DNS_1035,
          'must be a DNS-1035 label: lower-case letters, digits and -, starting with a letter',
        ),
      namespace: z.string().optional(),
      annotations: z
        .record(z.string(), z.string({ error: 'annotation values must be strings: quote them' }))
        .optional(),
      labels: z.record(z.string(), z.string()).optional(),
    })
    .passthrough(),
  spec: z
    .object({
      predictor: componentSchema,
      transformer: componentSchema.optional(),
      explainer: componentSchema.optional(),
    })
    .passthrough(),
});

type IsvcDoc = z.infer<typeof isvcSchema>;

export type ComponentName = 'predictor' | 'transformer' | 'explainer';

export interface ComponentConfig {
  component: ComponentName;
  /** Undefined when the component has no `logger` block: nothing is logged. */
  logger: LoggerSettings | undefined;
  /** Undefined when the component has no `batcher` block: requests go to the model one by one. */
  batcher: BatcherSettings | undefined;
  model: { modelFormat: string; storageUri: string | undefined } | undefined;
}

export interface ServiceConfig {
  file: string;
  /** Directory of the YAML file: relative storageUris resolve against it. */
  baseDir: string;
  name: string;
  namespace: string;
  annotations: Record<string, string>;
  predictor: ComponentConfig;
  others: ComponentConfig[];
}

/** Builds LoggerSettings from a validated LoggerSpec and the ISVC's inferlog.dev/* annotations. */
export function loggerSettingsFrom(spec: LoggerSpec, annotations: Record<string, string>): LoggerSettings {
  const s = defaultLoggerSettings();
  s.url = spec.url === '' ? undefined : spec.url;
  s.mode = (spec.mode ?? 'all') as LogMode;
  s.metadataHeaders = spec.metadataHeaders ?? [];
  s.metadataAnnotations = spec.metadataAnnotations ?? [];
  s.batchSize = spec.batchSize ?? 1;
  s.batchIntervalMs = spec.batchInterval ? parseDuration(spec.batchInterval) : 0;
  if (spec.storage !== undefined || spec.marshallerUrl) {
    const format = (spec.storage?.parameters?.format ?? 'json').toLowerCase() as StoreFormat;
    s.store = {
      path: spec.storage?.path ?? '',
      format,
      ...(spec.storage?.key !== undefined ? { key: spec.storage.key } : {}),
      ...(spec.marshallerUrl && !isEmbeddedMarshaller(spec.marshallerUrl, DEFAULT_MARSHALLER_PORT)
        ? { marshallerUrl: spec.marshallerUrl }
        : {}),
    };
  }
  for (const opt of EXTENSION_OPTIONS) {
    const raw = annotations[ANNOTATION_PREFIX + opt.key];
    if (raw !== undefined) opt.apply(s, raw);
  }
  return s;
}

function positionOf(
  doc: Document,
  lines: LineCounter,
  pathParts: readonly PropertyKey[],
): { line: number; col: number } {
  // Walk down as far as the path exists; report the deepest node we can find (a missing
  // field is reported at its parent).
  for (let n = pathParts.length; n >= 0; n--) {
    const node = doc.getIn(pathParts.slice(0, n) as unknown[], true) as
      { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) {
      // For a map key path, point at the key rather than the value when we can.
      const parent = n > 0 ? doc.getIn(pathParts.slice(0, n - 1) as unknown[], true) : undefined;
      if (isMap(parent)) {
        const pair = parent.items.find(
          (p) => (p.key as { value?: unknown } | null)?.value === pathParts[n - 1],
        );
        const keyRange = (pair?.key as { range?: [number, number, number] } | null)?.range;
        if (keyRange) return lines.linePos(keyRange[0]);
      }
      return lines.linePos(node.range[0]);
    }
  }
  return { line: 1, col: 1 };
}

/** inferlog.dev/* annotations: known names (did-you-mean otherwise), values that parse. */
function annotationProblems(
  annotations: Record<string, unknown>,
  loggerUrls: readonly unknown[] = [],
): Array<{ path: string[]; message: string }> {
  const out: Array<{ path: string[]; message: string }> = [];
  // The exchanges layout writes Parquet objects: its logger URL must name a blob store or a directory.
  if (annotations[`${ANNOTATION_PREFIX}blob-layout`] === 'exchanges') {
    const bad = loggerUrls.find((u) => typeof u !== 'string' || !/^(s3|gs|abfss?|file):\/\/|^\//.test(u));
    if (bad !== undefined || loggerUrls.length === 0)
      out.push({
        path: ['metadata', 'annotations', `${ANNOTATION_PREFIX}blob-layout`],
        message: `layout exchanges writes Parquet to blob storage: logger.url must be s3://, gs://, abfs:// or a directory (file:///…), not ${bad === undefined ? 'unset' : JSON.stringify(String(bad).slice(0, 100))}`,
      });
  }
  for (const [key, raw] of Object.entries(annotations)) {
    if (!key.startsWith(ANNOTATION_PREFIX)) continue;
    const name = key.slice(ANNOTATION_PREFIX.length);
    const opt = EXTENSION_OPTIONS.find((o) => o.key === name);
    const p = ['metadata', 'annotations', key];
    if (!opt) {
      out.push({
        path: p,
        message: `unknown inferlog annotation; known: ${EXTENSION_KEYS.map((k) => ANNOTATION_PREFIX + k).join(', ')}`,
      });
      continue;
    }
    if (typeof raw !== 'string') continue; // the schema says: quote it
    try {
      opt.apply(defaultLoggerSettings(), raw);
    } catch (e) {
      out.push({ path: p, message: (e as Error).message });
    }
  }
  // A client certificate needs its key and the reverse (the files themselves are read where they
  // are mounted: cli/service-checks.ts).
  const cert = ANNOTATION_PREFIX + 'log-client-cert';
  const key = ANNOTATION_PREFIX + 'log-client-key';
  if (cert in annotations !== key in annotations) {
    const [there, missing] = cert in annotations ? [cert, key] : [key, cert];
    out.push({ path: ['metadata', 'annotations', there], message: `needs ${missing} too` });
  }
  return out;
}

/**
 * A check that needs more than the schema (does the model file exist, does a redaction path
 * parse). Returns problems with the field path they concern; they are reported at that line.
 */
export type ServiceCheck = (service: ServiceConfig) => Array<{ path: string[]; message: string }>;

/** Validates `text` (the content of `file`); returns every InferenceService in it or throws CONFIG_INVALID. */
export function parseInferenceServices(
  text: string,
  file: string,
  checks: readonly ServiceCheck[] = [],
): ServiceConfig[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const problems: ConfigProblem[] = [];
  const at = (doc: Document, p: readonly PropertyKey[], message: string): void => {
    const { line, col } = positionOf(doc, lines, p);
    problems.push({ file, line, col, path: p.map(String).join('.') || '(document)', message });
  };
  if (!Array.isArray(docs)) return [];
  const services: ServiceConfig[] = [];
  for (const doc of docs) {
    for (const err of doc.errors) {
      const { line, col } = lines.linePos(err.pos[0]);
      problems.push({ file, line, col, path: '(yaml)', message: err.message.split('\n')[0] ?? err.message });
    }
    if (doc.errors.length > 0) continue;
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    // Multi-document files (like KServe's samples) may hold other kinds: skip those.
    if (typeof value === 'object' && (value as { kind?: unknown }).kind !== 'InferenceService') continue;
    // Field names and shapes at every level; zod then checks the values inferlog reads. A path
    // both report (a string where a list belongs) keeps the field check's message.
    const fieldProblems = kserveFieldProblems(value);
    for (const p of fieldProblems) at(doc, p.path, p.message);
    const reported = new Set(fieldProblems.map((p) => p.path.join('.')));
    const annotationsValue = (value as { metadata?: { annotations?: unknown } }).metadata?.annotations;
    if (annotationsValue !== null && typeof annotationsValue === 'object') {
      const spec =
        (value as { spec?: Record<string, { logger?: { url?: unknown } } | undefined> }).spec ?? {};
      const loggerUrls = ['predictor', 'transformer', 'explainer']
        .map((c) => spec[c]?.logger)
        .filter((l) => l !== undefined && l !== null)
        .map((l) => l.url);
      for (const p of annotationProblems(annotationsValue as Record<string, unknown>, loggerUrls))
        at(doc, p.path, p.message);
    }
    const parsed = isvcSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        // Unknown keys are the field check's (with did-you-mean).
        if (issue.code === 'unrecognized_keys' || reported.has(issue.path.join('.'))) continue;
        at(doc, issue.path, issue.message);
      }
      continue;
    }
    const isvc: IsvcDoc = parsed.data;
    const annotations = isvc.metadata.annotations ?? {};
    const components: ComponentConfig[] = [];
    for (const name of ['predictor', 'transformer', 'explainer'] as const) {
      const comp = isvc.spec[name];
      if (!comp) continue;
      let logger: LoggerSettings | undefined;
      if (comp.logger) {
        try {
          logger = loggerSettingsFrom(comp.logger, annotations);
        } catch {
          logger = undefined; // the annotation problem is already reported above
        }
      }
      const storageUri = comp.model?.storageUri;
      components.push({
        component: name,
        logger,
        batcher: comp.batcher
          ? {
              maxBatchSize: comp.batcher.maxBatchSize ?? BATCHER_SETTING_DEFAULTS.maxBatchSize,
              maxLatencyMs: comp.batcher.maxLatency ?? BATCHER_SETTING_DEFAULTS.maxLatencyMs,
            }
          : undefined,
        model: comp.model ? { modelFormat: comp.model.modelFormat.name, storageUri } : undefined,
      });
    }
    const service: ServiceConfig = {
      file,
      baseDir: path.dirname(path.resolve(file)),
      name: isvc.metadata.name,
      namespace: isvc.metadata.namespace ?? 'default',
      annotations,
      predictor: components[0] as ComponentConfig,
      others: components.slice(1),
    };
    for (const check of checks) for (const p of check(service)) at(doc, p.path, p.message);
    services.push(service);
  }
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line || a.col - b.col);
    throw configError(problems);
  }
  if (services.length === 0) {
    throw configError([
      {
        file,
        line: 1,
        col: 1,
        path: '(document)',
        message: 'no InferenceService (kind: InferenceService) in this file',
      },
    ]);
  }
  return services;
}

export function loadInferenceServices(file: string, checks: readonly ServiceCheck[] = []): ServiceConfig[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw configError([
      {
        file,
        line: 0,
        col: 0,
        path: '(file)',
        message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      },
    ]);
  }
  return parseInferenceServices(text, file, checks);
}
