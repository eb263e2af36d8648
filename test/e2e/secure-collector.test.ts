/**
 * AFTER THE AUTH-CORE MERGE: the whole secure path with real processes, once `inferlog collect`
 * has `--tls-cert`, `--tls-client-ca` and `--auth-file` (branch fix/auth-core). Until then it is
 * skipped (it checks `collect --help`); test/sinks-http/credentials.test.ts and
 * test/collector/cli-credentials.test.ts cover the clients against stand-ins meanwhile.
 *
 *   model ◀── inferlog agent ──https, client cert CN=agent-team-a, Bearer (ingest, team-a)──▶ inferlog collect
 *                                                          (--tls-cert --tls-client-ca --auth-file)
 *   inferlog query ──https (--ca-file), Bearer (read)──────────────────────────────────────────▶
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { makeCa, makeCert, type CertFiles } from '../helpers/tls-certs.js';
import { CLI, startCli, type CliProcess } from '../helpers/cli.js';
import { REPO_ROOT, freePort } from '../helpers/peers.js';

const collectHelp = spawnSync(process.execPath, [CLI, 'collect', '--help'], {
  encoding: 'utf8',
  cwd: REPO_ROOT,
});
const SECURE_COLLECTOR =
  collectHelp.stdout.includes('--auth-file') && collectHelp.stdout.includes('--tls-client-ca');

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    env: { ...process.env, INFERLOG_TOKEN: '' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.runIf(SECURE_COLLECTOR)(
  'after the auth-core merge: agent and CLI against `collect` with TLS, mTLS and an auth file',
  { timeout: 120_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-secure-'));
    let ca: CertFiles;
    let agentCert: CertFiles;
    let collector: CliProcess;
    let model: CliProcess;
    let agent: CliProcess;
    let url: string;
    let agentPort: number;
    const authFile = join(dir, 'auth.yaml');
    const agentTokenFile = join(dir, 'agent.token');
    const readerTokenFile = join(dir, 'reader.token');

    beforeAll(async () => {
      ca = makeCa(dir, 'ca');
      const server = makeCert(dir, ca, 'server', '127.0.0.1', ['IP:127.0.0.1']);
      agentCert = makeCert(dir, ca, 'agent', 'agent-team-a');
      const made = (name: string, scope: string, extra: string[] = []): string => {
        const r = cli([
          'token',
          'create',
          '--auth-file',
          authFile,
          '--name',
          name,
          '--scope',
          scope,
          ...extra,
        ]);
        expect(r.code, r.stderr).toBe(0);
        return r.stdout.trim();
      };
      writeFileSync(agentTokenFile, made('agent-token', 'ingest', ['--namespace', 'team-a']) + '\n');
      writeFileSync(readerTokenFile, made('reader', 'read') + '\n');
      // The agent's certificate maps to an ingest principal for team-a (token-file.ts's format).
      const file = parse(readFileSync(authFile, 'utf8')) as Record<string, unknown>;
      file.certificates = [{ subject: 'CN=agent-team-a', scopes: ['ingest'], namespaces: ['team-a'] }];
      writeFileSync(authFile, stringify(file), { mode: 0o600 });

      const port = await freePort();
      url = `https://127.0.0.1:${port}`;
      collector = await startCli([
        'collect',
        '--port',
        String(port),
        '--store',
        `sqlite:${join(dir, 'secure.db')}`,
        '--tls-cert',
        server.cert,
        '--tls-key',
        server.key,
        '--tls-client-ca',
        ca.cert,
        '--auth-file',
        authFile,
      ]);
      const modelPort = await freePort();
      model = await startCli(['up', '-f', 'test/e2e/fixtures/no-logger.yaml', '--port', String(modelPort)]);
      agentPort = await freePort();
      agent = await startCli([
        'agent',
        '--port',
        String(agentPort),
        '--component-port',
        String(modelPort),
        '--log-url',
        `${url}/`,
        '--inference-service',
        'simple-model',
        '--namespace',
        'team-a',
        '--component',
        'predictor',
        '--logger-ca-cert-file',
        ca.cert,
        '--log-client-cert',
        agentCert.cert,
        '--log-client-key',
        agentCert.key,
        '--log-token-file',
        agentTokenFile,
        '--durability',
        'none',
      ]);
    }, 120_000);

    afterAll(async () => {
      await agent?.stop();
      await model?.stop();
      await collector?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('stores what the agent sends and shows it to a reader with a token', async () => {
      const res = await fetch(`http://127.0.0.1:${agentPort}/v1/models/simple-model:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'secure-1' },
        body: '{"instances": [1.0, 2.0]}',
      });
      expect(res.status).toBe(200);
      const deadline = Date.now() + 20_000;
      let items: Array<{ namespace: string }> = [];
      while (items.length === 0 && Date.now() < deadline) {
        const r = cli([
          'query',
          '--url',
          url,
          '--ca-file',
          ca.cert,
          '--token-file',
          readerTokenFile,
          '--format',
          'json',
        ]);
        expect(r.code, r.stderr).toBe(0);
        items = (JSON.parse(r.stdout) as { items: Array<{ namespace: string }> }).items;
        if (items.length === 0) await new Promise((r2) => setTimeout(r2, 300));
      }
      expect(items[0]?.namespace).toBe('team-a');
      const output = agent.stdout() + agent.stderr();
      expect(output).not.toContain(readFileSync(agentTokenFile, 'utf8').trim());
    });

    it('refuses a reader without a token (exit 77) and one without the CA file', () => {
      const none = cli(['query', '--url', url, '--ca-file', ca.cert]);
      expect(none.code).toBe(77);
      expect(none.stderr).toMatch(/UNAUTHENTICATED/);
      const noCa = cli(['query', '--url', url, '--token-file', readerTokenFile]);
      expect(noCa.code).not.toBe(0);
      expect(noCa.stderr).toMatch(/--ca-file/);
    });

    it('refuses an agent token used to read (403, exit 77)', () => {
      const r = cli(['query', '--url', url, '--ca-file', ca.cert, '--token-file', agentTokenFile]);
      expect(r.code).toBe(77);
      expect(r.stderr).toMatch(/FORBIDDEN/);
    });
  },
);
