/** A batch as one write to stdout: the seed's JSON line per exchange (formats/json-line.ts). */
import type { Exchange } from '../../core/exchange.js';
import { encodeJsonLine } from '../../formats/json-line.js';

export function encodeBatch(batch: readonly Exchange[]): string {
  let text = '';
  for (const ex of batch) text += encodeJsonLine(ex) + '\n';
  return text;
}
