/**
 * KServe's `spec.<component>.logger` (LoggerSpec), validated as the CRD does (its field names are
 * checked with every other level against kserve-schema.json) plus KServe's webhook rules, with
 * messages that say how to fix the value.
 */
import { z } from 'zod';
import { LOG_MODES } from '../core/exchange.js';
import { sinkUrlProblem } from '../sinks/schemes.js';
import { parseDuration } from '../core/units.js';

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
      .optional(),
    marshallerUrl: z.string().optional(),
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
