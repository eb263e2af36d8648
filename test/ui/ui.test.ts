/**
 * The web UI in real Chromium against a real collector (the compiled CLI, a SQLite file).
 *
 *   test ──POST CloudEvents (binary mode, KServe headers)──▶ inferlog collect ◀──GET / + /api/v1/…── Chromium
 *
 * Set INFERLOG_UI_SCREENSHOTS=<dir> to keep screenshots of the list and the detail view, and
 * INFERLOG_UPDATE_SCREENSHOTS=1 to rewrite the ones docs/ui.md shows (docs/img/ui-*.png).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/peers.js';

const CHROMIUM = process.env.INFERLOG_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.INFERLOG_UI_SCREENSHOTS;
/** docs/ui.md's screenshots are rewritten only on request, so a normal run leaves the tree clean. */
const DOC_SHOTS = process.env.INFERLOG_UPDATE_SCREENSHOTS === '1' ? join(process.cwd(), 'docs/img') : '';
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const run = promisify(execFile);

const dir = mkdtempSync(join(tmpdir(), 'inferlog-ui-'));
let collector: CliProcess;
let base: string;
let context: BrowserContext;
let page: Page;
/** A real model-like server for copy-as-curl: it answers with what it received. */
let echo: Server;
let echoUrl: string;
/** Every URL the page requested during the suite. */
const requested: string[] = [];

interface Half {
  id: string;
  kind: 'request' | 'response';
  model: string;
  body: string | Uint8Array;
  contentType?: string;
  status?: number;
  weight?: number;
  namespace?: string;
  time?: Date;
  /** More CloudEvents extension headers (inferlog's: Ce-Errorcode, Ce-Truncated, …). */
  headers?: Record<string, string>;
}

/** One binary-mode CloudEvent, with the headers KServe's agent writes (wire-examples.txt). */
async function post(h: Half): Promise<void> {
  const time = (h.time ?? new Date()).toISOString();
  const headers: Record<string, string> = {
    'Ce-Id': h.id,
    'Ce-Type': `org.kubeflow.serving.inference.${h.kind}`,
    'Ce-Source': 'http://localhost:9081/',
    'Ce-Specversion': '1.0',
    'Ce-Time': time,
    'Ce-Recordedtime': time,
    'Ce-Inferenceservicename': h.model,
    'Ce-Namespace': h.namespace ?? 'default',
    'Ce-Component': 'predictor',
    'Ce-Endpoint': '',
    'Ce-Metadata': '{"X-Request-Id":["7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40"]}',
    'Content-Type': h.contentType ?? 'application/json',
  };
  if (h.status !== undefined) headers['Ce-Statuscode'] = String(h.status);
  if (h.weight !== undefined) headers['Ce-Sampleweight'] = String(h.weight);
  Object.assign(headers, h.headers);
  const res = await fetch(`${base}/`, { method: 'POST', headers, body: h.body });
  expect(res.status, await res.text()).toBe(200);
}

async function exchange(
  id: string,
  model: string,
  request: string,
  response: string | null,
  extra: Partial<Half> = {},
): Promise<void> {
  await post({ id, kind: 'request', model, body: request, ...extra });
  if (response !== null) await post({ id, kind: 'response', model, body: response, ...extra });
}

