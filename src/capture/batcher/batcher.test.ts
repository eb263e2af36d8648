import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../../test/support/exchange-fixture.js';
import { toJsonLine } from '../../formats/json-line.js';
import { decodeRecord, encodeRecord } from '../../formats/jsonl-record.js';
import { encodeBinary, encodeStructured } from '../../formats/cloudevents.js';
import { decodeCloudEvents } from '../../formats/cloudevents-decode.js';
import { halfFromEvent, mergeHalf, type ExchangeRow } from '../../store/exchange-record.js';
import {
  parseV1,
  predictPath,
  RequestBatcher,
  V1Batcher,
  type BatchCodec,
  type BatcherAnswer,
  type ModelAnswer,
} from './batcher.js';
import { parseV2, v2InferPath, V2_CODEC } from './v2.js';
import { goStringOfBytes, marshalGo } from './go-json.js';

const json = (a: BatcherAnswer): unknown => JSON.parse(a.body.toString());

describe('Go-compatible JSON (what KServe’s batcher sends and answers)', () => {
  it('sorts object keys, escapes <>& and U+2028, keeps -0, turns lone surrogates into U+FFFD', () => {
    expect(marshalGo(JSON.parse('{"b":1,"a":"<&>","é":[1.0,1e21,1e-7,-0]}'))).toBe(
      '{"a":"\\u003c\\u0026\\u003e","b":1,"é":[1,1e+21,1e-7,-0]}',
    );
    expect(marshalGo('\u2028\b\f\u0001"\\\ud800😀')).toBe('"\\u2028\\b\\f\\u0001\\"\\\\\ufffd😀"');
    // Keys sort by code point (UTF-8 byte order), not by UTF-16 unit.
    expect(marshalGo({ '\uffff': 1, '😀': 2 })).toBe('{"\uffff":1,"😀":2}');
  });

  it('writes a byte string as Go does: invalid UTF-8 bytes as the escape \\ufffd', () => {
    expect(goStringOfBytes(Buffer.from('{"error":"<x>"}\n'))).toBe(
      '"{\\"error\\":\\"\\u003cx\\u003e\\"}\\n"',
    );
    expect(goStringOfBytes(Buffer.from([0x61, 0xff, 0xe2, 0x82, 0x62]))).toBe('"a\\ufffd\\ufffd\\ufffdb"');
    expect(goStringOfBytes(Buffer.from('ok \ufffd'))).toBe('"ok \ufffd"');
  });

  it('reads instances as Go’s Unmarshal into {Instances []interface{}} does', () => {
    expect(parseV1(Buffer.from('{"INSTANCES":[1],"x":1e999}'))).toEqual(['1']);
    expect(parseV1(Buffer.from('{"in\u017ftances":[2]}'))).toEqual(['2']);
    const status = (body: string): number | undefined => {
      const r = parseV1(Buffer.from(body));
      return Array.isArray(r) ? undefined : r.status;
    };
    for (const bad of ['[1]', '"x"', '{"instances":{"a":1}}', '{"instances":[1e999]}', ''])
      expect(status(bad), bad).toBe(400);
    for (const none of ['null', '{}', '{"instances":null}', '{"instances":[]}'])
      expect((parseV1(Buffer.from(none)) as BatcherAnswer).body.toString(), none).toBe(
        'no instances in the request\n',
      );
  });

  it('batches only paths ending in :predict, as r.URL.Path sees them', () => {
    expect(predictPath('/v1/models/m:predict?x=1')).toBe('/v1/models/m:predict');
    expect(predictPath('/v1/models/m%3Apredict')).toBe('/v1/models/m:predict');
    expect(predictPath('/v2/models/m/infer')).toBeUndefined();
    expect(predictPath('/v1/models/m:predict/')).toBeUndefined();
  });
});

/** A model function: y = 2x + 1 per instance, with every call recorded. */
function doubler(calls: Array<{ path: string; body: string }>, answer?: (n: number) => ModelAnswer) {
  return async (path: string, body: Buffer): Promise<ModelAnswer> => {
    calls.push({ path, body: body.toString() });
    const instances = (JSON.parse(body.toString()) as { instances: number[] }).instances;
    await new Promise((r) => setImmediate(r));
    return (
      answer?.(instances.length) ?? {
        status: 200,
        body: Buffer.from(JSON.stringify({ predictions: instances.map((x) => 2 * x + 1) })),
      }
    );
  };
}

