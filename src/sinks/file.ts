/**
 * file sink: `file:///var/log/inferlog/requests.jsonl` — the seed's JSON line per exchange,
 * appended, with size-based rotation and retention.
 *
 *   batch ──encode (json-line | record)──▶ one append ──▶ requests.jsonl
 *                                              └─ over maxBytes? rename .jsonl → .1.jsonl … keep maxFiles
 *
 * Query parameters: `format=line|record` (record = lossless JSONL records, bodies base64),
 * `maxBytes=100MiB` (rotate above this; default 100MiB, 0 = never), `maxFiles=5` (rotated files kept),
 * `fsync=true` (fsync every batch: survives a machine crash, costs a disk flush per batch).
 */
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Exchange } from '../core/exchange.js';
import { InferlogError } from '../core/errors.js';
import { makeDirs } from '../core/make-dirs.js';
import { PRIVATE_FILE_MODE } from '../core/private-files.js';
import { encodeJsonLine } from '../formats/json-line.js';
import { encodeRecord } from '../formats/jsonl-record.js';
import { parseBytes } from '../config/annotations.js';
import type { Sink, SinkFactory } from './sink.js';

export interface FileSinkSettings {
  path: string;
  format: 'line' | 'record';
  maxBytes: number;
  maxFiles: number;
  fsync: boolean;
}

export function fileSinkSettings(url: URL): FileSinkSettings {
  const q = url.searchParams;
  const format = q.get('format') ?? 'line';
  if (format !== 'line' && format !== 'record') {
    throw new InferlogError('CONFIG_INVALID', `file sink: format must be line or record, not "${format}"`);
  }
  const maxFiles = Number(q.get('maxFiles') ?? '5');
  if (!Number.isInteger(maxFiles) || maxFiles < 0) {
    throw new InferlogError('CONFIG_INVALID', `file sink: maxFiles must be a whole number ≥ 0`);
  }
  return {
    path: fileURLToPath(new URL(url.pathname, 'file://')),
    format,
    maxBytes: parseBytes(q.get('maxBytes') ?? '100MiB'),
    maxFiles,
    fsync: q.get('fsync') === 'true',
  };
}

/** `file://./relative.jsonl` is not a valid file URL; accept it anyway, relative to the working directory. */
function resolveFileUrl(url: URL): URL {
  if (url.host !== '' && url.host !== 'localhost') {
    const rel = path.resolve(url.host + url.pathname);
    const fixed = new URL('file://' + rel);
    fixed.search = url.search;
    return fixed;
  }
  return url;
}

export const createFileSink: SinkFactory = (rawUrl) => {
  const url = resolveFileUrl(rawUrl);
  const settings = fileSinkSettings(url);
  const encode = settings.format === 'line' ? encodeJsonLine : encodeRecord;
  let handle: FileHandle | undefined;
  let size = 0;

  const openFile = async (): Promise<void> => {
    makeDirs(path.dirname(settings.path));
    // Captured traffic: a new log file is readable by this user only (rotation creates new ones too).
    handle = await open(settings.path, 'a', PRIVATE_FILE_MODE);
    size = (await stat(settings.path)).size;
  };

  const rotate = async (): Promise<void> => {
    await handle?.close();
    handle = undefined;
    const ext = path.extname(settings.path);
    const base = settings.path.slice(0, settings.path.length - ext.length);
    const nth = (n: number): string => `${base}.${n}${ext}`;
    if (settings.maxFiles === 0) {
      await rm(settings.path, { force: true });
    } else {
      await rm(nth(settings.maxFiles), { force: true });
      for (let n = settings.maxFiles - 1; n >= 1; n--) await rename(nth(n), nth(n + 1)).catch(() => {});
      await rename(settings.path, nth(1));
    }
    await openFile();
  };

  const sink: Sink = {
    name: `file://${settings.path}`,
    maxBatch: 512,
    async start() {
      try {
        await openFile();
      } catch (e) {
        throw new InferlogError(
          'SINK_IO',
          `file sink: cannot open ${settings.path}: ${(e as Error).message}`,
          { cause: e },
        );
      }
    },
    async send(batch: readonly Exchange[]) {
      let text = '';
      for (const ex of batch) text += encode(ex) + '\n';
      try {
        if (!handle) await openFile();
        const buf = Buffer.from(text);
        await (handle as FileHandle).write(buf);
        if (settings.fsync) await (handle as FileHandle).sync();
        size += buf.length;
        if (settings.maxBytes > 0 && size >= settings.maxBytes) await rotate();
      } catch (e) {
        throw new InferlogError(
          'SINK_IO',
          `file sink: cannot write ${settings.path}: ${(e as Error).message}`,
          { cause: e },
        );
      }
    },
    async shutdown() {
      const h = handle;
      handle = undefined;
      await h?.close();
    },
  };
  return sink;
};
