/**
 * `inferlog tail`: follow new exchanges as a collector stores them.
 *
 *   GET /api/v1/exchanges?follow=true (cursor) ──every --interval──▶ new/changed exchanges
 *        ──▶ complete? print now : hold up to --grace for the other half, then print as incomplete
 *
 * KServe sends no response event for non-200 answers, so a request may never be completed:
 * the grace period keeps one line per exchange in the common case without hiding those.
 *
 * Lines are aligned columns laid out once for the terminal's width (120 off a terminal), under
 * one header line. A collector that cannot be reached at start is an error (exit 69: a wrong
 * --url should not wait forever); once following, a collector that restarts or answers 5xx is
 * waited for with capped exponential backoff (0.5s → 30s), noted once on stderr, and the tail
 * continues from the same cursor, so nothing stored meanwhile is missed.
 */
import { addCollectorAccessFlags, collectorAccess, type CollectorAccessFlags } from '../collector-access.js';
import type { Command } from 'commander';
import { getJson } from '../../api/client.js';
import type { Collector, ListAnswer } from '../../api/client.js';
import type { ExchangeView } from '../../api/view.js';
import { exitWhenStdoutCloses } from '../util.js';
import { colourEnabled, styles, terminalWidth } from '../../core/terminal.js';
import { parseDuration } from '../../core/units.js';
import { InferlogError } from '../../core/errors.js';
import { fail } from '../exit-codes.js';
import { tailColumns } from '../format/exchange.js';
import { layout, renderHeader, renderRow, type Layout } from '../format/table.js';

interface TailFlags extends CollectorAccessFlags {
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

const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/** Worth waiting for: the collector is down or restarting, or its store is briefly unavailable. */
function transient(err: unknown): boolean {
  if (!(err instanceof InferlogError)) return false;
  return err.code === 'COLLECTOR_UNREACHABLE' || (err.status !== undefined && err.status >= 500);
}

export function register(program: Command): void {
  const cmd = program
    .command('tail')
    .description('Follow new exchanges stored by a collector, one line each.')
    .option('--url <url>', 'the collector', 'http://127.0.0.1:8090')
    .option('--model <name>', 'InferenceService name')
    .option('--namespace <ns>', 'Kubernetes namespace')
    .option('--component <c>', 'predictor, transformer, explainer')
    .option('--status <s>', '200, 4xx, 5xx, error, incomplete')
    .option('--q <text>', 'text in the request or response body')
    .option('--trace-id <id>', 'only the exchanges of one W3C trace (32 hex digits)')
    .option('--since <t>', 'start with exchanges stored since then, e.g. 15m (default: only new ones)')
    .option('--json', 'one JSON object per line')
    .option('--interval <d>', 'poll interval', '1s')
    .option('--grace <d>', 'how long to wait for the response half before printing a request alone', '2s');
  addCollectorAccessFlags(cmd);
  cmd.action(async (f: TailFlags) => {
    let intervalMs: number;
    let graceMs: number;
    try {
      intervalMs = Math.max(50, parseDuration(f.interval));
      graceMs = parseDuration(f.grace);
    } catch (err) {
      fail('tail', new InferlogError('USAGE_INVALID', (err as Error).message, { cause: err }));
    }
    const filters = {
      model: f.model,
      namespace: f.namespace,
      component: f.component,
      status: f.status,
      q: f.q,
      traceId: f.traceId,
    };
    exitWhenStdoutCloses();
    const s = styles(colourEnabled(process.stdout));
    const columns = tailColumns();
    let lines: Layout<ExchangeView> = layout(columns, [], terminalWidth(process.stdout), true);
    // A resized terminal gets lines that fit from then on.
    process.stdout.on('resize', () => {
      lines = layout(columns, [], terminalWidth(process.stdout), true);
    });
    const printed = new Set<string>();
    const held = new Map<string, { ex: ExchangeView; since: number }>();
    const print = (e: ExchangeView): void => {
      const key = `${e.id}${e.complete ? '' : '?'}`;
      if (printed.has(key) || (!e.complete && printed.has(e.id))) return;
      printed.add(key);
      if (printed.size > 50_000) printed.delete(printed.values().next().value as string);
      // An incomplete exchange says so in its STATUS column ("incomplete", or a status alone).
      process.stdout.write((f.json ? JSON.stringify(e) : renderRow(lines, e, s)) + '\n');
    };
    process.once('SIGINT', () => process.exit(0));
    process.once('SIGTERM', () => process.exit(0));
    let cursor: string | undefined;
    let collector: Collector = { url: f.url };
    try {
      collector = collectorAccess(f.url, f);
      const first = await getJson<ListAnswer>(collector, 'api/v1/exchanges', {
        ...filters,
        follow: 'true',
        since: f.since,
        limit: '1000',
      });
      cursor = first.nextCursor ?? undefined;
      if (!f.json) process.stdout.write(renderHeader(lines, s) + '\n');
      for (const e of first.items) handle(e);
    } catch (err) {
      fail('tail', err);
    }
    function handle(e: ExchangeView): void {
      if (e.complete || e.errorCode !== null || e.status !== null) {
        held.delete(e.id);
        print(e);
      } else if (!held.has(e.id)) held.set(e.id, { ex: e, since: Date.now() });
    }
    let down: { since: number; delayMs: number } | undefined;
    for (;;) {
      await new Promise((r) => setTimeout(r, down?.delayMs ?? intervalMs));
      try {
        for (;;) {
          const page = await getJson<ListAnswer>(collector, 'api/v1/exchanges', {
            ...filters,
            follow: 'true',
            cursor,
            limit: '1000',
          });
          if (down !== undefined) {
            // Before any line of the new answer, so the note reads in order with them.
            const secs = ((Date.now() - down.since) / 1000).toFixed(0);
            process.stderr.write(`inferlog tail: reconnected to ${f.url} after ${secs}s\n`);
            down = undefined;
          }
          cursor = page.nextCursor ?? cursor;
          for (const e of page.items) handle(e);
          if (page.items.length < 1000) break;
        }
      } catch (err) {
        if (!transient(err)) fail('tail', err);
        if (down === undefined) {
          down = { since: Date.now(), delayMs: RECONNECT_FIRST_MS };
          process.stderr.write(
            `inferlog tail: ${(err as Error).message}; reconnecting (backoff up to ${RECONNECT_MAX_MS / 1000}s, Ctrl-C to stop)\n`,
          );
        } else down.delayMs = Math.min(RECONNECT_MAX_MS, down.delayMs * 2);
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
