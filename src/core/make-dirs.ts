/**
 * `mkdir -p` that always terminates. Node 20's `mkdirSync(p, { recursive: true })` spins forever
 * on some paths (e.g. under /proc, where mkdir answers ENOENT for a parent that exists), which
 * would hang an agent at start-up on a mistyped --spool-dir. This walks the components itself and
 * throws the first real error.
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

export function makeDirs(dir: string): void {
  const target = path.resolve(dir);
  const missing: string[] = [];
  let current = target;
  for (;;) {
    try {
      if (!statSync(current).isDirectory()) {
        const err = new Error(`ENOTDIR: not a directory, mkdir '${target}'`) as NodeJS.ErrnoException;
        err.code = 'ENOTDIR';
        throw err;
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.push(current);
      const parent = path.dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
