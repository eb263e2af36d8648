/**
 * AFTER THE OIDC MERGE: "Sign in with SSO" in real Chromium against a real OpenID Provider
 * (panva's oidc-provider, scripts/peers/oidc-provider.mjs from branch fix/oidc) and a real
 * `inferlog collect --oidc-issuer`. Skipped until both exist in the tree. The collector must put
 * the issuer's origin in connect-src (CollectorOptions.uiConnectOrigins, or authConfig.issuer) or
 * the browser blocks the token request: the last assertion checks it.
 *
 *   Chromium ──GET /──▶ collect ──401──▶ sign-in view ──GET api/v1/auth/config──▶ {issuer, clientId}
 *            ──Sign in with SSO──▶ provider /auth (PKCE S256, state, nonce) ──login form──▶ redirect ?code
 *            ──POST token endpoint (code_verifier)──▶ id_token ──Authorization: Bearer──▶ rows
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startCli, type CliProcess } from '../helpers/cli.js';
import { REPO_ROOT, freePort } from '../helpers/peers.js';

const CHROMIUM = process.env.INFERLOG_CHROMIUM ?? '/usr/bin/chromium';
const PROVIDER_SCRIPT = join(REPO_ROOT, 'scripts/peers/oidc-provider.mjs');
const collectHelp = spawnSync(process.execPath, [CLI, 'collect', '--help'], {
  encoding: 'utf8',
  cwd: REPO_ROOT,
});
const READY = existsSync(PROVIDER_SCRIPT) && collectHelp.stdout.includes('--oidc-issuer');

interface Provider {
  issuer: string;
  stop(): Promise<void>;
}

describe.runIf(READY)(
  'after the oidc merge: web UI sign-in with SSO against a real provider',
  { timeout: 120_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-sso-'));
    let provider: Provider;
    let collector: CliProcess;
    let base: string;
    let context: BrowserContext;
    let page: Page;
    let ingest: string;
    const urls: string[] = [];

    beforeAll(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      // The provider's helper lives in the oidc branch: loaded by path so this file compiles without it.
      const helper = '../helpers/oidc-provider.js';
      const { startOidcProvider, signIn } = (await import(helper)) as {
        startOidcProvider(o: unknown): Promise<Provider>;
        signIn(p: unknown, c: unknown, u: string, pw: string): Promise<{ id_token: string }>;
      };
      provider = await startOidcProvider({
        users: [
          { username: 'alice', password: 'alice-pw', email: 'alice@example.test', groups: ['ml-readers'] },
          { username: 'bob', password: 'bob-pw', groups: ['ml-writers'] },
        ],
        clients: [
          {
            client_id: 'inferlog-ui',
            application_type: 'web',
            redirect_uris: [`${base}/`, 'http://127.0.0.1/cb'],
          },
        ],
      });
      ingest = (
        await signIn(
          provider,
          { clientId: 'inferlog-ui', redirectUri: 'http://127.0.0.1/cb' },
          'bob',
          'bob-pw',
        )
      ).id_token;
      collector = await startCli([
        'collect',
        '--port',
        String(port),
        '--store',
        `sqlite:${join(dir, 'sso.db')}`,
        '--oidc-issuer',
        provider.issuer,
        '--oidc-audience',
        'inferlog-ui',
        '--oidc-group',
        'ml-readers=read',
        '--oidc-group',
        'ml-writers=ingest',
      ]);
      for (const kind of ['request', 'response'] as const) {
        const res = await fetch(`${base}/`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${ingest}`,
            'ce-specversion': '1.0',
            'ce-id': 'sso-1',
            'ce-type': `org.kubeflow.serving.inference.${kind}`,
            'ce-source': 'http://localhost:9081/',
            'ce-time': new Date().toISOString(),
            'ce-inferenceservicename': 'sso-model',
            'ce-namespace': 'team-a',
            'content-type': 'application/json',
          },
          body: kind === 'request' ? '{"instances":[[1]]}' : '{"predictions":[2]}',
        });
        expect(res.status).toBe(200);
      }
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
      page.on('framenavigated', (f) => {
        if (f === page.mainFrame()) urls.push(f.url());
      });
    }, 120_000);

    afterAll(async () => {
      await context?.close();
      await collector?.stop();
      await provider?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('signs in through the provider and lists the rows, with no code or token left in the URL', async () => {
      await page.goto(`${base}/`);
      await page.locator('#signin').waitFor({ state: 'visible', timeout: 15_000 });
      await page.locator('#signin-sso').waitFor({ state: 'visible', timeout: 15_000 });
      await page.click('#signin-sso');
      // The provider's own login page.
      await page.waitForURL((u) => u.origin === new URL(provider.issuer).origin, { timeout: 15_000 });
      await page.fill('input[name=username]', 'alice');
      await page.fill('input[name=password]', 'alice-pw');
      await page.click('button[type=submit]');
      await page.locator('tr[data-id="sso-1"]').waitFor({ timeout: 30_000 });
      expect(page.url()).not.toContain('code=');
      const token = (await page.evaluate('sessionStorage.getItem("inferlog.token")')) as string;
      expect(token.split('.')).toHaveLength(3);
      expect(urls.join(' ')).not.toContain(token);
      const csp = (await fetch(`${base}/`)).headers.get('content-security-policy') ?? '';
      expect(csp).toContain(`connect-src 'self' ${new URL(provider.issuer).origin}`);
    });
  },
);
