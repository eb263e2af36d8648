/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate`
 * request headers, parsed strictly, and the ids inferlog makes when a request has none.
 *
 *   traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
 *                ver trace-id (32 hex)                 parent-id (16)   flags
 *
 * Every client is potentially hostile: a value that is not a valid traceparent is ignored, as the
 * spec says (the exchange then gets a fresh trace, exactly as if the header were absent), so a
 * malformed or oversized header can neither crash capture nor forge an id that does not parse.
 * `tracestate` is kept only alongside a valid traceparent and only when it is well-formed.
 */
import { randomFillSync } from 'node:crypto';

/** An exchange's place in a distributed trace. */
export interface TraceContext {
  /** 32 lower-case hex digits, never all zero. */
  traceId: string;
  /**
   * 16 lower-case hex digits: the span this exchange is logged under. The caller's span (the
   * inbound traceparent's parent-id) when spans are off; inferlog's own span when they are on;
   * a fresh id when the trace was started here.
   */
  spanId: string;
  /** The caller's span (inbound parent-id), when the request carried a valid traceparent. */
  parentSpanId?: string;
  /** trace-flags as a number (bit 0: sampled). */
  flags: number;
  /** The inbound `tracestate`, when valid. */
  tracestate?: string;
  /** True when the request had no (valid) traceparent and inferlog started the trace. */
  generated?: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** The spec's limit: 32 list members; 512 characters is what a platform must at least propagate. */
const MAX_TRACESTATE_MEMBERS = 32;
const MAX_TRACESTATE_LENGTH = 512;
const TRACESTATE_KEY =
  /^(?:[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})$/;
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** Parsed inbound header, or undefined when it is absent or invalid (then: ignore it). */
export interface ParsedTraceparent {
  traceId: string;
  parentId: string;
  flags: number;
}

/**
 * Parses one `traceparent` value per W3C Trace Context level 1 §3.2. Version ff and all-zero ids
 * are invalid; version 00 must have exactly four fields; a future version may carry more after a `-`.
 * Upper-case hex is invalid. Repeated headers (an array, or a comma-joined value) are invalid.
 */
export function parseTraceparent(value: string | string[] | undefined): ParsedTraceparent | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (m === null) return undefined;
  const [, version, traceId, parentId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff') return undefined;
  if (version === '00' && rest !== undefined) return undefined;
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  return { traceId, parentId, flags: parseInt(flags, 16) };
}

/**
 * The inbound `tracestate`, or undefined when absent or invalid. Several header lines are joined
 * with commas (RFC 9110 list semantics, as the spec says); any malformed member or a list over
 * the spec's limits discards the whole value (the spec allows dropping it).
 */
export function parseTracestate(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const joined = Array.isArray(value) ? value.join(',') : value;
  if (joined.length > MAX_TRACESTATE_LENGTH) return undefined;
  const members = joined
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (members.length === 0 || members.length > MAX_TRACESTATE_MEMBERS) return undefined;
  const keys = new Set<string>();
  for (const member of members) {
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    if (!TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(member.slice(eq + 1)) || keys.has(key))
      return undefined;
    keys.add(key);
  }
  return members.join(',');
}

/**
 * Random bytes for ids come from a pool refilled 4 KiB at a time: one `randomBytes` call per id
 * costs ~8 µs on a busy machine, on the request path of every exchange without a trace.
 */
const pool = Buffer.allocUnsafe(4096);
let poolAt = pool.length;

/** A random non-zero id of `bytes` bytes as lower-case hex. */
function randomId(bytes: number): string {
  for (;;) {
    if (poolAt + bytes > pool.length) {
      randomFillSync(pool);
      poolAt = 0;
    }
    const id = pool.toString('hex', poolAt, poolAt + bytes);
    poolAt += bytes;
    if (!/^0+$/.test(id)) return id;
  }
}

export const newTraceId = (): string => randomId(16);
export const newSpanId = (): string => randomId(8);

/**
 * The trace context of one request, from its headers: the caller's when valid (span = the caller's
 * span, nothing invented), else a fresh trace (not sampled: nobody traced it) so the exchange's
 * request and response events still join on one trace id.
 */
export function traceContextFromHeaders(headers: {
  traceparent?: string | string[] | undefined;
  tracestate?: string | string[] | undefined;
}): TraceContext {
  const parent = parseTraceparent(headers.traceparent);
  if (parent === undefined) return { traceId: newTraceId(), spanId: newSpanId(), flags: 0, generated: true };
  const ctx: TraceContext = {
    traceId: parent.traceId,
    spanId: parent.parentId,
    parentSpanId: parent.parentId,
    flags: parent.flags,
  };
  const state = parseTracestate(headers.tracestate);
  if (state !== undefined) ctx.tracestate = state;
  return ctx;
}

/** The `traceparent` value (version 00) for a trace context's span. */
export function formatTraceparent(ctx: Pick<TraceContext, 'traceId' | 'spanId' | 'flags'>): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.flags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A trace id as a query filter accepts it: 32 hex digits, any case (stored lower-case). */
export function isTraceId(s: string): boolean {
  return /^[0-9a-fA-F]{32}$/.test(s) && !/^0+$/.test(s);
}
