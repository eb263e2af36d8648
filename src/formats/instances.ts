/**
 * One row per prediction (`inferlog.dev/log-instances`, `inferlog collect --log-instances`): a
 * logged exchange's request and response bodies, as logged (so after redaction), cut into one
 * row per instance with its input, its prediction and its index. Monitoring and retraining jobs
 * read this shape (SageMaker data capture, Databricks inference tables).
 *
 *   V1  {"instances":[a,b]}                     + {"predictions":[p,q]}          ──▶ (0,a,p) (1,b,q)
 *   V1  {"inputs":{"x":[1,2],"y":[3,4]}}         + {"outputs":[p,q]}              ──▶ (0,{x:1,y:3},p) …
 *   V2  {"inputs":[{x,FP32,[2,4],[…8]}]}         + {"outputs":[{y,FP32,[2],[…]}]}  ──▶ (0,{x:{FP32,[4],[…4]}},{y:…}) …
 *
 * It is a pure function of the bodies, so every writer calls the same one: the collector's store
 * (from the stored bodies, in the exchange's transaction), the file sink, the blob sinks. Anything
 * it cannot split with certainty is skipped with a reason (INSTANCE_SKIP_REASONS) for the
 * caller to count, never guessed: a wrong pairing of inputs and predictions would poison a
 * retraining set silently, a missing row is at least counted.
 *
 * The model's own answer decides nothing about the protocol: V2 is a `/v2/…/infer` URL or a request
 * whose `inputs` are all tensor objects; OpenAI routes are one prompt each and are not split.
 */
import { logsResponse, type CapturedBody, type Exchange } from '../core/exchange.js';
import { flatShapedData, isObject, rowsOf } from './v2-tensor.js';

/** Why an exchange got no instance rows (the metric label `reason`). */
export const INSTANCE_SKIP_REASONS = [
  /** The request half was not logged (`mode: response`). */
  'no_request',
  /** The model did not answer 200: there are no predictions to pair with the inputs. */
  'not_ok',
  /** A body was cut at the capture limit. */
  'truncated',
  /** A body is not one JSON document: binary tensors, still Content-Encoded, withheld whole by redaction. */
  'not_json',
  /** OpenAI-style routes: one prompt per request, nothing to split. */
  'openai',
  /** The request has neither V1 `instances`/`inputs` nor V2 tensors that can be read row-wise. */
  'unrecognised',
  /** The response has no predictions/outputs this code can read row-wise. */
  'no_predictions',
  /** Request and response disagree on how many instances there are. */
  'count_mismatch',
  /** More than MAX_INSTANCES_PER_EXCHANGE instances: a bound on the rows one request can make. */
  'too_many',
  /** A body nested deeper than MAX_JSON_DEPTH: its rows could not be written back as JSON. */
  'too_deep',
] as const;
export type InstanceSkipReason = (typeof INSTANCE_SKIP_REASONS)[number];

/**
 * The most rows one exchange makes. One small request can carry a million one-byte instances;
 * each becomes a row written in the same transaction as everyone else's exchanges, so without a
 * bound one client could stall the collector for all. Above it the exchange is skipped, counted.
 */
export const MAX_INSTANCES_PER_EXCHANGE = 10_000;

/**
 * The deepest JSON a body may have to be split. JSON.parse reads any depth, but JSON.stringify (which
 * writes every row) recurses and throws on a few thousand levels: one client's `[[[[…]]]]` would fail
 * the sink's batch, or the collector's transaction, for every exchange in it, on every retry.
 */
export const MAX_JSON_DEPTH = 64;

