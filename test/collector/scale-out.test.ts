/**
 * Scale-out: two collector processes' worth of servers on one PostgreSQL. The request event
 * reaches one collector, the response the other; either API shows one complete exchange.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../src/collector/server.js';
import { startCollector } from '../../src/collector/server.js';
import { openStore } from '../../src/store/open-store.js';
import type { ExchangeView } from '../../src/api/view.js';
import { ensurePostgres } from '../helpers/peers.js';

const schema = `scale_${process.pid}_${Date.now().toString(36)}`;
let base = '';
const collectors: Collector[] = [];
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  base = (await ensurePostgres()).url;
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  const u = new URL(base);
  u.searchParams.set('options', `-c search_path=${schema}`);
  for (let i = 0; i < 2; i++)
    collectors.push(await startCollector({ store: openStore(u.toString()), port: 0, log: quiet }));
}, 180_000);

afterAll(async () => {
  await Promise.all(collectors.map((c) => c.close()));
  if (!base) return;
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
});

const send = (c: Collector, id: string, kind: string, body: string): Promise<Response> =>
  fetch(c.url + '/', {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': `org.kubeflow.serving.inference.${kind}`,
      'ce-source': 'http://localhost:9081/',
      'ce-time': new Date().toISOString(),
      'ce-inferenceservicename': 'scaled',
      'content-type': 'application/json',
    },
    body,
  });

describe('collectors sharing one PostgreSQL', () => {
  it('join halves that reached different collectors, and dedupe retries across them', async () => {
    const [a, b] = collectors as [Collector, Collector];
    const sends = [];
    for (let i = 0; i < 40; i++) {
      sends.push(send(a, `s${i}`, 'request', `{"instances":[${i}]}`));
      sends.push(send(b, `s${i}`, 'response', `{"predictions":[${i}]}`));
      sends.push(send(b, `s${i}`, 'request', `{"instances":[${i}]}`)); // a retry that went elsewhere
    }
    expect((await Promise.all(sends)).map((r) => r.status).every((s) => s === 200)).toBe(true);
    const page = (await (await fetch(`${b.url}/api/v1/exchanges?model=scaled&limit=100`)).json()) as {
      items: ExchangeView[];
    };
    expect(page.items).toHaveLength(40);
    expect(page.items.every((e) => e.complete && e.status === 200)).toBe(true);
    const one = (await (await fetch(`${a.url}/api/v1/exchanges/s7`)).json()) as ExchangeView;
    expect(one.response!.body).toBe('{"predictions":[7]}');
    const stats = (await (await fetch(`${a.url}/api/v1/stats?model=scaled`)).json()) as {
      total: { count: number; complete: number };
    };
    expect(stats.total).toMatchObject({ count: 40, complete: 40 });
  });
});
