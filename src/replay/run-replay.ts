/**
 * One replay run.
 *
 *   collector ──listExchanges (pages)──▶ N workers ──getExchange (bodies)──▶ planRequest
 *                                          │ rate limiter
 *                                          ▼
 *                                   target (--to only) ──▶ compareResponses ──▶ ExchangeOutcome
 *                                                                                 ├─▶ summary
 *                                                                                 ├─▶ report file (JSONL)
 *                                                                                 └─▶ stdout (format jsonl)
 *
 * Workers pull from one shared page iterator, so at most `concurrency` bodies and one page of
 * list items are in memory at once, however many exchanges are replayed.
 *
 * A run ends with a result: the summary, and an InferlogError when it is not a plain pass or
 * fail (nothing to replay, target unreachable, interrupted). What cannot even start (the
 * collector unreachable or refusing the filters, the report not writable) is thrown. The CLI
 * words both and maps their codes to exit codes; nothing here knows about flags or exit codes.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { ExchangeView } from '../api/view.js';
import { getExchange, listExchanges } from './collector-source.js';
import { compareResponses } from './compare.js';
import type { ReplayOptions } from './options.js';
import { createProgress } from './progress.js';
import { createRateLimiter } from './rate-limiter.js';
import { renderTable } from './render.js';
import { bodyBytes, planRequest, requestBody } from './request-plan.js';
import { SummaryBuilder, type ExchangeOutcome, type ReplaySummary } from './summary.js';
import { createTargetClient } from './target-client.js';
import { PRIVATE_FILE_MODE } from '../core/private-files.js';
import { InferlogError, isInferlogError } from '../core/errors.js';
import { oneLine } from '../core/terminal.js';

export interface ReplayIo {
  stdout: { write(s: string): unknown };
  stderr: NodeJS.WriteStream;
  /** Aborting stops sending new requests; in-flight ones finish and the summary is printed (exit 130). */
  signal?: AbortSignal;
}

export interface ReplayResult {
  /** What was replayed; absent when nothing was (no summary was printed either). */
  summary?: ReplaySummary;
  /**
   * Why the run is neither a pass nor a plain list of differences: NOTHING_TO_REPLAY
   * (`details.reason` no_match or none_replayable), UPSTREAM_UNREACHABLE (the target),
   * INTERRUPTED, or the collector's error when it failed mid-run.
   */
  error?: InferlogError;
}

const MAX_DIFFS_PER_EXCHANGE = 20;
const MAX_EXAMPLES = 10;

/** The filters matched nothing (the CLI's message names the filters as they were typed). */
function noMatch(opts: ReplayOptions): ReplayResult {
  return {
    error: new InferlogError(
      'NOTHING_TO_REPLAY',
      `no captured exchange matched the filters at ${opts.from}: nothing was replayed`,
      { details: { reason: 'no_match' } },
    ),
  };
}

function baseOutcome(ex: ExchangeView): ExchangeOutcome {
  return {
    id: ex.id,
    model: ex.model,
    method: null,
    path: null,
    outcome: 'skipped',
    status: { old: ex.status, new: null },
    latencyMs: { old: ex.latencyMs, new: null },
    diff: [],
    diffCount: 0,
  };
}

/** Throws OUTPUT_UNWRITABLE naming the path. */
async function openReport(path: string): Promise<WriteStream> {
  // It holds differences taken from captured bodies: readable by this user only, like the spool.
  const stream = createWriteStream(path, { mode: PRIVATE_FILE_MODE });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
  } catch (err) {
    throw new InferlogError('OUTPUT_UNWRITABLE', `${path}: ${(err as Error).message}`, {
      cause: err,
      details: { path },
    });
  }
  return stream;
}

async function dryRun(opts: ReplayOptions, io: ReplayIo): Promise<ReplayResult> {
  const planned: Record<string, unknown>[] = [];
  let listed = 0;
  for await (const ex of listExchanges(opts.source ?? opts.from, opts.filter, opts.limit)) {
    listed++;
    const plan = planRequest(ex, opts);
    const row = plan.ok
      ? {
          id: ex.id,
          method: plan.request.method,
          url: opts.to.origin + opts.to.pathname.replace(/\/+$/, '') + plan.request.path,
          bytes: ex.request?.size ?? 0,
          headers: plan.request.headers,
        }
      : { id: ex.id, skipped: plan.reason };
    if (opts.format === 'json') planned.push(row);
    else if (opts.format === 'jsonl') io.stdout.write(JSON.stringify(row) + '\n');
    else
      io.stdout.write(
        'url' in row
          ? `${row.method} ${oneLine(row.url)}  ${row.bytes} bytes  ${oneLine(ex.id)}\n`
          : `SKIP ${oneLine(ex.id)}  ${row.skipped}\n`,
      );
  }
  if (listed === 0) return noMatch(opts);
  if (opts.format === 'json')
    io.stdout.write(JSON.stringify({ dryRun: true, requests: planned }, null, 2) + '\n');
  return {};
}

