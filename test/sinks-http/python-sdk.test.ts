// Cross-check with the real CloudEvents Python SDK: what the sink sends must parse as the same events.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pythonBin } from '../helpers/peers.js';
import { createHttpSink } from '../../src/sinks/http/sink.js';
import { scenarioExchange, SCENARIO_ID } from './kserve-scenario.js';
import { sinkOptions, startRecorder, type Recorder } from './recorder.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80]);
type Parsed = Record<string, unknown> & { data: unknown };

let rec: Recorder;
beforeAll(async () => {
  rec = await startRecorder();
});
afterAll(async () => {
  await rec.close();
});

/** Sends the exchanges through a sink, then has the Python SDK parse every request the server got. */
async function sendAndParse(batchSize: number): Promise<Parsed[]> {
  rec.received.length = 0;
  const sink = createHttpSink(new URL(rec.url), sinkOptions({ batchSize }));
  await sink.start();
  const png = scenarioExchange({
    id: 'png',
    mode: 'request',
    request: { bytes: PNG, contentType: 'application/octet-stream', size: PNG.length, truncated: false },
  });
  const failed = scenarioExchange({
    id: 'failed',
    mode: 'response',
    status: 502,
    response: undefined,
    error: { code: 'UPSTREAM_UNREACHABLE', message: 'refused' },
  });
  await sink.send([scenarioExchange(), png, failed], new AbortController().signal);
  await sink.shutdown();
  const requests = rec.received.map((r) => ({ headers: r.rawHeaders, body_b64: r.body.toString('base64') }));
  const out = execFileSync(pythonBin(), [join(import.meta.dirname, 'parse-cloudevents.py')], {
    input: JSON.stringify(requests),
  });
  const events = JSON.parse(out.toString('utf8')) as Parsed[];
  return events.sort((a, b) =>
    `${String(a.id)}${String(a.type)}`.localeCompare(`${String(b.id)}${String(b.type)}`),
  );
}

describe.each([
  ['binary mode, one POST per event', 1],
  ['batch mode, application/cloudevents-batch+json', 10],
])('the Python CloudEvents SDK reads what the sink sends: %s', (_label, batchSize) => {
  let events: Parsed[];
  beforeAll(async () => {
    events = await sendAndParse(batchSize);
  });

  it('parses every event with its KServe attributes', () => {
    expect(events.map((e) => [e.id, e.type])).toEqual([
      [SCENARIO_ID, 'org.kubeflow.serving.inference.request'],
      [SCENARIO_ID, 'org.kubeflow.serving.inference.response'],
      ['failed', 'org.kubeflow.serving.inference.response'],
      ['png', 'org.kubeflow.serving.inference.request'],
    ]);
    expect(events[0]).toMatchObject({
      specversion: '1.0',
      source: 'http://localhost:9081/',
      datacontenttype: 'application/json',
      inferenceservicename: 'sklearn-iris',
      namespace: 'default',
      component: 'predictor',
      endpoint: '',
      metadata: '{"X-Request-Id":["7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40"]}',
      annotations: '{"team.example.com/owner":"ml-platform"}',
      data: {
        instances: [
          [6.8, 2.8, 4.8, 1.4],
          [6.0, 3.4, 4.5, 1.6],
        ],
      },
    });
    expect(String(events[0]?.time)).toMatch(/^2026-08-21[T ]10:15:30\.001873/);
  });

  it('reads the response body and the status extension', () => {
    expect(events[1]?.data).toEqual({ predictions: [1, 1] });
    expect(String(events[1]?.statuscode)).toBe('200');
  });

  it('reads binary bodies back as the same bytes', () => {
    expect(Buffer.from((events[3]?.data as { b64: string }).b64, 'base64').equals(PNG)).toBe(true);
  });

  it('reads a failed exchange as a response event without data, with its error code', () => {
    expect(events[2]).toMatchObject({ errorcode: 'UPSTREAM_UNREACHABLE', data: null });
    expect(String(events[2]?.statuscode)).toBe('502');
  });
});
