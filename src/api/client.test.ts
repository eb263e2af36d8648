import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCollector } from '../collector/server.js';
import { InferlogError } from '../core/errors.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { getJson } from './client.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-client-'));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function caught(p: Promise<unknown>): Promise<InferlogError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InferlogError);
  return err as InferlogError;
}

describe('api client: the collector answer → one catalogued error', () => {
  it("keeps the collector's code, status and details, so cli and replay map it alike", async () => {
    const store = createSqliteStore(join(dir, 'a.db'));
    const c = await startCollector({ store, port: 0, log: quiet, uiDir: join(dir, 'no-ui') });
    try {
      const bad = await caught(getJson(c.url, 'api/v1/exchanges', { since: 'yesterday' }));
      expect(bad).toMatchObject({ code: 'QUERY_INVALID', status: 400, details: { parameter: 'since' } });
      expect(bad.message).toMatch(
        /^collector at http:\/\/127\.0\.0\.1:\d+ answered 400: since: invalid time/,
      );

      const missing = await caught(getJson(c.url, 'api/v1/exchanges/nope'));
      expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });

      // The database goes away under the collector: a peer unavailable, for query as for replay.
      await store.shutdown();
      const down = await caught(getJson(c.url, 'api/v1/exchanges'));
      expect(down).toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
    } finally {
      await c.close().catch(() => undefined);
    }
  });

  it('says when the URL is not a collector, and when nothing answers', async () => {
    const web = createServer((_req, res) =>
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>no</h1>'),
    );
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const port = (web.address() as AddressInfo).port;
    try {
      const html = await caught(getJson(`http://127.0.0.1:${port}`, 'api/v1/exchanges'));
      expect(html).toMatchObject({ code: 'COLLECTOR_ANSWER_INVALID', status: 404 });
      expect(html.message).not.toContain('--');
    } finally {
      await new Promise((r) => web.close(r));
    }
    const gone = await caught(getJson(`http://127.0.0.1:${port}`, 'api/v1/exchanges'));
    expect(gone.code).toBe('COLLECTOR_UNREACHABLE');
  });
});
