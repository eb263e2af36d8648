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
import { instanceColumns, queryColumns, renderDetail } from '../format/exchange.js';
import { renderTable } from '../format/table.js';
import { exitWhenStdoutCloses } from '../util.js';
import { runLakeQuery } from '../lake/run.js';

interface QueryFlags extends CollectorAccessFlags {
  url: string;
  id?: string;
  model?: string;
  namespace?: string;
  component?: string;
  status?: string;
  since?: string;
  until?: string;
  q?: string;
  traceId?: string;
  requestId?: string;
  header?: string;
  limit: string;
  cursor?: string;
  format: string;
  instances?: boolean;
  from?: string;
  db?: string;
  sql?: string;
}

/** The collector's answer → message and exit code (exit-codes.ts). */
export function failWith(command: string, err: unknown): never {
  fail(command, err);
}

export function register(program: Command): void {
  const cmd = program
    .command('query')
    .description(
      'List stored exchanges from a collector or Parquet files (--from), newest first; show one with --id; or run SQL (--sql).',
    )
    .option('--url <url>', 'the collector', 'http://127.0.0.1:8090')
    .option('--id <id>', 'show one exchange with both bodies (--format json for the API object)')
    .option('--model <name>', 'InferenceService name')
    .option('--namespace <ns>', 'Kubernetes namespace')
    .option('--component <c>', 'predictor, transformer, explainer')
    .option('--status <s>', '200, 4xx, 5xx, error, incomplete')
    .option('--since <t>', 'RFC 3339 or a duration back from now, e.g. 15m')
    .option('--until <t>', 'RFC 3339 or a duration back from now')
    .option('--q <text>', 'text in the request or response body')
    .option('--trace-id <id>', 'the exchanges of one W3C trace (32 hex digits)')
    .option('--request-id <id>', 'the exchanges whose request carried this X-Request-Id')
    .option('--header <name:value>', 'the exchanges whose request carried this header value')
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
    const width = terminalWidth(process.stdout);
    const s = styles(colourEnabled(process.stdout));
    if (f.from !== undefined || f.db !== undefined || f.sql !== undefined) {
      try {
        if (f.from === undefined && f.db === undefined)
          throw new InferlogError('USAGE_INVALID', '--sql needs --from URL or --db FILE');
        await runLakeQuery(f, { out: process.stdout, err: process.stderr, width, styles: s });
      } catch (err) {
        failWith('query', err);
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
          f.id !== undefined
            ? {}
            : {
                model: f.model,
                namespace: f.namespace,
                component: f.component,
                status: f.status,
                since: f.since,
                until: f.until,
                q: f.q,
                traceId: f.traceId,
                limit: f.limit,
                cursor: f.cursor,
              },
        );
        if (f.format === 'json') process.stdout.write(JSON.stringify(page, null, 2) + '\n');
        else if (f.format === 'jsonl')
          process.stdout.write(page.items.map((r) => JSON.stringify(r) + '\n').join(''));
        else {
          process.stdout.write(renderTable(instanceColumns(), page.items, width, s));
          if (page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
        }
        return;
      }
      if (f.id !== undefined) {
        const ex = await getJson<ExchangeView>(collector, `api/v1/exchanges/${encodeURIComponent(f.id)}`);
        process.stdout.write(
          f.format === 'json'
            ? JSON.stringify(ex, null, 2) + '\n'
            : f.format === 'jsonl'
              ? JSON.stringify(ex) + '\n'
              : renderDetail(ex, s),
        );
        return;
      }
      const page = await getJson<ListAnswer>(collector, 'api/v1/exchanges', {
        model: f.model,
        namespace: f.namespace,
        component: f.component,
        status: f.status,
        since: f.since,
        until: f.until,
        q: f.q,
        traceId: f.traceId,
        requestId: f.requestId,
        header: f.header,
        limit: f.limit,
        cursor: f.cursor,
      });
      if (f.format === 'json') process.stdout.write(JSON.stringify(page, null, 2) + '\n');
      else if (f.format === 'jsonl')
        process.stdout.write(page.items.map((e) => JSON.stringify(e) + '\n').join(''));
      else {
        process.stdout.write(renderTable(queryColumns(), page.items, width, s));
        if (page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
      }
    } catch (err) {
      failWith('query', err);
    }
  });
}
