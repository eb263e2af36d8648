/**
 * KServe's `spec.<component>.logger` (LoggerSpec), validated as the CRD does (its field names are
 * checked with every other level against kserve-schema.json) plus KServe's webhook rules, with
 * messages that say how to fix the value.
 */
import { z } from 'zod';
import { LOG_MODES } from '../core/exchange.js';
import { sinkUrlProblem } from '../sinks/schemes.js';
import { parseDuration } from '../core/units.js';
import { STORE_FORMATS } from './settings.js';

const STORAGE_HINTS = {
  path: ', e.g. path: /logs (the key part after <namespace>/<isvc>/<component>)',
  parameters: ', e.g. parameters: {format: parquet} (json, csv or parquet)',
  key: ', e.g. key: default (the entry of the storage secret)',
} as const;

/** KServe's default `--log-marshaller-port` (its agent serves the embedded marshaller there). */
export const DEFAULT_MARSHALLER_PORT = 9083;

/**
 * True when a marshaller URL names KServe's embedded marshaller (`http://localhost:<port>/marshal`,
 * the default): inferlog then marshals in-process. Any other URL is a service of the user's own.
 */
export function isEmbeddedMarshaller(url: string, port: number): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return (
    u.protocol === 'http:' &&
    (host === 'localhost' || host === '127.0.0.1' || host === '::1') &&
    Number(u.port || 80) === port
  );
}

/** A marshaller service URL's problem (KServe POSTs batches to it), if any. */
export function marshallerUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url.slice(0, 200)}" is not a URL (e.g. http://localhost:9083/marshal)`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `the marshaller URL must be http:// or https://, not ${parsed.protocol}//`;
  if (parsed.username || parsed.password) return 'credentials in the marshaller URL are not supported';
  return undefined;
}

/** What a user coming from other loggers (or older docs) writes instead of KServe's modes. */
const MODE_HINTS: Record<string, string> = {
  requestresponse: 'use `all` to log requests and responses',
  both: 'use `all` to log requests and responses',
  req: 'use `request`',
  res: 'use `response`',
  resp: 'use `response`',
};

/** The logger URL's problem, if any (sinks/schemes.ts holds the per-scheme checks). */
export function checkLoggerUrl(url: string): string | undefined {
  return sinkUrlProblem(url);
}

export const loggerSpecSchema = z
  .object({
    url: z
      .string()
      .optional()
      .superRefine((url, ctx) => {
        if (url === undefined || url === '') return;
        const problem = checkLoggerUrl(url);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    mode: z
      .string()
      .optional()
      .superRefine((mode, ctx) => {
        if (mode === undefined || (LOG_MODES as readonly string[]).includes(mode)) return;
        const hint = MODE_HINTS[mode.toLowerCase()];
        ctx.addIssue({
          code: 'custom',
          message: `invalid mode "${mode}": ${hint ?? `must be one of ${LOG_MODES.join(', ')}`}`,
        });
      }),
    metadataHeaders: z
      .array(z.string({ error: 'must be a header name' }).min(1, 'must not be empty'), {
        error: 'must be a list of header names, e.g. [X-Request-Id]',
      })
      .optional(),
    metadataAnnotations: z
      .array(z.string({ error: 'must be an annotation key' }).min(1, 'must not be empty'), {
        error: 'must be a list of annotation keys, e.g. [serving.kserve.io/deploymentMode]',
      })
      .optional(),
    storage: z
      .object({
        path: z.string().optional(),
        parameters: z.record(z.string(), z.string()).optional(),
        key: z.string().optional(),
        serviceAccountName: z.string().optional(),
      })
      .strict()
      .optional()
      .superRefine((storage, ctx) => {
        if (storage === undefined) return;
        // KServe's webhook (component.go validateLogger): path, parameters and key all required.
        for (const field of ['path', 'parameters', 'key'] as const) {
          if (storage[field] === undefined)
            ctx.addIssue({
              code: 'custom',
              path: [field],
              message: `required when storage is set (KServe: "invalid logger storage configuration")${STORAGE_HINTS[field]}`,
            });
        }
        const format = storage.parameters?.format;
        if (format !== undefined && !(STORE_FORMATS as readonly string[]).includes(format.toLowerCase()))
          ctx.addIssue({
            code: 'custom',
            path: ['parameters', 'format'],
            message: `invalid format "${format}": must be one of ${STORE_FORMATS.join(', ')}`,
          });
      }),
    marshallerUrl: z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        if (v === undefined || v === '') return;
        const problem = marshallerUrlProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    batchSize: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
    batchInterval: z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        if (v === undefined) return;
        try {
          parseDuration(v);
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
        }
      }),
  })
  .strict();

export type LoggerSpec = z.infer<typeof loggerSpecSchema>;
