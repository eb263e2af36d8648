/**
 * `inferlog erase` and `collect --audit-log` as real processes (node bin/inferlog.js) on
 * 127.0.0.1 with a real SQLite file: what an operator answering a privacy request does, and
 * that the marker body is gone from the database and WAL bytes afterwards.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

const BIN = join(REPO_ROOT, 'bin/inferlog.js');
const dir = mkdtempSync(join(tmpdir(), 'inferlog-erase-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function send(
  url: string,
  id: string,
  kind: 'request' | 'response',
  body: string,
  requestId: string,
): Promise<Response> {
  return fetch(url + '/', {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': `org.kubeflow.serving.inference.${kind}`,
      'ce-source': 'http://localhost:9081/',
      'ce-time': new Date().toISOString(),
      'ce-inferenceservicename': 'erase-model',
      'ce-namespace': 'default',
      'ce-metadata': JSON.stringify({ 'X-Request-Id': [requestId] }),
      'content-type': 'application/json',
    },
    body,
  });
}

describe('inferlog erase', { timeout: 120_000 }, () => {
  let collect: CliProcess;
  let url = '';
  const db = join(dir, 'erase.db');
  const audit = join(dir, 'audit.log');
  const MARKER = 'jane-doe-personal-marker-51f0';
  const fileBytes = (): Buffer =>
    Buffer.concat([db, `${db}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    collect = await startCli([
      'collect',
      '--port',
      String(port),
      '--store',
      `sqlite:${db}`,
      '--audit-log',
      audit,
    ]);
    for (const [id, rid, body] of [
      ['x-1', 'user-7', `{"instances":["${MARKER}"]}`],
      ['x-2', 'user-8', '{"instances":["keep"]}'],
      ['x-3', 'user-9', '{"instances":["other"]}'],
    ] as const) {
      expect((await send(url, id, 'request', body, rid)).status).toBe(200);
      expect((await send(url, id, 'response', '{"predictions":[1]}', rid)).status).toBe(200);
    }
  });
  afterAll(async () => {
    await collect?.stop('SIGTERM');
  });

  it('prints the audit log in the ready line', () => {
    expect(collect.stderr()).toContain(`audit=${audit}`);
  });

  it('refuses to run without a filter (2), and without --yes off a terminal (2)', async () => {
    const none = await run(['erase', '--collector', url, '--yes']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--all erases everything/);
    const noYes = await run(['erase', '--collector', url, '--request-id', 'user-7']);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/add --yes/);
    const both = await run(['erase', '--collector', url, '--id', 'x-1', '--model', 'm', '--yes']);
    expect(both.code).toBe(2);
  });

  it('erases by request id: the rows go, and the marker bytes are no longer in the database or its WAL', async () => {
    expect(fileBytes().includes(MARKER)).toBe(true);
    const r = await run(['erase', '--collector', url, '--request-id', 'user-7', '--yes']);
    expect(r).toMatchObject({ code: 0, stdout: 'erased 1 exchange\n' });
    expect(fileBytes().includes(MARKER)).toBe(false);
    expect((await fetch(`${url}/api/v1/exchanges/x-1`)).status).toBe(404);
    const byId = await run(['erase', '--collector', url, '--id', 'x-2', '--yes']);
    expect(byId).toMatchObject({ code: 0, stdout: 'erased 1 exchange\n' });
    const again = await run(['erase', '--collector', url, '--id', 'x-2', '--yes']);
    expect(again).toMatchObject({ code: 0, stdout: 'erased 0 exchanges\n' });
    const list = (await (await fetch(`${url}/api/v1/exchanges`)).json()) as { items: { id: string }[] };
    expect(list.items.map((i) => i.id)).toEqual(['x-3']);
  });

  it('query finds exchanges by request id and by header, the filters erase takes', async () => {
    const byRid = await run(['query', '--url', url, '--request-id', 'user-9', '--format', 'jsonl']);
    expect(byRid.code).toBe(0);
    expect(
      byRid.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(['x-3']);
    const byHeader = await run([
      'query',
      '--url',
      url,
      '--header',
      'x-request-id:user-7',
      '--format',
      'jsonl',
    ]);
    expect(byHeader).toMatchObject({ code: 0, stdout: '' });
  });

  it('maps a filter the collector rejects to 2 and an unreachable collector to 69', async () => {
    const bad = await run(['erase', '--collector', url, '--header', 'no-colon', '--yes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/header: use Name:value/);
    const port = await freePort();
    const down = await run(['erase', '--collector', `http://127.0.0.1:${port}`, '--id', 'x', '--yes']);
    expect(down.code).toBe(69);
  });

  it('wrote an audit line per erasure, in a 0600 file', () => {
    const lines = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const erasures = lines.filter((l) => l.action === 'erase');
    expect(erasures.map((l) => [l.filter, l.count])).toEqual([
      [{ requestId: 'user-7' }, 1],
      [{ id: 'x-2' }, 1],
      [{ id: 'x-2' }, 0],
    ]);
    expect(erasures[0]).toMatchObject({ principal: 'anonymous', via: 'none', remote: '127.0.0.1' });
    expect(statSync(audit).mode & 0o777).toBe(0o600);
  });
});
