/**
 * Request tensor data → typed arrays, in one pass and without intermediate arrays.
 *
 *   JSON `data` (flat or nested) ──decodeJsonData──▶ typed array of the target datatype
 *   V1 `instances` (nested rows)  ──instancesShape + decodeJsonData──▶ same
 *   binary extension bytes        ──decodeBinaryData──▶ same
 *
 * Every failure is a MODEL_INPUT_INVALID InferlogError (status 400) whose message names the input and what was wrong.
 */
import { type DatatypeInfo, type TensorData } from './datatypes.js';
import { invalidInput } from './http-error.js';

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export const shapeText = (shape: readonly (number | string)[]): string => `[${shape.join(', ')}]`;

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/** A writer that validates and stores one element at a time. */
type Put = (value: unknown, index: number) => void;

function makePut(info: DatatypeInfo, out: TensorData, label: string): Put {
  const bad = (value: unknown, index: number, what: string): never => {
    throw invalidInput(
      `${label}: element ${index} (${describe(value)}) is not ${what} (datatype ${info.datatype})`,
    );
  };
  switch (info.kind) {
    case 'float': {
      const a = out as Float32Array | Float64Array;
      return (v, i) => {
        if (typeof v !== 'number') bad(v, i, 'a number');
        a[i] = v as number;
      };
    }
    case 'int': {
      const a = out as Int32Array;
      const min = info.min as number;
      const max = info.max as number;
      return (v, i) => {
        if (typeof v !== 'number' || !Number.isInteger(v)) return bad(v, i, 'an integer');
        if (v < min || v > max) return bad(v, i, `in range ${min}..${max}`);
        a[i] = v;
      };
    }
    case 'bigint': {
      const a = out as BigInt64Array;
      const min = info.min as bigint;
      const max = info.max as bigint;
      return (v, i) => {
        let b: bigint;
        if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
        // Large int64 values may arrive as decimal strings (JSON numbers lose precision past 2^53).
        else if (typeof v === 'string' && /^-?\d+$/.test(v)) b = BigInt(v);
        else return bad(v, i, 'an integer');
        if (b < min || b > max) return bad(v, i, `in range ${min}..${max}`);
        a[i] = b;
      };
    }
    case 'bool': {
      const a = out as Uint8Array;
      return (v, i) => {
        if (typeof v === 'boolean') a[i] = v ? 1 : 0;
        else if (v === 0 || v === 1) a[i] = v;
        else bad(v, i, 'a boolean');
      };
    }
    case 'bytes': {
      const a = out as string[];
      return (v, i) => {
        if (typeof v !== 'string') bad(v, i, 'a string');
        a[i] = v as string;
      };
    }
    case 'unsupported':
      throw invalidInput(`${label}: datatype ${info.datatype} is not supported by this server; send FP32`);
  }
}

function allocate(info: DatatypeInfo, count: number): TensorData {
  return info.kind === 'bytes' ? new Array<string>(count) : info.create(count);
}

/**
 * V2 `data`: row-major, flat or nested to any depth. Fills a new array of `count`
 * elements of `info`'s type; the number of leaves must equal `count`.
 */
export function decodeJsonData(
  data: unknown,
  info: DatatypeInfo,
  shape: readonly number[],
  label: string,
): TensorData {
  const count = elementCount(shape);
  const out = allocate(info, count);
  const put = makePut(info, out, label);
  let n = 0;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i]);
      return;
    }
    if (n < count) put(v, n);
    n++;
  };
  if (Array.isArray(data)) {
    // Flat arrays are the common case: skip the recursion.
    const flat = data.length === count && (count === 0 || !Array.isArray(data[0]));
    if (flat) {
      for (let i = 0; i < count; i++) {
        const v: unknown = data[i];
        if (Array.isArray(v)) {
          n = 0;
          walk(data);
          break;
        }
        put(v, i);
        n = i + 1;
      }
    } else walk(data);
  } else walk(data);
  if (n !== count) {
    throw invalidInput(`${label}: shape ${shapeText(shape)} holds ${count} elements but data has ${n}`);
  }
  return out;
}

/**
 * The shape of V1 `instances`: [number of instances, ...the nesting of the first one].
 * Rows must all nest the same way; ragged rows are refused rather than silently reshaped.
 */
export function instancesShape(instances: readonly unknown[], label: string): number[] {
  const shape = [instances.length];
  let probe: unknown = instances[0];
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const check = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw invalidInput(`${label}: ${path} nests deeper than the first instance`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw invalidInput(
        `${label}: ${path} should be a list of ${shape[depth]} (like the first instance), got ${describe(v)}`,
      );
    }
    for (let i = 0; i < v.length; i++) check(v[i], depth + 1, `${path}[${i}]`);
  };
  for (let i = 0; i < instances.length; i++) check(instances[i], 1, `instances[${i}]`);
  return shape;
}

/** V2 binary tensor extension: `bytes` are this input's raw little-endian elements (BYTES: 4-byte length + bytes each). */
export function decodeBinaryData(
  bytes: Uint8Array,
  info: DatatypeInfo,
  shape: readonly number[],
  label: string,
): TensorData {
  const count = elementCount(shape);
  if (info.kind === 'unsupported') {
    throw invalidInput(`${label}: datatype ${info.datatype} is not supported by this server; send FP32`);
  }
  if (info.kind === 'bytes') {
    const out = new Array<string>();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const text = new TextDecoder();
    let at = 0;
    while (at < bytes.byteLength) {
      if (at + 4 > bytes.byteLength)
        throw invalidInput(`${label}: truncated BYTES element length at byte ${at}`);
      const len = view.getUint32(at, true);
      at += 4;
      if (at + len > bytes.byteLength)
        throw invalidInput(`${label}: BYTES element ${out.length} runs past the data`);
      out.push(text.decode(bytes.subarray(at, at + len)));
      at += len;
    }
    if (out.length !== count) {
      throw invalidInput(
        `${label}: shape ${shapeText(shape)} holds ${count} elements but data has ${out.length}`,
      );
    }
    return out;
  }
  if (bytes.byteLength !== count * info.size) {
    throw invalidInput(
      `${label}: shape ${shapeText(shape)} of ${info.datatype} needs ${count * info.size} bytes but binary_data_size is ${bytes.byteLength}`,
    );
  }
  // Copy into a fresh buffer: typed arrays need aligned offsets, and the request buffer is reused.
  const aligned = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(aligned).set(bytes);
  return info.view(aligned);
}
