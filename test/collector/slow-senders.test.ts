/**
 * Slow senders cannot hold the collector's connections (issue 16 item 6: a body trickling one byte
 * every 10 s stayed open past 420 s). A real `inferlog collect` with short limits: a stalled body is
 * cut with 408 after --request-body-timeout, a trickling one after --request-timeout, and an honest
 * sender is served meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCollector } from '../../src/collector/server.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import type { ExchangeStore } from '../../src/store/store.js';
import { CLI } from '../helpers/cli.js';

const quietLog = { debug() {}, info() {}, warn() {}, error() {} };

const dir = mkdtempSync(join(tmpdir(), 'inferlog-slow-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function collect(flags: string[]): Promise<URL> {
  const child = spawn(
    process.execPath,
    [CLI, 'collect', '--port', '0', '--store', `sqlite:${join(dir, 'c.db')}`, ...flags],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /ready on (http:\/\/\S+)/.exec(err);
      if (m) resolve(new URL(m[1]!));
    });
    child.once('exit', (code) => reject(new Error(`collect exited ${code}: ${err}`)));
  });
}

/** Opens a request whose body never completes; resolves with what came back and when the socket closed. */
function slowRequest(
  url: URL,
  trickleEveryMs: number | undefined,
): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(Number(url.port), url.hostname);
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, closedAfterMs: Date.now() - started });
    });
    socket.write(
      'POST / HTTP/1.1\r\nHost: c\r\nCe-Specversion: 1.0\r\nCe-Id: slow\r\nCe-Source: s\r\n' +
        'Ce-Type: org.kubeflow.serving.inference.request\r\nContent-Length: 100000\r\n\r\n{"a":',
    );
    if (trickleEveryMs !== undefined)
      timer = setInterval(() => socket.writable && socket.write('1'), trickleEveryMs);
    // The test's own bound: a connection still open after this is the defect.
    setTimeout(() => socket.destroy(), 25_000).unref();
  });
}

describe('collector against slow senders', { timeout: 60_000 }, () => {
  it('cuts stalled and trickling bodies with 408, and serves an honest sender meanwhile', async () => {
    const url = await collect(['--request-body-timeout', '1s', '--request-timeout', '3s']);
    const stalled = slowRequest(url, undefined);
    const trickling = slowRequest(url, 300);

    const honest = await fetch(new URL('/', url), {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'honest',
        'ce-source': 's',
        'ce-type': 'org.kubeflow.serving.inference.request',
        'content-type': 'application/json',
      },
      body: '{"instances":[1]}',
    });
    expect(honest.status).toBe(200);

    const s = await stalled;
    expect(s.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(s.closedAfterMs).toBeLessThan(15_000);
    const t = await trickling;
    expect(t.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(t.closedAfterMs).toBeLessThan(15_000);
  });

  it('rejects a bad limit with the flag named', async () => {
    await expect(collect(['--request-timeout', 'soon'])).rejects.toThrow(/--request-timeout/);
  });
});

describe('collector body timeout and slow answers', { timeout: 30_000 }, () => {
  it('never cuts a bodiless request whose answer takes longer than the body timeout', async () => {
    // A real SQLite store whose listing takes a while, as a search over a large store does.
    const real = createSqliteStore(join(dir, 'slow-answer.db'));
    const store: ExchangeStore = {
      ...real,
      start: () => real.start(),
      shutdown: () => real.shutdown(),
      listExchanges: async (filter, page) => {
        await new Promise((r) => setTimeout(r, 1200));
        return real.listExchanges(filter, page);
      },
    };
    const c = await startCollector({ store, port: 0, requestBodyTimeoutMs: 300, log: quietLog });
    try {
      const res = await fetch(`${c.url}/api/v1/exchanges`);
      expect(res.status).toBe(200);
    } finally {
      await c.close();
    }
  });
});
