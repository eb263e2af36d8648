/**
 * `inferlog collect --log-instances`: one row per prediction, from the events of any agent
 * (KServe's own included), over real HTTP on 127.0.0.1 with a real SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../src/collector/server.js';
import { startCollector } from '../../src/collector/server.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import type { Authenticator } from '../../src/collector/auth/hook.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-instances-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Bearer tokens of the test: `iris-reader` may read model sklearn-iris only; no token is admin
 * (the senders). An Authenticator as the collector's CLI builds them, over the same interface.
 */
const authenticator: Authenticator = {
  async authenticate(req) {
    const auth = req.headers.authorization;
    if (auth === 'Bearer iris-reader')
      return {
        id: 'iris-reader',
        via: 'token',
        scopes: new Set(['read'] as const),
        models: ['sklearn-iris'],
      };
    if (auth === undefined) return { id: 'sender', via: 'token', scopes: new Set(['admin'] as const) };
    return undefined;
  },
};

function collector(logInstances: boolean): Promise<Collector> {
  return startCollector({
    store: createSqliteStore(join(dir, `c${n++}.db`)),
    port: 0,
    log: quiet,
    uiDir: join(dir, 'no-ui'),
    logInstances,
    authenticator,
  });
}

/** One event as KServe's agent sends it: binary mode, no inferlog extensions. */
async function kserveEvent(
  c: Collector,
  id: string,
  kind: 'request' | 'response',
  body: string,
  at: string,
  model = 'sklearn-iris',
): Promise<number> {
  const res = await fetch(c.url + '/', {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': `org.kubeflow.serving.inference.${kind}`,
      'ce-source': 'http://localhost:9081/',
      'ce-time': at,
      'ce-inferenceservicename': model,
      'ce-namespace': 'default',
      'ce-component': 'predictor',
      'ce-endpoint': '',
      'content-type': 'application/json',
    },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

async function get<T>(c: Collector, path: string, token?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(c.url + path, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: (await res.json()) as T };
}

interface InstanceItem {
  exchangeId: string;
  exchange: string;
  model: string;
  index: number;
  time: string;
  input: unknown;
  prediction?: unknown;
}

const T = (s: number): string => new Date(Date.now() - 60_000 + s * 1000).toISOString();

describe('collector --log-instances', () => {
  let c: Collector;
  beforeAll(async () => {
    c = await collector(true);
    // KServe's two POSTs per exchange; iris with two instances.
    await kserveEvent(
      c,
      'k1',
      'request',
      '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}',
      T(0),
    );
    await kserveEvent(c, 'k1', 'response', '{"predictions":[1,1]}', T(0.01));
    // V2 tensors, one row per first-dimension index.
    await kserveEvent(
      c,
      'v2',
      'request',
      '{"inputs":[{"name":"input-0","datatype":"FP32","shape":[2,4],"data":[6.8,2.8,4.8,1.4,5.1,3.5,1.4,0.2]}]}',
      T(1),
    );
    await kserveEvent(
      c,
      'v2',
      'response',
      '{"model_name":"sklearn-iris","outputs":[{"name":"output-0","datatype":"INT64","shape":[2],"data":[1,0]}]}',
      T(1.01),
    );
    // Cannot be split: the counts disagree.
    await kserveEvent(c, 'bad', 'request', '{"instances":[1,2,3]}', T(2));
    await kserveEvent(c, 'bad', 'response', '{"predictions":[1]}', T(2.01));
    await kserveEvent(c, 'o1', 'request', '{"instances":[[1,1,1,1]]}', T(3), 'other');
    await kserveEvent(c, 'o1', 'response', '{"predictions":[2]}', T(3.01), 'other');
  });
  afterAll(() => c.close());

  it("stores one row per instance from KServe's own events, read back per exchange", async () => {
    const r = await get<{ items: InstanceItem[] }>(c, '/api/v1/exchanges/k1/instances');
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([
      expect.objectContaining({
        exchangeId: 'k1',
        model: 'sklearn-iris',
        index: 0,
        input: [6.8, 2.8, 4.8, 1.4],
        prediction: 1,
      }),
      expect.objectContaining({ exchangeId: 'k1', index: 1, input: [6.0, 3.4, 4.5, 1.6], prediction: 1 }),
    ]);
    const v2 = await get<{ items: InstanceItem[] }>(c, '/api/v1/exchanges/v2/instances');
    expect(v2.body.items.map((i) => [i.input, i.prediction])).toEqual([
      [
        { 'input-0': { datatype: 'FP32', shape: [4], data: [6.8, 2.8, 4.8, 1.4] } },
        { 'output-0': { datatype: 'INT64', shape: [], data: [1] } },
      ],
      [
        { 'input-0': { datatype: 'FP32', shape: [4], data: [5.1, 3.5, 1.4, 0.2] } },
        { 'output-0': { datatype: 'INT64', shape: [], data: [0] } },
      ],
    ]);
    expect((await get<{ items: unknown[] }>(c, '/api/v1/exchanges/bad/instances')).body.items).toEqual([]);
    expect((await get(c, '/api/v1/exchanges/nope/instances')).status).toBe(404);
  });

  it('lists instances by model and time, newest exchange first, paged with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/v1/instances?model=sklearn-iris&since=1h&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await get<{ items: InstanceItem[]; nextCursor: string | null }>(c, q);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((i) => `${i.exchangeId}/${i.index}`));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['v2/0', 'v2/1', 'k1/0', 'k1/1']);
    const other = await get<{ items: InstanceItem[] }>(c, '/api/v1/instances?model=other');
    expect(other.body.items).toEqual([expect.objectContaining({ exchangeId: 'o1', input: [1, 1, 1, 1] })]);
    // The exchange link of a row opens its exchange.
    const ex = await get<{ id: string }>(c, `/api/v1/exchanges/${other.body.items[0]!.exchange}`);
    expect(ex.body.id).toBe('o1');
  });

  it('shows a reader limited to some models only their rows, as the exchange listing does', async () => {
    const all = await get<{ items: InstanceItem[] }>(c, '/api/v1/instances', 'iris-reader');
    expect(all.status).toBe(200);
    expect(new Set(all.body.items.map((i) => i.model))).toEqual(new Set(['sklearn-iris']));
    expect(
      (await get<{ items: InstanceItem[] }>(c, '/api/v1/instances?model=other', 'iris-reader')).body.items,
    ).toEqual([]);
    // Another model's exchange is not found, as if it did not exist.
    expect((await get(c, '/api/v1/exchanges/o1/instances', 'iris-reader')).status).toBe(404);
    expect((await get(c, '/api/v1/exchanges/k1/instances', 'iris-reader')).status).toBe(200);
  });

  it('rejects bad parameters with the parameter named', async () => {
    const bad = async (q: string): Promise<unknown> => (await get<{ error: unknown }>(c, q)).body.error;
    expect(await bad('/api/v1/instances?status=200')).toMatchObject({
      code: 'QUERY_INVALID',
      parameter: 'status',
    });
    expect(await bad('/api/v1/instances?cursor=xyz')).toMatchObject({ parameter: 'cursor' });
    expect(await bad('/api/v1/instances?limit=0')).toMatchObject({ parameter: 'limit' });
  });

  it('counts rows stored and exchanges skipped, by reason, on /metrics', async () => {
    const text = await (await fetch(c.url + '/metrics')).text();
    expect(text).toMatch(/^inferlog_collector_instance_rows_total 5$/m);
    expect(text).toMatch(/^inferlog_collector_instances_skipped_total\{reason="count_mismatch"\} 1$/m);
    // Every reason is exported from the start, so an alert can use rate() without absent().
    expect(text).toMatch(/^inferlog_collector_instances_skipped_total\{reason="too_many"\} 0$/m);
  });
});

describe('collector without --log-instances', () => {
  it('stores no instance rows', async () => {
    const c = await collector(false);
    try {
      await kserveEvent(c, 'k1', 'request', '{"instances":[[1,2,3,4]]}', T(0));
      await kserveEvent(c, 'k1', 'response', '{"predictions":[1]}', T(0.01));
      expect((await get<{ items: unknown[] }>(c, '/api/v1/exchanges/k1/instances')).body.items).toEqual([]);
      expect((await get<{ items: unknown[] }>(c, '/api/v1/instances')).body.items).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
