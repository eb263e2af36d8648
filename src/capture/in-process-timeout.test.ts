import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finalStatus, rawRequest } from '../../test/helpers/raw-http.js';
import type { Exchange } from '../core/exchange.js';
import { captureInProcess } from './in-process.js';
import { Recorder } from './recorder.js';

const logged: Exchange[] = [];
const recorder = new Recorder({
  source: {
    inferenceService: 'm',
    namespace: 'ns',
    component: 'predictor',
    endpoint: '',
    sourceUri: 'http://localhost:8080/',
    annotations: {},
  },
  mode: 'all',
  maxCaptureBytes: 1 << 20,
  metadataHeaders: [],
  forceHeaders: [],
  submitter: { submit: (ex) => logged.push(ex) },
});
const route = captureInProcess(
  recorder,
  (_req, res, body) => res.end(JSON.stringify({ got: body?.length ?? -1 })),
  1 << 20,
  300,
);
const server = http.createServer(route);
let port: number;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('in-process capture', () => {
  it('answers 408 and logs CLIENT_TIMEOUT when a request body stops arriving', async () => {
    const raw = await rawRequest(
      port,
      'POST /v1/models/m:predict HTTP/1.1\r\nHost: m\r\nContent-Length: 100\r\n\r\n{"instances":',
      5000,
    );
    expect(finalStatus(raw)).toBe(408);
    for (let i = 0; i < 200 && logged.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(logged[0]).toMatchObject({ status: 408, error: { code: 'CLIENT_TIMEOUT' } });
    expect(Buffer.from(logged[0]!.request!.bytes).toString()).toBe('{"instances":');
  });
});
