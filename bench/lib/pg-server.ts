/**
 * A throwaway database on a PostgreSQL server for one bench point, and what the server spent on it.
 *
 *   pgScratchDatabase(server URL) ──CREATE DATABASE inferlog_bench_<random>──▶ { url, serverCpuMs, count, drop }
 *
 * Server CPU is read from /proc (Linux, same machine): the backends connected to the scratch
 * database plus the server's background processes (WAL writer, checkpointer, autovacuum…), found
 * through pg_stat_activity. Backends of other databases are left out, so tests of other engineers
 * on the same shared server do not count; background work they cause does (a small overcount).
 * A backend that ends between two readings loses its last slice (the collector's pool keeps its
 * connections while it is busy, so this is rare).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import pg from 'pg';

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function ticks(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return undefined;
  }
}

/** Per-pid CPU ticks at one moment. */
export type PgCpuSnapshot = Map<number, number>;

export interface PgScratch {
  /** The scratch database's URL, for `inferlog collect --store`. */
  readonly url: string;
  /** Server CPU since `since` (ms), and a snapshot for the next reading. */
  serverCpuMs(): Promise<PgCpuSnapshot>;
  serverCpuMs(since: PgCpuSnapshot): Promise<{ ms: number; now: PgCpuSnapshot }>;
  count(table: string): Promise<number>;
  drop(): Promise<void>;
}

export async function pgScratchDatabase(serverUrl: string): Promise<PgScratch> {
  const name = `inferlog_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  const url = u.toString();

  async function snapshot(): Promise<PgCpuSnapshot> {
    const r = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 OR backend_type <> 'client backend'`,
      [name],
    );
    const out: PgCpuSnapshot = new Map();
    for (const { pid } of r.rows) {
      const t = ticks(pid);
      if (t !== undefined) out.set(pid, t);
    }
    return out;
  }

  async function serverCpuMs(since?: PgCpuSnapshot): Promise<unknown> {
    const now = await snapshot();
    if (!since) return now;
    let t = 0;
    // A pid new since the first reading started during the run: all of its CPU counts.
    for (const [pid, v] of now) t += v - (since.get(pid) ?? 0);
    return { ms: (t * 1000) / CLK_TCK, now };
  }

  return {
    url,
    serverCpuMs: serverCpuMs as PgScratch['serverCpuMs'],
    async count(table) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
      } finally {
        await c.end();
      }
    },
    async drop() {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
