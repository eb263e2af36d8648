/**
 * `inferlog query`: find stored exchanges through a collector's API.
 *
 *   flags ──▶ GET /api/v1/exchanges (or /exchanges/{id}) ──▶ table | json | jsonl on stdout
 *   --instances ──▶ GET /api/v1/instances (or /exchanges/{id}/instances): one row per prediction
 *   --from URL / --db FILE [--sql …] ──▶ lake/run.ts (DuckDB over Parquet or the SQLite store)
 *
 * The table fits the terminal (120 columns off a terminal, or $COLUMNS) and is coloured on a
 * terminal only (NO_COLOR, FORCE_COLOR); `--id` prints the exchange and both bodies.
 *
 * Exit codes (exit-codes.ts): 0 ok, 1 no such id, 2 usage (including a filter the collector
 * rejects: QUERY_INVALID, the message names the parameter; the same code `replay` uses, and a URL
 * that is not a collector), 69 collector unreachable (or its store down).
 */
import type { Command } from 'commander';
import { addCollectorAccessFlags, collectorAccess, type CollectorAccessFlags } from '../collector-access.js';
import { getJson } from '../../api/client.js';
import type { ListAnswer } from '../../api/client.js';
import type { ExchangeView, InstanceView } from '../../api/view.js';
import { InferlogError } from '../../core/errors.js';
import { fail } from '../exit-codes.js';
import { colourEnabled, styles, terminalWidth } from '../../core/terminal.js';
import { instanceColumns, queryColumns } from '../format/exchange.js';
import { writeExchange, writePage, type PageOutput } from '../format/page.js';
import { exitWhenStdoutCloses } from '../util.js';
import { runLakeQuery } from '../lake/run.js';
import { addFilterFlags, filterParams, type FilterFlags } from '../filter-flags.js';

interface QueryFlags extends CollectorAccessFlags, FilterFlags {
  url: string;
  id?: string;
  limit: string;
  cursor?: string;
  format: string;
  instances?: boolean;
  from?: string;
  db?: string;
  sql?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('query')
    .description(
      'List stored exchanges from a collector or Parquet files (--from), newest first; show one with --id; or run SQL (--sql).',
    )
    .option('--url <url>', 'the collector', 'http://127.0.0.1:8090')
    .option('--id <id>', 'show one exchange with both bodies (--format json for the API object)');
  addFilterFlags(cmd, 'last')
    .option('--limit <n>', 'how many (1-1000)', '50')
    .option('--cursor <c>', 'continue after a previous page (nextCursor)')
    .option(
      '--instances',
      "one row per prediction instead (collect --log-instances): filters model, namespace, component, since, until; with --id, that exchange's",
    )
    .option('--format <f>', 'table, json or jsonl (--sql: also csv)', 'table')
    .option(
      '--from <url>',
      'read Parquet of the exchanges layout instead of a collector: s3://, gs://, abfs://, or a directory',
    )
    .option('--db <file>', "read a collector's SQLite store directly (with --sql)")
    .option(
      '--sql <select>',
      'run SQL over a view named exchanges (with --from or --db): the exchanges the filters match',
    );
  addCollectorAccessFlags(cmd);
  cmd.action(async (f: QueryFlags) => {
    exitWhenStdoutCloses();
    const o: PageOutput = {
      out: process.stdout,
      err: process.stderr,
      width: terminalWidth(process.stdout),
      styles: styles(colourEnabled(process.stdout)),
    };
    if (f.from !== undefined || f.db !== undefined || f.sql !== undefined) {
      try {
        if (f.from === undefined && f.db === undefined)
          throw new InferlogError('USAGE_INVALID', '--sql needs --from URL or --db FILE');
        await runLakeQuery(f, o);
      } catch (err) {
        fail('query', err);
      }
      return;
    }
    if (!['table', 'json', 'jsonl'].includes(f.format)) {
      fail('query', new InferlogError('USAGE_INVALID', `--format "${f.format}": use table, json or jsonl`));
    }
    try {
      const collector = collectorAccess(f.url, f);
      if (f.instances === true) {
        const page = await getJson<{ items: InstanceView[]; nextCursor?: string | null }>(
          collector,
          f.id !== undefined ? `api/v1/exchanges/${encodeURIComponent(f.id)}/instances` : 'api/v1/instances',
          f.id !== undefined ? {} : { ...filterParams(f, 'none'), limit: f.limit, cursor: f.cursor },
        );
        writePage(page, f.format, instanceColumns(), o);
        return;
      }
      if (f.id !== undefined) {
        const ex = await getJson<ExchangeView>(collector, `api/v1/exchanges/${encodeURIComponent(f.id)}`);
        writeExchange(ex, f.format, o);
        return;
      }
      const page = await getJson<ListAnswer>(collector, 'api/v1/exchanges', {
        ...filterParams(f, 'last'),
        limit: f.limit,
        cursor: f.cursor,
      });
      writePage(page, f.format, queryColumns(), o);
    } catch (err) {
      fail('query', err);
    }
  });
}
