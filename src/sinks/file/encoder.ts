/** A batch as the text one append writes: a JSON line (the seed's shape) or a lossless JSONL record per exchange. */
import type { Exchange } from '../../core/exchange.js';
import { encodeJsonLine } from '../../formats/json-line.js';
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
