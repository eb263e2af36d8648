/**
 * `inferlog replay` flags → validated, typed options (validated once, here, at the edge).
 * Every message names the flag, so a usage error (USAGE_INVALID, exit 2) tells the person what to fix.
 */
import { z } from 'zod';
import { InferlogError, isInferlogError } from '../core/errors.js';
import { parseDuration } from '../core/units.js';
import type { HeaderRule, PathRewrite, ReplayOptions } from '../replay/options.js';

/** What commander hands over: strings, repeatable flags as arrays. */
export interface RawReplayFlags {
  from: string;
  to?: string;
  model?: string;
  namespace?: string;
  component?: string;
  status?: string;
  since?: string;
  until?: string;
  q?: string;
  limit: string;
  path: string;
  pathRewrite: string[];
  renameModel?: string;
  concurrency: string;
  rate?: string;
  timeout: string;
  compare: string;
  tolerance: string;
  ignore: string[];
  header: string[];
  replayId: boolean;
  anyRoute?: boolean;
  dryRun: boolean;
  format: string;
  report?: string;
}

function usage(message: string): InferlogError {
  return new InferlogError('USAGE_INVALID', message);
}

const httpUrl = (flag: string) =>
  z.string().transform((s, ctx) => {
    try {
      const u = new URL(s);
      if (u.protocol === 'http:' || u.protocol === 'https:') return u;
    } catch {
      // not a URL: the issue below says what to give
    }
    ctx.addIssue({
      code: 'custom',
      message: `${flag} "${s}": use an http(s) URL like http://127.0.0.1:8081`,
    });
    return z.NEVER;
  });

const positiveInt = (flag: string, max: number) =>
  z.string().transform((s, ctx) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      ctx.addIssue({ code: 'custom', message: `${flag} "${s}": use a whole number from 1 to ${max}` });
      return z.NEVER;
    }
    return n;
  });

/** `50/s`, `300/m`, `2/h`, or a bare number (per second). */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|m|h))?\s*$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!m || !(n > 0)) throw usage(`--rate "${text}": use requests per unit, e.g. 50/s, 300/m`);
  const per = m[2] === 'm' ? 60 : m[2] === 'h' ? 3600 : 1;
  return n / per;
}

export function parseHeaderRule(text: string): HeaderRule {
  const i = text.indexOf(':');
  const name = (i < 0 ? text : text.slice(0, i)).trim();
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw usage(`--header "${text}": use 'Name: value' (or just 'Name' to re-send the captured value)`);
  }
  return i < 0 ? { name } : { name, value: text.slice(i + 1).trim() };
}

export function parsePathRewrite(text: string): PathRewrite {
  const i = text.indexOf('=');
  const from = i < 0 ? '' : text.slice(0, i);
  if (!from.startsWith('/')) {
    throw usage(
      `--path-rewrite "${text}": use FROM=TO with path prefixes, e.g. /v1/models/old=/v1/models/new`,
    );
  }
  return { from, to: text.slice(i + 1) };
}

const schema = z.object({
  from: httpUrl('--from'),
  to: z
    .string({
      error: '--to is required: the model server to replay against, e.g. --to http://127.0.0.1:8081',
    })
    .pipe(httpUrl('--to')),
  limit: positiveInt('--limit', 1_000_000),
  concurrency: positiveInt('--concurrency', 1024),
  compare: z.enum(['exact', 'json', 'none'], {
    error: (i) => `--compare "${String(i.input)}": use exact, json or none`,
  }),
  format: z.enum(['table', 'json', 'jsonl'], {
    error: (i) => `--format "${String(i.input)}": use table, json or jsonl`,
  }),
  tolerance: z.string().transform((s, ctx) => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n) || n < 0) {
      ctx.addIssue({ code: 'custom', message: `--tolerance "${s}": use a non-negative number, e.g. 1e-6` });
      return z.NEVER;
    }
    return n;
  }),
  path: z.string().refine((s) => s.startsWith('/'), {
    message: '--path must start with /, e.g. /v1/models/{model}:predict',
  }),
});

export function parseReplayFlags(raw: RawReplayFlags): ReplayOptions {
  const r = schema.safeParse(raw);
  if (!r.success) throw usage(r.error.issues.map((i) => i.message).join('; '));
  const v = r.data;
  let timeoutMs: number;
  let ratePerSecond: number | undefined;
  let headers: HeaderRule[];
  let pathRewrites: PathRewrite[];
  try {
    timeoutMs = parseDuration(raw.timeout);
    if (!(timeoutMs > 0)) throw new RangeError('must be more than 0');
    ratePerSecond = raw.rate === undefined ? undefined : parseRate(raw.rate);
    headers = raw.header.map(parseHeaderRule);
    pathRewrites = raw.pathRewrite.map(parsePathRewrite);
  } catch (e) {
    if (isInferlogError(e)) throw e;
    throw usage(`--timeout "${raw.timeout}": ${(e as Error).message}`);
  }
  if (raw.renameModel !== undefined && !/^[^/:?#\s]+$/.test(raw.renameModel)) {
    throw usage(`--rename-model "${raw.renameModel}": a model name cannot contain / : ? # or spaces`);
  }
  const filter: ReplayOptions['filter'] = {};
  for (const k of ['model', 'namespace', 'component', 'status', 'since', 'until', 'q'] as const) {
    const val = raw[k];
    if (val !== undefined) filter[k] = val;
  }
  const opts: ReplayOptions = {
    from: v.from.href,
    to: v.to,
    filter,
    limit: v.limit,
    path: v.path,
    pathRewrites,
    concurrency: v.concurrency,
    timeoutMs,
    compare: v.compare,
    tolerance: v.tolerance,
    ignore: raw.ignore.map((p) => p.replace(/\[\d+\]/g, '[*]').replace(/^\$\.?/, '') || '$'),
    headers,
    replayId: raw.replayId,
    anyRoute: raw.anyRoute === true,
    dryRun: raw.dryRun,
    format: v.format,
  };
  if (ratePerSecond !== undefined) opts.ratePerSecond = ratePerSecond;
  if (raw.renameModel !== undefined) opts.renameModel = raw.renameModel;
  if (raw.report !== undefined) opts.report = raw.report;
  return opts;
}
