import { describe, expect, it } from 'vitest';
import { datatypeInfo } from './datatypes.js';
import { InferlogError } from '../core/errors.js';
import { decodeBinaryData, decodeJsonData, instancesShape } from './tensor-decode.js';

const dt = (name: string) => datatypeInfo(name)!;

function error400(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InferlogError);
    expect((err as InferlogError).status).toBe(400);
    return (err as InferlogError).message;
  }
  throw new Error('expected a 400');
}

describe('decodeJsonData', () => {
  it('fills the target type from flat or nested data', () => {
    expect(Array.from(decodeJsonData([1, 2.5, 3], dt('FP32'), [3], 'x') as Float32Array)).toEqual([
      1, 2.5, 3,
    ]);
    expect(
      Array.from(
        decodeJsonData(
          [
            [1, 2],
            [3, 4],
          ],
          dt('INT32'),
          [2, 2],
          'x',
        ) as Int32Array,
      ),
    ).toEqual([1, 2, 3, 4]);
    expect(decodeJsonData([true, false, 1], dt('BOOL'), [3], 'x')).toEqual(Uint8Array.from([1, 0, 1]));
    expect(decodeJsonData(['a', 'b'], dt('BYTES'), [2], 'x')).toEqual(['a', 'b']);
  });

  it('reads INT64 from numbers and from decimal strings past 2^53', () => {
    const out = decodeJsonData([1, '9007199254740993'], dt('INT64'), [2], 'x') as BigInt64Array;
    expect(Array.from(out)).toEqual([1n, 9007199254740993n]);
  });

  it('refuses element count mismatches, wrong element types and out-of-range integers', () => {
    expect(error400(() => decodeJsonData([1, 2, 3], dt('FP32'), [2, 2], "input 'x'"))).toBe(
      "input 'x': shape [2, 2] holds 4 elements but data has 3",
    );
    expect(error400(() => decodeJsonData([1, [2, 3, 4, 5]], dt('FP32'), [2, 2], 'x'))).toMatch(
      /holds 4 elements but data has 5/,
    );
    expect(error400(() => decodeJsonData([1, 'a'], dt('FP64'), [2], 'x'))).toMatch(
      /element 1 \("a"\) is not a number/,
    );
    expect(error400(() => decodeJsonData([1.5], dt('INT32'), [1], 'x'))).toMatch(/is not an integer/);
    expect(error400(() => decodeJsonData([300], dt('UINT8'), [1], 'x'))).toMatch(/is not in range 0\.\.255/);
    expect(error400(() => decodeJsonData([1], dt('FP16'), [1], 'x'))).toMatch(/FP16 is not supported/);
  });
});

describe('instancesShape', () => {
  it('derives [n, ...row shape] and refuses ragged rows', () => {
    expect(instancesShape([1, 2, 3], 'i')).toEqual([3]);
    expect(
      instancesShape(
        [
          [1, 2],
          [3, 4],
        ],
        'i',
      ),
    ).toEqual([2, 2]);
    expect(
      instancesShape(
        [
          [[1], [2]],
          [[3], [4]],
        ],
        'i',
      ),
    ).toEqual([2, 2, 1]);
    expect(error400(() => instancesShape([[1, 2], [3]], 'i'))).toMatch(
      /instances\[1\] should be a list of 2/,
    );
    expect(
      error400(() =>
        instancesShape(
          [
            [1, 2],
            [3, [4]],
          ],
          'i',
        ),
      ),
    ).toMatch(/instances\[1\]\[1\] nests deeper/);
  });
});

describe('decodeBinaryData', () => {
  it('reads little-endian numbers from an unaligned slice', () => {
    const buf = Buffer.alloc(9);
    buf.writeFloatLE(1.5, 1);
    buf.writeFloatLE(-2, 5);
    expect(Array.from(decodeBinaryData(buf.subarray(1), dt('FP32'), [2], 'x') as Float32Array)).toEqual([
      1.5, -2,
    ]);
  });

  it('reads length-prefixed BYTES and checks the element count', () => {
    const parts = ['ab', ''].map((s) => {
      const b = Buffer.from(s);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      return Buffer.concat([len, b]);
    });
    const bytes = Buffer.concat(parts);
    expect(decodeBinaryData(bytes, dt('BYTES'), [2], 'x')).toEqual(['ab', '']);
    expect(error400(() => decodeBinaryData(bytes, dt('BYTES'), [3], 'x'))).toMatch(
      /holds 3 elements but data has 2/,
    );
    expect(error400(() => decodeBinaryData(bytes.subarray(0, 5), dt('BYTES'), [2], 'x'))).toMatch(
      /runs past the data/,
    );
  });
});
