/**
 * Query-string validation for the API, once, at the edge (zod). Every failure names
 * the parameter and why: an InferlogError QUERY_INVALID with status 400 and `parameter`.
 */
import { z } from 'zod';
import type {
  ExchangeFilter,
  InstanceFilter,
  InstancePosition,
  PagePosition,
  PageRequest,
  StatusFilter,
} from '../store/store.js';
import { isTraceId } from '../core/trace-context.js';
import { parseDuration, parseRfc3339 } from '../core/units.js';
import { InferlogError } from '../core/errors.js';

/** `since: invalid time …`, answered 400 with `parameter` beside the message. */
function paramError(parameter: string, message: string): InferlogError {
  return new InferlogError('QUERY_INVALID', `${parameter}: ${message}`, {
    status: 400,
    details: { parameter },
  });
}

/** `since`/`until`: RFC 3339, or a duration back from `now` (`15m`). */
export function parseTimeParam(name: string, text: string, now: number): number {
  const abs = parseRfc3339(text);
  if (abs !== undefined) return abs;
  try {
    return now - parseDuration(text);
  } catch {
    throw paramError(
      name,
      `invalid time "${text.slice(0, 64)}": use RFC 3339 (2026-08-21T10:15:30Z) or a duration like 15m, 2h, 7d`,
    );
  }
}

export function parseStatusParam(text: string): StatusFilter {
  const t = text.trim().toLowerCase();
  if (/^[1-5]\d\d$/.test(t) || t === '0') return { kind: 'exact', code: Number(t) };
  const cls = /^([1-5])xx$/.exec(t);
  if (cls) return { kind: 'class', hundreds: Number(cls[1]) };
  if (t === 'error') return { kind: 'error' };
  if (t === 'incomplete') return { kind: 'incomplete' };
  throw paramError(
    'status',
    `invalid status "${text.slice(0, 32)}": use a code (200), a class (2xx…5xx), error or incomplete`,
  );
}

const text = z.string().max(1024);
const ListQuery = z
  .object({
    model: text.optional(),
    namespace: text.optional(),
    component: text.optional(),
    status: text.optional(),
    since: text.optional(),
    until: text.optional(),
    q: text.optional(),
    traceId: text.optional(),
    requestId: text.optional(),
    header: text.optional(),
    limit: text.optional(),
    cursor: z.string().max(2048).optional(),
    follow: z.enum(['true', 'false', '1', '0']).optional(),
  })
  .strict();

function zodToParamError(err: z.ZodError): InferlogError {
  const issue = err.issues[0];
  if (issue?.code === 'unrecognized_keys') return paramError(issue.keys[0] ?? '?', 'unknown parameter');
  const name = String(issue?.path[0] ?? '?');
  return paramError(
    name,
    issue?.code === 'invalid_type' ? 'give it once, as text' : (issue?.message ?? 'invalid'),
  );
}

/**
 * The exchange filters as text, before validation: the API's query parameters, and the CLI's
 * filter flags (cli/filter-flags.ts), which are sent or checked as these parameters.
 */
export interface FilterText {
  model?: string;
  namespace?: string;
  component?: string;
  status?: string;
  since?: string;
  until?: string;
  q?: string;
  traceId?: string;
  requestId?: string;
  header?: string;
}

function filterFrom(q: FilterText, now: number): ExchangeFilter {
  const f: ExchangeFilter = {};
  if (q.model !== undefined) f.model = q.model;
  if (q.namespace !== undefined) f.namespace = q.namespace;
  if (q.component !== undefined) f.component = q.component;
  if (q.status !== undefined) f.status = parseStatusParam(q.status);
  if (q.since !== undefined) f.sinceMs = parseTimeParam('since', q.since, now);
  if (q.until !== undefined) f.untilMs = parseTimeParam('until', q.until, now);
  if (q.q !== undefined && q.q !== '') f.q = q.q;
  if (q.traceId !== undefined) {
    if (!isTraceId(q.traceId))
      throw paramError('traceId', 'must be a W3C trace id: 32 hex digits, not all zero');
    f.traceId = q.traceId.toLowerCase();
  }
  if (q.requestId !== undefined && q.header !== undefined)
    throw paramError('header', 'give requestId or header, not both');
  if (q.requestId !== undefined) f.header = { name: 'x-request-id', value: q.requestId };
  if (q.header !== undefined) f.header = parseHeaderParam(q.header);
  return f;
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** `header=X-Request-Id:abc`: a request header the exchange carried (name in any case, value exact). */
export function parseHeaderParam(text: string): { name: string; value: string } {
  const at = text.indexOf(':');
  const name = at < 0 ? '' : text.slice(0, at).trim();
  if (!HEADER_NAME.test(name))
    throw paramError(
      'header',
      'use Name:value, e.g. header=X-Request-Id:7f3c2a1e (a header name, a colon, the value)',
    );
  return { name, value: text.slice(at + 1).trim() };
}

export function encodeCursor(pos: PagePosition): string {
  const raw = pos.kind === 'seq' ? { k: 's', s: pos.seq } : { k: 't', t: pos.timeMs, i: pos.id };
  return Buffer.from(JSON.stringify(raw)).toString('base64url');
}

const CursorShape = z.union([
  z.object({ k: z.literal('s'), s: z.number().int().nonnegative() }),
  z.object({ k: z.literal('t'), t: z.number().finite(), i: z.string() }),
]);

export function decodeCursor(text: string): PagePosition {
  try {
    const v = CursorShape.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return v.k === 's' ? { kind: 'seq', seq: v.s } : { kind: 'time', timeMs: v.t, id: v.i };
  } catch {
    throw paramError('cursor', 'not a cursor this API returned');
  }
}

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 50;

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > MAX_LIMIT)
    throw paramError('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  return limit;
}

