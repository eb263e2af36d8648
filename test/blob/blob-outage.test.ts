// Principles 1 and 2 for the blob sink: an object store that is down adds no latency to inference
// and loses nothing. The agent keeps answering while moto is stopped; the exchanges wait in the
// disk spool and are written, with KServe's keys, once a store answers again at the same address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { freePort } from '../helpers/peers.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

let model: Server;
let modelPort: number;

beforeAll(async () => {
  model = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"predictions":[1]}');
    });
  });
  await new Promise<void>((r) => model.listen(0, '127.0.0.1', r));
  modelPort = (model.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => model.close(() => r())));

async function keys(moto: Moto, bucket: string): Promise<string[]> {
  const res = await fetch(`${moto.endpoint}/${bucket}?list-type=2`);
  const xml = await res.text();
  return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1] as string).sort();
}

describe('blob sink while the object store is down', () => {
  let first: Moto | undefined;
  let second: Moto | undefined;
  let agent: CliProcess | undefined;
  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await first?.stop();
    await second?.stop();
  });

  it('answers every request at once, and writes every exchange when the store is back', async () => {
    first = await startMoto();
    const endpointPort = Number(new URL(first.endpoint).port);
    await first.createBucket('logs');
    await first.stop(); // the store goes away before the first request
    const port = await freePort();
    agent = runCli(
      [
        'agent',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--component-port',
        String(modelPort),
        '--log-url',
        's3://logs/p',
        '--inference-service',
        'm',
        '--namespace',
        'ns',
        '--component',
        'predictor',
        '--log-store-path',
        'outage',
        '--log-store-format',
        'csv',
        '--log-mode',
        'request',
      ],
      first.env,
    );
    await agent.waitFor((c) => /ready/.test(c.stderr()), 'agent ready', 30_000);
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/models/m:predict`, {
        method: 'POST',
        body: `{"instances":[${i}]}`,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('{"predictions":[1]}');
    }
    // Not stalled behind the dead store (generous bound: five local round trips).
    expect(Date.now() - started).toBeLessThan(5_000);

    // A store at the same address again (moto keeps nothing: create the bucket anew).
    second = await startMoto(endpointPort);
    await second.createBucket('logs');
    const deadline = Date.now() + 60_000;
    let got: string[] = [];
    while (Date.now() < deadline) {
      got = await keys(second, 'logs');
      if (got.length >= 5) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(got, agent.stderr()).toHaveLength(5);
    for (const k of got) expect(k).toMatch(/^p\/ns\/m\/predictor\/outage\/[0-9a-f-]{36}-request\.csv$/);
  }, 120_000);
});
