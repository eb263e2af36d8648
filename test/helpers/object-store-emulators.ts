/**
 * Cloud object-store emulators for tests, each a child process on a free 127.0.0.1 port with
 * in-memory storage, stopped (SIGKILL to its process group) by `stop()`:
 *
 *   startFakeGcs()  fake-gcs-server (scripts/peers/fake-gcs.sh), the GCS JSON API over http
 *   startAzurite()  Azurite's blob service (scripts/peers/azurite.sh), with its well-known
 *                   development account; telemetry off, API version check off (the SDK is newer)
 *
 * `setpriv --pdeathsig KILL` ends an emulator if the test process dies first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { freePort, PEERS_DIR, portAnswers } from './peers.js';

export interface Emulator {
  port: number;
  /** What the emulator printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface FakeGcs extends Emulator {
  /** http://127.0.0.1:port: what STORAGE_EMULATOR_HOST (or GcsCredentials.endpoint) takes. */
  endpoint: string;
  createBucket(name: string): Promise<void>;
}

export interface Azurite extends Emulator {
  /** Azurite's development account and its published key (not a secret). */
  account: string;
  accountKey: string;
  /** http://127.0.0.1:port/devstoreaccount1 (path-style, as Azurite serves it). */
  serviceUrl: string;
  connectionString: string;
  createContainer(name: string): Promise<void>;
}

export function fakeGcsBin(): string {
  const bin = process.env.INFERLOG_TEST_FAKE_GCS ?? join(PEERS_DIR, 'fake-gcs/fake-gcs-server');
  if (!existsSync(bin))
    throw new Error(
      `${bin} not found: run \`bash scripts/peers/fake-gcs.sh install\` (builds fake-gcs-server from its Go module)`,
    );
  return bin;
}

export function azuriteBin(): string {
  const bin = process.env.INFERLOG_TEST_AZURITE ?? join(PEERS_DIR, 'azurite/node_modules/.bin/azurite-blob');
  if (!existsSync(bin))
    throw new Error(
      `${bin} not found: run \`bash scripts/peers/azurite.sh install\` (npm install azurite into .peers)`,
    );
  return bin;
}

async function startProcess(
  name: string,
  bin: string,
  args: string[],
  port: number,
  cwd?: string,
): Promise<Emulator & { proc: ChildProcess }> {
  const proc = spawn('setpriv', ['--pdeathsig', 'KILL', bin, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd !== undefined ? { cwd } : {}),
  });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
  };
  const deadline = Date.now() + 60_000;
  while (!(await portAnswers(port))) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${out}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} not ready on 127.0.0.1:${port} in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, proc, output: () => out, stop };
}

/** `externalUrl`: where resumable-upload sessions point (a recording proxy in front, say). */
export async function startFakeGcs(opts: { externalUrl?: string } = {}): Promise<FakeGcs> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const emu = await startProcess(
    'fake-gcs-server',
    fakeGcsBin(),
    [
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(port),
      '-backend',
      'memory',
      // Resumable uploads answer with a Location: it must point back here, not at Google.
      '-external-url',
      opts.externalUrl ?? endpoint,
      '-public-host',
      `127.0.0.1:${port}`,
      '-log-level',
      'error',
    ],
    port,
  );
  return {
    ...emu,
    endpoint,
    async createBucket(name: string): Promise<void> {
      const res = await fetch(`${endpoint}/storage/v1/b`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (!res.ok)
        throw new Error(
          `fake-gcs-server: creating bucket ${name} answered ${res.status}: ${await res.text()}`,
        );
    },
  };
}

/** Azurite's development account, published in its README (not a secret). */
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * `tls`: serve https with this certificate and check bearer tokens (`--oauth basic`: issuer,
 * audience and expiry, not the signature). The Azure SDK sends tokens only over https; a process
 * that talks to it must trust the certificate (NODE_EXTRA_CA_CERTS), so createContainer, which
 * runs in the test process, is then not available.
 */
export async function startAzurite(
  opts: { tls?: { certFile: string; keyFile: string } } = {},
): Promise<Azurite> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'inferlog-azurite-'));
  const emu = await startProcess(
    'azurite-blob',
    azuriteBin(),
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      // In memory: nothing to clean up, and 2.4-part test objects never touch the disk. Its
      // working directory is still a fresh temporary one (Azurite writes a debug file there).
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--loose',
      '--silent',
      ...(opts.tls ? ['--cert', opts.tls.certFile, '--key', opts.tls.keyFile, '--oauth', 'basic'] : []),
    ],
    port,
    dir,
  );
  const scheme = opts.tls ? 'https' : 'http';
  const serviceUrl = `${scheme}://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const connectionString =
    `DefaultEndpointsProtocol=${scheme};AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `BlobEndpoint=${serviceUrl};`;
  return {
    ...emu,
    async stop(): Promise<void> {
      await emu.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    account: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
    serviceUrl,
    connectionString,
    async createContainer(name: string): Promise<void> {
      await BlobServiceClient.fromConnectionString(connectionString)
        .getContainerClient(name)
        .createIfNotExists();
    },
  };
}
