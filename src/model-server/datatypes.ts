/**
 * Open Inference Protocol (V2) tensor datatypes and how each maps onto onnxruntime's
 * tensor types and JavaScript typed arrays. One table, read once per request at the edge.
 */

export type Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

/** The data of a decoded tensor. BOOL is a Uint8Array of 0/1 (what onnxruntime takes for 'bool'). */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

/** How elements are validated and stored. */
export type ElementKind = 'float' | 'int' | 'bigint' | 'bool' | 'bytes' | 'unsupported';

export interface DatatypeInfo {
  readonly datatype: Datatype;
  /** onnxruntime's Tensor type name. */
  readonly ort: string;
  readonly kind: ElementKind;
  /** Bytes per element in the binary tensor extension (0 for BYTES: length-prefixed). */
  readonly size: number;
  /** Inclusive range for integer kinds. */
  readonly min: number | bigint;
  readonly max: number | bigint;
  readonly create: (length: number) => Exclude<TensorData, string[]>;
  /** Views little-endian bytes (copied to an aligned buffer first) as this type. */
  readonly view: (buffer: ArrayBuffer) => Exclude<TensorData, string[]>;
}

const f = (
  datatype: Datatype,
  ort: string,
  kind: ElementKind,
  size: number,
  ctor: {
    new (length: number): Exclude<TensorData, string[]>;
    new (buffer: ArrayBuffer): Exclude<TensorData, string[]>;
  },
  min: number | bigint = 0,
  max: number | bigint = 0,
): DatatypeInfo => ({
  datatype,
  ort,
  kind,
  size,
  min,
  max,
  create: (n) => new ctor(n),
  view: (b) => new ctor(b),
});

const TABLE: readonly DatatypeInfo[] = [
  f('BOOL', 'bool', 'bool', 1, Uint8Array),
  f('UINT8', 'uint8', 'int', 1, Uint8Array, 0, 0xff),
  f('UINT16', 'uint16', 'int', 2, Uint16Array, 0, 0xffff),
  f('UINT32', 'uint32', 'int', 4, Uint32Array, 0, 0xffffffff),
  f('UINT64', 'uint64', 'bigint', 8, BigUint64Array, 0n, 0xffffffffffffffffn),
  f('INT8', 'int8', 'int', 1, Int8Array, -0x80, 0x7f),
  f('INT16', 'int16', 'int', 2, Int16Array, -0x8000, 0x7fff),
  f('INT32', 'int32', 'int', 4, Int32Array, -0x80000000, 0x7fffffff),
  f('INT64', 'int64', 'bigint', 8, BigInt64Array, -0x8000000000000000n, 0x7fffffffffffffffn),
  // FP16 is listed so metadata can name it; requests for it are refused (no JS half-float array on Node 20).
  f('FP16', 'float16', 'unsupported', 2, Uint16Array),
  f('FP32', 'float32', 'float', 4, Float32Array),
  f('FP64', 'float64', 'float', 8, Float64Array),
  {
    datatype: 'BYTES',
    ort: 'string',
    kind: 'bytes',
    size: 0,
    min: 0,
    max: 0,
    // Cannot happen: BYTES tensors are string arrays, which callers decode and encode themselves.
    create: () => {
      throw new Error('BYTES tensors are string arrays');
    },
    view: () => {
      // Cannot happen either, for the same reason.
      throw new Error('BYTES tensors are string arrays');
    },
  },
];

const BY_NAME = new Map<string, DatatypeInfo>(TABLE.map((t) => [t.datatype, t]));
const BY_ORT = new Map<string, DatatypeInfo>(TABLE.map((t) => [t.ort, t]));

export const DATATYPES: readonly Datatype[] = TABLE.map((t) => t.datatype);

export function datatypeInfo(name: string): DatatypeInfo | undefined {
  return BY_NAME.get(name);
}

/** The V2 datatype of an onnxruntime tensor type, or undefined when V2 has no name for it (e.g. bfloat16). */
export function fromOrtType(ort: string): DatatypeInfo | undefined {
  return BY_ORT.get(ort);
}