export async function runReplay(opts: ReplayOptions, io: ReplayIo): Promise<ReplayResult> {
  if (opts.dryRun) return dryRun(opts, io);

  const report = opts.report === undefined ? undefined : await openReport(opts.report);

  const to = opts.to.origin + opts.to.pathname.replace(/\/+$/, '');
  const summary = new SummaryBuilder({ from: opts.from.replace(/\/+$/, ''), to, compare: opts.compare });
  const client = createTargetClient(opts.to, { connections: opts.concurrency, timeoutMs: opts.timeoutMs });
  const limiter = createRateLimiter(opts.ratePerSecond);
  const progress = createProgress(io.stderr, opts.limit);
  const ignore = new Set(opts.ignore);
  const examples: ExchangeOutcome[] = [];
  const source = listExchanges(opts.source ?? opts.from, opts.filter, opts.limit);
  let stop = false;
  /** The collector failed mid-run (unreachable, refused the filters): the first such error. */
  let fatal: InferlogError | undefined;
  let listed = 0;
  const onAbort = (): void => {
    stop = true;
    summary.aborted ??= 'interrupted';
  };
  io.signal?.addEventListener('abort', onAbort, { once: true });

  const emit = async (o: ExchangeOutcome): Promise<void> => {
    summary.add(o);
    if ((o.outcome === 'different' || o.outcome === 'failed') && examples.length < MAX_EXAMPLES)
      examples.push(o);
    const line = JSON.stringify(o) + '\n';
    if (opts.format === 'jsonl') io.stdout.write(line);
    if (report !== undefined && !report.write(line)) {
      await new Promise<void>((r) => report.once('drain', () => r()));
    }
    progress.update(summary.progress);
  };

  const replayOne = async (item: ExchangeView): Promise<void> => {
    const o = baseOutcome(item);
    const plan = planRequest(item, opts);
    if (!plan.ok) {
      o.note = plan.reason;
      o.skipReason = plan.kind;
      return emit(o);
    }
    o.method = plan.request.method;
    o.path = plan.request.path;
    const ex = await getExchange(opts.source ?? opts.from, item.id);
    if (ex === null) {
      o.note = 'no longer in the collector (retention?)';
      o.skipReason = 'no longer in the collector';
      return emit(o);
    }
    o.status.old = ex.status;
    o.latencyMs.old = ex.latencyMs;
    await limiter.take();
    if (stop) return;
    const res = await client.send(plan.request, requestBody(ex));
    o.latencyMs.new = res.latencyMs;
    if (!res.ok) {
      o.outcome = 'failed';
      o.error = { code: res.code, message: res.message };
      if (res.code === 'UPSTREAM_UNREACHABLE' && !stop) {
        stop = true;
        summary.aborted = `target at ${to} is unreachable: ${res.message}`;
      }
      return emit(o);
    }
    o.status.new = res.status;
    const newServerError = res.status >= 500 && !(ex.status !== null && ex.status >= 500);
    const baseline = ex.response;
    if (baseline === null || ex.status === null || baseline.truncated) {
      o.outcome = newServerError ? 'failed' : 'no-baseline';
      if (!newServerError) {
        o.note = baseline?.truncated
          ? 'the captured response was truncated'
          : 'no response was captured (logger mode request, or incomplete)';
      }
      return emit(o);
    }
    // --compare none compares the status only: a changed status is still a difference.
    const c = compareResponses(
      { status: ex.status, body: bodyBytes(baseline.body, baseline.bodyEncoding) },
      { status: res.status, body: res.body },
      { mode: opts.compare, tolerance: opts.tolerance, ignore, maxDifferences: MAX_DIFFS_PER_EXCHANGE },
    );
    o.diff = c.differences;
    o.diffCount = c.differenceCount;
    o.outcome = newServerError
      ? 'failed'
      : !c.identical
        ? 'different'
        : opts.compare === 'none'
          ? 'not-compared'
          : 'identical';
    return emit(o);
  };

  const worker = async (): Promise<void> => {
    while (!stop) {
      let next: IteratorResult<ExchangeView>;
      try {
        next = await source.next();
        if (next.done === true) {
          // The listing has ended: the progress bar now knows how many there are.
          progress.total(listed);
          return;
        }
        listed++;
        await replayOne(next.value);
      } catch (err) {
        stop = true;
        // The collector's errors end the run with what was done so far; anything else is a bug.
        if (isInferlogError(err)) {
          fatal ??= err;
          return;
        }
        throw err;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: opts.concurrency }, () => worker()));
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
    progress.done();
    await client.close().catch(() => undefined);
    if (report !== undefined) {
      const r = report;
      await new Promise<void>((resolve) => r.end(() => resolve()));
    }
  }

  const s = summary.summary();
  // Nothing replayed because the collector refused the filters: no summary to show.
  if (fatal !== undefined && s.replayed === 0 && s.skipped === 0) throw fatal;
  // Nothing matched: a summary of zeros ("replayed 0 exchanges", exit 0) would read as a pass.
  if (s.replayed === 0 && s.skipped === 0 && s.aborted === undefined) return noMatch(opts);
  if (opts.format === 'json') io.stdout.write(JSON.stringify(s, null, 2) + '\n');
  else if (opts.format === 'jsonl') io.stdout.write(JSON.stringify({ summary: s }) + '\n');
  else io.stdout.write(renderTable(s, examples));
  if (fatal !== undefined) return { summary: s, error: fatal };
  if (s.aborted === 'interrupted') {
    const error = new InferlogError(
      'INTERRUPTED',
      'interrupted: the summary covers what was replayed so far',
    );
    return { summary: s, error };
  }
  // The only other reason a run stops early: the target is unreachable.
  if (s.aborted !== undefined)
    return { summary: s, error: new InferlogError('UPSTREAM_UNREACHABLE', s.aborted) };
  if (s.replayed === 0) {
    const why = Object.entries(s.skippedReasons)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ');
    const error = new InferlogError(
      'NOTHING_TO_REPLAY',
      `none of the ${s.skipped} matching exchanges could be replayed (${why})`,
      { details: { reason: 'none_replayable' } },
    );
    return { summary: s, error };
  }
  return { summary: s };
}
