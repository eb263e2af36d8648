/**
 * Open Inference Protocol (V2) tensors in JSON, row-wise: one reading of `{name, datatype, shape,
 * data}` shared by the agent's V2 batcher (capture/batcher/v2.ts merges and splits requests by
 * rows) and the per-instance log (instances.ts splits logged exchanges by rows).
 *
 *   {"name":"x","datatype":"FP32","shape":[3,2],"data":[1,2,3,4,5,6]}
 *      ──rowsOf(t, 1, 1)──▶ {"name":"x","datatype":"FP32","shape":[1,2],"data":[3,4]}
 *
 * Only flat `data` of exactly shape-product scalars is read row-wise: nested lists (which the
 * protocol allows) and binary tensors have no row boundaries this code could trust.
 */

export const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

export function product(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** A tensor's shape and flat data when they agree (non-empty shape of whole numbers, product-many scalars). */
export function flatShapedData(o: Record<string, unknown>): { shape: number[]; data: unknown[] } | undefined {
  const { shape, data } = o;
  if (!Array.isArray(shape) || shape.length === 0 || !Array.isArray(data)) return undefined;
  if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) return undefined;
  if (data.some((x) => x !== null && typeof x === 'object')) return undefined;
  if (data.length !== product(shape as number[])) return undefined;
  return { shape: shape as number[], data };
}

/** `count` rows of a flat tensor from row `from`: the same tensor with shape[0] = count and those rows' data. */
export function rowsOf<T extends { shape: number[]; data: unknown[] }>(
  tensor: T,
  from: number,
  count: number,
): T {
  const per = product(tensor.shape.slice(1));
  return {
    ...tensor,
    shape: [count, ...tensor.shape.slice(1)],
    data: tensor.data.slice(from * per, (from + count) * per),
  };
}
