/**
 * The audit log: who read or erased captured traffic. One JSON line per body read (detail),
 * per listing that carried body previews, and per erasure, in a sink of its own, never the
 * operational log (which goes to stderr, is often shipped elsewhere, and has its own level).
 *
 *   route ──after the store answered, before the client gets it──▶ audit.record(req, entry)
 *        ──one write(2), O_APPEND──▶ file (0600) | stdout (`-`)
 *        └─ write fails ──▶ metric + error log ──▶ AUDIT_UNAVAILABLE 503 (no body leaves unaudited)
 *
 * Rules:
 * 1. Fail closed: a read whose line cannot be written is answered 503, not served. An erasure
 *    has already happened when its line is written; its failure is counted and logged and the
 *    count still answered (retrying would erase nothing more and log nothing better).
 * 2. fsync policy: every line reaches the kernel (one write) before the answer is sent, so it
 *    survives a collector crash; the file is fdatasync'ed at most once a second while lines
 *    arrive, and on close, so a power loss can cost at most the last second of lines.
 * 3. Rotation: a file renamed or removed (logrotate) is reopened at its path within a second;
 *    `copytruncate` works as well (O_APPEND).
 * 4. A line holds no bodies and no credentials: time, principal id and how it proved itself,
 *    action, the filter as asked (query parameters, id), count, remote address.
 */
import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { FastifyRequest } from 'fastify';
import { InferlogError } from '../core/errors.js';
import type { OpLogger } from '../core/log.js';
import { PRIVATE_FILE_MODE } from '../core/private-files.js';
import type { CollectorMetrics } from './metrics.js';

export type AuditAction = 'read' | 'list' | 'erase';

export interface AuditEntry {
  action: AuditAction;
  /** What was asked for: the query parameters as sent, and/or `id`. */
  filter: Record<string, unknown>;
  /** Exchanges read, listed or erased. */
  count: number;
}

export interface AuditLog {
  /** Where lines go: a file path, or `-` for stdout. */
  readonly target: string;
  /** Resolves once the line is written; throws AUDIT_UNAVAILABLE (after counting and logging) if not. */
  record(req: FastifyRequest, entry: AuditEntry): Promise<void>;
  close(): Promise<void>;
}

const SYNC_INTERVAL_MS = 1000;
/** Longest query parameter value kept in a line (the API accepts 1024). */
const MAX_VALUE_CHARS = 1024;

/** The query parameters that say what was asked; paging noise (cursor, limit) is left out. */
export function auditFilter(query: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (query && typeof query === 'object')
    for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
      if (k === 'cursor' || k === 'limit') continue;
      out[k] = typeof v === 'string' ? v.slice(0, MAX_VALUE_CHARS) : v;
    }
  return { ...out, ...extra };
}

function unavailable(target: string, cause: unknown): InferlogError {
  return new InferlogError(
    'AUDIT_UNAVAILABLE',
    'the collector cannot write its audit log; nothing was served unaudited: retry later',
    { status: 503, cause, details: { target } },
  );
}

/**
 * Opens (creates 0600, appends to) the audit sink. `-` writes to stdout. A file that cannot be
 * opened is a config error naming it, at start, not at the first read.
 */
export async function openAuditLog(
  target: string,
  metrics: CollectorMetrics,
  log: OpLogger,
): Promise<AuditLog> {
  const openFile = (): Promise<FileHandle> =>
    open(
      target,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      PRIVATE_FILE_MODE,
    );
  let handle: FileHandle | undefined;
  let inode = 0;
  if (target !== '-') {
    try {
      handle = await openFile();
      inode = (await handle.stat()).ino;
    } catch (err) {
      throw new InferlogError(
        'CONFIG_INVALID',
        `audit log ${target}: cannot open it for appending: ${(err as Error).message}`,
        { cause: err },
      );
    }
  } else {
    // A closed stdout (EPIPE) fails the write's callback; without a listener the stream's
    // 'error' event would also end the process.
    process.stdout.on('error', () => undefined);
  }
  let dirty = false;
  const sync = async (): Promise<void> => {
    if (!handle || !dirty) return;
    dirty = false;
    await handle.datasync().catch((err: unknown) => {
      metrics.auditFailures.inc();
      log.error('audit log sync failed', { target, error: (err as Error).message });
    });
  };
  // Rotation: when logrotate (or a person) renames or removes the file, the next tick opens a new
  // one at the path, so lines do not go on into a file nobody reads. The old handle is closed a
  // tick later, after any write still in flight on it.
  let retired: FileHandle | undefined;
  const reopenIfMoved = async (): Promise<void> => {
    await retired?.close().catch(() => undefined);
    retired = undefined;
    if (!handle) return;
    const now = await stat(target).then(
      (st) => st.ino,
      () => undefined,
    );
    if (now === inode) return;
    try {
      const fresh = await openFile();
      inode = (await fresh.stat()).ino;
      retired = handle;
      handle = fresh;
      log.info('audit log reopened (moved or removed)', { target });
    } catch (err) {
      metrics.auditFailures.inc();
      log.error('audit log reopen failed', { target, error: (err as Error).message });
    }
  };
  let ticking: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    ticking = ticking
      .then(sync)
      .then(reopenIfMoved)
      .catch((err: unknown) => log.error('audit log upkeep failed', { target, error: String(err) }));
  }, SYNC_INTERVAL_MS);
  timer.unref();

  const write = (line: string): Promise<void> => {
    if (handle) return handle.write(line).then(() => undefined);
    return new Promise((resolve, reject) => {
      process.stdout.write(line, (err) => (err ? reject(err) : resolve()));
    });
  };

  return {
    target,
    async record(req, entry) {
      const p = req.principal;
      const line =
        JSON.stringify({
          time: new Date().toISOString(),
          principal: p.id,
          via: p.via,
          action: entry.action,
          filter: entry.filter,
          count: entry.count,
          remote: req.ip,
        }) + '\n';
      try {
        await write(line);
      } catch (err) {
        metrics.auditFailures.inc();
        log.error('audit log write failed', {
          target,
          action: entry.action,
          error: (err as Error).message,
        });
        throw unavailable(target, err);
      }
      dirty = true;
      metrics.auditEvents.inc({ action: entry.action });
    },
    async close() {
      clearInterval(timer);
      await ticking;
      await sync();
      await retired?.close().catch(() => undefined);
      await handle?.close();
      handle = undefined;
    },
  };
}
