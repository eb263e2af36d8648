/**
 * `inferlog tail`: follow new exchanges as a collector stores them.
 *
 *   GET /api/v1/exchanges?follow=true (cursor) ──every --interval──▶ new/changed exchanges
 *        ──▶ complete? print now : hold up to --grace for the other half, then print as incomplete
 *
 * KServe sends no response event for non-200 answers, so a request may never be completed:
 * the grace period keeps one line per exchange in the common case without hiding those.
 */
import type { Command } from 'commander';
import { getJson } from '../../api/client.js';
import type { ListAnswer } from '../../api/client.js';
import type { ExchangeView } from '../../api/view.js';
import { failWith, latencyText, oneLine, statusText } from './query.js';
import { parseDuration } from '../../core/units.js';

interface TailFlags {
  url: string;
  model?: string;
  namespace?: string;
  component?: string;
  status?: string;
  q?: string;
  traceId?: string;
  since?: string;
  json?: boolean;
  interval: string;
  grace: string;
}

function humanLine(e: ExchangeView): string {
  const time = e.time.replace(/(\.\d{3})\d*Z$/, '$1Z');
  const flag = e.complete ? '' : ' (incomplete)';
  return `${time} ${e.namespace}/${e.model} ${statusText(e)} ${latencyText(e)} ${oneLine(e.requestPreview, 100)}${flag}\n`;
}

export function register(program: Command): void {
  program
    .command('tail')
    .description('Follow new exchanges stored by a collector, one line each.')
    .option('--url <url>', 'the collector', 'http://127.0.0.1:8090')
    .option('--model <name>')
    .option('--namespace <ns>')
    .option('--component <c>')
    .option('--status <s>', '200, 4xx, 5xx, error, incomplete')
    .option('--q <text>', 'text in the request or response body')
    .option('--trace-id <id>', 'only the exchanges of one W3C trace (32 hex digits)')
    .option('--since <t>', 'start with exchanges stored since then (default: only new ones)')
    .option('--json', 'one JSON object per line')
    .option('--interval <d>', 'poll interval', '1s')
    .option('--grace <d>', 'how long to wait for the response half before printing a request alone', '2s')
    .action(async (f: TailFlags) => {
      let intervalMs: number;
      let graceMs: number;
      try {
        intervalMs = Math.max(50, parseDuration(f.interval));
        graceMs = parseDuration(f.grace);
      } catch (err) {
        process.stderr.write(`inferlog tail: ${(err as Error).message}\n`);
        process.exit(2);
      }
      const filters = {
        model: f.model,
        namespace: f.namespace,
        component: f.component,
        status: f.status,
        q: f.q,
        traceId: f.traceId,
      };
      const printed = new Set<string>();
      const held = new Map<string, { ex: ExchangeView; since: number }>();
      const print = (e: ExchangeView): void => {
        const key = `${e.id}${e.complete ? '' : '?'}`;
        if (printed.has(key) || (!e.complete && printed.has(e.id))) return;
        printed.add(key);
        if (printed.size > 50_000) printed.delete(printed.values().next().value as string);
        process.stdout.write(f.json ? JSON.stringify(e) + '\n' : humanLine(e));
      };
      process.once('SIGINT', () => process.exit(0));
      process.once('SIGTERM', () => process.exit(0));
      let cursor: string | undefined;
      try {
        const first = await getJson<ListAnswer>(f.url, 'api/v1/exchanges', {
          ...filters,
          follow: 'true',
          since: f.since,
          limit: '1000',
        });
        cursor = first.nextCursor ?? undefined;
        for (const e of first.items) handle(e);
      } catch (err) {
        failWith('tail', err);
      }
      function handle(e: ExchangeView): void {
        if (e.complete || e.errorCode !== null || e.status !== null) {
          held.delete(e.id);
          print(e);
        } else if (!held.has(e.id)) held.set(e.id, { ex: e, since: Date.now() });
      }
      for (;;) {
        await new Promise((r) => setTimeout(r, intervalMs));
        try {
          for (;;) {
            const page = await getJson<ListAnswer>(f.url, 'api/v1/exchanges', {
              ...filters,
              follow: 'true',
              cursor,
              limit: '1000',
            });
            cursor = page.nextCursor ?? cursor;
            for (const e of page.items) handle(e);
            if (page.items.length < 1000) break;
          }
        } catch (err) {
          failWith('tail', err);
        }
        const now = Date.now();
        for (const [id, h] of held) {
          if (now - h.since >= graceMs) {
            held.delete(id);
            print(h.ex);
          }
        }
      }
    });
}
