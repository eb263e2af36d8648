/**
 * Files of the exchanges layout, written by the real agent, read by independent readers (pyarrow
 * and DuckDB's Python package, from the test venv) with Hive partitioning: every column is compared
 * with what the client sent and the model answered.
 *
 *   client ──▶ inferlog agent --log-store-layout exchanges ──▶ model (answers as the client asks)
 *                └──▶ DIR/namespace=…/…/part-….parquet ──▶ read-lake.py (pyarrow, duckdb) ──▶ JSON
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonBin, REPO_ROOT } from '../helpers/peers.js';
import { waitFor } from '../support/wait.js';
import { freePort, startAgent, type Proc } from '../fault/harness.js';
import { rowsPerId } from './lake-files.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Served {
  id: string;
  body: Buffer;
  contentType: string;
  status: number;
  answer: Buffer;
  answerType: string;
  requestId: string;
  sentUs: number;
  gotUs: number;
}

type Row = Record<string, unknown>;

describe('exchanges layout read by pyarrow and DuckDB (Python)', () => {
  it('every column holds what was served', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-readers-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // The model answers with the status and body the request asks for.
    const model: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = Number(req.headers['x-want-status'] ?? 200);
        const type = String(req.headers['x-want-type'] ?? 'application/json');
        res.writeHead(status, { 'content-type': type });
        res.end(Buffer.from(String(req.headers['x-want-body'] ?? ''), 'base64'));
      });
    });
    await new Promise<void>((r) => model.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => model.close(() => r())));
    const [port, adminPort] = [await freePort(), await freePort()];
    const agent: Proc = await startAgent({
      port,
      modelPort: (model.address() as AddressInfo).port,
      logUrl: `file://${join(dir, 'lake')}`,
      spoolDir: join(dir, 'spool'),
      stateHome: join(dir, 'state'),
      adminPort,
      extra: [
        '--log-store-layout',
        'exchanges',
        '--blob-max-age',
        '100ms',
        '--metadata-headers',
        'X-Request-Id',
        '--metadata-annotations',
        'team=ml',
        '--component',
        'predictor',
      ],
    });
    cleanups.push(() => agent.kill('SIGTERM'));

    const cases = [
      {
        body: Buffer.from('{"instances":[[1,2,3,4]]}'),
        type: 'application/json',
        status: 200,
        answer: '{"predictions":[1]}',
        answerType: 'application/json',
      },
      {
        body: Buffer.from([0, 1, 2, 0xff, 0xfe]),
        type: 'application/octet-stream',
        status: 200,
        answer: 'ok',
        answerType: 'text/plain',
      },
      {
        body: Buffer.from('{"instances":[]}'),
        type: 'application/json',
        status: 500,
        answer: '{"error":"model failed"}',
        answerType: 'application/json',
      },
    ];
    const served: Served[] = [];
    for (const [i, c] of cases.entries()) {
      const id = `reader-${i}`;
      const sentUs = Date.now() * 1000;
      const res = await fetch(`http://127.0.0.1:${port}/v1/models/fault-model:predict`, {
        method: 'POST',
        headers: {
          'content-type': c.type,
          'ce-id': id,
          'x-request-id': `rq-${i}`,
          'x-want-status': String(c.status),
          'x-want-type': c.answerType,
          'x-want-body': Buffer.from(c.answer).toString('base64'),
        },
        body: c.body,
      });
      const answer = Buffer.from(await res.arrayBuffer());
      expect(res.status).toBe(c.status);
      served.push({
        id,
        body: c.body,
        contentType: c.type,
        status: res.status,
        answer,
        answerType: c.answerType,
        requestId: `rq-${i}`,
        sentUs,
        gotUs: Date.now() * 1000 + 1000,
      });
    }
    const lake = join(dir, 'lake');
    await waitFor(
      async () => (await rowsPerId(lake)).size === served.length,
      'all exchanges in the lake',
      30_000,
    );

    const r = spawnSync(pythonBin(), [join(REPO_ROOT, 'test/blob/read-lake.py'), lake], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const read = JSON.parse(r.stdout) as Record<'pyarrow' | 'duckdb', Row[]> &
      Record<string, Record<string, string>>;
    expect(read.pyarrowTypes).toMatchObject({
      time: 'timestamp[us, tz=UTC]',
      status: 'int32',
      latency_us: 'int64',
      request_body: 'binary',
      metadata: expect.stringMatching(/^map<string, list<element: string>/),
    });
    expect(read.duckdbTypes).toMatchObject({
      time: 'TIMESTAMP WITH TIME ZONE',
      status: 'INTEGER',
      request_body: 'BLOB',
      metadata: 'MAP(VARCHAR, VARCHAR[])',
    });
    for (const reader of ['pyarrow', 'duckdb'] as const) {
      const rows = new Map(read[reader].map((row) => [row.id as string, row]));
      expect(rows.size, reader).toBe(served.length);
      for (const s of served) {
        const row = rows.get(s.id) as Row;
        expect(row, `${reader} ${s.id}`).toMatchObject({
          status: s.status,
          method: 'POST',
          url: '/v1/models/fault-model:predict',
          mode: 'all',
          model: 'fault-model',
          namespace: 'test',
          inferenceservice: 'fault-model',
          component: 'predictor',
          metadata: { 'X-Request-Id': [s.requestId] },
          annotations: { team: 'ml' },
          request_body: s.body.toString('base64'),
          request_content_type: s.contentType,
          request_size: s.body.length,
          request_truncated: false,
          response_body: s.answer.toString('base64'),
          response_content_type: s.answerType,
          response_size: s.answer.length,
          response_truncated: false,
          sample_weight: 1,
          error_code: null,
          stream: null,
          batch_id: null,
        });
        const time = row.time as number;
        const responseTime = row.response_time as number;
        // Within the client's own clock readings (5 ms of slack: two processes' clocks).
        expect(time).toBeGreaterThanOrEqual(s.sentUs - 5000);
        expect(responseTime).toBeLessThanOrEqual(s.gotUs + 5000);
        expect(row.latency_us).toBe(responseTime - time);
        expect(row.trace_id).toMatch(/^[0-9a-f]{32}$/);
        const iso = new Date(time / 1000).toISOString();
        expect(row.date).toBe(iso.slice(0, 10));
        expect(Number(row.hour)).toBe(Number(iso.slice(11, 13)));
      }
    }
  });
});
