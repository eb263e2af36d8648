import { makeExchange } from '../../test/support/exchange-fixture.js';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Exchange } from '../core/exchange.js';
import type { SamplingOptions } from '../config/settings.js';
import { context } from '@opentelemetry/api';
import { TraceIdRatioBasedSampler, SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { createSampler, sampleScore, traceIdInSample, type KeepReason } from './sampling.js';

function exchange(id: string, over: Partial<Exchange> = {}): Exchange {
  return makeExchange({ id, requestTime: 1_000, responseTime: 1_010, ...over });
}

const opts = (rate: number, over: Partial<SamplingOptions> = {}): SamplingOptions => ({
  rate,
  keepStatusAtLeast: 400,
  ...over,
});

describe('sampleScore', () => {
  // Vectors computed independently (Python, docs/sampling-redaction-streaming.md) so other hops can check theirs.
  it.each([
    ['', 0.6689221884589642],
    ['a', 0.10352621669881046],
    ['0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a', 0.059720369055867195],
    ['req-1', 0.2832754887640476],
    ['é', 0.5557760463561863],
    ['日本', 0.9375696850474924],
    ['😀', 0.1992745422758162],
  ])('scores %j as the documented algorithm does', (id, score) => {
    expect(sampleScore(id)).toBe(score);
  });

  it('is in [0, 1) and equal to a hash of the UTF-8 bytes for any id', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (id) => {
        const s = sampleScore(id);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(1);
        expect(s).toBe(referenceScore(new TextEncoder().encode(id)));
      }),
    );
  });
});

/** The documented algorithm over bytes, written the slow, obvious way. */
function referenceScore(bytes: Uint8Array): number {
  let h = 0x811c9dc5n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x01000193n) & 0xffffffffn;
  h ^= h >> 16n;
  h = (h * 0x85ebca6bn) & 0xffffffffn;
  h ^= h >> 13n;
  h = (h * 0xc2b2ae35n) & 0xffffffffn;
  h ^= h >> 16n;
  return Number(h) / 2 ** 32;
}

