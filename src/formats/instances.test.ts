import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../test/support/exchange-fixture.js';
import { instanceRows, MAX_INSTANCES_PER_EXCHANGE, splitInstances, type SplitSource } from './instances.js';

const body = (v: unknown): { bytes: Uint8Array } => ({
  bytes: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)),
});
const split = (url: string, req: unknown, res?: unknown, status = 200): ReturnType<typeof splitInstances> =>
  splitInstances({
    url,
    status,
    request: body(req),
    ...(res !== undefined ? { response: body(res) } : {}),
  });

describe('splitInstances: one row per prediction', () => {
  it('pairs V1 instances (rows format) with predictions by index, for a plain batched request', () => {
    expect(
      split(
        '/v1/models/iris:predict',
        { instances: [[6.8, 2.8, 4.8, 1.4], { a: 1 }] },
        { predictions: [1, 'x'] },
      ),
    ).toEqual({
      instances: [
        { index: 0, input: [6.8, 2.8, 4.8, 1.4], prediction: 1 },
        { index: 1, input: { a: 1 }, prediction: 'x' },
      ],
    });
  });

  it("reads the batcher's answer shape and the columnar inputs format (a dict of lists)", () => {
    expect(
      split(
        '/v1/models/m:predict',
        { instances: [1, 2] },
        { message: '', batchId: 'b', predictions: [3, 5] },
      ),
    ).toMatchObject({ instances: [{ prediction: 3 }, { prediction: 5 }] });
    expect(
      split('/v1/models/m:predict', { inputs: { x: [1, 2], y: ['a', 'b'] } }, { outputs: { p: [0.1, 0.9] } }),
    ).toEqual({
      instances: [
        { index: 0, input: { x: 1, y: 'a' }, prediction: { p: 0.1 } },
        { index: 1, input: { x: 2, y: 'b' }, prediction: { p: 0.9 } },
      ],
    });
    expect(split('/v1/models/m:predict', { inputs: [[1], [2]] }, { outputs: [7, 8] })).toMatchObject({
      instances: [
        { input: [1], prediction: 7 },
        { input: [2], prediction: 8 },
      ],
    });
  });

  it('cuts V2 tensors along the first dimension, inputs and outputs alike', () => {
    const req = {
      id: 'r',
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] },
        { name: 'k', datatype: 'BYTES', shape: [2], data: ['a', 'b'] },
      ],
    };
    const res = {
      model_name: 'm',
      outputs: [{ name: 'y', datatype: 'INT64', shape: [2, 1], data: [0, 2] }],
    };
    expect(split('/v2/models/m/infer', req, res)).toEqual({
      instances: [
        {
          index: 0,
          input: {
            x: { datatype: 'FP32', shape: [2], data: [1, 2] },
            k: { datatype: 'BYTES', shape: [], data: ['a'] },
          },
          prediction: { y: { datatype: 'INT64', shape: [1], data: [0] } },
        },
        {
          index: 1,
          input: {
            x: { datatype: 'FP32', shape: [2], data: [3, 4] },
            k: { datatype: 'BYTES', shape: [], data: ['b'] },
          },
          prediction: { y: { datatype: 'INT64', shape: [1], data: [2] } },
        },
      ],
    });
    // A V2 body on another path is still read as tensors.
    expect(split('/predict', req, res)).toMatchObject({ instances: [{ index: 0 }, { index: 1 }] });
  });

  it('keeps inputs without predictions when the response was not logged (mode request)', () => {
    expect(
      splitInstances({ url: '/v1/models/m:predict', status: 200, request: body({ instances: [1] }) }),
    ).toEqual({ instances: [{ index: 0, input: 1 }] });
  });

  it('skips, with a reason, whatever it cannot split with certainty', () => {
    const v1 = '/v1/models/m:predict';
    const cases: Array<[string, ReturnType<typeof splitInstances>]> = [
      ['count', split(v1, { instances: [1, 2] }, { predictions: [1] })],
      ['model error', split(v1, { instances: [1] }, { message: 'boom', batchId: '', predictions: null })],
      ['not ok', split(v1, { instances: [1] }, { error: 'x' }, 500)],
      ['not json', split(v1, '[REDACTED]', { predictions: [1] })],
      ['no instances', split(v1, { data: [1] }, { predictions: [1] })],
      ['ragged columns', split(v1, { inputs: { x: [1, 2], y: [1] } }, { predictions: [1, 2] })],
      [
        'v2 shapes disagree',
        split(
          '/v2/models/m/infer',
          { inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2] }] },
          { outputs: [{ name: 'y', datatype: 'FP32', shape: [3], data: [1, 2, 3] }] },
        ),
      ],
      [
        'v2 data not flat',
        split(
          '/v2/models/m/infer',
          {
            inputs: [
              {
                name: 'x',
                datatype: 'FP32',
                shape: [2, 2],
                data: [
                  [1, 2],
                  [3, 4],
                ],
              },
            ],
          },
          { outputs: [] },
        ),
      ],
      ['openai', split('/openai/v1/chat/completions', { messages: [] }, { choices: [] })],
    ];
    expect(Object.fromEntries(cases.map(([k, v]) => [k, 'skip' in v ? v.skip : 'rows']))).toEqual({
      count: 'count_mismatch',
      'model error': 'no_predictions',
      'not ok': 'not_ok',
      'not json': 'not_json',
      'no instances': 'unrecognised',
      'ragged columns': 'unrecognised',
      'v2 shapes disagree': 'count_mismatch',
      'v2 data not flat': 'unrecognised',
      openai: 'openai',
    });
    const truncated: SplitSource = {
      url: v1,
      status: 200,
      request: { ...body({ instances: [1] }), truncated: true },
    };
    expect(splitInstances(truncated)).toEqual({ skip: 'truncated' });
    expect(splitInstances({ url: v1, status: 200, response: body({ predictions: [1] }) })).toEqual({
      skip: 'no_request',
    });
  });

  it('skips bodies nested deeper than any model input, before anything walks them recursively', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(split('/v1/models/m:predict', `{"instances":[${deep}]}`, { predictions: [1] })).toEqual({
      skip: 'too_deep',
    });
    expect(split('/v1/models/m:predict', { instances: [1] }, `{"predictions":[${deep}]}`)).toEqual({
      skip: 'too_deep',
    });
  });

  it('bounds the rows one request can make', () => {
    const many = Array.from({ length: MAX_INSTANCES_PER_EXCHANGE + 1 }, () => 0);
    expect(split('/v1/models/m:predict', { instances: many }, { predictions: many })).toEqual({
      skip: 'too_many',
    });
  });

  it('keeps a tensor or column named __proto__ as data', () => {
    const r = split('/v1/models/m:predict', JSON.parse('{"inputs":{"__proto__":[1]}}'), { predictions: [1] });
    expect('instances' in r && JSON.stringify(r.instances[0]!.input)).toBe('{"__proto__":1}');
  });
});

describe('instanceRows: what the sinks write', () => {
  it('names the exchange, model and batch on every row', () => {
    const ex = makeExchange({
      id: 'ex-1',
      url: '/v1/models/iris:predict',
      request: { bytes: Buffer.from('{"instances":[[1,2],[3,4]]}'), size: 27, truncated: false },
      response: { bytes: Buffer.from('{"predictions":[0,2]}'), size: 21, truncated: false },
      batch: { id: 'b-1', size: 2, position: 1 },
    });
    const r = instanceRows(ex);
    expect(r).toEqual({
      rows: [
        expect.objectContaining({
          kind: 'instance',
          exchangeId: 'ex-1',
          index: 0,
          input: [1, 2],
          prediction: 0,
        }),
        expect.objectContaining({
          index: 1,
          input: [3, 4],
          prediction: 2,
          batch: { id: 'b-1', size: 2, position: 1 },
        }),
      ],
    });
    expect('rows' in r && r.rows[0]!.model).toBe(ex.source.inferenceService);
  });
});
