/**
 * Web UI benchmark (not a test): how long an engineer waits in real Chromium over a big store.
 *
 *   npx tsx test/ui/ui-bench.ts [exchanges=1000000] [db=/tmp/inferlog-ui-bench.db]
 *
 *   fill SQLite (store.putEvents, once; reused when the file exists) ──▶ collector (in process)
 *     ──▶ Chromium: time from navigation/click until the rows (or the detail) are on screen
 *
 * Needs /usr/bin/chromium. The collector runs in this process, from src/.
 */
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { halfFromEvent, type ExchangeHalf } from '../../src/store/exchange-record.js';
import { openStore } from '../../src/store/open-store.js';
import { CE_TYPE_REQUEST, CE_TYPE_RESPONSE } from '../../src/formats/cloudevents-attributes.js';
import type { DecodedEvent } from '../../src/formats/cloudevents-decode.js';
import { startCollector } from '../../src/collector/server.js';

const N = Number(process.argv[2] ?? 1_000_000);
const DB = process.argv[3] ?? '/tmp/inferlog-ui-bench.db';
const RUNS = 7;
const enc = new TextEncoder();
const WEEK = 7 * 86_400_000;

async function fill(): Promise<void> {
  const now = Date.now();
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const store = openStore(`sqlite:${DB}?sync=normal`);
  await store.start();
  const t0 = performance.now();
  for (let i = 0; i < N; i += 500) {
    const halves: ExchangeHalf[] = [];
    for (let j = i; j < Math.min(N, i + 500); j++) {
      const t = now - WEEK + (j / N) * WEEK;
      const r = rnd();
      const status = r < 0.95 ? 200 : r < 0.98 ? 500 : 404;
      const ext = {
        inferenceservicename: `model-${j % 20}`,
        namespace: `ns-${j % 3}`,
        component: 'predictor',
        endpoint: '',
        statuscode: String(status),
        ...(j % 10 === 0 ? { sampleweight: '10' } : {}),
      };
      const base = {
        specversion: '1.0',
        id: `ui-${j}`,
        source: 'http://localhost:9081/',
        metadata: {},
        annotations: {},
      };
      const req: DecodedEvent = {
        ...base,
        type: CE_TYPE_REQUEST,
        datacontenttype: 'application/json',
        time: new Date(t).toISOString(),
        extensions: ext,
        data: enc.encode(`{"instances":[[${j % 97}, 2.5, 3.5, 1.0]],"user":"u${j % 1000}"}`),
      };
      const res: DecodedEvent = {
        ...base,
        type: CE_TYPE_RESPONSE,
        datacontenttype: 'application/json',
        time: new Date(t + Math.exp(2 + rnd() * 2.5)).toISOString(),
        extensions: ext,
        data: enc.encode(`{"predictions":[${j % 3}]}`),
      };
      halves.push(halfFromEvent(req, now), halfFromEvent(res, now));
    }
    await store.putEvents(halves);
  }
  await store.shutdown();
  console.log(`filled ${N} exchanges in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)] ?? NaN);
}

async function timed(label: string, run: (page: Page) => Promise<void>, page: Page): Promise<void> {
  const times: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    const t0 = performance.now();
    await run(page);
    times.push(performance.now() - t0);
  }
  console.log(`${label.padEnd(44)} median ${median(times)} ms  max ${Math.round(Math.max(...times))} ms`);
}

if (!existsSync(DB)) await fill();
else console.log(`reusing ${DB} (delete it to refill)`);

// In-process from src/ (the same code that filled the store, whatever state dist/ is in).
const collector = await startCollector({
  store: openStore(`sqlite:${DB}`),
  port: 0,
  log: { debug() {}, info() {}, warn() {}, error() {} },
});
const base = collector.url;
const profile = mkdtempSync(join(tmpdir(), 'inferlog-ui-bench-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 1400, height: 900 },
});
const page = context.pages()[0] ?? (await context.newPage());
const rowsReady = async (p: Page, n: number): Promise<void> => {
  // A function, not a string: the page's CSP forbids eval, which string predicates need.
  await p.waitForFunction((min) => {
    const doc = (
      globalThis as unknown as {
        document: {
          querySelectorAll(s: string): { length: number };
          querySelector(s: string): { getAttribute(a: string): string | null } | null;
        };
      }
    ).document;
    return (
      doc.querySelectorAll('#rows tr').length >= min &&
      doc.querySelector('#results')?.getAttribute('aria-busy') === 'false'
    );
  }, n);
};
const statsReady = (p: Page): Promise<unknown> => p.waitForSelector('#stats[aria-busy="false"] .tile');

console.log(`-- ${N} exchanges over 7 days, Chromium, ${RUNS} runs each`);
const load = (hash: string) => async (p: Page) => {
  await p.goto('about:blank');
  await p.goto(`${base}/${hash}`);
  await rowsReady(p, 50);
};
await timed('page load, last hour: 50 rows', load('#/'), page);
await timed('page load, all time: 50 rows', load('#/?range=all'), page);
await timed('page load, all time, status 5xx', load('#/?range=all&status=5xx'), page);
await timed('page load, 7d, model-3 + ns-0', load('#/?range=7d&model=model-3&namespace=ns-0'), page);
await timed('page load, 24h, q=u42"', load('#/?range=24h&q=u42%22'), page);
await timed(
  'stats strip, 1h',
  async (p) => {
    await p.goto('about:blank');
    await p.goto(`${base}/#/`);
    await statsReady(p);
  },
  page,
);
await timed(
  'stats strip, 7d',
  async (p) => {
    await p.goto('about:blank');
    await p.goto(`${base}/#/?range=7d`);
    await statsReady(p);
  },
  page,
);
await timed(
  'stats strip, all time',
  async (p) => {
    await p.goto('about:blank');
    await p.goto(`${base}/#/?range=all`);
    await statsReady(p);
  },
  page,
);
await load('#/?range=all')(page);
await timed(
  'load more (+50 rows)',
  async (p) => {
    const n = await p.locator('#rows tr').count();
    await p.locator('#load-more').click();
    await rowsReady(p, n + 50);
  },
  page,
);
await timed(
  'page load + click a row until its body shows',
  async (p) => {
    await p.goto('about:blank');
    await p.goto(`${base}/#/`);
    await rowsReady(p, 50);
    await p.locator('#rows tr').nth(3).locator('.c-model').click();
    await p.waitForSelector('section.half pre.body');
  },
  page,
);

await context.close();
await collector.close();
rmSync(profile, { recursive: true, force: true });