const XSS_BODY = '{"text":"<script>window.__pwned=1<\\/script><img src=x onerror=\\"window.__pwned=2\\">"}';

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} not found: install Debian's Chromium (\`apt-get install -y chromium\`, or \`bash scripts/peers/apt.sh install\`) or set INFERLOG_CHROMIUM`,
    );
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  collector = await startCli([
    'collect',
    '--port',
    String(port),
    '--store',
    `sqlite:${join(dir, 'ui.db')}`,
    '--trace-url',
    'https://grafana.example/explore?trace={traceId}',
    '--log-instances',
  ]);

  await exchange(
    'ok-1',
    'sklearn-iris',
    '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}',
    '{"predictions":[1,1]}',
  );
  await exchange('err-1', 'flaky-model', '{"instances": [[1, 2]]}', '{"error":"model crashed"}', {
    status: 503,
  });
  await exchange('xss-1', 'xss-model', XSS_BODY, '{"ok":true}');
  await exchange('pending-1', 'slow-model', '{"instances": [[3]]}', null);
  await exchange('sampled-1', 'sampled-model', '{"instances": [[4]]}', '{"predictions":[0]}', {
    weight: 10,
    headers: { 'Ce-Traceparent': '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  });
  await post({ id: 'bin-1', kind: 'request', model: 'image-model', body: '{"image":"cat.png"}' });
  await post({
    id: 'bin-1',
    kind: 'response',
    model: 'image-model',
    body: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00]),
    contentType: 'application/octet-stream',
  });
  // inferlog's agent: the upstream timed out, the client got no response.
  await exchange('timeout-1', 'timeout-model', '{"instances": [[5]]}', '', {
    status: 0,
    headers: { 'Ce-Errorcode': 'UPSTREAM_TIMEOUT' },
  });
  await post({
    id: 'trunc-1',
    kind: 'request',
    model: 'big-model',
    body: '{"instances": [[' + '1, '.repeat(40),
    headers: { 'Ce-Truncated': 'true', 'Ce-Originalsize': '1048576', 'Ce-Sha256': 'ab'.repeat(32) },
  });
  // A stored body whose (attacker-set) content type is HTML: the download must not render it.
  await exchange(
    'html-1',
    'html-model',
    '{"instances": [[7]]}',
    '<script>fetch("/api/v1/exchanges")</script>',
    {
      contentType: 'text/html',
    },
  );
  // A streamed chat answer (OpenAI SSE), with the route it was sent to.
  const route = { 'Ce-Method': 'POST', 'Ce-Url': 'http://127.0.0.1:8080/openai/v1/chat/completions' };
  const chunk = (c: string) => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(c)}}}]}\n\n`;
  await post({
    id: 'sse-1',
    kind: 'request',
    model: 'echo-llm',
    body: '{"model":"echo-llm","stream":true,"messages":[{"role":"user","content":"Say hello"}]}',
    headers: route,
  });
  await post({
    id: 'sse-1',
    kind: 'response',
    model: 'echo-llm',
    contentType: 'text/event-stream',
    body:
      chunk('Hello') +
      chunk(', world') +
      chunk('!') +
      'data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}\n\n' +
      'data: [DONE]\n\n',
    headers: route,
  });
  // Nested JSON, for folding: only the branch holding the search is opened.
  await exchange(
    'nested-1',
    'nested-model',
    '{"inputs":{"left":{"deep":{"word":"needle-xyz"}},"right":{"other":{"n":1}}}}',
    '{"outputs":[1]}',
  );
  // A gateway error, in the last minutes: the chart's red bars and the list's error columns.
  await exchange('gw-1', 'fraud-detector', '{"instances": [[1]]}', '{"error":"upstream connect error"}', {
    status: 502,
    headers: {
      'Ce-Errorcode': 'UPSTREAM_UNREACHABLE',
      'Ce-Method': 'POST',
      'Ce-Url': 'http://127.0.0.1:8080/v1/models/fraud-detector:predict',
    },
  });
  // More than one page of one model, for "load more".
  for (let i = 0; i < 55; i++)
    await post({
      id: `bulk-${i}`,
      kind: 'request',
      model: 'bulk-model',
      body: `{"i":${i}}`,
      time: new Date(Date.now() - 60_000 + i),
    });

  echo = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          method: req.method,
          path: req.url,
          contentType: req.headers['content-type'] ?? null,
          requestId: req.headers['x-request-id'] ?? null,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const addr = echo.address();
  echoUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/v1/models/echo:predict`;
  {
    // The exchange as the echo server really answered it.
    const body = '{"instances": [["it\'s", "a $HOME `test`"]]}';
    const answer = await fetch(echoUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': '7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40' },
      body,
    }).then((r) => r.text());
    await exchange('curl-1', 'echo', body, answer, { headers: { 'Ce-Method': 'POST', 'Ce-Url': echoUrl } });
  }

  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
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
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (req) => void requested.push(req.url()));
  page.on('pageerror', (err) => {
    throw err;
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  if (DOC_SHOTS) mkdirSync(DOC_SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await collector?.stop();
  echo?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = () => page.locator('#rows tr');
const rowOf = (model: string) =>
  page.locator('#rows tr', { has: page.locator('.model', { hasText: model }) });

/** The URL's hash. (Browser code in this file is given as strings or locators: tsc runs without the DOM lib.) */
const hashOf = (): string => new URL(page.url()).hash;

/** A fresh page load (going to the same URL with another hash would not reload). */
async function open(hash = '#/'): Promise<void> {
  await page.goto('about:blank');
  await page.goto(`${base}/${hash}`);
  if (hash.startsWith('#/exchange/')) await page.locator('#detail-view').waitFor();
  else await page.locator('#results[aria-busy="false"]').waitFor();
}

describe('web UI in Chromium', () => {
  it('lists stored exchanges newest first with status, latency, weight and incomplete markers', async () => {
    await open();
    await expect.poll(() => rows().count()).toBe(50); // first page of 60 exchanges
    await expect(page.locator('#load-more').isVisible()).resolves.toBe(true);

    const ok = rowOf('sklearn-iris');
    await expect(ok.locator('.badge').first().textContent()).resolves.toBe('200');
    await expect(ok.locator('.c-preview .preview').textContent()).resolves.toContain('"instances"');
    await expect(rowOf('flaky-model').locator('.badge').first().textContent()).resolves.toBe('503');
    await expect(rowOf('sampled-model').locator('.c-weight').textContent()).resolves.toBe('×10');
    await expect(rowOf('sklearn-iris').locator('.c-weight').textContent()).resolves.toBe('');
    await expect(rowOf('slow-model').locator('.c-status').textContent()).resolves.toContain('incomplete');

    // Newest first: the bulk exchanges are a minute old, the others were posted before them but with "now".
    const firstModel = await rows().first().locator('.model').textContent();
    expect(firstModel).not.toBe('bulk-model');

    // Stats strip: totals and per-model counts over the window.
    await expect.poll(() => page.locator('#stats .tile').first().textContent()).toContain('68');
    await expect(page.locator('#stats .models-table').textContent()).resolves.toContain('bulk-model');
    // The by-model table starts folded, so the rows are on the first screen.
    await expect(page.locator('#stats details.models').getAttribute('open')).resolves.toBeNull();
    await expect(page.locator('#stats').textContent()).resolves.toContain('≈77'); // 68 stored, one stands for 10

    if (SHOTS) {
      await page.screenshot({ path: join(SHOTS, 'list.png'), fullPage: true });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: join(SHOTS, 'list-dark.png') });
      await page.emulateMedia({ colorScheme: 'light' });
    }
  });

  it('pages with the cursor: load more shows the rest, without repeats', async () => {
    await open('#/?model=bulk-model');
    await expect.poll(() => rows().count()).toBe(50);
    await page.locator('#load-more').click();
    await expect.poll(() => rows().count()).toBe(55);
    await expect(page.locator('#load-more').isHidden()).resolves.toBe(true);
    const ids = await page
      .locator('#rows tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    expect(new Set(ids).size).toBe(55);
  });

  it('filtering by status shows only the errors, and the filter is in the URL', async () => {
    await open();
    await page.locator('#f-status').selectOption('5xx');
    await expect.poll(() => hashOf()).toContain('status=5xx');
    await expect
      .poll(() => rows().locator('.model').allTextContents())
      .toEqual(['fraud-detector', 'flaky-model']);

    await page.locator('#f-status').selectOption('incomplete');
    await expect
      .poll(() => rows().locator('.model').allTextContents())
      .toEqual(expect.arrayContaining(['slow-model', 'bulk-model']));
    await expect(rows().first().locator('.c-status').textContent()).resolves.toBe('incomplete');
  });

  it('filtering by "error" shows exchanges that got no response, with their error code', async () => {
    await open('#/?status=error');
    await expect
      .poll(() => rows().locator('.model').allTextContents())
      .toEqual(['fraud-detector', 'timeout-model']);
    const timeout = rowOf('timeout-model');
    await expect(timeout.locator('.badge').first().textContent()).resolves.toBe('error');
    await expect(timeout.locator('.c-response').textContent()).resolves.toBe('UPSTREAM_TIMEOUT');
    await timeout.locator('a.row-link').click();
    await expect.poll(() => page.locator('#detail-body').textContent()).toContain('Error code');
    await expect(page.locator('#detail-body').textContent()).resolves.toContain('(empty body)');
  });

  it('shows truncation: stored size, original size and the sha256 of the whole body', async () => {
    await open('#/exchange/trunc-1');
    const req = page.locator('section.half', { has: page.locator('h3', { hasText: 'Request' }) });
    await expect.poll(() => req.locator('.notice').textContent()).toContain('of 1.0 MiB (1048576 bytes)');
    await expect(req.locator('.notice').textContent()).resolves.toContain('ab'.repeat(32));
    // Not valid JSON (cut off): shown as text, no pretty/raw toggle.
    await expect(req.locator('.body').textContent()).resolves.toBe('{"instances": [[' + '1, '.repeat(40));
    expect(await req.getByRole('button', { name: 'Raw', exact: true }).count()).toBe(0);
    await expect(page.locator('#detail-body').textContent()).resolves.toContain('No response half');
  });

  it('shows one row per prediction in the detail when the collector stores them (--log-instances)', async () => {
    await page.goto(`${base}/#/exchange/ok-1`);
    const table = page.locator('#instances table');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
    await expect(table.locator('tbody tr').first().locator('td').allTextContents()).resolves.toEqual([
      '0',
      '[6.8,2.8,4.8,1.4]',
      '1',
    ]);
    // An exchange without rows shows no section.
    await page.goto(`${base}/#/exchange/err-1`);
    await expect.poll(() => page.locator('#detail-title').textContent()).toContain('flaky-model');
    await expect(page.locator('#instances').count()).resolves.toBe(0);
  });

  it('searches bodies with q', async () => {
    await open();
    await page.locator('#f-q').fill('model crashed');
    await page.locator('#f-q').press('Enter');
    await expect.poll(() => rows().locator('.model').allTextContents()).toEqual(['flaky-model']);
  });

  it('clicking a row opens the detail with the pretty-printed request body, deep-linkable', async () => {
    await open();
    await rowOf('sklearn-iris').locator('.c-model').click();
    await expect.poll(() => hashOf()).toBe('#/exchange/ok-1');
    const req = page.locator('section.half', { has: page.locator('h3', { hasText: 'Request' }) });
    await expect
      .poll(() => req.locator('.body').textContent())
      .toBe('{\n  "instances": [\n    [6.8, 2.8, 4.8, 1.4],\n    [6.0, 3.4, 4.5, 1.6]\n  ]\n}');
    const res = page.locator('section.half', { has: page.locator('h3', { hasText: 'Response' }) });
    await expect(res.locator('.body').textContent()).resolves.toContain('"predictions": [1, 1]');
    await expect(page.locator('.more-facts .facts').textContent()).resolves.toContain('ok-1');
    await expect(page.locator('#detail-body').textContent()).resolves.toContain(
      '7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40',
    );

    // Raw toggle shows the body exactly as stored.
    await req.getByRole('button', { name: 'Raw', exact: true }).click();
    await expect(req.locator('.body').textContent()).resolves.toBe(
      '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}',
    );
    if (SHOTS) {
      await page.screenshot({ path: join(SHOTS, 'detail.png'), fullPage: true });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: join(SHOTS, 'detail-dark.png'), fullPage: true });
      await page.emulateMedia({ colorScheme: 'light' });
    }

    // Escape goes back to the list, which is still there.
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('#list-view').isVisible()).toBe(true);
    await expect.poll(() => rows().count()).toBe(50);

    // A deep link opens the detail directly.
    await open('#/exchange/err-1');
    await expect.poll(() => page.locator('#detail-title').textContent()).toContain('flaky-model');
    await expect(page.locator('#detail-title .badge').textContent()).resolves.toBe('503');
  });

  it('shows a binary body as a hex dump with its size', async () => {
    await open('#/exchange/bin-1');
    const res = page.locator('section.half', { has: page.locator('h3', { hasText: 'Response' }) });
    await expect.poll(() => res.locator('.body').textContent()).toContain('89 50 4e 47 0d 0a 1a 0a  ff 00');
    await expect(res.locator('.body').textContent()).resolves.toContain('|.PNG......|');
    await expect(res.textContent()).resolves.toContain('10 B');
    await res.getByRole('button', { name: 'Base64', exact: true }).click();
    await expect(res.locator('.body').textContent()).resolves.toBe('iVBORw0KGgr/AA==');
  });

  it('renders HTML in bodies as text: no script runs, no element is created', async () => {
    await open();
    await expect(rowOf('xss-model').locator('.c-preview .preview').textContent()).resolves.toContain(
      '<script>',
    );
    await rowOf('xss-model').locator('a.row-link').click();
    const req = page.locator('section.half', { has: page.locator('h3', { hasText: 'Request' }) });
    await expect.poll(() => req.locator('.body').textContent()).toContain('<img src=x onerror=');
    await expect(req.locator('.body').textContent()).resolves.toContain('<script>window.__pwned=1');
    await req.getByRole('button', { name: 'Raw', exact: true }).click();
    await expect(req.locator('.body').textContent()).resolves.toBe(XSS_BODY);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
  });

  it('shows API errors inline, naming the parameter', async () => {
    await open('#/?range=custom&from=yesterday');
    await expect
      .poll(() => page.locator('#list-error').textContent())
      .toContain('since: invalid time "yesterday"');
    await expect(page.locator('#list-error').textContent()).resolves.toContain('QUERY_INVALID');
    await expect(page.locator('#f-from').getAttribute('aria-invalid')).resolves.toBe('true');

    await open('#/exchange/no-such-id');
    await expect
      .poll(() => page.locator('#detail-error').textContent())
      .toContain('no exchange with id "no-such-id"');
  });

  it('live mode shows an exchange posted after the page loaded, and its response when it arrives', async () => {
    await open();
    await page.locator('#live').check();
    await expect
      .poll(() => page.locator('#live-status').textContent(), { timeout: 10_000 })
      .toContain('Live —');
    await post({ id: 'live-1', kind: 'request', model: 'live-model', body: '{"instances": [[9]]}' });
    await expect.poll(() => rowOf('live-model').count(), { timeout: 15_000 }).toBe(1);
    await expect(rows().first().locator('.model').textContent()).resolves.toBe('live-model');
    await expect(rowOf('live-model').locator('.c-status').textContent()).resolves.toContain('incomplete');

    await post({
      id: 'live-1',
      kind: 'response',
      model: 'live-model',
      body: '{"predictions":[2]}',
      status: 500,
    });
    await expect
      .poll(() => rowOf('live-model').locator('.badge').first().textContent(), { timeout: 15_000 })
      .toBe('500');
    expect(await rowOf('live-model').count()).toBe(1);
    await page.locator('#live').uncheck();
  });

  it('is keyboard-driven: / focuses search, j moves between rows, Enter opens', async () => {
    await open();
    await page.keyboard.press('/');
    await expect(page.evaluate('document.activeElement?.id')).resolves.toBe('f-q');
    await page.locator('#f-q').press('Escape');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    const second = await rows().nth(1).getAttribute('data-id');
    await expect(page.evaluate("document.activeElement?.closest('tr')?.dataset.id")).resolves.toBe(second);
    await page.keyboard.press('Enter');
    await expect.poll(() => hashOf()).toBe(`#/exchange/${second}`);
  });

  it('downloads bodies as application/octet-stream, whatever content type was stored (issue 16 item 9)', async () => {
    await open('#/exchange/html-1');
    const res = page.locator('section.half', { has: page.locator('h3', { hasText: 'Response' }) });
    const link = res.getByRole('link', { name: 'Download' });
    await link.waitFor();
    // The page's CSP keeps fetch() off blob: URLs, so record the type of each Blob the page links to.
    await page.evaluate(
      '(() => { const make = URL.createObjectURL; window.__blobTypes = []; URL.createObjectURL = (b) => { window.__blobTypes.push(b.type); return make.call(URL, b); }; })()',
    );
    const download = page.waitForEvent('download');
    await link.click();
    const file = await download;
    expect(file.suggestedFilename()).not.toMatch(/\.html?$/);
    await file.cancel();
    expect(await page.evaluate('window.__blobTypes')).toEqual(['application/octet-stream']);
  });

  it('charts exchanges by status class over the window, and dragging across it zooms the time range', async () => {
    await open();
    const chart = page.locator('#chart');
    await expect.poll(() => chart.locator('rect.bar').count()).toBeGreaterThan(0);
    await expect(chart.locator('rect.bar.s-5xx').count()).resolves.toBeGreaterThan(0);
    await expect(chart.locator('.legend').textContent()).resolves.toMatch(/2xx \d+.*5xx \d+/);
    // Weighted: the sampled exchange stands for 10, so the 2xx total is more than the stored 2xx rows.
    const legend2xx = Number(
      (await chart.locator('.legend li', { hasText: '2xx' }).textContent())?.split(' ')[1],
    );
    expect(legend2xx).toBeGreaterThanOrEqual(10);
    await expect(chart.locator('svg').getAttribute('aria-label')).resolves.toContain('Exchanges over time');

    // Drag from 20 s before the gateway error to the end of the window.
    const svg = chart.locator('svg');
    const box = (await svg.boundingBox())!;
    const since = Number(await svg.getAttribute('data-since'));
    const until = Number(await svg.getAttribute('data-until'));
    const gwTime = Date.parse(
      ((await (await fetch(`${base}/api/v1/exchanges/gw-1`)).json()) as { time: string }).time,
    );
    const xAt = (t: number) => box.x + ((t - since) / (until - since)) * box.width;
    const y = box.y + box.height / 2;
    await page.mouse.move(xAt(gwTime - 20_000), y);
    await page.mouse.down();
    await page.mouse.move(xAt(gwTime), y, { steps: 4 });
    await page.mouse.move(xAt(until - 200), y, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => hashOf()).toContain('range=custom');
    const q = new URLSearchParams(hashOf().slice(3));
    const from = Date.parse(q.get('from')!);
    const to = Date.parse(q.get('to')!);
    expect(to).toBeGreaterThan(from);
    expect(from).toBeGreaterThan(gwTime - 25_000);
    expect(from).toBeLessThan(gwTime);
    // The zoomed range drives the form, the list and the chart; it survives a reload (shareable).
    await expect.poll(() => page.locator('#f-range').inputValue()).toBe('custom');
    await open(hashOf());
    await expect.poll(() => page.locator('#chart rect.bar').count()).toBeGreaterThan(0);
    const ids = await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
    expect(ids).toContain('gw-1');
    expect(ids).not.toContain('bulk-0'); // a minute old: outside the zoomed range
  });

  it('puts errors on the first screen: route, error code and message columns, status and latency apart', async () => {
    await open();
    const gw = page.locator('#rows tr[data-id="gw-1"]');
    await expect(gw.locator('.c-route').textContent()).resolves.toBe(
      'POST /v1/models/fraud-detector:predict',
    );
    await expect(gw.locator('.c-status .badge').first().textContent()).resolves.toBe('502');
    await expect(gw.locator('.c-response').textContent()).resolves.toBe(
      'UPSTREAM_UNREACHABLE {"error":"upstream connect error"}',
    );
    const badge = (await gw.locator('.c-status .badge').first().boundingBox())!;
    const latency = (await gw.locator('.c-latency').boundingBox())!;
    expect(badge.x + badge.width).toBeLessThanOrEqual(latency.x + 1);
    expect(await gw.isVisible()).toBe(true);
    const viewport = page.viewportSize()!;
    expect((await gw.boundingBox())!.y).toBeLessThan(viewport.height);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'list.png') });
    if (DOC_SHOTS) await page.screenshot({ path: join(DOC_SHOTS, 'ui-list.png') });
  });

  it('highlights search matches in the list and the detail', async () => {
    await open('#/?q=model%20crashed');
    await expect.poll(() => rows().locator('.model').allTextContents()).toEqual(['flaky-model']);
    await expect(rows().first().locator('.c-response mark').textContent()).resolves.toBe('model crashed');
    await rows().first().locator('a.row-link').click();
    await expect.poll(() => hashOf()).toBe('#/exchange/err-1?q=model%20crashed');
    const res = page.locator('section.half', { has: page.locator('h3', { hasText: 'Response' }) });
    await expect.poll(() => res.locator('.body mark').allTextContents()).toEqual(['model crashed']);
  });

  it('folds JSON bodies, with the path to the search match opened', async () => {
    await open('#/?q=needle-xyz');
    await expect.poll(() => rows().locator('.model').allTextContents()).toEqual(['nested-model']);
    await rows().first().locator('a.row-link').click();
    const req = page.locator('section.half', { has: page.locator('h3', { hasText: 'Request' }) });
    const tree = req.locator('.json-tree');
    await expect.poll(() => tree.locator('mark').textContent()).toBe('needle-xyz');
    const node = (key: string) =>
      tree.locator('details.jn', { has: page.locator(':scope > summary .j-key', { hasText: key }) });
    await expect(node('"left"').getAttribute('open')).resolves.toBe('');
    await expect(node('"deep"').getAttribute('open')).resolves.toBe('');
    await expect(node('"right"').getAttribute('open')).resolves.toBeNull();
    await expect(tree.locator('mark').isVisible()).resolves.toBe(true);
    // A folded node says what it hides; clicking it opens it; Expand all / Fold all.
    await node('"right"').locator(':scope > summary').click();
    await expect(node('"right"').getAttribute('open')).resolves.toBe('');
    await req.getByRole('button', { name: 'Fold all' }).click();
    await expect(node('"left"').getAttribute('open')).resolves.toBeNull();
    await req.getByRole('button', { name: 'Expand all' }).click();
    await expect(node('"other"').getAttribute('open')).resolves.toBe('');
  });

  it('shows a streamed answer as parsed events with the assembled text and usage on top', async () => {
    await open('#/exchange/sse-1');
    const stream = page.locator('.stream-card');
    await expect.poll(() => stream.locator('pre.assembled').textContent()).toBe('Hello, world!');
    await expect(stream.locator('.usage').textContent()).resolves.toBe(
      '5 events · prompt 9 tokens · completion 3 tokens · total 12',
    );
    await expect(stream.locator('.events li').count()).resolves.toBe(5);
    // Above the bodies, which sit side by side on a wide screen.
    const streamBox = (await stream.boundingBox())!;
    const halves = page.locator('.halves section.half');
    const [a, b] = [(await halves.nth(0).boundingBox())!, (await halves.nth(1).boundingBox())!];
    expect(streamBox.y).toBeLessThan(a.y);
    expect(Math.abs(a.y - b.y)).toBeLessThan(2);
    expect(b.x).toBeGreaterThan(a.x + a.width - 1);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'stream.png'), fullPage: true });
    if (DOC_SHOTS) await page.screenshot({ path: join(DOC_SHOTS, 'ui-stream.png') });
  });

  it('copies a request as curl that, run against the real server, gets the same answer', async () => {
    await open('#/exchange/curl-1');
    await page.getByRole('button', { name: 'Copy as curl' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Copied' }).count()).toBe(1);
    const cmd = String(await page.evaluate('navigator.clipboard.readText()'));
    expect(cmd).toMatch(/^curl /);
    const res = page.locator('section.half', { has: page.locator('h3', { hasText: 'Response' }) });
    await res.getByRole('button', { name: 'Raw', exact: true }).click();
    const stored = await res.locator('.body').textContent();
    const { stdout } = await run('sh', ['-c', cmd], { timeout: 20_000 });
    expect(stdout).toBe(stored);
    expect(JSON.parse(stdout)).toMatchObject({
      method: 'POST',
      path: '/v1/models/echo:predict',
      requestId: '7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40',
    });
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'detail.png'), fullPage: true });
    if (DOC_SHOTS) await page.screenshot({ path: join(DOC_SHOTS, 'ui-detail.png') });
  });

  it('links to the trace when the exchange has a trace id and the collector a trace URL template', async () => {
    await open('#/exchange/ok-1');
    await expect.poll(() => page.locator('#detail-title').textContent()).toContain('sklearn-iris');
    expect(await page.getByRole('link', { name: 'Trace' }).count()).toBe(0); // hidden when absent
    // The collector stored the event's W3C traceparent and serves `--trace-url` in /healthz.
    await open('#/exchange/sampled-1');
    await expect.poll(() => page.locator('#detail-title').textContent()).toContain('sampled-model');
    await expect
      .poll(() => page.getByRole('link', { name: 'Trace' }).getAttribute('href'))
      .toBe('https://grafana.example/explore?trace=4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('works at 390 px: no horizontal scroll, rows on the first screen, badge clear of the latency', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await open();
      await expect.poll(() => rows().count()).toBe(50);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      const first = (await rows().first().boundingBox())!;
      expect(first.y + first.height).toBeLessThan(844);
      const gw = page.locator('#rows tr[data-id="gw-1"]');
      const badge = (await gw.locator('.c-status .badge').first().boundingBox())!;
      const latency = (await gw.locator('.c-latency').boundingBox())!;
      const overlap =
        badge.x < latency.x + latency.width &&
        latency.x < badge.x + badge.width &&
        badge.y < latency.y + latency.height &&
        latency.y < badge.y + badge.height;
      expect(overlap).toBe(false);
      await expect(gw.locator('.c-response').isVisible()).resolves.toBe(true);
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'mobile.png') });
      if (DOC_SHOTS) await page.screenshot({ path: join(DOC_SHOTS, 'ui-mobile.png') });
      await open('#/exchange/sse-1');
      await expect.poll(() => page.locator('pre.assembled').textContent()).toBe('Hello, world!');
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    } finally {
      await page.setViewportSize({ width: 1400, height: 900 });
    }
  });

  it('passes axe-core checks (no serious or critical violations) on the list, a detail and the mobile list', async () => {
    const check = async (hash: string): Promise<void> => {
      await open(hash);
      // addScriptTag would be an inline <script>, which the page's CSP (rightly) blocks; evaluate is not.
      await page.evaluate(AXE_SOURCE);
      const violations = (await page.evaluate(
        "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`))",
      )) as string[];
      expect(violations, hash).toEqual([]);
    };
    await check('#/');
    await check('#/exchange/sse-1');
    await check('#/exchange/nested-1?q=needle-xyz');
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await check('#/');
    } finally {
      await page.setViewportSize({ width: 1400, height: 900 });
    }
  });

  it('loaded nothing from outside the collector (works offline)', () => {
    const outside = requested.filter(
      (u) => !u.startsWith(`${base}/`) && u !== 'about:blank' && !u.startsWith('data:'),
    );
    expect(requested.length).toBeGreaterThan(10);
    expect(outside).toEqual([]);
  });
});
