/**
 * How `query` prints what it found, the same from a collector and from the lake (lake/run.ts):
 * a page as table | json | jsonl, one exchange as its detail | json | jsonl.
 */
import type { Writable } from 'node:stream';
import type { Styles } from '../../core/terminal.js';
import type { ExchangeView } from '../../api/view.js';
import { renderDetail } from './exchange.js';
import { renderTable, type Column } from './table.js';

export interface PageOutput {
  out: Writable;
  err: Writable;
  width: number;
  styles: Styles;
}

/**
 * A list page. `json` prints the whole page object (items and nextCursor); the table hints the
 * next page's cursor on stderr so stdout stays the rows.
 */
export function writePage<T>(
  page: { items: T[]; nextCursor?: string | null },
  format: string,
  columns: Column<T>[],
  o: PageOutput,
): void {
  if (format === 'json') o.out.write(JSON.stringify(page, null, 2) + '\n');
  else if (format === 'jsonl') o.out.write(page.items.map((r) => JSON.stringify(r) + '\n').join(''));
  else {
    o.out.write(renderTable(columns, page.items, o.width, o.styles));
    if (page.nextCursor) o.err.write(`more: --cursor ${page.nextCursor}\n`);
  }
}

/** One exchange (`--id`): the API object, or the detail with both bodies. */
export function writeExchange(ex: ExchangeView, format: string, o: PageOutput): void {
  o.out.write(
    format === 'json'
      ? JSON.stringify(ex, null, 2) + '\n'
      : format === 'jsonl'
        ? JSON.stringify(ex) + '\n'
        : renderDetail(ex, o.styles),
  );
}
