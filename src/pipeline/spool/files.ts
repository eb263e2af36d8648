/**
 * Whole-file reads of the spool's own files, through the private-file rules (O_NOFOLLOW).
 *
 *   lock, ledger ──readIfPresent──▶ bytes | undefined (absent)      segment (recovery) ──readWhole──▶ bytes
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openPrivateSync } from '../../core/private-files.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_TRUNC } = constants;

/** The whole file behind `fd` (`size` bytes, from its start). */
export function readWhole(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** A small spool file's bytes (lock, ledger); undefined when it does not exist. Refuses a symlink. */
export function readIfPresent(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openPrivateSync(path, O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return readWhole(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

/**
 * The spool directory's id: 12 hex digits made at its first use and kept in `id`. A new (or
 * wiped) directory gets a new one, so record origins never repeat across directories or wipes.
 */
export function readOrCreateSpoolId(dir: string): string {
  const path = join(dir, 'id');
  const have = readIfPresent(path)?.toString('latin1').trim();
  if (have !== undefined && /^[0-9a-f]{12}$/.test(have)) return have;
  const id = randomBytes(6).toString('hex');
  let fd: number;
  try {
    fd = openPrivateSync(path, O_WRONLY | O_CREAT | (have === undefined ? O_EXCL : O_TRUNC));
  } catch (err) {
    // Another open raced us to it (cannot happen under the lock; kept for a torn file): read theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readOrCreateSpoolId(dir);
    throw err;
  }
  try {
    writeSync(fd, `${id}\n`, 0, 'latin1');
  } finally {
    closeSync(fd);
  }
  return id;
}