describe('V1Batcher: KServe’s release rules', () => {
  it('releases at maxBatchSize instances, after whole requests (a batch may overshoot)', async () => {
    const calls: Array<{ path: string; body: string }> = [];
    const b = new V1Batcher({ maxBatchSize: 4, maxLatencyMs: 60_000 }, doubler(calls));
    const p = '/v1/models/m:predict';
    const answers = await Promise.all([
      b.submit(p, Buffer.from('{"instances":[1,2,3]}')),
      b.submit(p, Buffer.from('{"instances":[4,5,6],"parameters":{"x":1}}')),
    ]);
    expect(calls).toEqual([{ path: p, body: '{"instances":[1,2,3,4,5,6]}' }]);
    const [a, c] = answers.map(json) as Array<{ batchId: string; predictions: number[] }>;
    expect(a?.predictions).toEqual([3, 5, 7]);
    expect(c?.predictions).toEqual([9, 11, 13]);
    expect(a?.batchId).toBe(c?.batchId);
    expect(answers.map((x) => x.batch)).toEqual([
      { id: a?.batchId, size: 2, position: 0 },
      { id: a?.batchId, size: 2, position: 1 },
    ]);
  });

  it('keeps one queue per path: a client’s instances never go to another model', async () => {
    const calls: Array<{ path: string; body: string }> = [];
    const b = new V1Batcher({ maxBatchSize: 2, maxLatencyMs: 60_000 }, doubler(calls));
    await Promise.all([
      b.submit('/v1/models/a:predict', Buffer.from('{"instances":[1]}')),
      b.submit('/v1/models/b:predict', Buffer.from('{"instances":[2]}')),
      b.submit('/v1/models/a:predict', Buffer.from('{"instances":[3]}')),
      b.submit('/v1/models/b:predict', Buffer.from('{"instances":[4]}')),
    ]);
    expect(calls.sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: '/v1/models/a:predict', body: '{"instances":[1,3]}' },
      { path: '/v1/models/b:predict', body: '{"instances":[2,4]}' },
    ]);
  });

  it('holds arrivals while a batch is at the model; they form the next batch in order', async () => {
    const calls: Array<{ path: string; body: string }> = [];
    const b = new V1Batcher({ maxBatchSize: 2, maxLatencyMs: 60_000 }, doubler(calls));
    const p = '/v1/models/m:predict';
    const all = [1, 2, 3, 4, 5].map((x) => b.submit(p, Buffer.from(`{"instances":[${x}]}`)));
    // Shutdown: the partial batch after these must not wait out the 60 s.
    b.flush();
    await Promise.all(all);
    expect(calls.map((c) => c.body)).toEqual([
      '{"instances":[1,2]}',
      '{"instances":[3,4]}',
      '{"instances":[5]}',
    ]);
  });

  it('answers every client of a failed batch with KServe’s messages', async () => {
    const p = '/v1/models/m:predict';
    const run = async (answer: ModelAnswer) => {
      const b = new V1Batcher(
        { maxBatchSize: 2, maxLatencyMs: 60_000 },
        doubler([], () => answer),
      );
      const r = await Promise.all([1, 2].map((x) => b.submit(p, Buffer.from(`{"instances":[${x}]}`))));
      for (const a of r) expect(a.status).toBe(200);
      return r.map(json) as Array<{ message: string; batchId: string; predictions: unknown }>;
    };
    const failed = await run({ status: 500, body: Buffer.from('{"error":"boom <1>"}') });
    expect(failed[0]).toEqual({ message: '{"error":"boom <1>"}', batchId: '', predictions: null });
    const short = await run({ status: 200, body: Buffer.from('{"predictions":[1]}') });
    expect(short[1]?.message).toBe('size of prediction is not equal to the size of instances');
    expect(short[1]?.predictions).toBeNull();
    expect(short[1]?.batchId).toMatch(/^[0-9a-f-]{36}$/);
    const notJson = await run({ status: 200, body: Buffer.from('') });
    expect(notJson[0]?.message).toBe('unexpected end of JSON input');
    const wrongType = await run({ status: 200, body: Buffer.from('{"predictions":5}') });
    expect(wrongType[0]?.message).toBe(
      'json: cannot unmarshal number into Go struct field PredictionResponse.predictions of type []interface {}',
    );
  });
});

