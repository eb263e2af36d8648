/**
 * Where the delivery buffer lives when the user did not say: zero loss with default settings.
 *
 *   --spool-dir DIR given ─────────────────────────────────────────▶ DIR (as before)
 *   unset ──▶ $XDG_STATE_HOME/inferlog/<name> (else ~/.local/state/inferlog/<name>)
 *               │ can be created 0700 and is ours ──▶ disk spool there (or, with --durability none,
 *               │                                      only the memory buffer's loss counter)
 *               └ no state home, not writable, no stable name ──▶ memory only, said at start
 *
 * `<name>` is stable across restarts, so the next start delivers what a crash left:
 * `agent-<port>` for the agent, `up-<port>/<namespace>.<service>` for `inferlog up`. The port
 * is in it because two processes on one host never share a port, and a spool belongs to one
 * process. The container image sets XDG_STATE_HOME=/var/lib/inferlog, where the Kubernetes
 * manifests mount the spool volume (deploy/kubernetes/agent-spool-volume.yaml).
 */
import { accessSync, constants, readdirSync } from 'node:fs';
import path from 'node:path';
import type { LoggerSettings } from '../config/settings.js';
import { makeDirs } from '../core/make-dirs.js';
import { assertOwnDirectory } from '../core/private-files.js';

/** inferlog's state directory: `$XDG_STATE_HOME/inferlog`, else `$HOME/.local/state/inferlog`. */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // The XDG spec: a relative path in XDG_STATE_HOME is invalid and must be ignored.
  const xdg = env.XDG_STATE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'inferlog');
  const home = env.HOME;
  if (home && path.isAbsolute(home)) return path.join(home, '.local', 'state', 'inferlog');
  return undefined;
}

/** A path component from a name a YAML chose: no separators, no `..`, nothing hidden. */
function safeComponent(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return s === '' ? '_' : s;
}

/** The default spool of `inferlog agent` listening on `port`; undefined for port 0 (no stable name). */
export function agentSpoolName(port: number): string | undefined {
  return port > 0 ? `agent-${port}` : undefined;
}

/** The default spool of one service of `inferlog up` listening on `port`. */
export function upSpoolName(port: number, namespace: string, service: string): string | undefined {
  if (port <= 0) return undefined;
  return path.join(`up-${port}`, `${safeComponent(namespace || 'default')}.${safeComponent(service)}`);
}

/**
 * The spool of agent process `index` under `--processes N`: its own directory below the one the
 * user chose, so no two processes share a ledger or a lock, and a restarted process (same index)
 * recovers what its predecessor left. `--processes 1` keeps today's layout (no subdirectory).
 */
export function processSpoolSettings(settings: LoggerSettings, index: number): LoggerSettings {
  const dir = settings.spool.dir;
  if (dir === undefined) return settings;
  return { ...settings, spool: { ...settings.spool, dir: path.join(dir, `worker-${index}`) } };
}

/** The default spool name of agent process `index`: `agent-<port>/worker-<index>`. */
export function processSpoolName(name: string | undefined, index: number): string | undefined {
  return name === undefined ? undefined : path.join(name, `worker-${index}`);
}

/**
 * Spools under `root` that no process of an agent with `count` processes will open: the root's
 * own segments when several processes run (each uses `worker-<i>`), and `worker-<k>` for k ≥ count.
 * They may hold exchanges a previous run left, so the agent names them at start (principle 2)
 * rather than leaving them silently. A segment file can outlive its last acknowledged record, so
 * this says "may".
 */
export function strandedSpools(root: string, count: number): string[] {
  const hasSegments = (dir: string): boolean => {
    try {
      return readdirSync(dir).some((f) => /^segment-\d+\.dat$/.test(f));
    } catch {
      return false;
    }
  };
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  const out: string[] = [];
  if (count > 1 && hasSegments(root)) out.push(root);
  for (const e of entries) {
    const m = /^worker-(\d+)$/.exec(e);
    const dir = path.join(root, e);
    // With one process the root is the spool and every worker-<k> is a previous run's.
    if (m && (count === 1 || Number(m[1]) >= count) && hasSegments(dir)) out.push(dir);
  }
  return out.sort();
}

export interface BufferPlan {
  /** The settings to start the pipeline with (spool.dir filled in when a default was taken). */
  settings: LoggerSettings;
  /** Set when the buffer is memory only: why, for the start-up warning. */
  memoryOnly?: string;
  /** Set when spool.dir was chosen here rather than by the user. */
  defaulted?: boolean;
}

/**
 * Fills in the default spool directory `name` (under `home`) when the user gave none. Never
 * throws: a default that cannot be used means memory only, with the reason.
 */
export function planBuffer(
  settings: LoggerSettings,
  name: string | undefined,
  home: string | undefined,
): BufferPlan {
  const { spool } = settings;
  if (spool.dir !== undefined) {
    return spool.durability === 'none' ? { settings, memoryOnly: '--durability none' } : { settings };
  }
  const optedOut = spool.durability === 'none' ? '--durability none' : undefined;
  if (name === undefined)
    return { settings, memoryOnly: optedOut ?? 'listening on port 0: no stable name for a spool directory' };
  if (home === undefined)
    return { settings, memoryOnly: optedOut ?? 'neither XDG_STATE_HOME nor HOME is set: no state directory' };
  const dir = path.join(home, name);
  try {
    makeDirs(dir);
    // Every level from inferlog's state directory down must be ours and closed to others: whoever
    // can write to a parent can swap the spool directory for another after this check.
    for (let d = dir; ; d = path.dirname(d)) {
      assertOwnDirectory(d, 'spool directory');
      if (d === home || path.dirname(d) === d) break;
    }
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { settings, memoryOnly: optedOut ?? `cannot use ${dir} (${why}); set --spool-dir` };
  }
  // With --durability none the directory still holds the memory buffer's small loss counter.
  return {
    settings: { ...settings, spool: { ...spool, dir } },
    defaulted: true,
    ...(optedOut ? { memoryOnly: optedOut } : {}),
  };
}

/** The start-up warning for a memory-only buffer; undefined when the buffer is on disk. */
export function memoryOnlyWarning(plan: BufferPlan): string | undefined {
  if (plan.memoryOnly === undefined) return undefined;
  const dir = plan.settings.spool.dir;
  const counted =
    dir === undefined
      ? 'nothing can count that loss across restarts'
      : `${path.join(dir, 'memory-counter')} counts it for the next start`;
  return `the log buffer is in memory only (${plan.memoryOnly}): a crash or SIGKILL loses what it holds; ${counted}`;
}
