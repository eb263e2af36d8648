/**
 * Real processes for the fault suite: the compiled CLI (`inferlog agent`, `inferlog collect`),
 * a toy model server, a fault-injecting proxy in front of the collector, and a load generator.
 *
 *   load ──HTTP (Ce-Id = our id)──▶ agent [process] ──▶ model (in test process)
 *                                     └─spool─▶ faulty proxy (500 / slow / hang) ──▶ collector [process] ──▶ SQLite
 *
 * Afterwards the test compares the ids that got a response with the ids in the store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Agent, fetch as undiciFetch } from 'undici';

const CLI = join(process.cwd(), 'bin/inferlog.js');

export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Proc {
  child: ChildProcess;
  stderr: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `inferlog <args>` and resolves once it prints its ready line. `env` adds to the
 * environment, e.g. `XDG_STATE_HOME`: where the default spool lives, one per topology, so a
 * restarted agent finds what the killed one left and no other test does.
 */
export async function spawnCli(
  args: string[],
  ready = /ready/,
  env: Record<string, string> = {},
): Promise<Proc> {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, INFERLOG_LOG_LEVEL: 'info', ...env },
  });
  let err = '';
  child.stderr?.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`inferlog ${args[0]} did not become ready:\n${err}`)),
      20_000,
    );
    child.stderr?.on('data', (d: string) => {
      err += d;
      if (ready.test(err)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`inferlog ${args[0]} exited with ${code}:\n${err}`));
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    stderr: () => err,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

export function startCollector(port: number, db: string): Promise<Proc> {
  return spawnCli(['collect', '--port', String(port), '--store', `sqlite:${db}`]);
}

export function startAgent(o: {
  port: number;
  modelPort: number;
  logUrl: string;
  /** Unset: the agent's default (a spool under `stateHome`). */
  spoolDir?: string;
  /** XDG_STATE_HOME of the agent process. */
  stateHome: string;
  adminPort: number;
  extra?: string[];
}): Promise<Proc> {
  return spawnCli(
    [
      'agent',
      // The harness tracks exchanges by the Ce-Id it sends (off by default).
      '--trust-inbound-id',
      'true',
      '--port',
      String(o.port),
      '--component-port',
      String(o.modelPort),
      '--log-url',
      o.logUrl,
      ...(o.spoolDir === undefined ? [] : ['--spool-dir', o.spoolDir]),
      '--admin-port',
      String(o.adminPort),
      '--inference-service',
      'fault-model',
      '--namespace',
      'test',
      ...(o.extra ?? []),
    ],
    /ready/,
    { XDG_STATE_HOME: o.stateHome },
  );
}

/** A toy model server: answers every POST with a small JSON prediction. */
export async function startModel(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"predictions":[1]}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => closeServer(server) };
}

export type Fault = 'ok' | '500' | 'slow' | 'hang';

/** A proxy in front of the collector that misbehaves on demand. */
export async function startFaultyProxy(
  targetPort: number,
): Promise<{ port: number; fault: Fault; close(): Promise<void> }> {
  const hung = new Set<ServerResponse>();
  const state = { port: 0, fault: 'ok' as Fault, close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fault = state.fault;
      if (fault === 'hang') {
        hung.add(res);
        return;
      }
      if (fault === '500') {
        res.writeHead(500);
        res.end('injected');
        return;
      }
      const forward = (): void => {
        const up = request(
          { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
          (upRes) => {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
          },
        );
        up.on('error', () => {
          res.writeHead(502);
          res.end();
        });
        up.end(Buffer.concat(chunks));
      };
      if (fault === 'slow') setTimeout(forward, 1500);
      else forward();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  state.close = async () => {
    for (const r of hung) r.destroy();
    await closeServer(server);
  };
  return state;
}

const dispatcher = new Agent({ connections: 32, keepAliveTimeout: 1000 });

/**
 * Sends `n` predictions with `concurrency` workers, each with its own Ce-Id. Returns the ids
 * whose response reached us (status 200); failures (agent down) are expected and not returned.
 * `onProgress(done)` runs after each response, so a test can inject a fault mid-load.
 */
export async function load(o: {
  port: () => number;
  n: number;
  prefix: string;
  concurrency?: number;
  bodyBytes?: number;
  onProgress?: (done: number) => void | Promise<void>;
}): Promise<Set<string>> {
  const ok = new Set<string>();
  let next = 0;
  let done = 0;
  const body = JSON.stringify({ instances: [[1, 2, 3, 4]], pad: 'x'.repeat(o.bodyBytes ?? 0) });
  const worker = async (): Promise<void> => {
    while (next < o.n) {
      const id = `${o.prefix}-${next++}`;
      try {
        const res = await undiciFetch(`http://127.0.0.1:${o.port()}/v1/models/fault-model:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'ce-id': id },
          body,
          dispatcher,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        if (res.status === 200) ok.add(id);
      } catch {
        await new Promise((r) => setTimeout(r, 20)); // the agent is down: this one got no response
      }
      done++;
      await o.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 16 }, worker));
  return ok;
}

/** How many rows the store holds per id (the key makes 1 the only possible answer; checked anyway). */
export function storedRowsPerId(db: string): Map<string, number> {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const rows = d.prepare('SELECT id, count(*) AS n FROM exchanges GROUP BY id').all() as {
      id: string;
      n: number;
    }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  } finally {
    d.close();
  }
}

/** Ids the collector stored with both halves (request and response). */
export function storedIds(db: string): Set<string> {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return new Set(
      (d.prepare('SELECT id FROM exchanges WHERE complete = 1').all() as { id: string }[]).map((r) => r.id),
    );
  } finally {
    d.close();
  }
}

export async function metrics(adminPort: number): Promise<string> {
  const res = await undiciFetch(`http://127.0.0.1:${adminPort}/metrics`, { dispatcher });
  return res.text();
}

export async function health(
  adminPort: number,
): Promise<{ ok: boolean; sinks: { sinkUp: boolean; lastError?: string; buffered: number }[] }> {
  const res = await undiciFetch(`http://127.0.0.1:${adminPort}/healthz`, { dispatcher });
  return (await res.json()) as {
    ok: boolean;
    sinks: { sinkUp: boolean; lastError?: string; buffered: number }[];
  };
}

/** Resident memory of a process, in bytes (Linux). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}
