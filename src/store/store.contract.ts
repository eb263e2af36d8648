/**
 * The contract every ExchangeStore keeps. Each store's test file calls `storeContract`
 * with a factory that gives a fresh, empty, not-yet-started store.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CE_TYPE_REQUEST, CE_TYPE_RESPONSE } from '../formats/cloudevents-attributes.js';
import type { DecodedEvent } from '../formats/cloudevents-decode.js';
import { MAX_ID_BYTES, MAX_NAME_BYTES } from '../formats/cloudevents-decode.js';
import type { ExchangeHalf } from './exchange-record.js';
import { halfFromEvent } from './exchange-record.js';
import { shapeStats } from './stats.js';
import { shapeTimeSeries } from './timeseries.js';
import type { ExchangeStore, InstancePosition, PagePosition } from './store.js';
import { parseRfc3339 } from '../core/units.js';

const T0 = parseRfc3339('2026-08-21T10:00:00Z')!;
const enc = new TextEncoder();

export interface HalfSpec {
  id: string;
  kind: 'request' | 'response';
  /** Seconds after T0. */
  at?: number;
  model?: string;
  namespace?: string;
  component?: string;
  source?: string;
  body?: string | Uint8Array;
  ext?: Record<string, string>;
  /** Request headers the event carried (Ce-Metadata). */
  metadata?: Record<string, string[]>;
}

export function testHalf(s: HalfSpec): ExchangeHalf {
  const ev: DecodedEvent = {
    specversion: '1.0',
    id: s.id,
    type: s.kind === 'request' ? CE_TYPE_REQUEST : CE_TYPE_RESPONSE,
    source: s.source ?? 'http://localhost:9081/',
    time: new Date(T0 + (s.at ?? 0) * 1000).toISOString(),
    datacontenttype: 'application/json',
    extensions: {
      inferenceservicename: s.model ?? 'iris',
      namespace: s.namespace ?? 'default',
      component: s.component ?? 'predictor',
      endpoint: '',
      ...s.ext,
    },
    metadata: s.metadata ?? {},
    annotations: {},
    data:
      typeof s.body === 'string'
        ? enc.encode(s.body)
        : (s.body ?? enc.encode(s.kind === 'request' ? '{"instances":[1]}' : '{"predictions":[1]}')),
  };
  return halfFromEvent(ev, Date.now());
}

/** Both halves of an exchange: request at `at`, response `latency` seconds later. */
export function testPair(
  id: string,
  at: number,
  opts: Omit<HalfSpec, 'id' | 'kind' | 'at'> & { latency?: number; status?: number } = {},
): ExchangeHalf[] {
  const { latency = 0.01, status, ...rest } = opts;
  const ext = status !== undefined ? { ...rest.ext, statuscode: String(status) } : rest.ext;
  return [
    testHalf({ ...rest, ext, id, kind: 'request', at }),
    testHalf({ ...rest, ext, id, kind: 'response', at: at + latency }),
  ];
}

async function listAll(store: ExchangeStore, filter = {}, limit = 1000): Promise<string[]> {
  const ids: string[] = [];
  let after: PagePosition | undefined;
  for (;;) {
    const page = await store.listExchanges(filter, { limit, order: 'newest', ...(after ? { after } : {}) });
    ids.push(...page.items.map((i) => i.row.id));
    if (!page.next) return ids;
    after = page.next;
  }
}

