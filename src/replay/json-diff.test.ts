import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffJson, formatDifference, normalisePath, numbersClose, type Json } from './json-diff.js';

const json = fc.jsonValue() as fc.Arbitrary<Json>;

/** Same value, object keys in reverse order. */
function reorder(v: Json): Json {
  if (Array.isArray(v)) return v.map(reorder);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .reverse()
        .map((k) => [k, reorder(v[k] as Json)]),
    );
  }
  return v;
}

describe('diffJson', () => {
  it('finds nothing between a value and itself, a JSON round trip of it, or a key-reordered copy', () => {
    fc.assert(
      fc.property(json, (a) => {
        expect(diffJson(a, a)).toEqual({ differences: [], count: 0 });
        expect(diffJson(a, JSON.parse(JSON.stringify(a)) as Json).count).toBe(0);
        expect(diffJson(a, reorder(a)).count).toBe(0);
      }),
    );
  });

  it('treats numbers within the tolerance as equal and reports those beyond it at their path', () => {
    const tol = 1e-6;
    const value = fc.double({ min: -1e6, max: 1e6, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(value, { minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        (xs, pick, frac) => {
          // Every element moved by at most half the allowance: still identical.
          const near = xs.map((x) => x + frac * tol * Math.max(1, Math.abs(x)));
          expect(diffJson({ predictions: xs }, { predictions: near }, { tolerance: tol }).count).toBe(0);
          // One element moved by twice the allowance: exactly that path differs.
          const i = pick % xs.length;
          const far = xs.map((x, j) => (j === i ? x + 2 * tol * Math.max(1, Math.abs(x)) : x));
          const d = diffJson({ predictions: xs }, { predictions: far }, { tolerance: tol });
          expect(d.differences.map((e) => e.path)).toEqual([`predictions[${i}]`]);
        },
      ),
    );
  });

  it('with tolerance 0 any changed number differs', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (a, b) => {
          fc.pre(a !== b);
          expect(diffJson([a], [b]).count).toBe(1);
        },
      ),
    );
  });

  it('reports changed, added and removed values with readable paths', () => {
    const a: Json = { predictions: [1, 1, 0], meta: { 'model version': 'v1', id: 'x' }, extra: true };
    const b: Json = { predictions: [1, 2], meta: { 'model version': 'v2', id: 'x' }, added: null };
    const d = diffJson(a, b);
    expect(d.differences.map((e) => formatDifference(e))).toEqual([
      'predictions[1]: 1 → 2',
      'predictions[2]: 0 → (absent)',
      'meta["model version"]: "v1" → "v2"',
      'extra: true → (absent)',
      'added: (absent) → null',
    ]);
  });

  it('reports a type change once, at the value, and a different root as $', () => {
    expect(diffJson({ a: [1] }, { a: { 0: 1 } }).differences).toEqual([
      { path: 'a', old: [1], new: { 0: 1 } },
    ]);
    expect(diffJson(1, '1').differences).toEqual([{ path: '$', old: 1, new: '1' }]);
  });

  it('skips ignored paths (indices folded to [*]) and caps the list but not the count', () => {
    const a: Json = { id: 'a', outputs: [{ name: 'y', data: [1, 2, 3] }] };
    const b: Json = { id: 'b', outputs: [{ name: 'z', data: [4, 5, 6] }] };
    const d = diffJson(a, b, { ignore: new Set(['id', 'outputs[*].name']), maxDifferences: 2 });
    expect(d.count).toBe(3);
    expect(d.differences.map((e) => e.path)).toEqual(['outputs[0].data[0]', 'outputs[0].data[1]']);
  });

  it('folds indices for grouping and compares non-finite numbers strictly', () => {
    expect(normalisePath('outputs[0].data[12]')).toBe('outputs[*].data[*]');
    expect(numbersClose(1, 1 + 1e-9, 1e-6)).toBe(true);
    expect(numbersClose(1e9, 1e9 + 100, 1e-6)).toBe(true);
    expect(numbersClose(0, 1e-5, 1e-6)).toBe(false);
    expect(numbersClose(Infinity, Infinity, 1)).toBe(true);
    expect(numbersClose(Infinity, 1e308, 1)).toBe(false);
  });
});
