import { describe, expect, it } from 'vitest';
import { compareResponses, type CompareOptions } from './compare.js';

const enc = (s: string): Uint8Array => Buffer.from(s);
const opts = (over: Partial<CompareOptions> = {}): CompareOptions => ({
  mode: 'json',
  tolerance: 0,
  ignore: new Set(),
  maxDifferences: 20,
  ...over,
});

describe('compareResponses', () => {
  it('json: ignores formatting and key order, reports paths', () => {
    const a = { status: 200, body: enc('{"predictions": [1, 1], "v": 1}') };
    expect(
      compareResponses(a, { status: 200, body: enc('{"v":1,"predictions":[1,1]}') }, opts()).identical,
    ).toBe(true);
    const c = compareResponses(a, { status: 200, body: enc('{"v":1,"predictions":[1,2]}') }, opts());
    expect(c).toMatchObject({
      identical: false,
      differenceCount: 1,
      differences: [{ path: 'predictions[1]', old: 1, new: 2 }],
    });
  });

  it('exact: any byte differs; a status change is always a difference', () => {
    const a = { status: 200, body: enc('{"a":1}') };
    expect(
      compareResponses(a, { status: 200, body: enc('{"a": 1}') }, opts({ mode: 'exact' })).identical,
    ).toBe(false);
    expect(
      compareResponses(a, { status: 200, body: enc('{"a":1}') }, opts({ mode: 'exact' })).identical,
    ).toBe(true);
    const s = compareResponses(a, { status: 500, body: enc('{"a":1}') }, opts());
    expect(s.differences).toEqual([{ path: '(status)', old: 200, new: 500 }]);
  });

  it('json: falls back to bytes when a side is not JSON', () => {
    const a = { status: 200, body: new Uint8Array([0xff, 0x00]) };
    expect(compareResponses(a, { status: 200, body: new Uint8Array([0xff, 0x00]) }, opts()).identical).toBe(
      true,
    );
    expect(compareResponses(a, { status: 200, body: enc('{}') }, opts()).differences[0]).toMatchObject({
      path: '(body)',
    });
  });
});