export function storeContract(name: string, makeStore: () => Promise<ExchangeStore>): void {
  describe(`ExchangeStore contract: ${name}`, () => {
    const open: ExchangeStore[] = [];
    const fresh = async (): Promise<ExchangeStore> => {
      const s = await makeStore();
      await s.start();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.shutdown()));
    });

    it('stores an exchange whose indexed attributes are as long as the decoder accepts', async () => {
      const store = await fresh();
      // Incompressible text: PostgreSQL compresses index entries, so repeated letters would pass anyway.
      const text = (bytes: number): string => randomBytes(bytes).toString('base64url').slice(0, bytes);
      const names = {
        model: text(MAX_NAME_BYTES),
        namespace: text(MAX_NAME_BYTES),
        component: text(MAX_NAME_BYTES),
        ext: { endpoint: text(MAX_NAME_BYTES), errorcode: text(MAX_NAME_BYTES) },
      };
      const id = text(MAX_ID_BYTES);
      expect((await store.putEvents(testPair(id, 0, { ...names, status: 500 }))).stored).toBe(2);
      const row = (await store.listExchanges({ model: names.model }, { limit: 5, order: 'newest' })).items;
      expect(row.map((i) => [i.row.id, i.row.namespace, i.row.complete])).toEqual([
        [id, names.namespace, true],
      ]);
    });

    it('joins a request and its response into one complete exchange', async () => {
      const store = await fresh();
      const r = await store.putEvents(testPair('a1', 0, { latency: 0.25 }));
      expect(r).toEqual({ stored: 2, duplicates: 0, fresh: [true, true] });
      const ex = await store.getExchange('a1');
      expect(ex?.row).toMatchObject({
        id: 'a1',
        model: 'iris',
        namespace: 'default',
        component: 'predictor',
        status: 200,
        complete: true,
        latencyMs: 250,
        sampleWeight: 1,
      });
      expect(new TextDecoder().decode(ex!.requestBody!)).toBe('{"instances":[1]}');
      expect(new TextDecoder().decode(ex!.responseBody!)).toBe('{"predictions":[1]}');
    });

    it('keeps each exchange trace id, filters by it (any case), and ignores an invalid traceparent', async () => {
      const store = await fresh();
      const T = '4bf92f3577b34da6a3ce929d0e0e4736';
      const tp = (t: string): Record<string, string> => ({ traceparent: `00-${t}-00f067aa0ba902b7-01` });
      await store.putEvents([
        ...testPair('t1', 0, { ext: tp(T) }),
        ...testPair('t2', 1, { ext: tp('1'.repeat(32)) }),
        // Forged by a sender: upper-case hex is not a valid traceparent, so it is not stored.
        ...testPair('t3', 2, { ext: tp(T.toUpperCase()) }),
        ...testPair('t4', 3),
      ]);
      expect(await listAll(store, { traceId: T })).toEqual(['t1']);
      expect(await listAll(store, { traceId: T.toUpperCase() })).toEqual(['t1']);
      const t1 = await store.getExchange('t1');
      expect(t1?.row.traceId).toBe(T);
      expect(t1?.row.detail.trace).toEqual({ traceId: T, spanId: '00f067aa0ba902b7' });
      expect((await store.getExchange('t3'))?.row.traceId).toBeNull();
      expect((await store.getExchange('t4'))?.row.traceId).toBeNull();
    });

    it('is idempotent on (id, kind): a retried half is stored once', async () => {
      const store = await fresh();
      const [req, res] = testPair('dup', 0);
      expect((await store.putEvents([req!, req!])).fresh).toEqual([true, false]);
      expect(await store.putEvents([req!])).toEqual({ stored: 0, duplicates: 1, fresh: [false] });
      await store.putEvents([res!, res!]);
      expect(await listAll(store)).toEqual(['dup']);
      const stats = shapeStats(await store.stats({ sinceMs: T0 - 1000, untilMs: T0 + 1000 }, {}), {
        sinceMs: 0,
        untilMs: 1,
      });
      expect(stats.total.count).toBe(1);
    });

    it('shows a half alone as incomplete, and completes it whichever half comes first', async () => {
      const store = await fresh();
      await store.putEvents([testHalf({ id: 'req-only', kind: 'request', at: 1 })]);
      await store.putEvents([testHalf({ id: 'res-first', kind: 'response', at: 2.5 })]);
      expect((await store.getExchange('req-only'))?.row).toMatchObject({
        complete: false,
        status: null,
        latencyMs: null,
      });
      // A KServe response event means 200 even without its request.
      expect((await store.getExchange('res-first'))?.row).toMatchObject({
        complete: false,
        status: 200,
        timeMs: T0 + 2500,
      });
      await store.putEvents([testHalf({ id: 'res-first', kind: 'request', at: 2 })]);
      const done = await store.getExchange('res-first');
      expect(done?.row).toMatchObject({ complete: true, status: 200, latencyMs: 500, timeMs: T0 + 2000 });
      expect(done?.requestBody).not.toBeNull();
    });

    it('finds an exchange by what its second half changed, committed apart: time, trace id, status', async () => {
      const store = await fresh();
      const T = 'a'.repeat(31) + 'b';
      const tp = { traceparent: `00-${T}-00f067aa0ba902b7-01` };
      // The response first (its time is the row's until the request comes), then the request,
      // which alone carries the trace context and moves the row to its own, earlier time.
      await store.putEvents([
        testHalf({ id: 'late-req', kind: 'response', at: 10, ext: { statuscode: '503' } }),
      ]);
      await store.putEvents([testHalf({ id: 'late-req', kind: 'request', at: 4, ext: tp })]);
      await store.putEvents([testHalf({ id: 'other', kind: 'request', at: 7 })]);
      await store.putEvents([testHalf({ id: 'other', kind: 'response', at: 7.5 })]);
      expect(await listAll(store, { traceId: T })).toEqual(['late-req']);
      expect(await listAll(store, { sinceMs: T0 + 3000, untilMs: T0 + 5000 })).toEqual(['late-req']);
      expect(await listAll(store, { sinceMs: T0 + 9000 })).toEqual([]);
      expect(await listAll(store, { status: { kind: 'class', hundreds: 5 } })).toEqual(['late-req']);
      expect(await listAll(store, { status: { kind: 'exact', code: 200 } })).toEqual(['other']);
      expect(await listAll(store, { exchangeId: 'late-req' })).toEqual(['late-req']);
      expect(await listAll(store, { model: (await store.getExchange('other'))!.row.model })).toEqual([
        'other',
        'late-req',
      ]);
    });

    it('scopes deduplication and pairing by source, namespace, service and component', async () => {
      // The same event id from another namespace (or service, source, component) is another exchange:
      // it neither completes nor duplicates the victim's.
      const store = await fresh();
      const victim = { model: 'fraud', namespace: 'prod' };
      await store.putEvents([testHalf({ id: 'shared', kind: 'request', at: 1, ...victim })]);
      const attacker = { model: 'x', namespace: 'attacker' };
      const r = await store.putEvents([
        testHalf({ id: 'shared', kind: 'request', at: 2, ...attacker }),
        testHalf({
          id: 'shared',
          kind: 'response',
          at: 2.1,
          ...attacker,
          body: '{"predictions":["not_fraud"]}',
        }),
        testHalf({ id: 'shared', kind: 'request', at: 3, ...victim, source: 'pod-2' }),
        testHalf({ id: 'shared', kind: 'request', at: 4, ...victim, component: 'transformer' }),
        testHalf({ id: 'shared', kind: 'request', at: 5, ...victim, model: 'other' }),
      ]);
      expect(r).toEqual({ stored: 5, duplicates: 0, fresh: [true, true, true, true, true] });
      const rows = (await store.listExchanges({}, { limit: 10, order: 'newest' })).items.map((i) => i.row);
      expect(rows).toHaveLength(5);
      expect(new Set(rows.map((x) => x.key)).size).toBe(5);
      expect(rows.every((x) => x.id === 'shared')).toBe(true);
      const prod = rows.find(
        (x) =>
          x.namespace === 'prod' &&
          x.model === 'fraud' &&
          x.component === 'predictor' &&
          x.detail.source === 'http://localhost:9081/',
      );
      expect(prod).toMatchObject({ model: 'fraud', complete: false, status: null });
      const byKey = await store.getExchange(prod!.key);
      expect(byKey?.row).toMatchObject({ namespace: 'prod', complete: false });
      expect(byKey?.responseBody).toBeNull();
      // The attacker's own pair is complete in its own namespace.
      const own = rows.find((x) => x.namespace === 'attacker');
      expect(own).toMatchObject({ complete: true });
      // A bare id still finds an exchange (the newest with it), for KServe-era links.
      expect((await store.getExchange('shared'))?.row.id).toBe('shared');
      // Retries are still duplicates within a scope.
      expect(await store.putEvents([testHalf({ id: 'shared', kind: 'request', at: 1, ...victim })])).toEqual({
        stored: 0,
        duplicates: 1,
        fresh: [false],
      });
    });

    it('stores the same rows and stats whether halves come one per call or mixed in one batch', async () => {
      const one = await fresh();
      const mixed = await fresh();
      const pairs = Array.from({ length: 6 }, (_, i) => testPair(`m${i}`, i, { latency: 0.1 * (i + 1) }));
      for (const [req, res] of pairs) {
        await one.putEvents([req!]);
        await one.putEvents([res!]);
      }
      await one.putEvents([pairs[0]![0]!]); // a resent half
      // Responses before requests for some, halves of different exchanges interleaved, a resend inside.
      const batch = [
        pairs[0]![1]!,
        pairs[1]![0]!,
        pairs[0]![0]!,
        pairs[2]![0]!,
        pairs[1]![1]!,
        pairs[0]![0]!,
        ...pairs.slice(2).flatMap(([req, res], i) => (i === 0 ? [res!] : [req!, res!])),
      ];
      const r = await mixed.putEvents(batch);
      expect(r.stored).toBe(12);
      expect(r.duplicates).toBe(1);
      expect(r.fresh[5]).toBe(false);
      expect(await listAll(mixed)).toEqual(await listAll(one));
      for (let i = 0; i < pairs.length; i++) {
        const a = await one.getExchange(`m${i}`);
        const b = await mixed.getExchange(`m${i}`);
        // searchText lists the halves' text in arrival order, which differs here by design.
        const lines = (t = ''): string[] => t.split('\n').sort();
        expect(lines(b?.row.searchText)).toEqual(lines(a?.row.searchText));
        expect({ ...b?.row, seq: 0, searchText: '' }).toEqual({ ...a?.row, seq: 0, searchText: '' });
        expect(b?.requestBody).toEqual(a?.requestBody);
        expect(b?.responseBody).toEqual(a?.responseBody);
      }
      const window = { sinceMs: T0 - 3_600_000, untilMs: T0 + 3_600_000 };
      expect(await mixed.stats(window, {})).toEqual(await one.stats(window, {}));
    });

    it('takes the two halves of one exchange committed concurrently', async () => {
      const store = await fresh();
      const [req, res] = testPair('race', 0);
      await Promise.all([store.putEvents([req!]), store.putEvents([res!])]);
      expect((await store.getExchange('race'))?.row.complete).toBe(true);
    });

    it('keeps binary bodies byte-exact', async () => {
      const store = await fresh();
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80]);
      await store.putEvents([testHalf({ id: 'bin', kind: 'request', body: png })]);
      const ex = await store.getExchange('bin');
      expect(Buffer.from(ex!.requestBody!).equals(Buffer.from(png))).toBe(true);
      expect(ex!.responseBody).toBeNull();
      expect(await store.getExchange('nope')).toBeUndefined();
    });

    it('stores a batch of exchanges whose ids and names hold SQL and array syntax, each body byte-exact', async () => {
      const store = await fresh();
      // Names a client may send: quotes, backslashes, braces, commas, the word NULL, non-ASCII.
      const odd = ['a"b', 'c\\d', '{e,f}', 'NULL', "g'h", 'ünï 😀', ' ', 'x\\"}{,'];
      const halves: ExchangeHalf[] = [];
      odd.forEach((name, i) => {
        const body = new Uint8Array(i * 37).map((_, j) => (j * 7 + i) & 0xff); // the first is empty
        halves.push(...testPair(`${name}#${i}`, i, { model: name, namespace: name, component: name, body }));
      });
      const r = await store.putEvents(halves);
      expect(r.stored).toBe(halves.length);
      for (const [i, name] of odd.entries()) {
        const ex = await store.getExchange(`${name}#${i}`);
        expect(ex?.row).toMatchObject({ model: name, namespace: name, component: name, complete: true });
        const want = Buffer.from(new Uint8Array(i * 37).map((_, j) => (j * 7 + i) & 0xff));
        expect(Buffer.from(ex!.requestBody!).equals(want)).toBe(true);
        expect(Buffer.from(ex!.responseBody!).equals(want)).toBe(true);
      }
      const stats = await store.stats({ sinceMs: T0 - 3_600_000, untilMs: T0 + 3_600_000 }, {});
      expect(stats.reduce((n, g) => n + g.count, 0)).toBe(odd.length);
    });

    it('filters by model, namespace, component, status, time and body text', async () => {
      const store = await fresh();
      await store.putEvents([
        ...testPair('m1', 1, { model: 'iris', body: '{"flower":"Setosa"}' }),
        ...testPair('m2', 2, { model: 'mnist', namespace: 'vision', status: 503 }),
        ...testPair('m3', 3, { model: 'iris', component: 'transformer', status: 404 }),
        ...testPair('m4', 4, { model: 'iris', status: 201 }),
        testHalf({ id: 'm5', kind: 'request', at: 5, model: 'iris' }),
        testHalf({
          id: 'm6',
          kind: 'request',
          at: 6,
          model: 'iris',
          ext: { errorcode: 'UPSTREAM_TIMEOUT', statuscode: '0' },
        }),
      ]);
      expect(await listAll(store, { model: 'iris' })).toEqual(['m6', 'm5', 'm4', 'm3', 'm1']);
      expect(await listAll(store, { namespace: 'vision' })).toEqual(['m2']);
      expect(await listAll(store, { component: 'transformer' })).toEqual(['m3']);
      expect(await listAll(store, { status: { kind: 'exact', code: 201 } })).toEqual(['m4']);
      expect(await listAll(store, { status: { kind: 'class', hundreds: 2 } })).toEqual(['m4', 'm1']);
      expect(await listAll(store, { status: { kind: 'class', hundreds: 5 } })).toEqual(['m2']);
      expect(await listAll(store, { status: { kind: 'error' } })).toEqual(['m6']);
      expect(await listAll(store, { status: { kind: 'incomplete' } })).toEqual(['m5']);
      expect(await listAll(store, { sinceMs: T0 + 2000, untilMs: T0 + 4000 })).toEqual(['m3', 'm2']);
      expect(await listAll(store, { q: 'SETOSA' })).toEqual(['m1']);
      expect(
        await listAll(store, { q: 'predictions', model: 'iris', status: { kind: 'class', hundreds: 4 } }),
      ).toEqual(['m3']);
    });

    it('pages with a cursor that neither repeats nor skips while new exchanges arrive', async () => {
      const store = await fresh();
      await store.putEvents(
        Array.from({ length: 25 }, (_, i) => testPair(`p${String(i).padStart(2, '0')}`, i)).flat(),
      );
      // Same-time ties are ordered by id.
      await store.putEvents([...testPair('tie-a', 10), ...testPair('tie-b', 10)]);
      const seen: string[] = [];
      let after: PagePosition | undefined;
      let pages = 0;
      for (;;) {
        const page = await store.listExchanges(
          {},
          { limit: 10, order: 'newest', ...(after ? { after } : {}) },
        );
        seen.push(...page.items.map((i) => i.row.id));
        pages++;
        // Newer and older exchanges arriving between pages must not disturb the walk.
        await store.putEvents([
          ...testPair(`new${pages}`, 100 + pages),
          ...testPair(`old${pages}`, -100 - pages),
        ]);
        if (!page.next) break;
        after = page.next;
      }
      const expected = [
        ...Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, '0')}`),
        'tie-a',
        'tie-b',
      ];
      const firstPageOnly = seen.filter((id) => id.startsWith('p') || id.startsWith('tie'));
      expect(firstPageOnly.sort()).toEqual(expected.sort());
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.slice(0, 3)).toEqual(['p24', 'p23', 'p22']);
      expect(seen.indexOf('tie-b')).toBe(seen.indexOf('tie-a') - 1);
    });

    it('follows changes in store order, starting at the end, including completions', async () => {
      const store = await fresh();
      await store.putEvents(testPair('before', 0));
      const start = await store.listExchanges({}, { limit: 100, order: 'follow' });
      expect(start.items).toEqual([]);
      await store.putEvents([testHalf({ id: 'f1', kind: 'request', at: 1 })]);
      await store.putEvents(testPair('f2', 2, { model: 'other' }));
      const p1 = await store.listExchanges({}, { limit: 100, order: 'follow', after: start.next! });
      expect(p1.items.map((i) => [i.row.id, i.row.complete])).toEqual([
        ['f1', false],
        ['f2', true],
      ]);
      await store.putEvents([testHalf({ id: 'f1', kind: 'response', at: 1.5 })]);
      const p2 = await store.listExchanges({}, { limit: 100, order: 'follow', after: p1.next! });
      expect(p2.items.map((i) => [i.row.id, i.row.complete])).toEqual([['f1', true]]);
      const p3 = await store.listExchanges(
        { model: 'other' },
        { limit: 100, order: 'follow', after: start.next! },
      );
      expect(p3.items.map((i) => i.row.id)).toEqual(['f2']);
      const empty = await store.listExchanges({}, { limit: 100, order: 'follow', after: p2.next! });
      expect(empty.items).toEqual([]);
      expect(empty.next).toEqual(p2.next);
    });

    it('computes stats: counts by model and status, weighted estimates, latency percentiles', async () => {
      const store = await fresh();
      const halves: ExchangeHalf[] = [];
      for (let i = 0; i < 100; i++)
        halves.push(...testPair(`s${i}`, i, { latency: (i + 1) / 1000, ext: { sampleweight: '10' } }));
      halves.push(...testPair('e1', 1, { model: 'mnist', status: 500, latency: 2 }));
      halves.push(testHalf({ id: 'e2', kind: 'request', at: 2, model: 'mnist' }));
      halves.push(...testPair('outside', 5000));
      await store.putEvents(halves);
      const window = { sinceMs: T0, untilMs: T0 + 1000_000 };
      const s = shapeStats(await store.stats(window, {}), window);
      expect(s.total).toMatchObject({ count: 102, weightedCount: 1002, complete: 101 });
      const iris = s.byModel.find((m) => m.model === 'iris')!;
      expect(iris).toMatchObject({
        count: 100,
        weightedCount: 1000,
        byStatus: [{ status: '200', count: 100, weightedCount: 1000 }],
      });
      // Latencies 1..100 ms: the histogram estimate is within 5%.
      expect(iris.latencyMs!.p50).toBeGreaterThan(50 * 0.95);
      expect(iris.latencyMs!.p50).toBeLessThan(50 * 1.05);
      expect(iris.latencyMs!.p99).toBeGreaterThan(99 * 0.95);
      expect(iris.latencyMs!.p99).toBeLessThan(99 * 1.05);
      const mnist = s.byModel.find((m) => m.model === 'mnist')!;
      expect(mnist.byStatus.map((b) => b.status).sort()).toEqual(['5xx', 'incomplete']);
      const only = shapeStats(
        await store.stats(window, { model: 'mnist', status: { kind: 'class', hundreds: 5 } }),
        window,
      );
      expect(only.total.count).toBe(1);
    });

    it('gives a weighted time series by status class, from the rows (seconds) and the rollups (minutes, hours)', async () => {
      const store = await fresh();
      const halves: ExchangeHalf[] = [];
      // Minute 0: 3 × 200 (weight 10, 5 ms); minute 1: 1 × 503 (2 s) and 1 incomplete; minute 3: 1 × 404.
      for (let i = 0; i < 3; i++)
        halves.push(...testPair(`t${i}`, 5 + i, { latency: 0.005, ext: { sampleweight: '10' } }));
      halves.push(...testPair('t5xx', 70, { status: 503, latency: 2 }));
      halves.push(testHalf({ id: 'tinc', kind: 'request', at: 75 }));
      halves.push(...testPair('t4xx', 190, { status: 404, model: 'mnist' }));
      halves.push(...testPair('tout', 4000));
      await store.putEvents(halves);
      const win = { sinceMs: T0, untilMs: T0 + 240_000 };
      for (const step of [60_000, 10_000]) {
        const ts = shapeTimeSeries(await store.timeSeries(win, {}, step), win, step);
        expect(ts.buckets).toHaveLength(240_000 / step);
        const at = (s: number) => ts.buckets[Math.floor((s * 1000) / step)]!;
        expect(at(5).weighted['2xx']).toBe(30);
        expect(at(70).weighted['5xx']).toBe(1);
        expect(at(75).weighted.incomplete).toBe(1);
        expect(at(190).weighted['4xx']).toBe(1);
        expect(ts.series).toEqual(['2xx', '4xx', '5xx', 'incomplete']);
        const total = ts.buckets.reduce((n, b) => n + b.count, 0);
        expect(total).toBe(6);
        // Latencies are weighted: three 5 ms exchanges at weight 10 make minute 0's p99 ≈ 5 ms.
        if (step === 60_000) {
          expect(at(5).p50).toBeGreaterThan(5 * 0.95);
          expect(at(5).p99).toBeLessThan(5 * 1.05);
          expect(at(70).p99).toBeGreaterThan(2000 * 0.95);
        }
      }
      const only = await store.timeSeries(win, { model: 'mnist' }, 60_000);
      expect(only.map((g) => g.startMs)).toEqual([T0 + 180_000]);
      const hourly = shapeTimeSeries(
        await store.timeSeries({ sinceMs: T0, untilMs: T0 + 7_200_000 }, {}, 3_600_000),
        { sinceMs: T0, untilMs: T0 + 7_200_000 },
        3_600_000,
      );
      expect(hourly.buckets.map((b) => b.count)).toEqual([6, 1]);
    });

    it('agrees with a plain count for windows over whole and partial hours, through completions and deletes', async () => {
      const store = await fresh();
      // One exchange every 6 minutes for 5 hours; requests first, responses in a later batch.
      const ids = Array.from({ length: 50 }, (_, i) => i);
      const at = (i: number): number => i * 360 + 7;
      await store.putEvents(
        ids.map((i) => testHalf({ id: `h${i}`, kind: 'request', at: at(i), model: i % 2 ? 'odd' : 'even' })),
      );
      const win = (fromS: number, toS: number) => ({ sinceMs: T0 + fromS * 1000, untilMs: T0 + toS * 1000 });
      const expectCount = async (
        w: { sinceMs: number; untilMs: number },
        filter: object,
        expected: number,
      ): Promise<void> => {
        const s = shapeStats(await store.stats(w, filter), w);
        expect(s.total.count).toBe(expected);
      };
      const inWindow = (fromS: number, toS: number, pred: (i: number) => boolean = () => true): number =>
        ids.filter((i) => at(i) >= fromS && at(i) < toS && pred(i)).length;
      await expectCount(win(1800, 16200), { status: { kind: 'incomplete' } }, inWindow(1800, 16200));
      await store.putEvents(
        ids
          .filter((i) => i % 3 === 0)
          .map((i) =>
            testHalf({
              id: `h${i}`,
              kind: 'response',
              at: at(i) + 0.05,
              model: i % 2 ? 'odd' : 'even',
              ext: { statuscode: i % 9 === 0 ? '500' : '200' },
            }),
          ),
      );
      await expectCount(win(1800, 16200), {}, inWindow(1800, 16200));
      await expectCount(
        win(1800, 16200),
        { status: { kind: 'incomplete' } },
        inWindow(1800, 16200, (i) => i % 3 !== 0),
      );
      await expectCount(
        win(1800, 16200),
        { status: { kind: 'class', hundreds: 5 } },
        inWindow(1800, 16200, (i) => i % 9 === 0),
      );
      await expectCount(
        win(0, 18000),
        { model: 'odd', status: { kind: 'exact', code: 200 } },
        inWindow(0, 18000, (i) => i % 2 === 1 && i % 3 === 0 && i % 9 !== 0),
      );
      const full = shapeStats(await store.stats(win(0, 18000), {}), win(0, 18000));
      expect(full.total).toMatchObject({ count: 50, complete: 17 });
      expect(full.total.latencyMs!.p50).toBeGreaterThan(45);
      expect(full.total.latencyMs!.p50).toBeLessThan(55);
      await store.deleteOlderThan(T0 + 5400_000); // 1.5 h: one whole hour and half of the next
      await expectCount(win(0, 18000), {}, inWindow(5400, 18000));
      await expectCount(
        win(3600, 18000),
        { status: { kind: 'incomplete' } },
        inWindow(5400, 18000, (i) => i % 3 !== 0),
      );
    });

    it('agrees with a plain count for windows over whole days, whole hours and partial hours', async () => {
      const store = await fresh();
      // One exchange every 50 minutes for 4 days; every 7th is a 404, every 5th has no response.
      const ids = Array.from({ length: (4 * 24 * 60) / 50 }, (_, i) => i);
      const at = (i: number): number => i * 3000 + 11;
      const halves: ExchangeHalf[] = [];
      for (const i of ids) {
        const status = i % 7 === 0 ? 404 : 200;
        if (i % 5 === 0) halves.push(testHalf({ id: `d${i}`, kind: 'request', at: at(i) }));
        else halves.push(...testPair(`d${i}`, at(i), { status, model: i % 2 ? 'a' : 'b' }));
      }
      await store.putEvents(halves);
      const count = (fromS: number, toS: number, pred: (i: number) => boolean = () => true): number =>
        ids.filter((i) => at(i) >= fromS && at(i) < toS && pred(i)).length;
      const check = async (
        fromS: number,
        toS: number,
        filter: object,
        pred?: (i: number) => boolean,
      ): Promise<void> => {
        const w = { sinceMs: T0 + fromS * 1000, untilMs: T0 + toS * 1000 };
        expect(shapeStats(await store.stats(w, filter), w).total.count).toBe(count(fromS, toS, pred));
      };
      const day = 86_400;
      // T0 is 10:00 UTC: this window has a whole day, whole hours on both sides and partial hours.
      await check(1234, 2 * day + 20_000, {});
      await check(
        1234,
        2 * day + 20_000,
        { status: { kind: 'class', hundreds: 4 } },
        (i) => i % 7 === 0 && i % 5 !== 0,
      );
      await check(
        0,
        4 * day,
        { model: 'a', status: { kind: 'exact', code: 200 } },
        (i) => i % 2 === 1 && i % 7 !== 0 && i % 5 !== 0,
      );
      await check(0, 4 * day, { status: { kind: 'incomplete' } }, (i) => i % 5 === 0);
      await store.deleteOlderThan(T0 + (day + 5000) * 1000);
      await check(0, 4 * day, {}, (i) => at(i) >= day + 5000);
      await check(
        day + 3600,
        3 * day,
        { status: { kind: 'incomplete' } },
        (i) => i % 5 === 0 && at(i) >= day + 5000,
      );
    });

    it('deletes exchanges older than a time, with their bodies', async () => {
      const store = await fresh();
      await store.putEvents([...testPair('old', 0), ...testPair('new', 100)]);
      expect(await store.deleteOlderThan(T0 + 50_000)).toBe(1);
      expect(await store.getExchange('old')).toBeUndefined();
      expect(await listAll(store)).toEqual(['new']);
      expect(await store.deleteOlderThan(T0 + 50_000)).toBe(0);
      // A late duplicate of a deleted exchange starts over: retention is by time, not a tombstone.
      await store.putEvents(testPair('old', 0));
      expect((await store.getExchange('old'))?.row.complete).toBe(true);
    });

    it('confines every read to an allow-list of namespaces and models, in SQL (pages, counts, stats, detail)', async () => {
      const store = await fresh();
      const batch = [];
      for (let i = 0; i < 6; i++)
        batch.push(...testPair(`a${i}`, i, { namespace: 'team-a', model: 'fraud' }));
      for (let i = 0; i < 9; i++)
        batch.push(...testPair(`b${i}`, 10 + i, { namespace: 'team-b', model: 'secret-model', status: 500 }));
      // The same event id in both namespaces; team-b's copy is the newer one.
      batch.push(...testPair('shared', 30, { namespace: 'team-a', model: 'fraud', body: 'a-body' }));
      batch.push(...testPair('shared', 40, { namespace: 'team-b', model: 'secret-model', body: 'b-body' }));
      batch.push(...testPair('other-model', 50, { namespace: 'team-a', model: 'churn' }));
      await store.putEvents(batch);
      const teamA = { allow: { namespaces: ['team-a'] } };
      // Small pages: every page is full of allowed rows and the cursor walks only them.
      expect(await listAll(store, teamA, 2)).toEqual([
        'other-model',
        'shared',
        'a5',
        'a4',
        'a3',
        'a2',
        'a1',
        'a0',
      ]);
      expect(await listAll(store, { allow: { namespaces: ['team-a'], models: ['fraud'] } }, 3)).toHaveLength(
        7,
      );
      expect(await listAll(store, { allow: { namespaces: [] } })).toEqual([]);
      // A filter naming the other namespace finds nothing, not an error that would confirm it.
      expect(await listAll(store, { ...teamA, namespace: 'team-b' })).toEqual([]);

      const window = { sinceMs: T0 - 3_600_000, untilMs: T0 + 3 * 3_600_000 };
      const stats = shapeStats(await store.stats(window, teamA), window);
      expect(stats.total.count).toBe(8);
      expect(stats.byModel.map((m) => m.model).sort()).toEqual(['churn', 'fraud']);
      expect(stats.byStatus.map((s) => s.status)).toEqual(['200']);
      const series = shapeTimeSeries(await store.timeSeries(window, teamA, 60_000 * 60), window, 60_000 * 60);
      expect(series.buckets.reduce((n, b) => n + b.count, 0)).toBe(8);
      const fine = { sinceMs: T0, untilMs: T0 + 60_000 };
      const seconds = shapeTimeSeries(await store.timeSeries(fine, teamA, 1000), fine, 1000);
      expect(seconds.buckets.reduce((n, b) => n + b.count, 0)).toBe(8);

      const b0 = await store.getExchange('b0');
      expect(b0).toBeDefined();
      expect(await store.getExchange('b0', teamA.allow)).toBeUndefined();
      expect(await store.getExchange(b0!.row.key, teamA.allow)).toBeUndefined();
      const shared = await store.getExchange('shared', teamA.allow);
      expect(new TextDecoder().decode(shared!.requestBody!)).toBe('a-body');
      expect(
        await store.getExchange('other-model', { namespaces: ['team-a'], models: ['fraud'] }),
      ).toBeUndefined();

      // A follow listing starts after the reader's own newest row: the store's sequence would
      // tell team-a how much team-b wrote.
      const start = await store.listExchanges(teamA, { limit: 10, order: 'follow' });
      await store.putEvents(testPair('b-late', 60, { namespace: 'team-b', model: 'secret-model' }));
      const after = await store.listExchanges(teamA, { limit: 10, order: 'follow', after: start.next! });
      expect(after).toEqual({ items: [], next: start.next });
      const everyone = await store.listExchanges({}, { limit: 10, order: 'follow' });
      expect(everyone.next).not.toEqual(start.next);
    });

    it('filters by a request header, name in any case', async () => {
      const store = await fresh();
      await store.putEvents([
        ...testPair('h1', 1, { metadata: { 'X-Request-Id': ['req-1'] } }),
        ...testPair('h2', 2, { metadata: { 'x-request-id': ['req-2'], Other: ['req-1'] } }),
        ...testPair('h3', 3, { metadata: { 'X-Request-Id': ['say "hi" \\ there'] } }),
        ...testPair('h4', 4),
      ]);
      // Values JSON stores escaped are found too.
      expect(await listAll(store, { header: { name: 'x-request-id', value: 'say "hi" \\ there' } })).toEqual([
        'h3',
      ]);
      expect(await listAll(store, { header: { name: 'x-request-id', value: 'req-1' } })).toEqual(['h1']);
      expect(await listAll(store, { header: { name: 'X-REQUEST-ID', value: 'req-2' } })).toEqual(['h2']);
      expect(await listAll(store, { header: { name: 'X-Request-Id', value: 'req' } })).toEqual([]);
    });

    it('erases by id and by filter: rows, bodies and their rollup counts, within the allow-list', async () => {
      const store = await fresh();
      await store.putEvents([
        ...testPair('e1', 1, { namespace: 'team-a', metadata: { 'X-Request-Id': ['user-42'] } }),
        ...testPair('e2', 2, { namespace: 'team-a' }),
        ...testPair('e3', 3, {
          namespace: 'team-b',
          model: 'only-erased',
          metadata: { 'X-Request-Id': ['user-42'] },
        }),
        ...testPair('e4', 4, { namespace: 'team-b' }),
        ...testPair('dup', 5, { namespace: 'team-a' }),
        ...testPair('dup', 6, { namespace: 'team-b' }),
      ]);
      const window = { sinceMs: T0 - 86_400_000, untilMs: T0 + 86_400_000 };
      // A restricted eraser erases only what it may see.
      expect(await store.erase({ exchangeId: 'dup', allow: { namespaces: ['team-a'] } })).toBe(1);
      expect((await store.getExchange('dup'))?.row.namespace).toBe('team-b');
      expect(await store.erase({ exchangeId: 'dup' })).toBe(1);
      expect(await store.getExchange('dup')).toBeUndefined();
      expect(await store.erase({ header: { name: 'X-Request-Id', value: 'user-42' } })).toBe(2);
      expect(await store.getExchange('e1')).toBeUndefined();
      expect(await store.getExchange('e3')).toBeUndefined();
      expect(await listAll(store)).toEqual(['e4', 'e2']);
      // Rollups agree with the rows, over whole days (rollups) and seconds (rows), and no row
      // names the model only erased exchanges had.
      for (const w of [window, { sinceMs: T0, untilMs: T0 + 10_000 }]) {
        const stats = shapeStats(await store.stats(w, {}), w);
        expect(stats.total.count).toBe(2);
        expect(stats.byModel.map((m) => `${m.namespace}/${m.model}`).sort()).toEqual([
          'team-a/iris',
          'team-b/iris',
        ]);
      }
      const series = shapeTimeSeries(await store.timeSeries(window, {}, 86_400_000), window, 86_400_000);
      expect(series.buckets.reduce((n, b) => n + b.count, 0)).toBe(2);
      expect(await store.erase({ exchangeId: 'nothing-here' })).toBe(0);
      // Instance rows (inputs and predictions) go with their exchange.
      await store.putEvents(
        [
          testHalf({ id: 'inst', kind: 'request', at: 7, body: '{"instances":[[1,2],[3,4]]}' }),
          testHalf({ id: 'inst', kind: 'response', at: 7.01, body: '{"predictions":[0,1]}' }),
        ].map((h) => ({ ...h, instances: true })),
      );
      const instKey = (await store.getExchange('inst'))!.row.key;
      expect(await store.getInstances(instKey)).toHaveLength(2);
      expect(await store.erase({ exchangeId: 'inst' })).toBe(1);
      expect(await store.getInstances(instKey)).toEqual([]);
      expect((await store.listInstances({}, { limit: 10 })).items).toEqual([]);
      // A retry of an erased half starts a new exchange (erasure is not a tombstone).
      await store.putEvents(testPair('e2', 2, { namespace: 'team-a' }));
      expect(await listAll(store)).toEqual(['e4', 'e2']);
    });

    it('stores one row per instance, in the transaction that completes an exchange that asks for them', async () => {
      const store = await fresh();
      const asks = (halves: ExchangeHalf[]): ExchangeHalf[] => halves.map((h) => ({ ...h, instances: true }));
      const iris = (id: string, at: number): ExchangeHalf[] => [
        testHalf({ id, kind: 'request', at, body: '{"instances":[[6.8,2.8,4.8,1.4],[5.1,3.5,1.4,0.2]]}' }),
        testHalf({ id, kind: 'response', at: at + 0.01, body: '{"predictions":[1,0]}' }),
      ];
      // The request alone makes no rows yet; its response (in a later call) completes it.
      const [req, res] = asks(iris('i1', 0));
      const first = await store.putEvents([req!]);
      expect(first.instances).toEqual({ rows: 0, skipped: {} });
      expect(await store.putEvents([res!])).toMatchObject({ instances: { rows: 2, skipped: {} } });
      // A retried half adds nothing; an exchange that did not ask has no rows.
      expect((await store.putEvents([res!])).instances).toEqual({ rows: 0, skipped: {} });
      await store.putEvents(iris('plain', 1));
      // One that cannot be split is counted with its reason.
      const mismatch = asks([
        testHalf({ id: 'bad', kind: 'request', at: 2, body: '{"instances":[1,2]}' }),
        testHalf({ id: 'bad', kind: 'response', at: 2.01, body: '{"predictions":[1]}' }),
      ]);
      expect((await store.putEvents(mismatch)).instances).toEqual({
        rows: 0,
        skipped: { count_mismatch: 1 },
      });
      await store.putEvents(asks(iris('i2', 3)));

      const ex = await store.getExchange('i1');
      const rows = await store.getInstances(ex!.row.key);
      expect(rows).toEqual([
        expect.objectContaining({
          exchangeId: 'i1',
          key: ex!.row.key,
          model: 'iris',
          namespace: 'default',
          index: 0,
          input: [6.8, 2.8, 4.8, 1.4],
          prediction: 1,
          timeMs: T0,
          sampleWeight: 1,
        }),
        expect.objectContaining({ index: 1, input: [5.1, 3.5, 1.4, 0.2], prediction: 0 }),
      ]);
      expect(await store.getInstances((await store.getExchange('plain'))!.row.key)).toEqual([]);

      // Listing: newest exchange first, instances in index order, paged without repeats.
      const seen: string[] = [];
      let after: InstancePosition | undefined;
      for (;;) {
        const page = await store.listInstances({ model: 'iris' }, { limit: 3, ...(after ? { after } : {}) });
        seen.push(...page.items.map((i) => `${i.exchangeId}/${i.index}`));
        if (!page.next) break;
        after = page.next;
      }
      expect(seen).toEqual(['i2/0', 'i2/1', 'i1/0', 'i1/1']);
      expect(
        (await store.listInstances({ sinceMs: T0 + 2000 }, { limit: 10 })).items.map((i) => i.exchangeId),
      ).toEqual(['i2', 'i2']);
      expect((await store.listInstances({ model: 'other' }, { limit: 10 })).items).toEqual([]);
      // A restricted reader's bounds (auth/principal.ts): only those namespaces and models; none = nothing.
      expect(
        (await store.listInstances({ allow: { models: ['iris'], namespaces: ['default'] } }, { limit: 10 }))
          .items,
      ).toHaveLength(4);
      expect((await store.listInstances({ allow: { models: ['other'] } }, { limit: 10 })).items).toEqual([]);
      expect((await store.listInstances({ allow: { namespaces: [] } }, { limit: 10 })).items).toEqual([]);

      // Retention takes an exchange's instance rows with it.
      await store.deleteOlderThan(T0 + 2000);
      expect((await store.listInstances({}, { limit: 10 })).items.map((i) => i.exchangeId)).toEqual([
        'i2',
        'i2',
      ]);
    });

    it('stores an exchange whose status code is no HTTP status as if it sent none, and the rest of its batch', async () => {
      const store = await fresh();
      // A client's number: beyond a 32-bit column it failed the whole PostgreSQL transaction,
      // and with it every other client's halves committed in the same group.
      const halves = [
        ...testPair('huge', 0, { status: 1e12 }),
        ...testPair('negative', 1, { status: -5 }),
        ...testPair('fine', 2, { status: 503 }),
      ];
      const r = await store.putEvents(halves);
      expect(r.stored).toBe(6);
      // No status with a response is KServe's 200.
      expect((await store.getExchange('huge'))?.row).toMatchObject({ status: 200, complete: true });
      expect((await store.getExchange('negative'))?.row).toMatchObject({ status: 200, complete: true });
      expect((await store.getExchange('fine'))?.row.status).toBe(503);
    });

    it('stores the rest of a batch when one exchange cannot be written as rows (nested too deep)', async () => {
      const store = await fresh();
      const deep = '['.repeat(100_000) + ']'.repeat(100_000);
      const halves = [
        testHalf({ id: 'deep', kind: 'request', at: 0, body: `{"instances":[${deep}]}` }),
        testHalf({ id: 'deep', kind: 'response', at: 0.01, body: '{"predictions":[1]}' }),
        ...testPair('fine', 1),
      ].map((h) => ({ ...h, instances: true }));
      const r = await store.putEvents(halves);
      expect(r).toMatchObject({ stored: 4, instances: { rows: 1, skipped: { too_deep: 1 } } });
      expect((await store.getExchange('deep'))?.row.complete).toBe(true);
    });

    it('shuts down idempotently', async () => {
      const store = await makeStore();
      await store.start();
      await store.shutdown();
      await store.shutdown();
    });
  });
}
