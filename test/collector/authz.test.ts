/**
 * Authorization on every data path, erasure and audit, over real HTTP on 127.0.0.1 with a real
 * SQLite file (issue 9). Principals come from a small token map (test/helpers/token-authenticator.ts).
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Collector, CollectorOptions } from '../../src/collector/server.js';
import { startCollector } from '../../src/collector/server.js';
import pg from 'pg';
import { createPostgresStore } from '../../src/store/postgres-store.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import type { ExchangeStore } from '../../src/store/store.js';
import { ensurePostgres } from '../helpers/peers.js';
import type { ExchangeView } from '../../src/api/view.js';
import { principal, tokenAuthenticator } from '../helpers/token-authenticator.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-authz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const TOKENS = {
  admin: principal('ops-admin', ['admin']),
  'reader-a': principal('reader-a', ['read'], { namespaces: ['team-a'] }),
  'reader-a-fraud': principal('reader-a-fraud', ['read'], { namespaces: ['team-a'], models: ['fraud'] }),
  'ingest-a': principal('ingest-a', ['ingest'], { namespaces: ['team-a'] }),
  'ingest-a-fraud': principal('ingest-a-fraud', ['ingest'], { models: ['fraud'] }),
  reader: principal('reader', ['read']),
};
type Token = keyof typeof TOKENS;

type StoreKind = 'sqlite' | 'postgres';
let pgBase = '';
const pgSchemas: string[] = [];

/** A fresh store: a SQLite file, or a schema of its own in the postgres peer's test database. */
async function freshStore(kind: StoreKind): Promise<ExchangeStore> {
  if (kind === 'sqlite') return createSqliteStore(join(dir, `c${n++}.db`));
  pgBase ||= (await ensurePostgres()).url;
  const schema = `authz${process.pid}_${Date.now().toString(36)}_${pgSchemas.length}`;
  pgSchemas.push(schema);
  const c = new pg.Client({ connectionString: pgBase });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  const u = new URL(pgBase);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return createPostgresStore(u.toString(), { poolSize: 2 });
}

afterAll(async () => {
  if (!pgBase) return;
  const c = new pg.Client({ connectionString: pgBase });
  await c.connect();
  for (const s of pgSchemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await c.end();
});

async function collector(
  opts: Partial<CollectorOptions> = {},
  kind: StoreKind = 'sqlite',
): Promise<Collector> {
  return startCollector({
    store: await freshStore(kind),
    port: 0,
    log: quiet,
    uiDir: join(dir, 'no-ui'),
    authenticator: tokenAuthenticator(TOKENS),
    ...opts,
  });
}

function ev(
  id: string,
  kind: 'request' | 'response',
  namespace: string,
  model: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    specversion: '1.0',
    id,
    type: `org.kubeflow.serving.inference.${kind}`,
    source: 'pod-a',
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    inferenceservicename: model,
    namespace,
    ...(kind === 'response' ? { statuscode: 200 } : {}),
    data: kind === 'request' ? { instances: [id] } : { predictions: [1] },
    ...extra,
  };
}

