/**
 * The sampler's statistics over many synthetic exchanges: the kept fraction matches the rate,
 * every failure is kept with weight 1, and the weighted estimators recover the true totals.
 * Bounds are 5 binomial standard deviations, so a correct sampler fails about once in 3.5 million runs
 * — and the ids are fixed, so a run is reproducible.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/core/exchange.js';
import { createSampler, sampleScore } from '../../src/pipeline/sampling.js';
import { makeExchange } from '../support/exchange-fixture.js';

const N = 20_000;

/** A small seeded PRNG (mulberry32), so the synthetic traffic is the same every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuidLike(rand: () => number): string {
  const hex = (n: number): string =>
    Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(rand() * 4)]}${hex(3)}-${hex(12)}`;
}

function exchange(id: string, status: number, latency: number): Exchange {
  return makeExchange({ id, status, requestTime: 0, responseTime: latency });
}

const idSets: Record<string, (i: number, rand: () => number) => string> = {
  'random UUIDs': (_i, rand) => uuidLike(rand),
  'sequential ids (req-0, req-1, …)': (i) => `req-${i}`,
};

describe.each(Object.entries(idSets))('sampling %s', (_name, makeId) => {
  it.each([0.01, 0.1, 0.25, 0.5, 0.9])('keeps a fraction within 5σ of rate %f', (rate) => {
    const rand = prng(42);
    const sampler = createSampler({ rate, keepStatusAtLeast: 400 });
    let kept = 0;
    for (let i = 0; i < N; i++) if (sampler.apply(exchange(makeId(i, rand), 200, 10))) kept++;
    const sigma = Math.sqrt(N * rate * (1 - rate));
    expect(Math.abs(kept - N * rate)).toBeLessThanOrEqual(5 * sigma);
  });
});

describe('estimating from the kept exchanges', () => {
  it.each([0.05, 0.2, 0.5])(
    'keeps every error and slow call with weight 1, and Σweight estimates the total (rate %f)',
    (rate) => {
      const rand = prng(7);
      const sampler = createSampler({ rate, keepStatusAtLeast: 400, keepSlowerThanMs: 500 });
      let errors = 0;
      let slow = 0;
      let keptErrors = 0;
      let keptSlow = 0;
      let weightSum = 0;
      let weightedOk = 0;
      let ok = 0;
      for (let i = 0; i < N; i++) {
        const r = rand();
        const status = r < 0.03 ? 500 : r < 0.05 ? 429 : 200;
        const latency = rand() < 0.02 ? 900 : 20;
        if (status >= 400) errors++;
        else if (latency > 500) slow++;
        else ok++;
        const kept = sampler.apply(exchange(uuidLike(rand), status, latency));
        if (!kept) continue;
        weightSum += kept.sampleWeight;
        if (status >= 400) {
          keptErrors++;
          expect(kept.sampleWeight).toBe(1);
        } else if (latency > 500) {
          keptSlow++;
          expect(kept.sampleWeight).toBe(1);
        } else {
          expect(kept.sampleWeight).toBe(1 / rate);
          weightedOk += kept.sampleWeight;
        }
      }
      expect(keptErrors).toBe(errors);
      expect(keptSlow).toBe(slow);
      // Horvitz–Thompson: the sampled stratum contributes Σ 1/rate; its variance is ok·(1−rate)/rate.
      const sigma = Math.sqrt((ok * (1 - rate)) / rate);
      expect(Math.abs(weightedOk - ok)).toBeLessThanOrEqual(5 * sigma);
      expect(Math.abs(weightSum - N)).toBeLessThanOrEqual(5 * sigma);
      // The error rate: errors are counted exactly, the denominator is estimated.
      const trueRate = errors / N;
      const estimated = keptErrors / weightSum;
      const rateSigma = trueRate * (sigma / N);
      expect(Math.abs(estimated - trueRate)).toBeLessThanOrEqual(5 * rateSigma + 1e-12);
    },
  );
});

describe('sampleScore uniformity', () => {
  it.each(Object.entries(idSets))('spreads %s evenly over [0, 1) (χ², 20 buckets)', (_name, makeId) => {
    const rand = prng(99);
    const buckets = new Array<number>(20).fill(0);
    for (let i = 0; i < N; i++) {
      const k = Math.floor(sampleScore(makeId(i, rand)) * 20);
      buckets[k] = (buckets[k] as number) + 1;
    }
    const expected = N / 20;
    const chi2 = buckets.reduce((s, b) => s + (b - expected) ** 2 / expected, 0);
    // 19 degrees of freedom: P(χ² > 60) ≈ 4·10⁻⁶ for a uniform score.
    expect(chi2).toBeLessThan(60);
  });
});
