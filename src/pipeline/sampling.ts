/**
 * The sampler: keeps a deterministic fraction of exchanges, and always keeps the ones that matter.
 *
 *   capture ──Exchange (complete: status, latency, error known)──▶ sampler ──▶ redactor ──▶ buffer
 *                                                                    │
 *                                    forced? (error / status ≥ N / slow) ──yes──▶ keep, weight 1
 *                                                                    │no
 *                                    sampleScore(id) < rate ──yes──▶ keep, weight 1/rate
 *                                                                    │no
 *                                                                    └──▶ drop (hooks.sampledOut)
 *
 * Capture always captures; the decision is taken here, at the end of the exchange, so a call that
 * would have been sampled out but then failed or was slow is logged whole.
 *
 * The decision for the sampled population depends only on the exchange id (sampleScore below), so
 * every hop that shares an id (transformer, predictor, another process or language) keeps or drops
 * the same exchanges, and the request and response events of one exchange always agree.
 */
import type { Exchange } from '../core/exchange.js';
import { latencyMs } from '../core/exchange.js';
import type { SamplingOptions } from '../config/settings.js';
import type { Stage } from './types.js';

/**
 * Why an exchange was kept.
 * - `all`: sampling is off (rate ≥ 1); weight 1.
 * - `sampled`: its id scored under the rate; weight 1/rate.
 * - `error`: no proper response — status 0, an `error`, or a stream that ended early; weight 1.
 * - `status`: status ≥ keepStatusAtLeast; weight 1.
 * - `slow`: latency > keepSlowerThanMs; weight 1.
 */
export type KeepReason = 'sampled' | 'status' | 'slow' | 'error' | 'all';

export interface SamplerHooks {
  /** Called for each dropped exchange (metrics: `inferlog_exchanges_sampled_out_total`). */
  sampledOut?(ex: Exchange): void;
  /** Called for each kept exchange with the first rule that kept it. Must not retain or export `ex`. */
  kept?(ex: Exchange, reason: KeepReason): void;
}

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;
const TWO_POW_32 = 4294967296;

/**
 * The sampling score of an exchange id, a number in [0, 1). The exact algorithm, so any process or
 * language can reproduce it:
 *
 *   1. h = FNV-1a 32-bit over the UTF-8 bytes of the id
 *        h = 0x811c9dc5; for each byte b: h = (h XOR b) * 0x01000193 mod 2^32
 *   2. finalise with MurmurHash3's fmix32 (FNV-1a alone spreads similar ids poorly in the high bits)
 *        h ^= h >>> 16; h = h * 0x85ebca6b mod 2^32; h ^= h >>> 13; h = h * 0xc2b2ae35 mod 2^32; h ^= h >>> 16
 *   3. score = h / 2^32
 *
 * An exchange is in the sample when score < rate. Test vectors are in docs/sampling-redaction-streaming.md.
 * The UTF-8 encoding is done inline from UTF-16 code units, so scoring allocates nothing; a lone
 * surrogate counts as U+FFFD, as TextEncoder would encode it.
 */
export function sampleScore(id: string): number {
  let h = FNV32_OFFSET;
  const n = id.length;
  for (let i = 0; i < n; i++) {
    let c = id.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV32_PRIME);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV32_PRIME);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV32_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < n ? id.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV32_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV32_PRIME);
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV32_PRIME);
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV32_PRIME);
        continue;
      }
      c = 0xfffd;
    }
    h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV32_PRIME);
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV32_PRIME);
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV32_PRIME);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / TWO_POW_32;
}

/**
 * The always-keep rule that applies to a complete exchange, or undefined when it belongs to the
 * sampled population. Pure: depends on the exchange only, never on the sampling outcome — that is
 * what makes the weights in the estimator right.
 */
export function forcedKeepReason(
  ex: Exchange,
  options: SamplingOptions,
): 'error' | 'status' | 'slow' | undefined {
  if (ex.status === 0 || ex.error !== undefined || ex.stream?.partial === true) return 'error';
  if (options.keepStatusAtLeast > 0 && ex.status >= options.keepStatusAtLeast) return 'status';
  if (options.keepSlowerThanMs !== undefined && latencyMs(ex) > options.keepSlowerThanMs) return 'slow';
  return undefined;
}

function validate(options: SamplingOptions): void {
  const { rate, keepStatusAtLeast, keepSlowerThanMs } = options;
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`sample rate ${rate} is not a number from 0 to 1`);
  if (!(Number.isInteger(keepStatusAtLeast) && keepStatusAtLeast >= 0)) {
    throw new RangeError(`keepStatusAtLeast ${keepStatusAtLeast} is not a whole number ≥ 0`);
  }
  if (keepSlowerThanMs !== undefined && !(keepSlowerThanMs >= 0)) {
    throw new RangeError(`keepSlowerThanMs ${keepSlowerThanMs} is not a duration ≥ 0`);
  }
}

/**
 * Whether a trace id is in the sample, with the arithmetic of the OpenTelemetry JS SDK's
 * `TraceIdRatioBasedSampler` (sdk-trace-base): XOR the trace id's four 32-bit words and keep when
 * the result is below floor(rate × 0xffffffff). The same rate then keeps the same traces in
 * inferlog and in an OTel `traceidratio` (or `parentbased_traceidratio` at the root) sampler.
 */
export function traceIdInSample(traceId: string, rate: number): boolean {
  let acc = 0;
  for (let i = 0; i < traceId.length / 8; i++)
    acc = (acc ^ parseInt(traceId.slice(i * 8, i * 8 + 8), 16)) >>> 0;
  return acc < Math.floor(rate * 0xffffffff);
}

/**
 * Builds the sampling stage. It sets `sampleWeight` on the exchanges it keeps (in place: the
 * pipeline owns the exchange once submitted) and returns undefined for the ones it drops.
 *
 * @example
 *   const sampler = createSampler({ rate: 0.1, keepStatusAtLeast: 400, keepSlowerThanMs: 500 }, {
 *     sampledOut: () => dropped.inc({ reason: 'sampled' }),
 *   });
 *   const kept = sampler.apply(exchange); // undefined = sampled out
 */
export function createSampler(options: SamplingOptions, hooks: SamplerHooks = {}): Stage {
  validate(options);
  const opts: SamplingOptions = { ...options };
  const { sampledOut, kept } = hooks;

  if (opts.rate >= 1) {
    // Sampling off: keep everything with weight 1; only the hook (if any) costs anything.
    return {
      name: 'sample',
      apply(ex) {
        if (ex.sampleWeight !== 1) ex.sampleWeight = 1;
        if (kept) kept(ex, forcedKeepReason(ex, opts) ?? 'all');
        return ex;
      },
    };
  }

  const rate = opts.rate;
  const byTraceId = opts.byTraceId === true;
  const weight = rate > 0 ? 1 / rate : 1;
  return {
    name: 'sample',
    apply(ex) {
      const forced = forcedKeepReason(ex, opts);
      if (forced !== undefined) {
        if (ex.sampleWeight !== 1) ex.sampleWeight = 1;
        if (kept) kept(ex, forced);
        return ex;
      }
      if (
        byTraceId && ex.trace !== undefined && ex.trace.generated !== true
          ? traceIdInSample(ex.trace.traceId, rate)
          : sampleScore(ex.id) < rate
      ) {
        ex.sampleWeight = weight;
        if (kept) kept(ex, 'sampled');
        return ex;
      }
      if (sampledOut) sampledOut(ex);
      return undefined;
    },
  };
}