describe('createSampler', () => {
  it('keeps everything with weight 1 when the rate is 1', () => {
    const reasons: KeepReason[] = [];
    const s = createSampler(opts(1), { kept: (_e, r) => reasons.push(r) });
    const ex = s.apply(exchange('a', { sampleWeight: 7 }));
    expect(ex?.sampleWeight).toBe(1);
    s.apply(exchange('b', { status: 503 }));
    expect(reasons).toEqual(['all', 'status']);
  });

  it('decides the same way for the same id, whatever else differs (every hop agrees)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 5000 }),
        (id, rate, ms) => {
          const a = createSampler(opts(rate)).apply(
            exchange(id, { url: '/a', responseTime: 1_000 + (ms % 100) }),
          );
          const b = createSampler(opts(rate)).apply(
            exchange(id, { url: '/b', method: 'GET', responseTime: 1_000 + (ms % 100) + 1 }),
          );
          expect(a === undefined).toBe(b === undefined);
        },
      ),
    );
  });

  it('keeps a superset when the rate grows (raising the rate never loses an exchange)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (id, r1, r2) => {
          const [lo, hi] = r1 < r2 ? [r1, r2] : [r2, r1];
          const keptLo = createSampler(opts(lo)).apply(exchange(id)) !== undefined;
          const keptHi = createSampler(opts(hi)).apply(exchange(id)) !== undefined;
          if (keptLo) expect(keptHi).toBe(true);
        },
      ),
    );
  });

  it('always keeps failures with weight 1, even at rate 0', () => {
    const reasons: KeepReason[] = [];
    const s = createSampler(opts(0, { keepSlowerThanMs: 500 }), { kept: (_e, r) => reasons.push(r) });
    expect(s.apply(exchange('x1', { status: 500 }))?.sampleWeight).toBe(1);
    expect(s.apply(exchange('x2', { status: 404 }))?.sampleWeight).toBe(1);
    expect(s.apply(exchange('x3', { status: 0 }))?.sampleWeight).toBe(1);
    expect(
      s.apply(exchange('x4', { status: 200, error: { code: 'UPSTREAM_RESET', message: 'reset' } }))
        ?.sampleWeight,
    ).toBe(1);
    expect(
      s.apply(
        exchange('x5', {
          stream: { chunks: 3, ttfbMs: 1, ttlbMs: 2, partial: true, reason: 'client went away' },
        }),
      )?.sampleWeight,
    ).toBe(1);
    expect(s.apply(exchange('x6', { requestTime: 0, responseTime: 501 }))?.sampleWeight).toBe(1);
    expect(s.apply(exchange('x7', { requestTime: 0, responseTime: 500 }))).toBeUndefined();
    expect(s.apply(exchange('x8'))).toBeUndefined();
    expect(reasons).toEqual(['status', 'status', 'error', 'error', 'error', 'slow']);
  });

  it('samples 4xx too when keepStatusAtLeast is 500, and keeps nothing by status when it is 0', () => {
    const id = idScoringAbove(0.5);
    expect(
      createSampler(opts(0.5, { keepStatusAtLeast: 500 })).apply(exchange(id, { status: 404 })),
    ).toBeUndefined();
    expect(
      createSampler(opts(0.5, { keepStatusAtLeast: 500 })).apply(exchange(id, { status: 500 })),
    ).toBeDefined();
    expect(
      createSampler(opts(0.5, { keepStatusAtLeast: 0 })).apply(exchange(id, { status: 500 })),
    ).toBeUndefined();
    // No response at all is always kept, whatever keepStatusAtLeast says.
    expect(
      createSampler(opts(0.5, { keepStatusAtLeast: 0 })).apply(exchange(id, { status: 0 })),
    ).toBeDefined();
  });

  it('gives sampled exchanges the weight 1/rate and reports each drop', () => {
    const dropped: string[] = [];
    const s = createSampler(opts(0.25), { sampledOut: (e) => dropped.push(e.id) });
    const keep = idScoringBelow(0.25);
    const drop = idScoringAbove(0.25);
    expect(s.apply(exchange(keep))?.sampleWeight).toBe(4);
    expect(s.apply(exchange(drop))).toBeUndefined();
    expect(dropped).toEqual([drop]);
  });

  it('rejects rates outside 0..1 and bad thresholds', () => {
    expect(() => createSampler(opts(1.5))).toThrow(/sample rate/);
    expect(() => createSampler(opts(Number.NaN))).toThrow(/sample rate/);
    expect(() => createSampler(opts(0.5, { keepStatusAtLeast: -1 }))).toThrow(/keepStatusAtLeast/);
    expect(() => createSampler(opts(0.5, { keepSlowerThanMs: -5 }))).toThrow(/keepSlowerThanMs/);
  });
});

function idScoringBelow(x: number): string {
  for (let i = 0; ; i++) if (sampleScore(`id-${i}`) < x) return `id-${i}`;
}
function idScoringAbove(x: number): string {
  for (let i = 0; ; i++) if (sampleScore(`id-${i}`) >= x) return `id-${i}`;
}

describe('sampling by trace id (opt-in)', () => {
  const traceId = fc.stringMatching(/^[0-9a-f]{32}$/);

  it("decides exactly as OpenTelemetry JS's TraceIdRatioBased sampler of the same rate", () => {
    fc.assert(
      fc.property(traceId, fc.constantFrom(0, 0.01, 0.1, 0.5, 0.9, 1), (id, rate) => {
        const otel = new TraceIdRatioBasedSampler(rate).shouldSample(context.active(), id);
        expect(traceIdInSample(id, rate)).toBe(otel.decision === SamplingDecision.RECORD_AND_SAMPLED);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps or drops every exchange of one trace together, and falls back to the id for fresh traces', () => {
    const s = createSampler(opts(0.5, { byTraceId: true }));
    const trace = (t: string, generated?: boolean): Exchange['trace'] => ({
      traceId: t,
      spanId: '00f067aa0ba902b7',
      flags: 1,
      ...(generated ? { generated } : {}),
    });
    for (let i = 0; i < 50; i++) {
      const t = i.toString(16).padStart(32, 'a');
      const kept = [0, 1, 2, 3].map((k) => s.apply(exchange(`${i}-${k}`, { trace: trace(t) })) !== undefined);
      expect(new Set(kept).size).toBe(1);
      expect(kept[0]).toBe(traceIdInSample(t, 0.5));
      // A trace inferlog started itself is nobody else's: the exchange id decides, as before.
      const fresh = s.apply(exchange(`f-${i}`, { trace: trace(t, true) })) !== undefined;
      expect(fresh).toBe(sampleScore(`f-${i}`) < 0.5);
    }
  });
});
