/**
 * The agent and `inferlog up` present credentials to an https sink: a client certificate (mTLS),
 * a bearer token read from a file (re-read when it changes), and a private CA.
 *
 *   model ◀── agent / up ──https + client cert + Authorization: Bearer──▶ test's https server
 *                                                                        (requestCert, token check)
 *
 * The destination is the test's own node:https server that demands a client certificate signed
 * by the test CA and one bearer token: a stand-in for `inferlog collect --tls-client-ca --auth-file`
 * until that exists (see the "after auth-core" test at the end of this file).
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCa, makeCert, pem, type CertFiles } from '../helpers/tls-certs.js';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { REPO_ROOT, freePort } from '../helpers/peers.js';

interface Delivery {
  ceId: string | undefined;
  ceType: string | undefined;
  clientCn: string | undefined;
  token: string | undefined;
}

const TOKEN_A = 'il_test_token_A_3b1f0c9d2e8a7f6b5c4d3e2f1a0b9c8d';
const TOKEN_B = 'il_test_token_B_7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b';

let dir: string;
let ca: CertFiles;
let client: CertFiles;
let otherClient: CertFiles;
let server: Server;
let sinkUrl: string;
let accepted = TOKEN_A;
/** Answer with `Connection: close`, so every send dials (and presents a certificate) again. */
let closeEach = false;
const deliveries: Delivery[] = [];
let tokenFile: string;
let model: CliProcess;
let modelPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'inferlog-creds-'));
  ca = makeCa(dir, 'ca');
  const serverCert = makeCert(dir, ca, 'server', '127.0.0.1', ['IP:127.0.0.1']);
  client = makeCert(dir, ca, 'client', 'agent-team-a');
  otherClient = makeCert(dir, ca, 'other', 'someone-else');
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, TOKEN_A + '\n');
  server = createServer(
    {
      cert: pem(serverCert.cert),
      key: pem(serverCert.key),
      ca: readFileSync(ca.cert),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        const auth = req.headers.authorization;
        const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
        if (token !== accepted) {
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
          res.end('{"error":{"code":"UNAUTHENTICATED","message":"unknown token"}}');
          return;
        }
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        deliveries.push({
          ceId: req.headers['ce-id'] as string | undefined,
          ceType: req.headers['ce-type'] as string | undefined,
          clientCn: typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined,
          token,
        });
        res.writeHead(202, closeEach ? { connection: 'close' } : {}).end();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sinkUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  modelPort = await freePort();
  model = await startCli(['up', '-f', 'test/e2e/fixtures/no-logger.yaml', '--port', String(modelPort)]);
});

afterAll(async () => {
  await model?.stop();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  rmSync(dir, { recursive: true, force: true });
});

async function predict(port: number, requestId: string, name = 'simple-model'): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/models/${name}:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: '{"instances": [1.0, 2.0]}',
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