describe('the batch in the log', () => {
  it('travels on the JSON line, the record, both CloudEvents modes, and into the collector’s row', () => {
    const batch = { id: '0b6b2a3c-1d2e-4f50-8a9b-0c1d2e3f4a5b', size: 3, position: 2 };
    const ex = makeExchange({ batch });
    expect(toJsonLine(ex).batch).toEqual(batch);
    expect(decodeRecord(encodeRecord(ex)).batch).toEqual(batch);
    let row: ExchangeRow | undefined;
    for (const e of encodeBinary(ex)) {
      const headers: Record<string, string> = {};
      for (let i = 0; i < e.headers.length; i += 2)
        headers[(e.headers[i] as string).toLowerCase()] = e.headers[i + 1] as string;
      for (const ev of decodeCloudEvents(headers, e.body ?? new Uint8Array()))
        row = mergeHalf(row, halfFromEvent(ev, 0));
    }
    expect(row?.complete).toBe(true);
    expect(row?.detail.batch).toEqual(batch);
    for (const s of encodeStructured(ex))
      expect((JSON.parse(s.json) as { batch: string }).batch).toBe(JSON.stringify(batch));
  });

  it('ignores a batch extension that is not a sane {id, size, position}', () => {
    const ex = makeExchange({ batch: { id: 'x', size: 2, position: 5 } });
    for (const e of encodeBinary(ex)) {
      const headers: Record<string, string> = {};
      for (let i = 0; i < e.headers.length; i += 2)
        headers[(e.headers[i] as string).toLowerCase()] = e.headers[i + 1] as string;
      for (const ev of decodeCloudEvents(headers, e.body ?? new Uint8Array()))
        expect(halfFromEvent(ev, 0).batch).toBeNull();
    }
  });
});

describe('V2 batching (--batch-v2)', () => {
  const req = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
  const x = (shape: number[], data: unknown[]) => ({ name: 'x', datatype: 'FP32', shape, data });

  it('merges only what keeps its meaning; the rest passes through', () => {
    expect(parseV2(req({ id: 'a', inputs: [x([2, 2], [1, 2, 3, 4])] }))).toMatchObject({
      rows: 2,
      signature: '[["x","FP32",[2],"json"]]',
    });
    for (const bad of [
      { inputs: [x([2], [1, 2])], parameters: {} },
      { inputs: [x([2], [1, 2])], outputs: [{ name: 'y' }] },
      { inputs: [{ ...x([2], [1, 2]), parameters: { binary_data_size: 8 } }] },
      { inputs: [x([2], [[1], [2]])] },
      { inputs: [x([3], [1, 2])] },
      { inputs: [x([2], [1, 2]), { ...x([1], [1]), name: 'z' }] },
      { inputs: [] },
      { id: 5, inputs: [x([1], [1])] },
    ])
      expect(parseV2(req(bad)), JSON.stringify(bad)).toBeUndefined();
    expect(parseV2(Buffer.from('not json'))).toBeUndefined();
    expect(v2InferPath('/v2/models/m/versions/1/infer?x')).toBe('/v2/models/m/versions/1/infer');
    expect(v2InferPath('/v2/models/m/ready')).toBeUndefined();
  });

  it('splits outputs by rows, keeps each client’s id, and refuses an answer it cannot split', async () => {
    const calls: string[] = [];
    const outputs = (rows: number, data: number[]) =>
      JSON.stringify({
        model_name: 'm',
        id: 'merged',
        outputs: [{ name: 'y', datatype: 'FP32', shape: [rows], data }],
      });
    const run = async (answerBody: (rows: number) => string) => {
      const b = new RequestBatcher({ maxBatchSize: 3, maxLatencyMs: 60_000 }, async (_p, body) => {
        calls.push(body.toString());
        return { status: 200, body: Buffer.from(answerBody(3)), contentType: 'application/json' };
      });
      return Promise.all(
        [
          { id: 'a', inputs: [x([2], [1, 2])] },
          { id: 'b', inputs: [x([1], [3])] },
        ].map((r) => {
          const p = parseV2(req(r));
          return b.enqueue(
            `k\n${p?.signature}`,
            '/v2/models/m/infer',
            V2_CODEC as BatchCodec,
            p?.request,
            p?.rows ?? 0,
          );
        }),
      );
    };
    const ok = await run((rows) => outputs(rows, [10, 20, 30]));
    expect(calls[0]).toBe('{"inputs":[{"name":"x","datatype":"FP32","shape":[3],"data":[1,2,3]}]}');
    expect(ok.map((a) => a.body.toString())).toEqual([
      '{"model_name":"m","id":"a","outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[10,20]}]}',
      '{"model_name":"m","id":"b","outputs":[{"name":"y","datatype":"FP32","shape":[1],"data":[30]}]}',
    ]);
    const bad = await run(() => outputs(2, [10, 20]));
    expect(bad.map((a) => a.status)).toEqual([502, 502]);
  });
});
