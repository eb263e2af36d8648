/**
 * Whole-file reads of the spool's own files, through the private-file rules (O_NOFOLLOW).
 *
 *   lock, ledger ──readIfPresent──▶ bytes | undefined (absent)      segment (recovery) ──readWhole──▶ bytes
 */
import { closeSync, constants, fstatSync, readSync } from 'node:fs';
import { openPrivateSync } from '../../core/private-files.js';

const { O_RDONLY } = constants;

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
