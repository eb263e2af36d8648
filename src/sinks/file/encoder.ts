/** A batch as the text one append writes: a JSON line (the seed's shape) or a lossless JSONL record per exchange. */
import path from 'node:path';
import type { Exchange } from '../../core/exchange.js';
import { encodeJsonLine } from '../../formats/json-line.js';
import { instanceLines, type InstanceSkipReason } from '../../formats/instances.js';
import { encodeRecord } from '../../formats/jsonl-record.js';
import type { FileSinkConfig } from './config.js';

export type BatchEncoder = (batch: readonly Exchange[]) => Buffer;

export function batchEncoder(format: FileSinkConfig['format']): BatchEncoder {
  const encodeOne = format === 'line' ? encodeJsonLine : encodeRecord;
  return (batch) => {
    let text = '';
    for (const ex of batch) text += encodeOne(ex) + '\n';
    return Buffer.from(text);
  };
}

/** A batch's instance rows (`log-instances`) as JSON lines, and the exchanges that had none, by reason. */
export function instanceEncoder(): (batch: readonly Exchange[]) => {
  text: Buffer;
  count: number;
  skipped: InstanceSkipReason[];
} {
  return (batch) => {
    const r = instanceLines(batch);
    return { ...r, text: Buffer.from(r.text) };
  };
}

/** Where the instance rows of `file` go: `requests.jsonl` → `requests.instances.jsonl`. */
export function instancesPath(file: string): string {
  const ext = path.extname(file);
  return ext === '' ? `${file}.instances.jsonl` : `${file.slice(0, -ext.length)}.instances${ext}`;
}
