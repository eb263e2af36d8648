/**
 * Request bodies for the simple model: `{"instances":[…floats…]}` grown to a target size.
 * The model accepts any number of instances, so one body shape serves 100 B to 1 MiB.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Payload {
  /** Label for tables: `100B`, `64KiB`, `1MiB`. */
  label: string;
  /** Exact size of the body in bytes. */
  bytes: number;
  path: string;
}

export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)}MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}

/** The largest `{"instances":[…]}` body not over `target` bytes (at least one instance). */
export function buildBody(target: number): string {
  const head = '{"instances":[';
  const tail = ']}';
  const parts: string[] = [];
  let len = head.length + tail.length;
  for (let i = 0; ; i++) {
    // Deterministic floats of varying width, like real feature vectors.
    const v = (((i * 7919) % 10007) / 1000).toFixed(3);
    const add = v.length + (parts.length ? 1 : 0);
    if (parts.length && len + add > target) break;
    parts.push(v);
    len += add;
  }
  return head + parts.join(',') + tail;
}

export function writePayload(dir: string, target: number): Payload {
  const body = buildBody(target);
  const label = sizeLabel(target);
  const path = join(dir, `payload-${label}.json`);
  writeFileSync(path, body);
  return { label, bytes: Buffer.byteLength(body), path };
}
