/**
 * `inferlog query --from URL | --db FILE [--sql SELECT…]`: the collector's query, or ad-hoc SQL,
 * over Parquet files of the exchanges layout (or a collector's SQLite store), with DuckDB.
 *
 *   flags ──filters (query-params.ts)──▶ source.ts: prune, fetch, view `exchanges`
 *         ──▶ list:  SELECT … WHERE filters ORDER BY time DESC, id DESC LIMIT n ──▶ table | json | jsonl (as `query`)
 *         ──▶ --sql: the user's statement, streamed a chunk at a time ──▶ table | json | jsonl | csv
 */
import type { DuckDBResult } from '@duckdb/node-api';
import { InferlogError } from '../../core/errors.js';
import { oneLine } from '../../core/terminal.js';
import { encodeCursor, parseListQuery } from '../../collector/query-params.js';
import type { ExchangeView } from '../../api/view.js';
import { queryColumns } from '../format/exchange.js';
import { writeExchange, writePage, type PageOutput } from '../format/page.js';
import { renderTable, type Column } from '../format/table.js';
import { openLakeDb, openLakeFrom, unreadable, type LakeSource } from './source.js';
import { whereOf } from './filter.js';
import { filterParams, type FilterFlags } from '../filter-flags.js';
import { rowToView, VIEW_COLUMNS } from './view.js';

export interface LakeQueryFlags extends FilterFlags {
  from?: string;
  db?: string;
  sql?: string;
  id?: string;
  limit: string;
  cursor?: string;
  format: string;
}

export async function runLakeQuery(f: LakeQueryFlags, o: PageOutput): Promise<void> {
  if (f.from !== undefined && f.db !== undefined)
    throw new InferlogError('USAGE_INVALID', '--from and --db: give one of them');
  const formats = f.sql !== undefined ? ['table', 'json', 'jsonl', 'csv'] : ['table', 'json', 'jsonl'];
  if (!formats.includes(f.format))
    throw new InferlogError('USAGE_INVALID', `--format "${f.format}": use ${formats.join(', ')}`);
  // The same validation (and messages) as the collector's API: QUERY_INVALID names the parameter.
  const { filter, page } = parseListQuery(
    Object.fromEntries(
      Object.entries({ ...filterParams(f, 'none'), limit: f.limit, cursor: f.cursor }).filter(
        ([, v]) => v !== undefined,
      ),
    ),
    Date.now(),
  );
  const source: LakeSource =
    f.db !== undefined ? await openLakeDb(f.db, filter) : await openLakeFrom(f.from as string, filter);
  try {
    await answer(source, f, filter, page, o);
  } catch (err) {
    if (err instanceof InferlogError) throw err;
    // DuckDB failed reading what the view names (a damaged or foreign object).
    throw unreadable(f.from ?? f.db ?? '', err);
  } finally {
    await source.close();
  }
}

async function answer(
  source: LakeSource,
  f: LakeQueryFlags,
  filter: ReturnType<typeof parseListQuery>['filter'],
  page: ReturnType<typeof parseListQuery>['page'],
  o: PageOutput,
): Promise<void> {
  if (f.sql !== undefined) return await runSql(source, f.sql, f.format, o);
  if (f.id !== undefined) {
    const r = await source.conn.runAndReadAll(`SELECT ${VIEW_COLUMNS} FROM exchanges WHERE id = ? LIMIT 1`, [
      f.id,
    ]);
    const row = r.getRowObjectsJS()[0];
    if (!row) throw new InferlogError('NOT_FOUND', `no exchange ${f.id}`, { status: 404 });
    const ex = rowToView(row, true);
    writeExchange(ex, f.format, o);
    return;
  }
  const where = whereOf(filter, page.after);
  const r = await source.conn.runAndReadAll(
    `SELECT ${VIEW_COLUMNS} FROM exchanges ${where.sql} ORDER BY time DESC, id DESC LIMIT ${page.limit + 1}`,
    where.params,
  );
  const rows = r.getRowObjectsJS();
  const items: ExchangeView[] = rows.slice(0, page.limit).map((row) => rowToView(row, false));
  const last = rows.length > page.limit ? rows[page.limit - 1] : undefined;
  const nextCursor = last
    ? encodeCursor({ kind: 'time', timeMs: Number(last.time_us as bigint) / 1000, id: last.id as string })
    : undefined;
  // The collector's answer leaves nextCursor out on the last page; so does this one.
  writePage({ items, ...(nextCursor ? { nextCursor } : {}) }, f.format, queryColumns(), o);
}

/** Rows a table shows at most (it is laid out from all of them); csv and jsonl stream any number. */
const TABLE_MAX_ROWS = 10_000;

async function runSql(source: LakeSource, sql: string, format: string, o: PageOutput): Promise<void> {
  let result: DuckDBResult;
  try {
    result = await source.conn.stream(sql);
  } catch (err) {
    throw new InferlogError('QUERY_INVALID', `--sql: ${(err as Error).message}`, {
      cause: err,
      details: { parameter: 'sql' },
    });
  }
  const names = result.deduplicatedColumnNames();
  let first = true;
  const tableRows: Record<string, unknown>[] = [];
  let more = false;
  if (format === 'json') o.out.write('[');
  if (format === 'csv') o.out.write(names.map((n) => csvCell(n)).join(',') + '\r\n');
  for await (const chunk of result.yieldRowObjectJson()) {
    if (format === 'table') {
      for (const row of chunk) {
        if (tableRows.length < TABLE_MAX_ROWS) tableRows.push(row);
        else more = true;
      }
      continue;
    }
    let text = '';
    for (const row of chunk) {
      if (format === 'csv') text += names.map((n) => csvCell(row[n])).join(',') + '\r\n';
      else {
        const line = JSON.stringify(row);
        text += format === 'jsonl' ? line + '\n' : (first ? '\n' : ',\n') + line;
      }
      first = false;
    }
    if (!o.out.write(text)) await new Promise((r) => o.out.once('drain', r));
  }
  if (format === 'json') o.out.write(first ? ']\n' : '\n]\n');
  if (format === 'table') {
    const columns: Column<Record<string, unknown>>[] = names.map((n) => ({
      header: oneLine(n), // PIVOT makes column names out of data
      value: (row) => oneLine(cellText(row[n])),
      min: Math.min(8, Math.max(1, n.length)),
      max: 60,
      keep: 1,
    }));
    o.out.write(renderTable(columns, tableRows, o.width, o.styles));
    if (more) o.err.write(`first ${TABLE_MAX_ROWS} rows shown; --format csv or jsonl prints all\n`);
  }
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * RFC 4180. Text that a spreadsheet would run as a formula (a leading = + - @, tab or CR) gets a
 * leading `'`: cells hold client data (urls, bodies, headers). Numbers stay numbers.
 */
function csvCell(v: unknown): string {
  const t = cellText(v);
  const numeric = typeof v === 'number' || /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(t);
  const guarded = !numeric && /^[=+\-@\t\r]/.test(t) ? `'${t}` : t;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}
