/**
 * `inferlog query`: find stored exchanges through a collector's API.
 *
 *   flags ──▶ GET /api/v1/exchanges (or /exchanges/{id}) ──▶ table | json | jsonl on stdout
 *
 * Exit codes: 0 ok, 1 no such id, 2 usage (including a filter the collector rejects: 400, the
 * message names the parameter; the same code `replay` uses), 69 collector unreachable.
 */
import type { Command } from 'commander';
import { CollectorApiError, CollectorUnreachableError, getJson } from '../../api/client.js';
import type { ListAnswer } from '../../api/client.js';
import type { ExchangeView } from '../../api/view.js';

interface QueryFlags {
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
  limit: string;
  cursor?: string;
  format: string;
}

export function failWith(command: string, err: unknown): never {
  if (err instanceof CollectorUnreachableError) {
    process.stderr.write(`inferlog ${command}: ${err.message}\n`);
    process.exit(69);
  }
  if (err instanceof CollectorApiError) {
    process.stderr.write(`inferlog ${command}: ${err.message}\n`);
    // A filter the collector rejects (400) is a flag value to fix: a usage error, as in `replay`.
    process.exit(err.status === 400 ? 2 : 1);
  }
  throw err;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length);
}

export function oneLine(text: string | null | undefined, max: number): string {
  if (!text) return '';
  const t = text.replace(/\s+/g, ' ');
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

export function statusText(e: ExchangeView): string {
  if (e.errorCode) return e.errorCode;
  return e.status === null ? '-' : String(e.status);
}

export function latencyText(e: ExchangeView): string {
  return e.latencyMs === null ? '-' : `${e.latencyMs.toFixed(1)}ms`;
}

function table(items: ExchangeView[]): string {
  const head = `${pad('TIME', 24)} ${pad('NAMESPACE/MODEL', 28)} ${pad('STATUS', 8)} ${pad('LATENCY', 10)} ${pad('ID', 36)} REQUEST`;
  const rows = items.map(
    (e) =>
      `${pad(e.time.replace(/(\.\d{3})\d*Z$/, '$1Z'), 24)} ${pad(`${e.namespace}/${e.model}`, 28)} ${pad(statusText(e) + (e.complete ? '' : '*'), 8)} ${pad(latencyText(e), 10)} ${pad(e.id, 36)} ${oneLine(e.requestPreview, 60)}`,
  );
  return [head, ...rows].join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('query')
    .description('List stored exchanges from a collector (newest first), or show one with --id.')
    .option('--url <url>', 'the collector', 'http://127.0.0.1:8090')
    .option('--id <id>', 'show one exchange with both bodies (JSON)')
    .option('--model <name>', 'InferenceService name')
    .option('--namespace <ns>')
    .option('--component <c>', 'predictor, transformer, explainer')
    .option('--status <s>', '200, 4xx, 5xx, error, incomplete')
    .option('--since <t>', 'RFC 3339 or a duration back from now, e.g. 15m')
    .option('--until <t>', 'RFC 3339 or a duration back from now')
    .option('--q <text>', 'text in the request or response body')
    .option('--trace-id <id>', 'the exchanges of one W3C trace (32 hex digits)')
    .option('--limit <n>', 'how many (1-1000)', '50')
    .option('--cursor <c>', 'continue after a previous page (nextCursor)')
    .option('--format <f>', 'table, json or jsonl', 'table')
    .action(async (f: QueryFlags) => {
      if (!['table', 'json', 'jsonl'].includes(f.format)) {
        process.stderr.write(`inferlog query: --format "${f.format}": use table, json or jsonl\n`);
        process.exit(2);
      }
      try {
        if (f.id !== undefined) {
          const ex = await getJson<ExchangeView>(f.url, `api/v1/exchanges/${encodeURIComponent(f.id)}`);
          process.stdout.write(
            f.format === 'json'
              ? JSON.stringify(ex, null, 2) + '\n'
              : f.format === 'jsonl'
                ? JSON.stringify(ex) + '\n'
                : table([ex]),
          );
          return;
        }
        const page = await getJson<ListAnswer>(f.url, 'api/v1/exchanges', {
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
        });
        if (f.format === 'json') process.stdout.write(JSON.stringify(page, null, 2) + '\n');
        else if (f.format === 'jsonl')
          process.stdout.write(page.items.map((e) => JSON.stringify(e) + '\n').join(''));
        else {
          process.stdout.write(table(page.items));
          if (page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
        }
      } catch (err) {
        failWith('query', err);
      }
    });
}
