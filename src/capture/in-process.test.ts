// In-process capture with a recorder chosen from the body (OpenAI routes name their model there).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Exchange } from '../core/exchange.js';
import { captureInProcess, type RecorderRouting } from './in-process.js';
import { Recorder } from './recorder.js';
import { atTurnEnd } from '../pipeline/turn-end.js';

const source = (name: string) => ({
  inferenceService: name,
  namespace: 'default',
  component: 'predictor',
  endpoint: '',
  sourceUri: 'http://localhost/',
  annotations: {},
});

function recorder(name: string, out: Exchange[]): Recorder {
  return new Recorder({
    source: source(name),
    mode: 'all',
    maxCaptureBytes: 1024,
    metadataHeaders: [],
    forceHeaders: [],
    submitter: { submit: (ex) => out.push(ex) },
  });
}

describe('captureInProcess with a body-dependent recorder', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  async function start(routing: RecorderRouting, limit: number): Promise<string> {
    const handler = captureInProcess(
      routing,
      (_req, res, body) => {
        res.writeHead(body === undefined ? 413 : 200, { 'content-type': 'text/plain' });
        res.end(body === undefined ? 'too large' : `got ${body.length}`);
      },
      limit,
    );
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server?.address() as AddressInfo).port}`;
  }

  it('logs under the recorder the body picks, with the whole request and its arrival time', async () => {
    const a: Exchange[] = [];
    const b: Exchange[] = [];
    const seen: Array<number | undefined> = [];
    const base = await start(
      {
        atStart: () => 'body',
        withBody: (_req, body) => {
          seen.push(body?.length);
          return body?.toString().includes('"b"') ? recorder('b', b) : recorder('a', a);
        },
      },
      64,
    );
    const before = Date.now();
    const res = await fetch(`${base}/openai/v1/completions`, { method: 'POST', body: '{"model":"b"}' });
    expect(await res.text()).toBe('got 13');
    expect(a).toHaveLength(0);
    expect(b).toHaveLength(1);
    expect(new TextDecoder().decode(b[0]?.request?.bytes)).toBe('{"model":"b"}');
    expect(b[0]?.requestTime).toBeGreaterThanOrEqual(before - 1);
    expect(seen).toEqual([13]);
  });

  it('sends the last bytes only after the work its exchange put off to the end of the turn (the spool write)', async () => {
    // The spool writes a turn's records at its end (pipeline/turn-end.ts); an in-process answer
    // must not leave before, or a crash in between would lose an answered exchange.
    let ended: () => boolean = () => true;
    const doneAtWrite: boolean[] = [];
    const spooling = new Recorder({
      source: source('a'),
      mode: 'all',
      maxCaptureBytes: 1024,
      metadataHeaders: [],
      forceHeaders: [],
      submitter: { submit: () => atTurnEnd(() => doneAtWrite.push(ended())) },
    });
    const handler = captureInProcess(
      spooling,
      (_req, res) => {
        ended = () => res.writableEnded;
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      },
      64,
    );
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/models/a:predict`);
    expect(await res.text()).toBe('ok');
    expect(doneAtWrite).toEqual([false]);
  });

  it('decides at the body limit, with no body, and still logs every byte count', async () => {
    const a: Exchange[] = [];
    const seen: Array<number | undefined> = [];
    const base = await start(
      {
        atStart: () => 'body',
        withBody: (_req, body) => {
          seen.push(body?.length);
          return recorder('a', a);
        },
      },
      64,
    );
    const big = 'x'.repeat(100_000);
    const res = await fetch(`${base}/openai/v1/completions`, { method: 'POST', body: big });
    expect(res.status).toBe(413);
    await res.text();
    expect(seen).toEqual([undefined]);
    expect(a).toHaveLength(1);
    expect(a[0]?.request).toMatchObject({ size: 100_000, truncated: true });
    expect(a[0]?.status).toBe(413);
  });
});