async function until(
  what: string,
  pred: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function agentArgs(port: number, extra: string[]): string[] {
  return [
    'agent',
    '--port',
    String(port),
    '--component-port',
    String(modelPort),
    '--log-url',
    sinkUrl,
    '--inference-service',
    'simple-model',
    '--namespace',
    'team-a',
    '--component',
    'predictor',
    '--durability',
    'none',
    ...extra,
  ];
}

describe('agent → https sink with a client certificate and a bearer token file', () => {
  let agent: CliProcess;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    agent = await startCli(
      agentArgs(port, [
        '--logger-ca-cert-file',
        ca.cert,
        '--log-client-cert',
        client.cert,
        '--log-client-key',
        client.key,
        '--log-token-file',
        tokenFile,
      ]),
    );
  });
  afterAll(async () => {
    await agent?.stop();
  });

  it('delivers over mutual TLS with the token from the file', async () => {
    deliveries.length = 0;
    await predict(port, 'creds-1');
    await until('the request event', () => deliveries.length >= 1);
    expect(deliveries[0]).toMatchObject({ clientCn: 'agent-team-a', token: TOKEN_A });
  });

  it('picks up a rotated token without a restart, and never prints a token', async () => {
    // The destination now accepts only the new token: the agent's next send is refused (401)…
    accepted = TOKEN_B;
    deliveries.length = 0;
    await predict(port, 'creds-before-rotation');
    await until('the refused send to be reported', () => /401/.test(agent.stderr()));
    // …until the Secret's file changes: the agent re-reads it, no restart.
    writeFileSync(tokenFile, TOKEN_B + '\n');
    await until(
      'a delivery with the rotated token',
      async () => {
        await predict(port, 'creds-after-rotation');
        await new Promise((r) => setTimeout(r, 200));
        return deliveries.some((d) => d.token === TOKEN_B);
      },
      15_000,
    );
    expect(deliveries.every((d) => d.token === TOKEN_B && d.clientCn === 'agent-team-a')).toBe(true);
    const output = agent.stdout() + agent.stderr();
    expect(output).not.toContain(TOKEN_A);
    expect(output).not.toContain(TOKEN_B);
  });
});

describe('agent → https sink: a rotated client certificate', () => {
  it('is presented on new connections without a restart', async () => {
    // The agent's own copies of the files, as a Secret volume would hold them.
    const certFile = join(dir, 'rotating.crt');
    const keyFile = join(dir, 'rotating.key');
    writeFileSync(certFile, readFileSync(client.cert));
    writeFileSync(keyFile, readFileSync(client.key));
    writeFileSync(tokenFile, accepted + '\n');
    const port = await freePort();
    const agent = await startCli(
      agentArgs(port, [
        '--logger-ca-cert-file',
        ca.cert,
        '--log-client-cert',
        certFile,
        '--log-client-key',
        keyFile,
        '--log-token-file',
        tokenFile,
      ]),
    );
    try {
      closeEach = true;
      deliveries.length = 0;
      await predict(port, 'rotate-1');
      await until('a delivery with the first certificate', () => deliveries.length >= 1);
      expect(deliveries[0]?.clientCn).toBe('agent-team-a');
      // cert-manager renews it: a new certificate and key (written one after the other).
      const renewed = makeCert(dir, ca, 'renewed', 'agent-team-a-renewed');
      writeFileSync(certFile, readFileSync(renewed.cert));
      writeFileSync(keyFile, readFileSync(renewed.key));
      await until(
        'a delivery with the renewed certificate',
        async () => {
          await predict(port, 'rotate-2');
          await new Promise((r) => setTimeout(r, 200));
          return deliveries.some((d) => d.clientCn === 'agent-team-a-renewed');
        },
        15_000,
      );
    } finally {
      closeEach = false;
      await agent.stop();
    }
  });
});

