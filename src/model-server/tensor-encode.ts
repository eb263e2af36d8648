/**
 * Output tensors → JSON text, built as strings (no intermediate arrays of boxed numbers).
 *
 *   typed array ──elementFormatter──▶ "3" "0.929" "true" ──▶ flat V2 `data` or nested V1 `predictions`
 *
 * FP32 values are written in a short float32 form (0.9 rather than 0.8999999761581421), as
 * KServe's Python server does through numpy; INT64 prints exactly from BigInt.
 */
import type { Datatype, TensorData } from './datatypes.js';

/**
 * A short decimal that reads back as the same float32: the shortest one whenever it has at
 * most 7 significant digits (0.1, 1.2, 0.9290035: what people type and read), else 9 digits.
 * At most two toPrecision calls per element, so it costs about what String(v) does.
 */
export function formatFloat32(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return 'null'; // JSON has no NaN/Infinity; orjson writes null too
  const short = Number(v.toPrecision(7));
  if (Math.fround(short) === v) return String(short);
  return String(Number(v.toPrecision(9)));
}

type Format = (i: number) => string;

/** Float tensors up to this many elements get short float32 forms; larger ones print faster. */
export const SHORT_FLOAT_LIMIT = 1024;

export function elementFormatter(datatype: Datatype, data: TensorData): Format {
  switch (datatype) {
    case 'FP32': {
      const a = data as Float32Array;
      return (i) => formatFloat32(a[i] as number);
    }
    case 'FP64': {
      const a = data as Float64Array;
      return (i) => {
        const v = a[i] as number;
        return Number.isFinite(v) ? String(v) : 'null';
      };
    }
    case 'BOOL': {
      const a = data as Uint8Array;
      return (i) => (a[i] ? 'true' : 'false');
    }
    case 'BYTES': {
      const a = data as string[];
      return (i) => JSON.stringify(a[i]);
    }
    default: {
      const a = data as Int32Array | BigInt64Array;
      return (i) => String(a[i]);
    }
  }
}

/** Row-major flat JSON array, as V2 `data`. */
export function jsonFlat(datatype: Datatype, data: TensorData): string {
  // Integer arrays: the engine's join is both exact (BigInt too) and fast.
  if (datatype !== 'FP32' && datatype !== 'FP64' && datatype !== 'BOOL' && datatype !== 'BYTES') {
    return '[' + (data as Int32Array).join(',') + ']';
  }
  // Big float tensors: the engine's number printing (full double digits, same float32 values) is
  // 3-4x faster than shortening each element; short forms matter for the small outputs people read.
  if ((datatype === 'FP32' || datatype === 'FP64') && data.length > SHORT_FLOAT_LIMIT) {
    return JSON.stringify(Array.from(data as Float32Array));
  }
  const fmt = elementFormatter(datatype, data);
  const n = data.length;
  let s = '[';
  for (let i = 0; i < n; i++) s += (i ? ',' : '') + fmt(i);
  return s + ']';
}

/** Nested JSON arrays following `shape`, as V1 `predictions`. A scalar becomes a one-element list. */
export function jsonNested(datatype: Datatype, data: TensorData, shape: readonly number[]): string {
  if (shape.length <= 1) return jsonFlat(datatype, data);
  const fmt =
    (datatype === 'FP32' || datatype === 'FP64') && data.length > SHORT_FLOAT_LIMIT
      ? (i: number) => {
          const v = (data as Float32Array)[i] as number;
          return Number.isFinite(v) ? String(v) : 'null';
        }
      : elementFormatter(datatype, data);
  let at = 0;
  const build = (depth: number): string => {
    const n = shape[depth] as number;
    let s = '[';
    if (depth === shape.length - 1) {
      for (let i = 0; i < n; i++) s += (i ? ',' : '') + fmt(at++);
    } else {
      for (let i = 0; i < n; i++) s += (i ? ',' : '') + build(depth + 1);
    }
    return s + ']';
  };
  return build(0);
}

/** Raw little-endian bytes of a tensor for the binary extension (BYTES: 4-byte length + UTF-8 each). */
export function binaryBytes(data: TensorData): Uint8Array {
  if (!Array.isArray(data)) {
    const t = data as Exclude<TensorData, string[]>;
    return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
  }
  const parts = data.map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, at);
    p.copy(out, at + 4);
    at += 4 + p.length;
  }
  return out;
}
