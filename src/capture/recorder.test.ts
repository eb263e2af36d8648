// The exchange id: whose is it? (issue 16, item 4). Real HTTP requests into a real server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../core/exchange.js';
import { createSampler, sampleScore } from '../pipeline/sampling.js';
import { Recorder } from './recorder.js';

const source = {
  inferenceService: 'm',
  namespace: 'ns',
  component: 'predictor',
  endpoint: '',
  sourceUri: 'http://localhost:9081/',
  annotations: {},
};

let logged: Exchange[] = [];
let recorder: Recorder;
let server: http.Server;
let url: string;

function recorderWith(trustInboundId: boolean | undefined): Recorder {
  return new Recorder({
    source,
    mode: 'all',
    maxCaptureBytes: 1 << 20,
    metadataHeaders: ['X-Request-Id'],
    forceHeaders: [],
    ...(trustInboundId !== undefined ? { trustInboundId } : {}),
    submitter: { submit: (ex) => void logged.push(ex) },
  });
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const f = recorder.begin(req);
    req.resume();
    req.on('end', () => {
      f.responseStart(200, 'application/json', undefined, false);
      f.complete();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/models/m:predict`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function send(ceId: string | undefined): Promise<Exchange> {
  const before = logged.length;
  const res = await fetch(url, { method: 'POST', body: '{}', headers: ceId ? { 'ce-id': ceId } : {} });
  await res.arrayBuffer();
  expect(logged.length).toBe(before + 1);
  return logged[logged.length - 1] as Exchange;
}

describe('Recorder: the exchange id', () => {
  it('by default ignores a client Ce-Id: three "evil-fixed" requests get three fresh ids, the value kept as metadata', async () => {
    recorder = recorderWith(undefined);
    logged = [];
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const ex = await send('evil-fixed');
      expect(ex.id).not.toBe('evil-fixed');
      expect(ex.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(ex.metadata['Ce-Id']).toEqual(['evil-fixed']);
      ids.add(ex.id);
    }
    expect(ids.size).toBe(3);
    // No inbound id: no metadata entry.
    expect((await send(undefined)).metadata).toEqual({});
  });

  it('uses the inbound Ce-Id when trustInboundId is on (KServe behaviour), unless it is not a sane id', async () => {
    recorder = recorderWith(true);
    logged = [];
    const ex = await send('0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a');
    expect(ex.id).toBe('0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a');
    expect(ex.metadata['Ce-Id']).toBeUndefined();
    for (const bad of ['x'.repeat(300), 'has space', 'caf\u00e9']) {
      const odd = await send(bad);
      expect(odd.id).not.toBe(bad);
      expect(odd.metadata['Ce-Id']).toHaveLength(1);
    }
  });

  it('samples by the id the agent made: client ids chosen to be sampled out do not all vanish', async () => {
    recorder = recorderWith(undefined);
    logged = [];
    // 40 ids that all score above a 0.5 rate: trusted, every one of them would be dropped.
    const chosen: string[] = [];
    for (let i = 0; chosen.length < 40; i++) if (sampleScore(`evil-${i}`) >= 0.5) chosen.push(`evil-${i}`);
    for (const id of chosen) await send(id);
    const sampler = createSampler({ rate: 0.5, keepStatusAtLeast: 400 });
    const kept = logged.filter((ex) => sampler.apply(ex) !== undefined);
    // Binomial(40, 0.5): P(no exchange kept) = 2^-40.
    expect(kept.length).toBeGreaterThan(0);
  });
});