async function call(
  c: Collector,
  token: Token | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/cloudevents-batch+json';
  const res = await fetch(c.url + path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function seed(c: Collector): Promise<void> {
  const events = [];
  for (const id of ['a1', 'a2', 'a3'])
    events.push(ev(id, 'request', 'team-a', 'fraud'), ev(id, 'response', 'team-a', 'fraud'));
  events.push(ev('a-churn', 'request', 'team-a', 'churn'));
  for (const id of ['b1', 'b2', 'b3', 'b4'])
    events.push(ev(id, 'request', 'team-b', 'secret-model'), ev(id, 'response', 'team-b', 'secret-model'));
  // The same event id in both namespaces.
  events.push(ev('same', 'request', 'team-a', 'fraud'), ev('same', 'request', 'team-b', 'secret-model'));
  expect((await call(c, 'admin', 'POST', '/', events)).status).toBe(200);
}

const ids = (r: { json: Record<string, unknown> }): string[] =>
  (r.json.items as ExchangeView[]).map((i) => i.id).sort();

describe.each(['sqlite', 'postgres'] as const)(
  'collector authorization (%s): reads are confined to the principal namespaces and models',
  (kind) => {
    let c: Collector;
    beforeAll(async () => {
      c = await collector({}, kind);
      await seed(c);
    }, 180_000);
    afterAll(() => c.close());

    it('lists only team-a, page after page, even when a filter names team-b', async () => {
      expect(ids(await call(c, 'reader-a', 'GET', '/api/v1/exchanges'))).toEqual([
        'a-churn',
        'a1',
        'a2',
        'a3',
        'same',
      ]);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await call(
          c,
          'reader-a',
          'GET',
          `/api/v1/exchanges?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect((page.json.items as unknown[]).length).toBeLessThanOrEqual(2);
        seen.push(...ids(page));
        cursor = page.json.nextCursor as string | null;
      } while (cursor);
      expect(seen.sort()).toEqual(['a-churn', 'a1', 'a2', 'a3', 'same']);
      expect(ids(await call(c, 'reader-a', 'GET', '/api/v1/exchanges?namespace=team-b'))).toEqual([]);
      expect(ids(await call(c, 'reader-a-fraud', 'GET', '/api/v1/exchanges'))).toEqual([
        'a1',
        'a2',
        'a3',
        'same',
      ]);
      expect(ids(await call(c, 'reader', 'GET', '/api/v1/exchanges'))).toHaveLength(10);
    });

    it('answers another namespace id exactly like a missing one (404), and shows its own copy of a shared id', async () => {
      const foreign = await call(c, 'reader-a', 'GET', '/api/v1/exchanges/b1');
      const missing = await call(c, 'reader-a', 'GET', '/api/v1/exchanges/zz');
      expect(foreign.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(foreign.json).toEqual({
        error: {
          code: 'NOT_FOUND',
          message: (missing.json.error as { message: string }).message.replace('zz', 'b1'),
        },
      });
      const same = await call(c, 'reader-a', 'GET', '/api/v1/exchanges/same');
      expect(same.json).toMatchObject({ namespace: 'team-a' });
      expect((await call(c, 'reader', 'GET', '/api/v1/exchanges/b1')).status).toBe(200);
    });

    it('counts only team-a in stats and the chart, and names none of team-b models', async () => {
      const stats = await call(c, 'reader-a', 'GET', '/api/v1/stats');
      expect((stats.json.total as { count: number }).count).toBe(5);
      const text = JSON.stringify(stats.json);
      expect(text).not.toContain('secret-model');
      expect(text).not.toContain('team-b');
      const chart = await call(c, 'reader-a', 'GET', '/api/v1/timeseries');
      const buckets = chart.json.buckets as { count: number }[];
      expect(buckets.reduce((s, b) => s + b.count, 0)).toBe(5);
      const all = await call(c, 'reader', 'GET', '/api/v1/stats');
      expect((all.json.total as { count: number }).count).toBe(10);
    });

    it('refuses /metrics to a reader limited to some namespaces: its counters are collector-wide', async () => {
      const r = await fetch(c.url + '/metrics', { headers: { authorization: 'Bearer reader-a' } });
      expect(r.status).toBe(403);
      expect(await r.text()).not.toContain('inferlog_collector_events_received_total');
      expect((await fetch(c.url + '/metrics', { headers: { authorization: 'Bearer reader' } })).status).toBe(
        200,
      );
    });

    it('follows (tail) only team-a, and its cursor does not move with team-b writes', async () => {
      const start = await call(c, 'reader-a', 'GET', '/api/v1/exchanges?follow=true');
      await call(c, 'admin', 'POST', '/', [ev('b-new', 'request', 'team-b', 'secret-model')]);
      const next = await call(
        c,
        'reader-a',
        'GET',
        `/api/v1/exchanges?follow=true&cursor=${start.json.nextCursor as string}`,
      );
      expect(next.json).toEqual({ items: [], nextCursor: start.json.nextCursor });
      await call(c, 'admin', 'POST', '/', [ev('a-new', 'request', 'team-a', 'fraud')]);
      const later = await call(
        c,
        'reader-a',
        'GET',
        `/api/v1/exchanges?follow=true&cursor=${start.json.nextCursor as string}`,
      );
      expect(ids(later)).toEqual(['a-new']);
    });
  },
);

describe('collector authorization: ingest is checked against the principal namespaces and models', () => {
  it('rejects a batch with one foreign event whole (403), stores nothing of it, and counts it', async () => {
    const c = await collector();
    try {
      const r = await call(c, 'ingest-a', 'POST', '/', [
        ev('ok1', 'request', 'team-a', 'fraud'),
        ev('forged', 'request', 'team-b', 'fraud'),
      ]);
      expect(r.status).toBe(403);
      expect(r.json.error).toMatchObject({ code: 'FORBIDDEN', reason: 'forbidden' });
      expect((r.json.error as { message: string }).message).toContain('team-b');
      const model = await call(c, 'ingest-a-fraud', 'POST', '/', [ev('m1', 'request', 'team-a', 'churn')]);
      expect(model.status).toBe(403);
      expect(ids(await call(c, 'admin', 'GET', '/api/v1/exchanges'))).toEqual([]);
      const ok = await call(c, 'ingest-a', 'POST', '/', [ev('ok1', 'request', 'team-a', 'fraud')]);
      expect(ok).toEqual({ status: 200, json: { stored: 1, duplicates: 0 } });
      const metrics = await (
        await fetch(c.url + '/metrics', { headers: { authorization: 'Bearer reader' } })
      ).text();
      expect(metrics).toContain('inferlog_collector_events_rejected_total{reason="forbidden"} 2');
    } finally {
      await c.close();
    }
  });
});

describe.each(['sqlite', 'postgres'] as const)('collector erasure (%s)', (kind) => {
  let c: Collector;
  afterEach(() => c?.close());

  it('erases by id and by X-Request-Id (admin only), refuses an empty filter, and really removes the rows', async () => {
    c = await collector({}, kind);
    await seed(c);
    const rid = { metadata: { 'X-Request-Id': ['user-42-request'] } };
    await call(c, 'admin', 'POST', '/', [
      ev('p1', 'request', 'team-a', 'fraud', rid),
      ev('p1', 'response', 'team-a', 'fraud', rid),
      ev('p2', 'request', 'team-b', 'secret-model', rid),
    ]);
    expect((await call(c, 'reader', 'DELETE', '/api/v1/exchanges/a1')).status).toBe(403);
    expect((await call(c, undefined, 'DELETE', '/api/v1/exchanges/a1')).status).toBe(401);
    const none = await call(c, 'admin', 'DELETE', '/api/v1/exchanges');
    expect(none.status).toBe(400);
    expect(none.json.error).toMatchObject({ code: 'QUERY_INVALID' });
    expect((none.json.error as { message: string }).message).toContain('all=true');
    for (const path of ['/api/v1/exchanges/', '/api/v1/exchanges/%20', '/api/v1/exchanges?q=']) {
      const r = await call(c, 'admin', 'DELETE', path);
      expect([path, r.status, (r.json.error as { code: string }).code]).toEqual([path, 400, 'QUERY_INVALID']);
    }
    const notAll = await call(c, 'admin', 'DELETE', '/api/v1/exchanges?all=false');
    expect(notAll.json.error).toMatchObject({
      parameter: 'all',
      message: expect.stringContaining('only all=true'),
    });
    expect(await call(c, 'admin', 'DELETE', '/api/v1/exchanges/a1')).toEqual({
      status: 200,
      json: { deleted: 1 },
    });
    expect((await call(c, 'admin', 'GET', '/api/v1/exchanges/a1')).status).toBe(404);
    // By id, every exchange with that event id goes (both namespaces').
    expect(await call(c, 'admin', 'DELETE', '/api/v1/exchanges/same')).toEqual({
      status: 200,
      json: { deleted: 2 },
    });
    expect(await call(c, 'admin', 'DELETE', '/api/v1/exchanges/a1')).toEqual({
      status: 200,
      json: { deleted: 0 },
    });
    expect(await call(c, 'admin', 'DELETE', '/api/v1/exchanges?requestId=user-42-request')).toEqual({
      status: 200,
      json: { deleted: 2 },
    });
    expect(ids(await call(c, 'admin', 'GET', '/api/v1/exchanges'))).toEqual([
      'a-churn',
      'a2',
      'a3',
      'b1',
      'b2',
      'b3',
      'b4',
    ]);
    const stats = await call(c, 'admin', 'GET', '/api/v1/stats');
    expect((stats.json.total as { count: number }).count).toBe(7);
    expect(
      await call(c, 'admin', 'DELETE', '/api/v1/exchanges?header=X-Request-Id:nobody&namespace=team-a'),
    ).toEqual({ status: 200, json: { deleted: 0 } });
    expect(await call(c, 'admin', 'DELETE', '/api/v1/exchanges?namespace=team-b')).toEqual({
      status: 200,
      json: { deleted: 4 },
    });
    expect(await call(c, 'admin', 'DELETE', '/api/v1/exchanges?all=true')).toEqual({
      status: 200,
      json: { deleted: 3 },
    });
    expect(ids(await call(c, 'admin', 'GET', '/api/v1/exchanges'))).toEqual([]);
  });
});

describe('collector audit log', () => {
  it('writes one JSON line per body read, listing and erasure, to a 0600 file, and counts them', async () => {
    const file = join(dir, 'audit.log');
    const c = await collector({ auditLog: file });
    try {
      await seed(c);
      await call(c, 'reader-a', 'GET', '/api/v1/exchanges/a1');
      await call(c, 'reader-a', 'GET', '/api/v1/exchanges?model=fraud');
      await call(c, 'reader-a', 'GET', '/api/v1/exchanges/b1'); // not found: no body read
      await call(c, 'reader-a', 'GET', '/api/v1/stats'); // no bodies: not audited
      await call(c, 'admin', 'DELETE', '/api/v1/exchanges?requestId=nobody');
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatchObject({
        principal: 'reader-a',
        via: 'token',
        action: 'read',
        filter: { id: 'a1' },
        count: 1,
        remote: '127.0.0.1',
      });
      expect(Date.parse(lines[0]!.time as string)).toBeGreaterThan(Date.now() - 60_000);
      expect(lines[1]).toMatchObject({
        principal: 'reader-a',
        action: 'list',
        filter: { model: 'fraud' },
        count: 4,
      });
      expect(lines[2]).toMatchObject({
        principal: 'ops-admin',
        action: 'erase',
        filter: { requestId: 'nobody' },
        count: 0,
      });
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const metrics = await (
        await fetch(c.url + '/metrics', { headers: { authorization: 'Bearer reader' } })
      ).text();
      expect(metrics).toContain('inferlog_collector_audit_events_total{action="read"} 1');
      expect(metrics).toContain('inferlog_collector_audit_events_total{action="list"} 1');
      expect(metrics).toContain('inferlog_collector_audit_events_total{action="erase"} 1');
    } finally {
      await c.close();
    }
  });

  it('follows a rotation: a renamed file is reopened at its path, and no line is lost', async () => {
    const file = join(dir, 'rotate.log');
    const c = await collector({ auditLog: file });
    try {
      await seed(c);
      await call(c, 'reader', 'GET', '/api/v1/exchanges/a1');
      renameSync(file, `${file}.1`);
      let reads = 1;
      const deadline = Date.now() + 15_000;
      // Until a line lands in the new file: the reopen creates the file a moment before the
      // collector switches to it, so its mere existence does not mean the next line goes there.
      while (!(existsSync(file) && readFileSync(file, 'utf8') !== '') && Date.now() < deadline) {
        await call(c, 'reader', 'GET', '/api/v1/exchanges/a2');
        reads++;
        await new Promise((r) => setTimeout(r, 100));
      }
      await call(c, 'reader', 'GET', '/api/v1/exchanges/a3');
      reads++;
      const lines = (f: string): string[] => readFileSync(f, 'utf8').trim().split('\n').filter(Boolean);
      expect(lines(file).map((l) => (JSON.parse(l) as { filter: { id: string } }).filter.id)).toContain('a3');
      expect(lines(file).length + lines(`${file}.1`).length).toBe(reads);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      await c.close();
    }
  });

  it('fails closed: when the audit line cannot be written, no body is answered (503), and it is counted and logged', async () => {
    const errors: string[] = [];
    const log = { ...quiet, error: (m: string) => errors.push(m) };
    // /dev/full accepts the open and fails every write (ENOSPC), like a full disk.
    const c = await collector({ auditLog: '/dev/full', log });
    try {
      await seed(c);
      const r = await call(c, 'reader', 'GET', '/api/v1/exchanges/a1');
      expect(r.status).toBe(503);
      expect(r.json.error).toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
      expect(JSON.stringify(r.json)).not.toContain('instances');
      expect((await call(c, 'reader', 'GET', '/api/v1/exchanges')).status).toBe(503);
      // What carries no bodies still answers.
      expect((await call(c, 'reader', 'GET', '/api/v1/stats')).status).toBe(200);
      const metrics = await (
        await fetch(c.url + '/metrics', { headers: { authorization: 'Bearer reader' } })
      ).text();
      expect(metrics).toContain('inferlog_collector_audit_failures_total 2');
      expect(errors.some((m) => m.includes('audit'))).toBe(true);
    } finally {
      await c.close();
    }
  });
});
