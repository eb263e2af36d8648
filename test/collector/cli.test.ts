/**
 * `inferlog collect`, `query` and `tail` as real processes (node bin/inferlog.js).
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

const BIN = join(REPO_ROOT, 'bin/inferlog.js');
const dir = mkdtempSync(join(tmpdir(), 'inferlog-cli-'));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Starts a long-running command and resolves once `ready` matches its stderr (or stdout). */
function start(
  args: string[],
  ready: RegExp,
  stream: 'stderr' | 'stdout' = 'stderr',
): Promise<{ child: ChildProcess; out: () => string; err: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const check = (): void => {
      if (ready.test(stream === 'stderr' ? err : out)) resolve({ child, out: () => out, err: () => err });
    };
    child.stdout!.on('data', (d) => {
      out += d;
      check();
    });
    child.stderr!.on('data', (d) => {
      err += d;
      check();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before ready: ${err}`)));
  });
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));

async function waitFor(check: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function send(
  url: string,
  id: string,
  kind: 'request' | 'response',
  body: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  return fetch(url + '/', {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': `org.kubeflow.serving.inference.${kind}`,
      'ce-source': 'http://localhost:9081/',
      'ce-time': new Date().toISOString(),
      'ce-inferenceservicename': 'cli-model',
      'ce-namespace': 'default',
      'content-type': 'application/json',
      ...extra,
    },
    body,
  });
}

// Each CLI run starts a node process (1–3 s on a busy 2-core machine): generous timeouts.
describe('inferlog collect / query / tail', { timeout: 120_000 }, () => {
  let url: string;
  let collect: ChildProcess;
  const db = join(dir, 'cli.db');

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const c = await start(
      ['collect', '--port', String(port), '--store', `sqlite:${db}`, '--retention', '30d', '--log-instances'],
      /ready on http/,
    );
    collect = c.child;
    expect(c.err()).toContain(`ready on ${url}`);
  });
  afterAll(() => {
    if (collect.exitCode === null) collect.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('query lists what collect stored, as table, json and jsonl', async () => {
    expect((await send(url, 'cli-1', 'request', '{"instances":[[1,2]]}')).status).toBe(200);
    expect((await send(url, 'cli-1', 'response', '{"predictions":[0]}')).status).toBe(200);
    expect((await send(url, 'cli-2', 'request', '{"instances":[[3,4]]}')).status).toBe(200);
    expect(
      (await send(url, 'cli-2', 'response', '{"error":"boom"}', { 'ce-statuscode': '500' })).status,
    ).toBe(200);

    const table = await run(['query', '--url', url, '--model', 'cli-model']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+MODEL\s+ROUTE\s+STATUS\s+LATENCY\s+ID\s+REQUEST\s+RESPONSE$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      /default\/cli-model\s+-\s+500\s.*cli-2\s+\{"instances":\[\[3,4\]\]\}\s+\{"error":"boom"\}$/,
    );

    const json = await run(['query', '--url', url, '--status', '2xx', '--format', 'json']);
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout) as {
      items: { id: string; status: number }[];
      nextCursor: string | null;
    };
    expect(page.items.map((i) => [i.id, i.status])).toEqual([['cli-1', 200]]);
    expect(page.nextCursor).toBeNull();

    const jsonl = await run(['query', '--url', url, '--limit', '1', '--format', 'jsonl']);
    expect(
      jsonl.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(['cli-2']);
    expect(jsonl.stderr).toBe('');

    const one = await run(['query', '--url', url, '--id', 'cli-1', '--format', 'json']);
    expect(JSON.parse(one.stdout)).toMatchObject({
      id: 'cli-1',
      complete: true,
      response: { body: '{"predictions":[0]}' },
    });
  });

  it('query --instances lists one row per prediction (collect --log-instances), as table and jsonl', async () => {
    // cli-1 (from the test above) has one instance; cli-2 answered 500, so it has none.
    const jsonl = await run([
      'query',
      '--url',
      url,
      '--instances',
      '--model',
      'cli-model',
      '--format',
      'jsonl',
    ]);
    expect(jsonl.code).toBe(0);
    expect(
      jsonl.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([expect.objectContaining({ exchangeId: 'cli-1', index: 0, input: [1, 2], prediction: 0 })]);
    const table = await run(['query', '--url', url, '--instances', '--id', 'cli-1']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+MODEL\s+EXCHANGE\s+#\s+INPUT\s+PREDICTION$/);
    expect(lines[1]).toMatch(/default\/cli-model\s+cli-1\s+0\s+\[1,2\]\s+0$/);
    // Filters the instance listing does not have are refused, naming the parameter.
    const bad = await run(['query', '--url', url, '--instances', '--status', '200']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('status')]);
  });

  it('query exit codes: 2 usage (a filter the collector rejects too, as in replay), 1 no such id, 69 unreachable', async () => {
    const bad = await run(['query', '--url', url, '--status', 'teapot']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('status');
    const since = await run(['query', '--url', url, '--since', 'yesterday']);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('since: invalid time "yesterday"');
    expect((await run(['query', '--url', url, '--id', 'nope'])).code).toBe(1);
    expect((await run(['query', '--url', url, '--format', 'xml'])).code).toBe(2);
    const closed = await freePort();
    const down = await run(['query', '--url', `http://127.0.0.1:${closed}`]);
    expect(down.code).toBe(69);
    expect(down.stderr).toContain('unreachable');
  });

  it('tail follows: complete exchanges at once, a lone request after the grace period', async () => {
    // --since: the tails may start after the events are sent (node start-up takes a while).
    const tail = spawn(
      process.execPath,
      [
        BIN,
        'tail',
        '--url',
        url,
        '--model',
        'tail-model',
        '--since',
        '5m',
        '--interval',
        '100ms',
        '--grace',
        '300ms',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const json = spawn(
      process.execPath,
      [BIN, 'tail', '--url', url, '--json', '--interval', '100ms', '--model', 'tail-model', '--since', '5m'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let jout = '';
    tail.stdout.on('data', (d) => (out += d));
    json.stdout.on('data', (d) => (jout += d));
    try {
      const model = { 'ce-inferenceservicename': 'tail-model' };
      await send(url, 'tail-1', 'request', '{"instances":[[5,6]]}', model);
      await send(url, 'tail-1', 'response', '{"predictions":[1]}', model);
      await send(url, 'tail-2', 'request', '{"instances":[[7,8]]}', model);
      await send(url, 'other', 'request', '{"instances":[[0]]}');
      await waitFor(() => out.includes('[[7,8]]'));
      const lines = out.trim().split('\n');
      // A header, then one aligned line per exchange; the lone request says it is incomplete.
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^TIME\s+MODEL\s+ROUTE\s+STATUS\s+LATENCY\s+STREAM\s+REQUEST$/);
      expect(lines[1]).toMatch(/default\/tail-m\S*\s+-\s+200\s+\d+\.\dms\s+\{"instances":\[\[5,6\]\]\}$/);
      expect(lines[2]).toMatch(/default\/tail-m\S*\s+-\s+incomplete\s+-\s+\{"instances":\[\[7,8\]\]\}$/);
      await waitFor(() => jout.split('\n').filter(Boolean).length >= 2);
      const ids = jout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id);
      expect(ids).toEqual(['tail-1', 'tail-2']);
    } finally {
      tail.kill('SIGINT');
      json.kill('SIGTERM');
      expect(await exited(tail)).toBe(0);
      expect(await exited(json)).toBe(0);
    }
  });

  // At start only: a wrong --url fails fast. Once following, tail waits for a restarting
  // collector (test/collector/cli-output.test.ts).
  it('tail exits 69 when the collector is unreachable at start', async () => {
    const closed = await freePort();
    expect((await run(['tail', '--url', `http://127.0.0.1:${closed}`])).code).toBe(69);
  });

  it('a taken port is the same error for every server command: LISTEN_FAILED, exit 1, naming the port', async () => {
    // The running collector holds the port. Before one error model, collect exited 1, up 69 and
    // agent 70 ("internal error") for this one mistake.
    const port = new URL(url).port;
    const [c, u, a] = await Promise.all([
      run(['collect', '--port', port, '--store', `sqlite:${join(dir, 'taken.db')}`]),
      run(['up', '-f', join(REPO_ROOT, 'examples/inferenceservice-streaming.yaml'), '--port', port]),
      run(['agent', '--host', '127.0.0.1', '--port', port, '--component-port', String(await freePort())]),
    ]);
    for (const [name, r] of [
      ['collect', c],
      ['up', u],
      ['agent', a],
    ] as const) {
      expect(r.code, `${name}: ${r.stderr}`).toBe(1);
      expect(r.stderr, name).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr, name).not.toContain('internal error');
    }
  });

  it('collect closes cleanly on SIGTERM, keeping what it acknowledged', async () => {
    expect((await send(url, 'last', 'request', '{}')).status).toBe(200);
    collect.kill('SIGTERM');
    expect(await exited(collect)).toBe(0);
    const store = createSqliteStore(db);
    await store.start();
    expect(await store.getExchange('last')).toBeDefined();
    expect((await store.getExchange('cli-1'))?.row.complete).toBe(true);
    await store.shutdown();
  });

  it('collect rejects bad flags with exit 2', async () => {
    expect((await run(['collect', '--retention', 'forever'])).code).toBe(2);
    expect((await run(['collect', '--store', 'mysql://x'])).code).toBe(2);
    expect((await run(['collect', '--port', 'abc'])).code).toBe(2);
  });
});
