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
 * first dimension. Binary tensor extension requests (Inference-Header-Content-Length) merge too: their
 * raw tensors are concatenated (binary inputs only merge with binary ones). Anything else passes
 * through unbatched, as in KServe.
 */
import { flatShapedData, isObject, rowsOf } from '../../formats/v2-tensor.js';
import type { BatchCodec, BatcherAnswer, Member, ModelAnswer } from './batcher.js';

interface V2Input {
  name: string;
  datatype: string;
  shape: number[];
  /** JSON data (flat), or undefined when the tensor came as binary (`bytes`). */
  data?: unknown[];
  bytes?: Buffer;
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

/**
 * A mergeable request, its rows and its merge key; undefined: pass it through. `headerLength` is the
 * Inference-Header-Content-Length of a binary-extension request: its JSON header, then the raw
 * tensors of the inputs whose only parameter is `binary_data_size`, in order.
 */
export function parseV2(
  body: Buffer,
  headerLength?: string,
): { request: V2Request; rows: number; signature: string } | undefined {
  let jsonEnd = body.length;
  if (headerLength !== undefined) {
    if (!/^\d+$/.test(headerLength)) return undefined;
    jsonEnd = Number(headerLength);
    if (jsonEnd > body.length) return undefined;
  }
  let o: unknown;
  try {
    o = JSON.parse(body.subarray(0, jsonEnd).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(o)) return undefined;
  for (const k of Object.keys(o)) if (k !== 'id' && k !== 'inputs') return undefined;
  if (o.id !== undefined && typeof o.id !== 'string') return undefined;
  if (!Array.isArray(o.inputs) || o.inputs.length === 0) return undefined;
  const inputs: V2Input[] = [];
  let at = jsonEnd;
  for (const i of o.inputs as unknown[]) {
    if (!isObject(i)) return undefined;
    for (const k of Object.keys(i))
      if (!['name', 'datatype', 'shape', 'data', 'parameters'].includes(k)) return undefined;
    if (typeof i.name !== 'string' || typeof i.datatype !== 'string') return undefined;
    if (i.parameters !== undefined) {
      // Binary: the only parameter allowed is the size of its bytes, and there is no `data`.
      const p = i.parameters;
      if (headerLength === undefined || !isObject(p) || i.data !== undefined) return undefined;
      if (Object.keys(p).length !== 1 || !Number.isSafeInteger(p.binary_data_size)) return undefined;
      const size = p.binary_data_size as number;
      const shape = i.shape;
      if (size < 0 || at + size > body.length) return undefined;
      if (!Array.isArray(shape) || shape.length === 0) return undefined;
      if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) return undefined;
      inputs.push({
        name: i.name,
        datatype: i.datatype,
        shape: shape as number[],
        bytes: body.subarray(at, at + size),
      });
      at += size;
      continue;
    }
    const sd = flatShapedData(i);
    if (!sd) return undefined;
    inputs.push({ name: i.name, datatype: i.datatype, ...sd });
  }
  if (at !== body.length) return undefined;
  const rows = inputs[0]?.shape[0] as number;
  if (rows === 0 || inputs.some((i) => i.shape[0] !== rows)) return undefined;
  const signature = JSON.stringify(
    inputs.map((i) => [i.name, i.datatype, i.shape.slice(1), i.bytes !== undefined ? 'binary' : 'json']),
  );
  return { request: { id: o.id, inputs }, rows, signature };
}

/** The merged request: JSON, or JSON header + binary tensors when the inputs came as binary. */
function mergeParts(members: readonly Member<V2Request>[]): { header: string; binary: Buffer[] } {
  const first = members[0]?.payload as V2Request;
  const rows = members.reduce((n, m) => n + m.count, 0);
  const binary: Buffer[] = [];
  const inputs = first.inputs.map((input, k) => {
    const shape = [rows, ...input.shape.slice(1)];
    if (input.bytes !== undefined) {
      const parts = members.map((m) => m.payload.inputs[k]?.bytes as Buffer);
      const bytes = Buffer.concat(parts);
      binary.push(bytes);
      return {
        name: input.name,
        datatype: input.datatype,
        shape,
        parameters: { binary_data_size: bytes.length },
      };
    }
    const data: unknown[] = [];
    for (const m of members) for (const x of m.payload.inputs[k]?.data ?? []) data.push(x);
    return { name: input.name, datatype: input.datatype, shape, data };
  });
  return { header: JSON.stringify({ inputs }), binary };
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
    const { header, binary } = mergeParts(members);
    return binary.length === 0 ? Buffer.from(header) : Buffer.concat([Buffer.from(header), ...binary]);
  },

  headers(members, body) {
    let binary = 0;
    for (const m of members) for (const i of m.payload.inputs) binary += i.bytes?.length ?? 0;
    if (!members[0]?.payload.inputs.some((i) => i.bytes !== undefined)) return undefined;
    return { 'inference-header-content-length': String(body.length - binary) };
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
      const sliced = outputs.map((o) => rowsOf(o, row, rows));
      row += rows;
      const own = m.payload.id;
      return json(
        200,
        JSON.stringify({ ...parsed, ...(own !== undefined ? { id: own } : {}), outputs: sliced }),
      );
    });
  },
};
