/**
 * Not a test: measures the http sink on loopback, to choose per-event concurrency and show what batching buys.
 *
 *   npx tsx test/sinks-http/measure-throughput.ts
 *
 *   encoder ns/exchange (binary, batch) ─▶ sink exchanges/s: per-event sequential (maxBatch 1),
 *   per-event concurrent (maxBatch 8/32/128), batched (batchSize 100) — receiver in a child process.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { encodeBatch, encodeBinary } from '../../src/formats/cloudevents.js';
import { createHttpSink } from '../../src/sinks/http/sink.js';
import { scenarioExchange } from './kserve-scenario.js';
import { sinkOptions } from './recorder.js';

const RECEIVER = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(202).end()); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

function encoderNs(): { binary: number; batch: number } {
  const exs = Array.from({ length: 1000 }, (_, i) =>
    scenarioExchange({ id: `id-${i}`, requestTime: Date.now() - 5.25, responseTime: Date.now() }),
  );
  const time = (fn: () => void, rounds: number): number => {
    for (let i = 0; i < 20; i++) fn();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) fn();
    return Number(process.hrtime.bigint() - t0) / rounds / exs.length;
  };
  return {
    binary: time(() => {
      for (const ex of exs) encodeBinary(ex);
    }, 200),
    batch: time(() => encodeBatch(exs), 200),
  };
}

async function throughput(url: string, batchSize: number, perSend: number, seconds: number): Promise<number> {
  const sink = createHttpSink(new URL(url), sinkOptions({ batchSize }));
  await sink.start();
  const batch = Array.from({ length: perSend }, (_, i) => scenarioExchange({ id: `x-${i}` }));
  const signal = new AbortController().signal;
  const end = Date.now() + seconds * 1000;
  let sent = 0;
  for (let i = 0; i < 3; i++) await sink.send(batch, signal);
  const t0 = Date.now();
  while (Date.now() < end) {
    // Fresh objects per send, so the delivered-halves memo does not skip anything.
    await sink.send(
      batch.map((ex) => ({ ...ex })),
      signal,
    );
    sent += batch.length;
  }
  await sink.shutdown();
  return Math.round(sent / ((Date.now() - t0) / 1000));
}

const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = (await once(child.stdout, 'data')) as [Buffer];
const url = `http://127.0.0.1:${line.toString().trim()}/`;
try {
  const enc = encoderNs();
  console.log(
    `encoder: binary ${Math.round(enc.binary)} ns/exchange (2 events), batch ${Math.round(enc.batch)} ns/exchange`,
  );
  for (const [label, batchSize, perSend] of [
    ['per-event, 1 exchange per send (sequential)', 1, 1],
    ['per-event, 8 exchanges per send (concurrent)', 1, 8],
    ['per-event, 32 exchanges per send (concurrent, default)', 1, 32],
    ['per-event, 128 exchanges per send (concurrent)', 1, 128],
    ['batched, batchSize 100', 100, 100],
  ] as const) {
    console.log(`${label}: ${await throughput(url, batchSize, perSend, 3)} exchanges/s`);
  }
} finally {
  child.kill();
}
