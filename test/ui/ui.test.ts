/**
 * The web UI in real Chromium against a real collector (the compiled CLI, a SQLite file).
 *
 *   test ──POST CloudEvents (binary mode, KServe headers)──▶ inferlog collect ◀──GET / + /api/v1/…── Chromium
 *
 * Set INFERLOG_UI_SCREENSHOTS=<dir> to keep screenshots of the list and the detail view.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/peers.js';

const CHROMIUM = process.env.INFERLOG_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.INFERLOG_UI_SCREENSHOTS;

const dir = mkdtempSync(join(tmpdir(), 'inferlog-ui-'));
let collector: CliProcess;
let base: string;
let context: BrowserContext;
let page: Page;
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
  collector = await startCli(['collect', '--port', String(port), '--store', `sqlite:${join(dir, 'ui.db')}`]);

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
  await exchange('sampled-1', 'sampled-model', '{"instances": [[4]]}', '{"predictions":[0]}', { weight: 10 });
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
  // More than one page of one model, for "load more".
  for (let i = 0; i < 55; i++)
    await post({
      id: `bulk-${i}`,
      kind: 'request',
      model: 'bulk-model',
      body: `{"i":${i}}`,
      time: new Date(Date.now() - 60_000 + i),
    });

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
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await collector?.stop();
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
    await expect(ok.locator('.preview').textContent()).resolves.toContain('"instances"');
    await expect(rowOf('flaky-model').locator('.badge').first().textContent()).resolves.toBe('503');
    await expect(rowOf('sampled-model').locator('.c-weight').textContent()).resolves.toBe('×10');
    await expect(rowOf('sklearn-iris').locator('.c-weight').textContent()).resolves.toBe('');
    await expect(rowOf('slow-model').locator('.c-status').textContent()).resolves.toContain('incomplete');

    // Newest first: the bulk exchanges are a minute old, the others were posted before them but with "now".
    const firstModel = await rows().first().locator('.model').textContent();
    expect(firstModel).not.toBe('bulk-model');

    // Stats strip: totals and per-model counts over the window.
    await expect.poll(() => page.locator('#stats .tile').first().textContent()).toContain('63');
    await expect(page.locator('#stats .models-table').textContent()).resolves.toContain('bulk-model');
    await expect(page.locator('#stats').textContent()).resolves.toContain('≈72'); // 63 stored, one stands for 10

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
    await expect.poll(() => rows().count()).toBe(1);
    await expect(rows().first().locator('.model').textContent()).resolves.toBe('flaky-model');

    await page.locator('#f-status').selectOption('incomplete');
    await expect
      .poll(() => rows().locator('.model').allTextContents())
      .toEqual(expect.arrayContaining(['slow-model', 'bulk-model']));
    await expect(rows().first().locator('.c-status').textContent()).resolves.toBe('incomplete');
  });

  it('filtering by "error" shows exchanges that got no response, with their error code', async () => {
    await open('#/?status=error');
    await expect.poll(() => rows().locator('.model').allTextContents()).toEqual(['timeout-model']);
    await expect(rows().first().locator('.badge').first().textContent()).resolves.toBe('UPSTREAM_TIMEOUT');
    await rows().first().locator('a.row-link').click();
    await expect.poll(() => page.locator('#detail-body').textContent()).toContain('Error code');
    await expect(page.locator('#detail-body').textContent()).resolves.toContain('(empty body)');
  });

  it('shows truncation: stored size, original size and the sha256 of the whole body', async () => {
    await open('#/exchange/trunc-1');
    const req = page.locator('section.half', { has: page.locator('h3', { hasText: 'Request' }) });
    await expect.poll(() => req.locator('.notice').textContent()).toContain('of 1.0 MiB (1048576 bytes)');
    await expect(req.locator('.notice').textContent()).resolves.toContain('ab'.repeat(32));
    // Not valid JSON (cut off): shown as text, no pretty/raw toggle.
    await expect(req.locator('pre.body').textContent()).resolves.toBe('{"instances": [[' + '1, '.repeat(40));
    expect(await req.getByRole('button', { name: 'Raw', exact: true }).count()).toBe(0);
    await expect(page.locator('#detail-body').textContent()).resolves.toContain('No response half');
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
      .poll(() => req.locator('pre.body').textContent())
      .toBe('{\n  "instances": [\n    [6.8, 2.8, 4.8, 1.4],\n    [6.0, 3.4, 4.5, 1.6]\n  ]\n}');
    const res = page.locator('section.half', { has: page.locator('h3', { hasText: 'Response' }) });
    await expect(res.locator('pre.body').textContent()).resolves.toContain('"predictions": [1, 1]');
    await expect(page.locator('.facts').first().textContent()).resolves.toContain('ok-1');
    await expect(page.locator('#detail-body').textContent()).resolves.toContain(
      '7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40',
    );

    // Raw toggle shows the body exactly as stored.
    await req.getByRole('button', { name: 'Raw', exact: true }).click();
    await expect(req.locator('pre.body').textContent()).resolves.toBe(
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
    await expect
      .poll(() => res.locator('pre.body').textContent())
      .toContain('89 50 4e 47 0d 0a 1a 0a  ff 00');
    await expect(res.locator('pre.body').textContent()).resolves.toContain('|.PNG......|');
    await expect(res.textContent()).resolves.toContain('10 B');
    await res.getByRole('button', { name: 'Base64', exact: true }).click();
    await expect(res.locator('pre.body').textContent()).resolves.toBe('iVBORw0KGgr/AA==');
  });

  it('renders HTML in bodies as text: no script runs, no element is created', async () => {
    await open();
    await expect(rowOf('xss-model').locator('.preview').textContent()).resolves.toContain('<script>');
    await rowOf('xss-model').locator('a.row-link').click();
    const req = page.locator('section.half', { has: page.locator('h3', { hasText: 'Request' }) });
    await expect.poll(() => req.locator('pre.body').textContent()).toContain('<img src=x onerror=');
    await expect(req.locator('pre.body').textContent()).resolves.toContain('<script>window.__pwned=1');
    await req.getByRole('button', { name: 'Raw', exact: true }).click();
    await expect(req.locator('pre.body').textContent()).resolves.toBe(XSS_BODY);
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

  it('loaded nothing from outside the collector (works offline)', () => {
    const outside = requested.filter(
      (u) => !u.startsWith(`${base}/`) && u !== 'about:blank' && !u.startsWith('data:'),
    );
    expect(requested.length).toBeGreaterThan(10);
    expect(outside).toEqual([]);
  });
});
