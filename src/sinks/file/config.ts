/**
 * The file sink's URL, validated once (pure: no I/O, so `inferlog validate` can call it):
 *
 *   file:///var/log/inferlog/requests.jsonl?format=record&maxBytes=100MiB&maxFiles=5&fsync=true
 *
 * `format=line|record` (record = lossless JSONL records, bodies base64), `maxBytes` (rotate above
 * this; default 100MiB, 0 = never), `maxFiles` (rotated files kept), `fsync=true` (fsync every
 * batch: survives a machine crash, costs a disk flush per batch). Unknown parameters are
 * rejected: a typo must not silently change rotation or durability.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferlogError } from '../../core/errors.js';
import { parseBytes } from '../../core/units.js';

export interface FileSinkConfig {
  path: string;
  format: 'line' | 'record';
  maxBytes: number;
  maxFiles: number;
  fsync: boolean;
}

const KNOWN = new Set(['format', 'maxBytes', 'maxFiles', 'fsync']);

function invalid(problem: string): InferlogError {
  return new InferlogError('CONFIG_INVALID', `file sink: ${problem}`);
}

/** `file://./relative.jsonl` is not a valid file URL; accept it anyway, relative to the working directory. */
function resolveFileUrl(url: URL): URL {
  if (url.host !== '' && url.host !== 'localhost') {
    const fixed = new URL('file://' + path.resolve(url.host + url.pathname));
    fixed.search = url.search;
    return fixed;
  }
  return url;
}

export function fileSinkConfig(rawUrl: URL): FileSinkConfig {
  const url = resolveFileUrl(rawUrl);
  const q = url.searchParams;
  for (const key of q.keys()) {
    if (!KNOWN.has(key)) throw invalid(`unknown parameter "${key}"; known: ${[...KNOWN].join(', ')}`);
  }
  const format = q.get('format') ?? 'line';
  if (format !== 'line' && format !== 'record')
    throw invalid(`format must be line or record, not "${format}"`);
  const maxFiles = Number(q.get('maxFiles') ?? '5');
  if (!Number.isInteger(maxFiles) || maxFiles < 0) throw invalid('maxFiles must be a whole number ≥ 0');
  let maxBytes: number;
  try {
    maxBytes = parseBytes(q.get('maxBytes') ?? '100MiB');
  } catch (e) {
    throw invalid(`maxBytes: ${(e as Error).message}`);
  }
  const fsync = q.get('fsync') ?? 'false';
  if (fsync !== 'true' && fsync !== 'false') throw invalid(`fsync must be true or false, not "${fsync}"`);
  if (url.pathname === '' || url.pathname.endsWith('/'))
    throw invalid(`${url.href} names a directory, not a file`);
  return Object.freeze({
    path: fileURLToPath(new URL(url.pathname, 'file://')),
    format,
    maxBytes,
    maxFiles,
    fsync: fsync === 'true',
  });
}
