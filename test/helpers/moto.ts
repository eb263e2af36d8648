/**
 * moto's S3 server (PyPI `moto[server]`, in the venv peer: scripts/peers/python.sh) on a free
 * 127.0.0.1 port, one per test file, for the blob sink's tests:
 *
 *   startMoto() ──spawn moto_server -H 127.0.0.1 -p <port>──▶ { endpoint, env, createBucket, stop }
 *
 * `env` is what KServe's storage secret would inject for an S3-compatible server: endpoint,
 * region, path-style buckets (S3_USER_VIRTUAL_BUCKET=false), and moto's accepted test keys.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Credentials } from '../../src/transport/object-store/object-store.js';
import { PEERS_DIR, freePort, portAnswers } from './peers.js';

export interface Moto {
  endpoint: string;
  /** The environment a process needs to write to this server (KServe's variable names). */
  env: Record<string, string>;
  /** The same settings as S3Credentials (what resolveStoreCredentials gives for `env`). */
  credentials: S3Credentials;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

export function motoBin(): string {
  const bin = join(PEERS_DIR, 'venv/bin/moto_server');
  if (!existsSync(bin))
    throw new Error(`${bin} not found: run \`bash scripts/peers/python.sh install\` (installs moto[server])`);
  return bin;
}

/** `port`: a given port (a test that restarts the store at the same address), else a free one. */
export async function startMoto(port?: number): Promise<Moto> {
  port ??= await freePort();
  const proc = spawn('setpriv', ['--pdeathsig', 'KILL', motoBin(), '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const deadline = Date.now() + 60_000;
  while (!(await portAnswers(port))) {
    if (proc.exitCode !== null) throw new Error(`moto_server exited (${proc.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`moto_server not ready on ${port}:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const env = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_DEFAULT_REGION: 'us-east-1',
    S3_USER_VIRTUAL_BUCKET: 'false',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  };
  return {
    endpoint,
    env,
    credentials: {
      kind: 's3',
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      accessKeyId: 'testing',
      secretAccessKey: 'testing',
    },
    async createBucket(name) {
      const res = await fetch(`${endpoint}/${name}`, { method: 'PUT' });
      if (!res.ok) throw new Error(`moto: create bucket ${name}: ${res.status} ${await res.text()}`);
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}
