/**
 * Rules 7 and 8 of the spool (index.ts): one process per directory, and only this process's uid.
 *
 *   claimDirectory(dir) ── makeDirs 0700 ─▶ assertOwnDirectory ─▶ `lock` file: a live other pid? ─▶ refuse
 *                                                                     │ absent, stale, or our own pid
 *                                                                     ▼
 *                                                       write our pid (0600, O_NOFOLLOW) ─▶ DirLock
 *   DirLock.release() ── forget the directory in this process ─▶ unlink `lock`
 *
 * Why a pid file: Node has no flock, and a pid needs no cleanup after a crash: a process killed
 * with SIGKILL leaves a pid that is no longer alive, so the next start takes over by itself. Two
 * spools in one process share the pid, so this process also keeps the set of directories it holds.
 */
import { closeSync, constants, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InferlogError } from '../../core/errors.js';
import { makeDirs } from '../../core/make-dirs.js';
import { assertOwnDirectory, openPrivateSync } from '../../core/private-files.js';
import { readIfPresent } from './files.js';

const { O_WRONLY, O_CREAT, O_TRUNC } = constants;

/** Spool directories open in this process (the pid lock cannot tell two of them apart). */
const openInThisProcess = new Set<string>();

export interface DirLock {
  /** Gives up the directory: idempotent. */
  release(): void;
}

/**
 * Creates `dir` (0700) if needed, checks that only this process's uid can write to it
 * (UNSAFE_PATH otherwise), and takes its lock. Throws if this process or another live one holds it.
 */
export function claimDirectory(dir: string): DirLock {
  makeDirs(dir);
  assertOwnDirectory(dir, 'spool directory');
  return lockDirectory(dir);
}

/** Takes the pid lock of an existing directory. Throws if this process or another live one holds it. */
export function lockDirectory(dir: string): DirLock {
  const key = resolve(dir);
  if (openInThisProcess.has(key))
    throw new InferlogError(
      'CONFIG_INVALID',
      `spool directory ${dir} is already open in this process (give each pipeline its own)`,
    );
  const path = join(dir, 'lock');
  let owner = NaN;
  const held = readIfPresent(path);
  if (held !== undefined) owner = Number(held.toString('utf8'));
  // A lock left by a killed process (or by this pid in an earlier life, e.g. pid 1 in a container) is stale.
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
    throw new InferlogError('CONFIG_INVALID', `spool directory ${dir} is in use by process ${owner}`);
  }
  const fd = openPrivateSync(path, O_WRONLY | O_CREAT | O_TRUNC);
  try {
    writeSync(fd, String(process.pid));
  } finally {
    closeSync(fd);
  }
  openInThisProcess.add(key);
  let locked = true;
  return {
    release() {
      if (!locked) return;
      locked = false;
      openInThisProcess.delete(key);
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    },
  };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