describe('agent credential flags are checked at start', () => {
  async function startFails(extra: string[]): Promise<{ code: number | null; stderr: string }> {
    const cli = runCli(agentArgs(await freePort(), extra));
    const code = await cli.exited;
    return { code, stderr: cli.stderr() };
  }

  it('refuses a key that does not belong to the certificate, naming the flag', async () => {
    const { code, stderr } = await startFails([
      '--log-client-cert',
      client.cert,
      '--log-client-key',
      otherClient.key,
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('--log-client-key');
    expect(stderr).toMatch(/does not match/);
  });

  it('refuses a certificate without a key', async () => {
    const { code, stderr } = await startFails(['--log-client-cert', client.cert]);
    expect(code).toBe(1);
    expect(stderr).toContain('--log-client-key');
  });

  it('refuses a token file it cannot read, naming the file', async () => {
    const missing = join(dir, 'no-such-token');
    const { code, stderr } = await startFails(['--log-token-file', missing]);
    expect(code).toBe(1);
    expect(stderr).toContain('--log-token-file');
    expect(stderr).toContain(missing);
  });

  it('refuses a token file that is not one token, without printing what is in it', async () => {
    const bad = join(dir, 'bad-token');
    writeFileSync(bad, 'first-half-secret-4242\nsecond line\n');
    const { code, stderr } = await startFails(['--log-token-file', bad]);
    expect(code).toBe(1);
    expect(stderr).toContain('--log-token-file');
    expect(stderr).not.toContain('secret-4242');
  });
});

function serviceYaml(annotations: Record<string, string>): string {
  const lines = Object.entries(annotations).map(([k, v]) => `    inferlog.dev/${k}: "${v}"`);
  return [
    'apiVersion: serving.kserve.io/v1beta1',
    'kind: InferenceService',
    'metadata:',
    '  name: secure-model',
    '  namespace: team-a',
    '  annotations:',
    '    inferlog.dev/durability: "none"',
    ...lines,
    'spec:',
    '  predictor:',
    '    logger:',
    '      mode: request',
    `      url: ${sinkUrl}`,
    '    model:',
    '      modelFormat:',
    '        name: onnx',
    `      storageUri: ${join(REPO_ROOT, 'examples/models/simple-model')}`,
    '',
  ].join('\n');
}

describe('inferlog up → https sink, credentials from inferlog.dev/ annotations', () => {
  it('delivers over mutual TLS with the bearer token', async () => {
    accepted = TOKEN_B;
    writeFileSync(tokenFile, TOKEN_B + '\n');
    const file = join(dir, 'secure.yaml');
    writeFileSync(
      file,
      serviceYaml({
        'log-ca-cert': ca.cert,
        'log-client-cert': client.cert,
        'log-client-key': client.key,
        'log-token-file': tokenFile,
      }),
    );
    const port = await freePort();
    const up = await startCli(['up', '-f', file, '--port', String(port)]);
    try {
      deliveries.length = 0;
      await predict(port, 'up-creds-1', 'secure-model');
      await until('the request event', () => deliveries.length >= 1);
      expect(deliveries[0]).toMatchObject({ clientCn: 'agent-team-a', token: TOKEN_B });
    } finally {
      await up.stop();
    }
  });

  it('validate (for a cluster) accepts paths of Secrets mounted only there; --serve checks the files', async () => {
    const file = join(dir, 'cluster.yaml');
    writeFileSync(
      file,
      serviceYaml({
        'log-token-file': '/var/run/secrets/inferlog/token',
        'log-client-cert': '/var/run/secrets/inferlog/tls.crt',
        'log-client-key': '/var/run/secrets/inferlog/tls.key',
      }),
    );
    const plain = runCli(['validate', '-f', file]);
    expect(await plain.exited, plain.stderr()).toBe(0);
    const serve = runCli(['validate', '--serve', '-f', file]);
    expect(await serve.exited).toBe(1);
    // A certificate without its key is wrong anywhere: plain validate says so.
    const half = join(dir, 'half.yaml');
    writeFileSync(half, serviceYaml({ 'log-client-cert': '/var/run/secrets/inferlog/tls.crt' }));
    const halfRun = runCli(['validate', '-f', half]);
    expect(await halfRun.exited).toBe(1);
    expect(halfRun.stderr()).toContain(`${half}:8:5: metadata.annotations.inferlog.dev/log-client-cert:`);
    expect(halfRun.stderr()).toContain('inferlog.dev/log-client-key');
    expect(serve.stderr()).toContain(`${file}:8:5: metadata.annotations.inferlog.dev/log-token-file:`);
    expect(serve.stderr()).toContain('ENOENT');
  });

  it('reports a mismatched key at the annotation line (file:line:field)', async () => {
    const file = join(dir, 'mismatch.yaml');
    writeFileSync(file, serviceYaml({ 'log-client-cert': client.cert, 'log-client-key': otherClient.key }));
    const cli = runCli(['validate', '--serve', '-f', file]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain(`${file}:9:5: metadata.annotations.inferlog.dev/log-client-key:`);
    expect(cli.stderr()).toMatch(/does not match/);
  });
});
