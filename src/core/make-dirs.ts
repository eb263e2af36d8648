/**
 * `mkdir -p` that always terminates. Node 20's `mkdirSync(p, { recursive: true })` spins forever
 * on some paths (e.g. under /proc, where mkdir answers ENOENT for a parent that exists), which
 * would hang an agent at start-up on a mistyped --spool-dir. This walks the components itself and
 * throws the first real error.
 *
 * Every level it creates gets `mode` exactly (default 0700: the directories hold captured
 * traffic), set with chmod so the umask cannot widen or narrow it. Existing levels are left alone.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

export function makeDirs(dir: string, mode = 0o700): void {
  const target = path.resolve(dir);
  const missing: string[] = [];
  let current = target;
  for (;;) {
    try {
      if (!statSync(current).isDirectory()) {
        // Shaped like mkdir's own errno error on purpose: callers handle both alike.
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
      mkdirSync(d, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      continue; // someone else made it meanwhile: theirs, not ours to chmod
    }
    chmodSync(d, mode);
  }
}
