/**
 * Reloading credentials files (auth file, TLS certificate and key, client CA) without a restart.
 *
 *   fs.watch(directory) ──any event──┐
 *   every intervalMs ────────────────┴─▶ read the files ──same bytes as last time?──▶ nothing
 *                                              └─ changed ──▶ apply(contents) ──throws──▶ logged once, old stays
 *
 * Both, because neither alone is enough: cert-manager and Kubernetes Secret volumes replace files
 * by swapping a `..data` symbolic link, which a watch on the file itself never sees, and inotify
 * is missing on some volumes (NFS, some overlay setups). Reading a few small files every two
 * seconds costs nothing; comparing their bytes (not mtimes) catches a rewrite within the same
 * second. A change that fails to apply (a key that does not match its certificate halfway through
 * a rotation, a token file with a typo) keeps the old credentials in force and is tried again
 * when the files change again.
 */
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { OpLogger } from '../../core/log.js';

export const DEFAULT_RELOAD_INTERVAL_MS = 2_000;
const SETTLE_MS = 100;

export interface FileWatch {
  /** Reads the files now and applies them if they changed (tests and the poll call it). */
  check(): Promise<void>;
  close(): void;
}

function digest(contents: readonly Buffer[]): string {
  const h = createHash('sha256');
  for (const c of contents) h.update(createHash('sha256').update(c).digest());
  return h.digest('hex');
}

/**
 * Watches `files`; `apply` gets their contents in the same order whenever any of them changed
 * since `initial` (the contents already in force). `what` names them in log lines.
 */
export function watchFiles(
  files: readonly string[],
  initial: readonly Buffer[],
  apply: (contents: Buffer[]) => void,
  options: { what: string; log: OpLogger; intervalMs?: number },
): FileWatch {
  let current = digest(initial);
  let lastFailure: string | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const readAndApply = async (): Promise<void> => {
    let contents: Buffer[];
    try {
      contents = await Promise.all(files.map((f) => readFile(f)));
    } catch (err) {
      // Mid-swap a file can be missing for a moment; the next event or poll reads it again.
      const message = `cannot read: ${(err as Error).message}`;
      if (lastFailure !== message) options.log.warn(`${options.what}: reload skipped`, { error: message });
      lastFailure = message;
      return;
    }
    const d = digest(contents);
    if (d === current || d === lastFailure) return;
    try {
      apply(contents);
      current = d;
      lastFailure = undefined;
      options.log.info(`${options.what}: reloaded`);
    } catch (err) {
      lastFailure = d;
      options.log.error(`${options.what}: reload failed, the previous one stays in force`, {
        error: (err as Error).message,
      });
    }
  };

  const check = async (): Promise<void> => {
    if (closed) return;
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await readAndApply();
      } while (again && !closed);
    })().finally(() => (running = undefined));
    return running;
  };

  const watchers: FSWatcher[] = [];
  let settle: NodeJS.Timeout | undefined;
  for (const dir of new Set(files.map((f) => dirname(f)))) {
    try {
      // A short delay after an event: editors and `cp` write in several steps.
      const w = watch(dir, { persistent: false }, () => {
        clearTimeout(settle);
        settle = setTimeout(() => void check(), SETTLE_MS).unref();
      });
      w.on('error', () => undefined); // the poll below still runs
      watchers.push(w);
    } catch {
      // No inotify here (or the directory went away): the poll is the fallback.
    }
  }
  const timer = setInterval(() => void check(), options.intervalMs ?? DEFAULT_RELOAD_INTERVAL_MS);
  timer.unref();

  return {
    check,
    close() {
      closed = true;
      clearInterval(timer);
      clearTimeout(settle);
      for (const w of watchers) w.close();
    },
  };
}
