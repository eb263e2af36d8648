/**
 * Issue 16 item 8: injected data must neither stall the collector nor bloat its answers.
 * `inferlog collect` runs as a real process; a poller plays the Kubernetes liveness probe
 * (timeout 1 s) while batches arrive.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/peers.js';

const BIN = join(REPO_ROOT, 'bin/inferlog.js');
const dir = mkdtempSync(join(tmpdir(), 'inferlog-hostile-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The documented defaults (docs/collector.md): 10,000 events per batch, 16 MiB per request. */
const MAX_EVENTS = 10_000;
const MAX_BYTES = 16 * 1024 * 1024;
/**
 * Twice a Kubernetes probe's default timeout (1 s): headroom for test files running in parallel
 * on two cores. Before the fix /healthz waited 5–18 s behind the 140k-event batch.
 */
const PROBE_TIMEOUT_MS = 2000;

async function collect(name: string, flags: string[] = []): Promise<string> {
  const child = spawn(
    process.execPath,
    [BIN, 'collect', '--port', '0', '--store', `sqlite:${join(dir, `${name}.db`)}`, ...flags],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /ready on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`collect exited ${code}: ${err}`)));
  });
}

/** A structured request event, as small as the injected ones of the report (~100 bytes). */
function requestEvent(id: string, model: string, data: unknown = 1): Record<string, unknown> {
  return {
    specversion: '1.0',
    id,
    type: 'org.kubeflow.serving.inference.request',
    source: 'x',
    inferenceservicename: model,
    namespace: 'hostile',
    data,
  };
}

function postBatch(url: string, body: string | Uint8Array): Promise<Response> {
  return fetch(url + '/', {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents-batch+json' },
    body,
  });
}

/**
 * Announces a body of `length` bytes but sends none, and resolves with the answer's status line and
 * body. The collector refuses by Content-Length before reading: the test need not race its own
 * upload against that answer (a client still writing a large body may see EPIPE instead).
 */
function announceBody(url: string, length: number): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let raw = '';
    socket.on('data', (d) => (raw += d.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), body });
    });
    socket.write(
      `POST / HTTP/1.1\r\nHost: c\r\nContent-Type: application/cloudevents-batch+json\r\n` +
        `Content-Length: ${length}\r\nConnection: close\r\n\r\n[`,
    );
  });
}

/** Polls /healthz back to back until stopped; resolves to the slowest answer in ms. */
function probe(url: string): { stop(): Promise<{ worstMs: number; polls: number }> } {
  let running = true;
  let worstMs = 0;
  let polls = 0;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      const res = await fetch(url + '/healthz');
      await res.text();
      expect(res.status).toBe(200);
      worstMs = Math.max(worstMs, performance.now() - t);
      polls++;
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { worstMs, polls };
    },
  };
}

