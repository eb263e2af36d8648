/**
 * How the GCS and Azure clients' failures reach the pipeline, against a real HTTP server on
 * 127.0.0.1 that answers every request with one status (a store that throttles or fails): the
 * status and Retry-After must survive the SDK's own error shapes, and its brief retries must end.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isInferlogError } from '../../core/errors.js';
import type { StoreCredentials } from './object-store.js';
import { openObjectStore, parseBlobUrl } from './open.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** A server answering `status` (+ headers) to everything; returns its URL and a request counter. */
async function answering(
  status: number,
  headers: Record<string, string> = {},
): Promise<{ url: string; requests: () => number }> {
  let n = 0;
  server = createServer((req, res) => {
    n++;
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ error: { code: status, message: `answered ${status}` } }));
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n };
}

const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const backends: Array<[string, string, (url: string) => StoreCredentials]> = [
  ['gcs', 'gs://b/p', (url) => ({ kind: 'gs', endpoint: url })],
  [
    'azure',
    'abfs://c@devstoreaccount1.dfs.core.windows.net/p',
    (url) => ({
      kind: 'abfs',
      serviceUrl: `${url}/devstoreaccount1`,
      accountName: 'devstoreaccount1',
      accountKey: AZURITE_KEY,
    }),
  ],
];

describe.each(backends)('%s: a failing store', (_name, blobUrl, creds) => {
  it('429 + Retry-After is SINK_THROTTLED with the delay, after a bounded number of client retries', async () => {
    const s = await answering(429, { 'retry-after': '3' });
    const store = await openObjectStore(parseBlobUrl(blobUrl), { credentials: creds(s.url) });
    const err = await store.put('p/k', new Uint8Array([1])).catch((e: unknown) => e);
    expect(isInferlogError(err, 'SINK_THROTTLED')).toBe(true);
    expect(isInferlogError(err) && err.retryAfterMs).toBe(3000);
    expect(s.requests()).toBeLessThanOrEqual(3);
  });

  it('500 is SINK_SERVER_ERROR (retryable)', async () => {
    const s = await answering(500);
    const store = await openObjectStore(parseBlobUrl(blobUrl), { credentials: creds(s.url) });
    const err = await store.put('p/k', new Uint8Array([1])).catch((e: unknown) => e);
    expect(isInferlogError(err, 'SINK_SERVER_ERROR')).toBe(true);
  });

  it('403 is a permanent SINK_REJECTED, not retried by the client', async () => {
    const s = await answering(403);
    const store = await openObjectStore(parseBlobUrl(blobUrl), { credentials: creds(s.url) });
    const err = await store.put('p/k', new Uint8Array([1])).catch((e: unknown) => e);
    expect(isInferlogError(err, 'SINK_REJECTED')).toBe(true);
    expect(s.requests()).toBe(1);
  });
});
