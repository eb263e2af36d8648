import { describe, expect, it } from 'vitest';
import { binaryBytes, formatFloat32, jsonFlat, jsonNested } from './tensor-encode.js';

describe('formatFloat32', () => {
  it('writes the shortest decimal that reads back as the same float32', () => {
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Math.fround(0.9290034770965576))).toBe('0.9290035');
    expect(formatFloat32(3)).toBe('3');
    expect(formatFloat32(Math.fround(1e-7))).toBe('1e-7');
    expect(formatFloat32(NaN)).toBe('null');
    for (const v of [Math.fround(Math.PI), Math.fround(-123.456), Math.fround(6.02e23), Math.fround(1 / 3)]) {
      expect(Math.fround(Number(formatFloat32(v)))).toBe(v);
    }
  });
});

describe('jsonFlat / jsonNested', () => {
  it('encodes each datatype as valid JSON', () => {
    expect(jsonFlat('FP32', Float32Array.from([1, 0.5]))).toBe('[1,0.5]');
    expect(jsonFlat('FP64', Float64Array.from([0.1, Infinity]))).toBe('[0.1,null]');
    expect(jsonFlat('INT64', BigInt64Array.from([9007199254740993n, -1n]))).toBe('[9007199254740993,-1]');
    expect(jsonFlat('BOOL', Uint8Array.from([1, 0]))).toBe('[true,false]');
    expect(jsonFlat('BYTES', ['a"b', 'é'])).toBe('["a\\"b","é"]');
    expect(jsonFlat('FP32', new Float32Array(0))).toBe('[]');
  });

  it('prints big float tensors with full digits, still valid JSON of the same float32 values', () => {
    const big = Float32Array.from({ length: 2000 }, (_, i) => i / 7);
    big[3] = NaN;
    const parsed = JSON.parse(jsonFlat('FP32', big)) as Array<number | null>;
    expect(parsed).toHaveLength(2000);
    expect(parsed[3]).toBeNull();
    expect(parsed.every((v, i) => i === 3 || Math.fround(v as number) === big[i])).toBe(true);
    const nested = JSON.parse(jsonNested('FP32', big, [1000, 2])) as number[][];
    expect(nested[999]![1]).toBe(big[1999]);
  });

  it('nests row-major data by shape for V1 predictions', () => {
    expect(jsonNested('INT32', Int32Array.from([1, 2, 3, 4, 5, 6]), [2, 3])).toBe('[[1,2,3],[4,5,6]]');
    expect(jsonNested('INT32', Int32Array.from([1, 2, 3, 4]), [2, 1, 2])).toBe('[[[1,2]],[[3,4]]]');
    expect(jsonNested('FP32', Float32Array.from([7]), [])).toBe('[7]');
  });
});

describe('binaryBytes', () => {
  it('gives the raw bytes of numeric tensors and length-prefixes BYTES', () => {
    expect(Array.from(binaryBytes(Int32Array.from([1])))).toEqual([1, 0, 0, 0]);
    expect(Array.from(binaryBytes(['hi']))).toEqual([2, 0, 0, 0, 104, 105]);
  });
});
