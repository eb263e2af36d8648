/**
 * `inferlog query --from DIR` and `--sql` over files the exchanges lake wrote (the real CLI).
 *
 *   lake sink (in this process) ──▶ DIR/namespace=…/inferenceservice=…/date=…/hour=…/part-….parquet
 *   inferlog query --from DIR [filters] [--sql …] ──▶ stdout
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractExchange } from '../../src/sinks/sink.contract.js';
import { createLakeSink } from '../../src/sinks/parquet-lake/sink.js';
import type { Exchange } from '../../src/core/exchange.js';
import { runCli } from '../helpers/cli.js';

let dir = '';
const t0 = Date.UTC(2026, 10, 30, 9, 30, 0, 0);
const HOUR = 3_600_000;

function ex(id: string, ns: string, model: string, at: number, over: Partial<Exchange> = {}): Exchange {
  const base = contractExchange(id);
  return contractExchange(id, {
    requestTime: at,
    responseTime: at + 12.5,
    url: `/v1/models/${model}:predict`,
    source: { ...base.source, namespace: ns, inferenceService: model },
    ...over,
  });
}

async function query(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = runCli(['query', ...args]);
  const code = await p.exited;
  return { code, out: p.stdout(), err: p.stderr() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'inferlog-query-lake-'));
  const sink = createLakeSink(dir, { blob: { layout: 'exchanges', targetBytes: 1 << 20, maxAgeMs: 10 } });
  await sink.start();
  await sink.send(
    [
      ex('a1', 'prod', 'iris', t0),
      ex('a2', 'prod', 'iris', t0 + 1000, {
        status: 500,
        response: { bytes: new TextEncoder().encode('{"error":"Boom"}'), size: 16, truncated: false },
      }),
      ex('a3', 'prod', 'iris', t0 + HOUR),
      ex('b1', 'prod', 'wine', t0 + 2000),
      ex('c1', 'dev', 'iris', t0 + 3000, { metadata: { 'X-Note': ['=HYPERLINK("x")'] } }),
    ],
    new AbortController().signal,
  );
  await sink.shutdown();
  // A file no filter below may read: if pruning did not skip it, DuckDB would fail on it.
  const poison = join(dir, 'namespace=other/inferenceservice=iris/date=2026-11-30/hour=09');
  mkdirSync(poison, { recursive: true });
  writeFileSync(join(poison, 'part-bad.parquet'), 'not parquet');
  const old = join(dir, 'namespace=prod/inferenceservice=iris/date=2026-11-29/hour=09');
  mkdirSync(old, { recursive: true });
  writeFileSync(join(old, 'part-bad.parquet'), 'not parquet');
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inferlog query --from (exchanges layout)', () => {
  it('applies the collector filters, newest first, in the API shape, reading only matching partitions', async () => {
    const r = await query([
      '--from',
      dir,
      '--namespace',
      'prod',
      '--model',
      'iris',
      '--since',
      '2026-11-30T09:00:00Z',
      '--format',
      'json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const page = JSON.parse(r.out) as {
      items: { id: string; status: number; latencyMs: number; model: string }[];
    };
    expect(page.items.map((i) => i.id)).toEqual(['a3', 'a2', 'a1']);
    expect(page.items[0]).toMatchObject({ model: 'iris', status: 200, latencyMs: 12.5 });
  });

  it('filters by status and body text, pages with a cursor, and prints one exchange with --id', async () => {
    const args = ['--from', dir, '--namespace', 'prod', '--since', '2026-11-30T00:00:00Z'];
    const errors = await query([...args, '--status', '5xx', '--q', 'boom', '--format', 'jsonl']);
    expect(
      errors.out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(['a2']);
    const first = await query([...args, '--limit', '2', '--format', 'json']);
    const p1 = JSON.parse(first.out) as { items: { id: string }[]; nextCursor: string };
    const second = await query([...args, '--limit', '2', '--cursor', p1.nextCursor, '--format', 'json']);
    const p2 = JSON.parse(second.out) as { items: { id: string }[] };
    expect([...p1.items, ...p2.items].map((i) => i.id)).toEqual(['a3', 'b1', 'a2', 'a1']);
    const one = await query([...args, '--id', 'a2', '--format', 'json']);
    expect(JSON.parse(one.out)).toMatchObject({
      id: 'a2',
      response: { body: '{"error":"Boom"}', bodyEncoding: 'utf8' },
    });
  });

  it('--sql runs over a view named exchanges, as csv, json and a table', async () => {
    const sql = `SELECT inferenceservice, count(*) AS n, max(latency_us) AS max_us FROM exchanges GROUP BY ALL ORDER BY 1`;
    const csv = await query([
      '--from',
      dir,
      '--namespace',
      'prod',
      '--since',
      '2026-11-30T00:00:00Z',
      '--sql',
      sql,
      '--format',
      'csv',
    ]);
    expect(csv.code).toBe(0);
    expect(csv.out).toBe('inferenceservice,n,max_us\r\niris,3,12500\r\nwine,1,12500\r\n');
    const json = await query([
      '--from',
      dir,
      '--namespace',
      'prod',
      '--since',
      '2026-11-30T00:00:00Z',
      '--sql',
      'SELECT id FROM exchanges ORDER BY id',
      '--format',
      'json',
    ]);
    expect(json.err).toBe('');
    expect((JSON.parse(json.out) as { id: string }[]).map((r) => r.id)).toEqual(['a1', 'a2', 'a3', 'b1']);
    const table = await query([
      '--from',
      dir,
      '--namespace',
      'dev',
      '--sql',
      "SELECT id, metadata['X-Note'][1] AS note FROM exchanges",
    ]);
    expect(table.out).toMatch(/id\s+note/);
    expect(table.out).toContain('c1');
    // A client's header that looks like a formula is text in csv.
    const risky = await query([
      '--from',
      dir,
      '--namespace',
      'dev',
      '--sql',
      "SELECT metadata['X-Note'][1] AS note FROM exchanges",
      '--format',
      'csv',
    ]);
    expect(risky.out).toBe(`note\r\n"'=HYPERLINK(""x"")"\r\n`);
  });

  it('--sql sees only the exchanges the filters match; a filter value is a value, never SQL', async () => {
    const base = ['--from', dir, '--namespace', 'prod', '--since', '2026-11-30T00:00:00Z'];
    const sql = ['--sql', 'SELECT id FROM exchanges ORDER BY id', '--format', 'jsonl'];
    const ids = (out: string): string[] =>
      out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids((await query([...base, '--status', '5xx', ...sql])).out)).toEqual(['a2']);
    expect(ids((await query([...base, '--q', 'BOOM', ...sql])).out)).toEqual(['a2']);
    const injected = await query([...base, '--model', "iris' OR '1'='1", ...sql]);
    expect(injected.err).toBe('');
    expect(ids(injected.out)).toEqual([]);
  });

  it('--sql can read only the lake: no other files, no writing, no settings changes', async () => {
    const target = join(dir, '..', `inferlog-escape-${process.pid}.csv`);
    for (const sql of [
      `SELECT * FROM read_csv('/etc/passwd')`,
      `COPY (SELECT 1) TO '${target}'`,
      `SET enable_external_access = true`,
      `INSTALL httpfs`,
    ]) {
      const r = await query(['--from', dir, '--namespace', 'dev', '--sql', sql]);
      expect(r.code, sql).toBe(2);
      expect(r.err, sql).toMatch(/sql/i);
    }
    expect(existsSync(target)).toBe(false);
  });

  it('says what is wrong with bad flags', async () => {
    const noSource = await query(['--sql', 'SELECT 1']);
    expect(noSource.code).toBe(2);
    expect(noSource.err).toContain('--from');
    const badStatus = await query(['--from', dir, '--status', 'teapot']);
    expect(badStatus.code).toBe(2);
    expect(badStatus.err).toContain('status');
    // An object in range that is not Parquet: a clear error naming the code, not a crash.
    const damaged = await query(['--from', dir, '--namespace', 'other']);
    expect(damaged.code).toBe(1);
    expect(damaged.err).toContain('part-bad.parquet');
  });
});
