/**
 * What `pipeline.submit` costs on the inference hot path, per buffer and body size.
 *
 *   npx tsx bench/spool-append.ts
 *
 * Compares: the memory queue (baseline), the disk spool as built (framed record, raw bodies,
 * one writeSync), and the alternative it was chosen over (the whole jsonl record with base64
 * bodies, one writeSync). Prints µs per append and ratios; no pass/fail.
 */
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exchange } from '../src/core/exchange.js';
import { encodeRecord } from '../src/formats/jsonl-record.js';
import { MemoryQueue } from '../src/pipeline/memory-queue.js';
import { Spool } from '../src/pipeline/spool/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function exchange(i: number, bodyBytes: number): Exchange {
  const now = Date.now();
  return {
    id: `bench-${i}`,
    source: {
      inferenceService: 'sklearn-iris',
      namespace: 'default',
      component: 'predictor',
      endpoint: '',
      sourceUri: 'http://localhost:9081/',
      annotations: {},
    },
    mode: 'all',
    method: 'POST',
    url: '/v1/models/sklearn-iris:predict',
    metadata: { 'Content-Type': ['application/json'] },
    requestTime: now - 2.5,
    responseTime: now,
    request: {
      bytes: new Uint8Array(bodyBytes).fill(123),
      contentType: 'application/json',
      size: bodyBytes,
      truncated: false,
    },
    status: 200,
    response: {
      bytes: new Uint8Array(64).fill(125),
      contentType: 'application/json',
      size: 64,
      truncated: false,
    },
    sampleWeight: 1,
  };
}

function time(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(2000, n); i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / 1000 / n; // µs per op
}

const rows: string[][] = [
  ['body', 'memory µs', 'spool µs', 'jsonl+base64 µs', 'spool/memory', 'jsonl/spool'],
];
for (const size of [200, 10 * 1024, 100 * 1024]) {
  // ≤ 64 MiB written per run: a healthy sink acks and deletes segments long before the kernel's
  // dirty-page writeback would throttle writes; this measures that steady state, not a full disk.
  const n = Math.min(30_000, Math.floor((64 * 1024 * 1024) / size));
  const exs = Array.from({ length: 64 }, (_, i) => exchange(i, size));
  const mq = new MemoryQueue(Number.MAX_SAFE_INTEGER, 'drop-newest', () => {});
  const mem = time(n, (i) => mq.append(exs[i % 64]!));

  const dir = mkdtempSync(join(tmpdir(), 'inferlog-bench-'));
  const spool = Spool.open({
    dir,
    maxBytes: 8 * 1024 * 1024 * 1024,
    whenFull: 'drop-newest',
    durability: 'process',
    onDrop: () => {},
    log: quiet,
  });
  const sp = time(n, (i) => spool.append(exs[i % 64]!));
  await spool.close();

  const fd = openSync(join(dir, 'alt.jsonl'), 'a');
  const alt = time(n, (i) => writeSync(fd, encodeRecord(exs[i % 64]!) + '\n'));
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });

  rows.push([
    `${size} B`,
    mem.toFixed(2),
    sp.toFixed(2),
    alt.toFixed(2),
    (sp / mem).toFixed(1) + 'x',
    (alt / sp).toFixed(2) + 'x',
  ]);
}
for (const r of rows) console.log(r.map((c, i) => c.padEnd(i === 0 ? 8 : 16)).join(''));
