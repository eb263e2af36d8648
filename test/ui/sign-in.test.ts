/**
 * Signing in to the web UI in real Chromium against a real collector with authentication on.
 *
 *   Chromium ──GET / (public)──▶ collector ──GET api/v1/… without a token──▶ 401 ──▶ sign-in view
 *            ──paste token──▶ sessionStorage ──GET api/v1/… + Authorization: Bearer──▶ rows, live mode
 *
 * The collector is startCollector with the token table of test/helpers/token-collector.ts (the
 * Authenticator seam `collect --auth-file` plugs into), serving this worktree's UI files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../../src/collector/server.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import { startTokenCollector, type Seen } from '../helpers/token-collector.js';

const CHROMIUM = process.env.INFERLOG_CHROMIUM ?? '/usr/bin/chromium';
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const READ = 'il_ui_read_5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b';
const INGEST = 'il_ui_ingest_0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-ui-auth-'));
const seen: Seen = { urls: [], authorization: [] };
let collector: Collector;
let context: BrowserContext;
let page: Page;
/** Every URL the page requested, and the Authorization header each API request carried. */
const requests: Array<{ url: string; authorization: string | undefined }> = [];

async function post(id: string, kind: 'request' | 'response', body: string): Promise<void> {
  const time = new Date().toISOString();
  const res = await fetch(collector.url + '/', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${INGEST}`,
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': `org.kubeflow.serving.inference.${kind}`,
      'ce-source': 'http://localhost:9081/',
      'ce-time': time,
      'ce-inferenceservicename': 'signin-model',
      'ce-namespace': 'team-a',
      'content-type': 'application/json',
    },
    body,
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: install Debian's Chromium or set INFERLOG_CHROMIUM`);
  collector = await startTokenCollector(
    dir,
    {
      [READ]: { name: 'ui-reader', scopes: ['read'] },
      [INGEST]: { name: 'agent', scopes: ['ingest'] },
    },
    seen,
  );
  await post('signin-1', 'request', '{"instances":[[1,2]]}');
  await post('signin-1', 'response', '{"predictions":[3]}');
  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }));
}, 60_000);

afterAll(async () => {
  await context?.close();
  await collector?.close();
  rmSync(dir, { recursive: true, force: true });
});

const signIn = (p: Page) => p.locator('#signin');

describe('web UI sign-in against a collector with auth on', { timeout: 60_000 }, () => {
  it('shows the sign-in view when the API answers 401, and no SSO button without an issuer', async () => {
    await page.goto(collector.url + '/');
    await signIn(page).waitFor({ state: 'visible', timeout: 15_000 });
    expect(await page.locator('#list-view').isHidden()).toBe(true);
    expect(await page.locator('#signin-sso').isVisible()).toBe(false);
  });

  it('passes axe-core checks (no serious or critical violations) on the sign-in view', async () => {
    await page.evaluate(AXE_SOURCE);
    const violations = (await page.evaluate(
      "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`))",
    )) as string[];
    expect(violations).toEqual([]);
    // The token field has a label and keyboard focus.
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('signin-token');
  });

  it('refuses a wrong token and stays on the sign-in view', async () => {
    await page.fill('#signin-token', 'il_wrong_token_123456');
    await page.click('#signin-submit');
    await page.locator('#signin-error').waitFor({ state: 'visible' });
    expect(await page.locator('#signin-error').textContent()).toMatch(/not accepted|401/i);
    expect(await signIn(page).isVisible()).toBe(true);
  });

  it('a pasted token shows the list, sent as a header and kept in sessionStorage only', async () => {
    requests.length = 0;
    await page.fill('#signin-token', READ);
    await page.click('#signin-submit');
    await page.locator('tr[data-id="signin-1"]').waitFor({ timeout: 15_000 });
    expect(await signIn(page).isHidden()).toBe(true);
    const stored = (await page.evaluate(
      '({ session: sessionStorage.getItem("inferlog.token"), local: JSON.stringify(localStorage), cookie: document.cookie })',
    )) as { session: string | null; local: string; cookie: string };
    expect(stored.session).toBe(READ);
    expect(stored.local).not.toContain(READ);
    expect(stored.cookie).toBe('');
    const api = requests.filter((r) => new URL(r.url).pathname.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(0);
    for (const r of api) expect(r.authorization).toBe(`Bearer ${READ}`);
    expect(requests.map((r) => r.url).join(' ')).not.toContain(READ);
    expect(await page.locator('#signout').isVisible()).toBe(true);
  });

  it('live mode follows new exchanges with the token', async () => {
    await page.click('#live');
    await page.locator('#live-status').filter({ hasText: 'following' }).waitFor({ timeout: 15_000 });
    await post('signin-live', 'request', '{"instances":[[5]]}');
    await post('signin-live', 'response', '{"predictions":[11]}');
    await page.locator('tr[data-id="signin-live"]').waitFor({ timeout: 15_000 });
    await page.click('#live');
  });

  it('opens an exchange with the token', async () => {
    await page.locator('tr[data-id="signin-1"] a.row-link').click();
    await page.locator('#detail-body').filter({ hasText: 'predictions' }).waitFor({ timeout: 15_000 });
  });

  it('signs out: the token is gone and the sign-in view is back', async () => {
    await page.click('#signout');
    await signIn(page).waitFor({ state: 'visible' });
    expect(await page.evaluate('sessionStorage.getItem("inferlog.token")')).toBeNull();
    expect(await page.locator('tr[data-id="signin-1"]').count()).toBe(0);
    // A reload does not bring the data back.
    await page.reload();
    await signIn(page).waitFor({ state: 'visible' });
    expect(await page.locator('tr[data-id="signin-1"]').count()).toBe(0);
  });

  it('no token ever went into a URL the collector saw', () => {
    expect(seen.urls.join(' ')).not.toContain(READ);
  });
});

describe('security headers with SSO configured', () => {
  it("connect-src allows the OIDC issuer's origin only when one is configured", async () => {
    const plain = await fetch(collector.url + '/');
    const csp = plain.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("connect-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(plain.headers.get('x-content-type-options')).toBe('nosniff');
    expect(plain.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await plain.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);

    const sso = await startCollector({
      store: createSqliteStore(join(dir, 'sso.db')),
      port: 0,
      uiConnectOrigins: ['https://login.example.test/realms/ml'],
    });
    try {
      const res = await fetch(sso.url + '/');
      const policy = res.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("connect-src 'self' https://login.example.test;");
      // The page's own meta policy says the same, or the browser would still block the issuer.
      expect(await res.text()).toContain("connect-src 'self' https://login.example.test;");
    } finally {
      await sso.close();
    }
  });
});