export function parseListQuery(query: unknown, now: number): { filter: ExchangeFilter; page: PageRequest } {
  const r = ListQuery.safeParse(query ?? {});
  if (!r.success) throw zodToParamError(r.error);
  const q = r.data;
  const filter = filterFrom(q, now);
  const limit = parseLimit(q.limit);
  const order = q.follow === 'true' || q.follow === '1' ? 'follow' : 'newest';
  const page: PageRequest = { limit, order };
  if (q.cursor !== undefined) {
    const pos = decodeCursor(q.cursor);
    if ((pos.kind === 'seq') !== (order === 'follow'))
      throw paramError(
        'cursor',
        order === 'follow'
          ? 'this cursor is from a listing without follow'
          : 'this cursor is from a follow listing',
      );
    page.after = pos;
  }
  return { filter, page };
}

const StatsQuery = z
  .object({
    model: text.optional(),
    namespace: text.optional(),
    component: text.optional(),
    status: text.optional(),
    since: text.optional(),
    until: text.optional(),
  })
  .strict();

export function parseStatsQuery(
  query: unknown,
  now: number,
): { filter: ExchangeFilter; window: { sinceMs: number; untilMs: number } } {
  const r = StatsQuery.safeParse(query ?? {});
  if (!r.success) throw zodToParamError(r.error);
  const filter = filterFrom(r.data, now);
  const window = { sinceMs: filter.sinceMs ?? now - 3_600_000, untilMs: filter.untilMs ?? now + 1 };
  delete filter.sinceMs;
  delete filter.untilMs;
  if (window.untilMs <= window.sinceMs) throw paramError('until', 'must be after since');
  return { filter, window };
}

const EraseQuery = ListQuery.omit({ limit: true, cursor: true, follow: true })
  .extend({ all: z.enum(['true'], { error: 'only all=true, alone: it erases every exchange' }).optional() })
  .strict();

/**
 * `DELETE /api/v1/exchanges?…`: the list's filters, and nothing else. No filter at all is
 * refused, so a forgotten parameter never erases the whole store; `all=true` says it on purpose.
 */
export function parseEraseQuery(query: unknown, now: number): ExchangeFilter {
  const r = EraseQuery.safeParse(query ?? {});
  if (!r.success) throw zodToParamError(r.error);
  const { all, ...rest } = r.data;
  const filter = filterFrom(rest, now);
  if (Object.keys(filter).length === 0 && all !== 'true')
    throw paramError(
      'filter',
      'erasure needs a filter (requestId, header, model, namespace, since, until, q, traceId…); to erase every exchange on purpose, give all=true',
    );
  if (Object.keys(filter).length > 0 && all === 'true')
    throw paramError('all', 'all=true erases everything: give it alone, without filters');
  return filter;
}

/** `GET /api/v1/instances`: the exchange listing's model/namespace/component/time filters and paging. */
const InstanceQuery = z
  .object({
    model: text.optional(),
    namespace: text.optional(),
    component: text.optional(),
    since: text.optional(),
    until: text.optional(),
    limit: text.optional(),
    cursor: z.string().max(2048).optional(),
  })
  .strict();

const InstanceCursorShape = z.object({
  k: z.literal('i'),
  t: z.number().finite(),
  key: z.string().max(256),
  i: z.number().int().nonnegative(),
});

export function encodeInstanceCursor(pos: InstancePosition): string {
  return Buffer.from(JSON.stringify({ k: 'i', t: pos.timeMs, key: pos.key, i: pos.index })).toString(
    'base64url',
  );
}

export function parseInstanceQuery(
  query: unknown,
  now: number,
): { filter: InstanceFilter; page: { limit: number; after?: InstancePosition } } {
  const r = InstanceQuery.safeParse(query ?? {});
  if (!r.success) throw zodToParamError(r.error);
  const q = r.data;
  const filter: InstanceFilter = filterFrom(q, now);
  const page: { limit: number; after?: InstancePosition } = { limit: parseLimit(q.limit) };
  if (q.cursor !== undefined) {
    try {
      const c = InstanceCursorShape.parse(JSON.parse(Buffer.from(q.cursor, 'base64url').toString('utf8')));
      page.after = { timeMs: c.t, key: c.key, index: c.i };
    } catch {
      throw paramError('cursor', 'not a cursor this API returned');
    }
  }
  return { filter, page };
}