/** True when `v` nests arrays/objects deeper than `max` levels (iterative: any depth is safe to ask). */
function deeperThan(v: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[v, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (d > max) return true;
    for (const c of Array.isArray(x) ? x : Object.values(x))
      if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return false;
}

/** What splitting needs of an exchange: its URL, status and bodies as logged. */
export interface SplitSource {
  url: string | null;
  status: number | null;
  /** Undefined when the request half was not logged. */
  request?: BodyBytes | undefined;
  /** Undefined when the response half was not logged (rows then carry no prediction). */
  response?: BodyBytes | undefined;
}

export interface BodyBytes {
  bytes: Uint8Array;
  truncated?: boolean;
  stillEncoded?: boolean;
}

/** One instance: its place in the request, its input, and (when the response was logged) its prediction. */
export interface Instance {
  index: number;
  input: unknown;
  prediction?: unknown;
}

export type InstanceSplit = { instances: Instance[] } | { skip: InstanceSkipReason };

/** The protocol the rows were read as, as the splitter decided it. */
type Rows = { protocol: 'v1' | 'v2'; rows: unknown[] } | { skip: InstanceSkipReason };

const OPENAI_PATH = /^\/openai\/|\/v1\/(?:chat\/completions|completions|embeddings)(?:[?#]|$)/;
const V2_INFER_PATH = /^\/v2\/models\/[^/?#]+(?:\/versions\/[^/?#]+)?\/infer(?:[?#]|$)/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseBody(b: BodyBytes): { value: unknown } | { skip: InstanceSkipReason } {
  if (b.truncated === true) return { skip: 'truncated' };
  if (b.stillEncoded === true) return { skip: 'not_json' };
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(b.bytes));
  } catch {
    return { skip: 'not_json' };
  }
  return deeperThan(value, MAX_JSON_DEPTH) ? { skip: 'too_deep' } : { value };
}

/** V2 tensors of one shape[0], each cut into rows: row i = {name: {datatype, shape (minus the first dim), data}}. */
function tensorRows(list: unknown): unknown[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const tensors: Array<{ name: string; datatype: unknown; shape: number[]; data: unknown[] }> = [];
  const names = new Set<string>();
  for (const t of list) {
    if (!isObject(t) || typeof t.name !== 'string' || names.has(t.name)) return undefined;
    const sd = flatShapedData(t);
    if (!sd) return undefined;
    names.add(t.name);
    tensors.push({ name: t.name, datatype: t.datatype, ...sd });
  }
  const n = tensors[0]!.shape[0]!;
  if (tensors.some((t) => t.shape[0] !== n)) return undefined;
  return Array.from({ length: n }, (_, i) =>
    // fromEntries defines own properties: a tensor named "__proto__" stays data.
    Object.fromEntries(
      tensors.map((t) => {
        const row = rowsOf(t, i, 1);
        return [t.name, { datatype: t.datatype, shape: row.shape.slice(1), data: row.data }];
      }),
    ),
  );
}

/** TensorFlow's columnar `inputs`/`outputs` (which KServe V1 passes on): a dict of equal-length lists. */
function columnRows(o: Record<string, unknown>): unknown[] | undefined {
  const keys = Object.keys(o);
  if (keys.length === 0) return undefined;
  const cols = keys.map((k) => o[k]);
  if (!cols.every(Array.isArray)) return undefined;
  const n = (cols[0] as unknown[]).length;
  if (cols.some((c) => (c as unknown[]).length !== n)) return undefined;
  return Array.from({ length: n }, (_, i) =>
    Object.fromEntries(keys.map((k, j) => [k, (cols[j] as unknown[])[i]])),
  );
}

const isTensor = (t: unknown): boolean =>
  isObject(t) && typeof t.name === 'string' && Array.isArray(t.shape) && 'datatype' in t;

function requestRows(url: string, body: unknown): Rows {
  if (!isObject(body)) return { skip: 'unrecognised' };
  const inputs = body.inputs;
  const v2 =
    V2_INFER_PATH.test(url) ||
    (body.instances === undefined && Array.isArray(inputs) && inputs.length > 0 && inputs.every(isTensor));
  if (v2) {
    const rows = tensorRows(inputs);
    return rows ? { protocol: 'v2', rows } : { skip: 'unrecognised' };
  }
  if (Array.isArray(body.instances)) return { protocol: 'v1', rows: body.instances };
  if (Array.isArray(inputs)) return { protocol: 'v1', rows: inputs };
  if (isObject(inputs)) {
    const rows = columnRows(inputs);
    if (rows) return { protocol: 'v1', rows };
  }
  return { skip: 'unrecognised' };
}

function predictionRows(protocol: 'v1' | 'v2', body: unknown): unknown[] | undefined {
  if (!isObject(body)) return undefined;
  if (protocol === 'v2') return tensorRows(body.outputs);
  // KServe's batcher answers `{"message","batchId","predictions"}`: predictions null on a model error.
  if (Array.isArray(body.predictions)) return body.predictions;
  if (Array.isArray(body.outputs)) return body.outputs;
  if (isObject(body.outputs)) return columnRows(body.outputs);
  return undefined;
}

/** An exchange's instances, or why it has none. Pure; never throws. */
export function splitInstances(x: SplitSource): InstanceSplit {
  const url = x.url ?? '';
  if (OPENAI_PATH.test(url)) return { skip: 'openai' };
  if (!x.request) return { skip: 'no_request' };
  if (x.status !== 200) return { skip: 'not_ok' };
  const req = parseBody(x.request);
  if ('skip' in req) return req;
  const inputs = requestRows(url, req.value);
  if ('skip' in inputs) return inputs;
  if (inputs.rows.length > MAX_INSTANCES_PER_EXCHANGE) return { skip: 'too_many' };
  if (!x.response) return { instances: inputs.rows.map((input, index) => ({ index, input })) };
  const res = parseBody(x.response);
  if ('skip' in res) return res;
  const predictions = predictionRows(inputs.protocol, res.value);
  if (!predictions) return { skip: 'no_predictions' };
  if (predictions.length !== inputs.rows.length) return { skip: 'count_mismatch' };
  return {
    instances: inputs.rows.map((input, index) => ({ index, input, prediction: predictions[index] })),
  };
}

/** One instance row as the file and blob sinks write it (a JSON line with `kind: "instance"`). */
export interface InstanceRow {
  kind: 'instance';
  /** The exchange's id: join key with the exchange log. */
  exchangeId: string;
  model: string;
  namespace: string;
  component: string;
  /** The exchange's request time, RFC 3339. */
  time: string;
  index: number;
  input: unknown;
  /** Absent when the response half was not logged. */
  prediction?: unknown;
  /** How many exchanges the exchange stands for under sampling (1/rate): weigh rows by it in aggregates. */
  sampleWeight: number;
  /** The request batch the exchange went to the model in (inferlog's batcher), when it did. */
  batch?: { id: string; size: number; position: number };
}

const bodyBytes = (b: CapturedBody | undefined): BodyBytes | undefined =>
  b && {
    bytes: b.bytes,
    truncated: b.truncated,
    ...(b.stillEncoded === true ? { stillEncoded: true } : {}),
  };

/**
 * The instance rows of a captured exchange (already redacted: sinks get what the pipeline kept), or
 * why it has none. What every sink calls; the collector calls splitInstances on its stored halves.
 */
export function instanceRows(ex: Exchange): { rows: InstanceRow[] } | { skip: InstanceSkipReason } {
  const split = splitInstances({
    url: ex.url,
    status: ex.status,
    request: bodyBytes(ex.request),
    // A response that was not logged (mode request) is not a missing prediction: rows carry inputs only.
    response: logsResponse(ex.mode) ? (bodyBytes(ex.response) ?? { bytes: new Uint8Array(0) }) : undefined,
  });
  if ('skip' in split) return split;
  const time = new Date(ex.requestTime).toISOString();
  return {
    rows: split.instances.map((i) => {
      const row: InstanceRow = {
        kind: 'instance',
        exchangeId: ex.id,
        model: ex.source.inferenceService,
        namespace: ex.source.namespace,
        component: ex.source.component,
        time,
        index: i.index,
        input: i.input,
        sampleWeight: ex.sampleWeight,
      };
      if ('prediction' in i) row.prediction = i.prediction;
      if (ex.batch) row.batch = ex.batch;
      return row;
    }),
  };
}

/**
 * A batch's instance rows as JSON lines (each ending in a newline), how many, and the exchanges that
 * had none, by reason: what a file-like sink appends, and counts once the write succeeded.
 */
export function instanceLines(batch: readonly Exchange[]): {
  text: string;
  count: number;
  skipped: InstanceSkipReason[];
} {
  let text = '';
  let count = 0;
  const skipped: InstanceSkipReason[] = [];
  for (const ex of batch) {
    const r = instanceRows(ex);
    if ('skip' in r) {
      skipped.push(r.skip);
      continue;
    }
    for (const row of r.rows) text += JSON.stringify(row) + '\n';
    count += r.rows.length;
  }
  return { text, count, skipped };
}
