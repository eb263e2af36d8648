/**
 * Batching for the Open Inference Protocol (V2), beyond KServe (whose batcher passes V2 through):
 * concurrent JSON `/v2/models/{name}[/versions/{v}]/infer` requests whose inputs agree in names,
 * datatypes and trailing shapes are concatenated along the first dimension, and each output is
 * split back by the same rows.
 *
 *   {"id":"a","inputs":[{x, FP32, [2], [1,2]}]} ┐                        ┌▶ {"id":"a", outputs [2] …}
 *   {"id":"b","inputs":[{x, FP32, [1], [3]}]}   ┴▶ {"inputs":[{x,[3],[1,2,3]}]} ▶ model ┴▶ {"id":"b", outputs [1] …}
 *
 * Only what can be merged without changing its meaning is: no request `parameters` or `outputs`,
 * no input `parameters`, flat `data` of exactly shape-product elements, every input with the same
 * first dimension, JSON only (a binary-extension request, with Inference-Header-Content-Length,
 * passes through). Anything else passes through unbatched, as in KServe.
 */
import type { BatchCodec, BatcherAnswer, ModelAnswer } from './batcher.js';

interface V2Input {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

export interface V2Request {
  id: string | undefined;
  inputs: V2Input[];
}

const V2_INFER = /^\/v2\/models\/[^/]+(?:\/versions\/[^/]+)?\/infer$/;

/** The path a V2 infer request goes to (no query), or undefined. */
export function v2InferPath(url: string): string | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return V2_INFER.test(path) ? path : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function product(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function flatShapedData(o: Record<string, unknown>): { shape: number[]; data: unknown[] } | undefined {
  const { shape, data } = o;
  if (!Array.isArray(shape) || shape.length === 0 || !Array.isArray(data)) return undefined;
  if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) return undefined;
  if (data.some((x) => x !== null && typeof x === 'object')) return undefined;
  if (data.length !== product(shape as number[])) return undefined;
  return { shape: shape as number[], data };
}

/** A mergeable request, its rows and its merge key; undefined: pass it through. */
export function parseV2(body: Buffer): { request: V2Request; rows: number; signature: string } | undefined {
  let o: unknown;
  try {
    o = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(o)) return undefined;
  for (const k of Object.keys(o)) if (k !== 'id' && k !== 'inputs') return undefined;
  if (o.id !== undefined && typeof o.id !== 'string') return undefined;
  if (!Array.isArray(o.inputs) || o.inputs.length === 0) return undefined;
  const inputs: V2Input[] = [];
  for (const i of o.inputs as unknown[]) {
    if (!isObject(i)) return undefined;
    for (const k of Object.keys(i)) if (!['name', 'datatype', 'shape', 'data'].includes(k)) return undefined;
    if (typeof i.name !== 'string' || typeof i.datatype !== 'string') return undefined;
    const sd = flatShapedData(i);
    if (!sd) return undefined;
    inputs.push({ name: i.name, datatype: i.datatype, ...sd });
  }
  const rows = inputs[0]?.shape[0] as number;
  if (rows === 0 || inputs.some((i) => i.shape[0] !== rows)) return undefined;
  const signature = JSON.stringify(inputs.map((i) => [i.name, i.datatype, i.shape.slice(1)]));
  return { request: { id: o.id, inputs }, rows, signature };
}

function json(status: number, text: string): BatcherAnswer {
  const body = Buffer.from(text);
  return {
    status,
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    body,
  };
}

export const V2_CODEC: BatchCodec<V2Request> = {
  merge(members) {
    const first = members[0]?.payload as V2Request;
    const inputs = first.inputs.map((input, k) => {
      const data: unknown[] = [];
      for (const m of members) for (const x of (m.payload.inputs[k] as V2Input).data) data.push(x);
      const rows = members.reduce((n, m) => n + m.count, 0);
      return { name: input.name, datatype: input.datatype, shape: [rows, ...input.shape.slice(1)], data };
    });
    return Buffer.from(JSON.stringify({ inputs }));
  },

  split(model: ModelAnswer, _id, members) {
    // The model refused the merged call: every client gets its answer as it was.
    if (model.status !== 200) {
      const a: BatcherAnswer = {
        status: model.status,
        headers: {
          'content-type': model.contentType ?? 'application/json',
          'content-length': String(model.body.length),
        },
        body: model.body,
      };
      return members.map(() => a);
    }
    const total = members.reduce((n, m) => n + m.count, 0);
    const fail = (why: string): BatcherAnswer[] =>
      members.map(() =>
        json(
          502,
          JSON.stringify({ error: `inferlog agent: the model's batched answer cannot be split: ${why}` }),
        ),
      );
    let parsed: unknown;
    try {
      parsed = JSON.parse(model.body.toString('utf8'));
    } catch {
      return fail('it is not JSON');
    }
    if (!isObject(parsed) || !Array.isArray(parsed.outputs)) return fail('no outputs');
    const outputs: Array<Record<string, unknown> & { shape: number[]; data: unknown[] }> = [];
    for (const out of parsed.outputs as unknown[]) {
      if (!isObject(out)) return fail('an output is not an object');
      const sd = flatShapedData(out);
      if (!sd || sd.shape[0] !== total) return fail(`output ${String(out.name)} does not have ${total} rows`);
      outputs.push({ ...out, ...sd });
    }
    let row = 0;
    return members.map((m) => {
      const rows = m.count;
      const sliced = outputs.map((o) => {
        const per = product(o.shape.slice(1));
        return {
          ...o,
          shape: [rows, ...o.shape.slice(1)],
          data: o.data.slice(row * per, (row + rows) * per),
        };
      });
      row += rows;
      const own = m.payload.id;
      return json(
        200,
        JSON.stringify({ ...parsed, ...(own !== undefined ? { id: own } : {}), outputs: sliced }),
      );
    });
  },
};