describe('collector under injected data', { timeout: 180_000 }, () => {
  it('keeps /healthz answering within 1 s during a maximal batch, and refuses bigger ones with 413 + reason', async () => {
    const url = await collect('batch');
    // Bodies are built first: building them would hold this process's own event loop (the prober's).
    // The report's attack: 140k small events in one ~15 MB body (under the byte limit).
    const flood = Buffer.from(
      JSON.stringify(
        Array.from({ length: 140_000 }, (_, i) => ({
          specversion: '1.0',
          id: `f${i}`,
          type: 'org.kubeflow.serving.inference.request',
          source: 'x',
          data: 1,
        })),
      ),
    );
    expect(flood.length).toBeLessThan(MAX_BYTES);
    // A maximal accepted batch: the event limit, and as close to the byte limit as it goes.
    const pad = 'x'.repeat(Math.floor(MAX_BYTES / MAX_EVENTS) - 200);
    const max = Buffer.from(
      JSON.stringify(Array.from({ length: MAX_EVENTS }, (_, i) => requestEvent(`b${i}`, 'm', { pad }))),
    );
    expect(max.length).toBeGreaterThan(MAX_BYTES * 0.95);
    expect(max.length).toBeLessThan(MAX_BYTES);
    const over = Buffer.concat([max, Buffer.alloc(MAX_BYTES - max.length + 1, ' ')]);

    const p = probe(url);
    let probed: { worstMs: number; polls: number } | undefined;
    try {
      const r1 = await postBatch(url, flood);
      expect(r1.status).toBe(413);
      expect(await r1.json()).toMatchObject({
        error: { code: 'PAYLOAD_TOO_LARGE', reason: 'too_many_events', maxEvents: MAX_EVENTS },
      });

      const r2 = await postBatch(url, max);
      expect(await r2.json()).toEqual({ stored: MAX_EVENTS, duplicates: 0 });

      // Over the byte limit: refused with its own reason.
      const r3 = await announceBody(url, over.length);
      expect(r3.status).toBe(413);
      expect(JSON.parse(r3.body)).toMatchObject({
        error: { code: 'PAYLOAD_TOO_LARGE', reason: 'too_large', maxBytes: MAX_BYTES },
      });
    } finally {
      probed = await p.stop();
    }
    expect(probed.polls).toBeGreaterThan(3);
    expect(probed.worstMs).toBeLessThan(PROBE_TIMEOUT_MS);
    const stats = (await (await fetch(url + '/api/v1/stats?since=1h')).json()) as {
      total: { count: number };
    };
    expect(stats.total.count).toBe(MAX_EVENTS);
  });

  it('answers stats for 100k injected model names with the top models and one (other) row that adds up', async () => {
    const url = await collect('models');
    // Two real models with the most traffic, then 100,000 one-off names.
    const heavy = [
      ...Array.from({ length: 50 }, (_, i) => requestEvent(`a${i}`, 'fraud-detector')),
      ...Array.from({ length: 30 }, (_, i) => requestEvent(`b${i}`, 'sklearn-iris')),
    ];
    expect((await postBatch(url, JSON.stringify(heavy))).status).toBe(200);
    const injected = 100_000;
    for (let at = 0; at < injected; at += MAX_EVENTS) {
      const batch = Array.from({ length: MAX_EVENTS }, (_, i) => requestEvent(`x${at + i}`, `m-${at + i}`));
      const res = await postBatch(url, JSON.stringify(batch));
      expect(res.status).toBe(200);
    }

    const res = await fetch(url + '/api/v1/stats?since=1h');
    const text = await res.text();
    expect(res.status).toBe(200);
    // Was 15 MB in the report; the documented default keeps 100 models.
    expect(text.length).toBeLessThan(100_000);
    const stats = JSON.parse(text) as {
      total: { count: number; weightedCount: number };
      byModel: { model: string; count: number; weightedCount: number; other?: true; models?: number }[];
    };
    expect(stats.total.count).toBe(injected + 80);
    expect(stats.byModel).toHaveLength(101);
    expect(stats.byModel.slice(0, 2).map((m) => [m.model, m.count])).toEqual([
      ['fraud-detector', 50],
      ['sklearn-iris', 30],
    ]);
    const other = stats.byModel[100]!;
    expect(other).toMatchObject({ model: '(other)', namespace: '', other: true, models: injected + 2 - 100 });
    expect(stats.byModel.slice(0, 100).every((m) => m.other === undefined)).toBe(true);
    expect(stats.byModel.reduce((s, m) => s + m.count, 0)).toBe(stats.total.count);
    expect(stats.byModel.reduce((s, m) => s + m.weightedCount, 0)).toBeCloseTo(stats.total.weightedCount);

    // A model folded into (other) is still exact when asked for by name.
    const one = (await (await fetch(url + '/api/v1/stats?since=1h&model=m-99999')).json()) as {
      byModel: { model: string; count: number }[];
    };
    expect(one.byModel).toEqual([expect.objectContaining({ model: 'm-99999', count: 1 })]);
  });
});
