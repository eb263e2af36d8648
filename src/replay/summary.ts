/**
 * Per-exchange outcomes → the run's summary (counts, status changes, latency percentiles,
 * the paths that differ most often).
 *
 *   ExchangeOutcome ──add()──▶ counters + latency samples + path counts ──summary()──▶ ReplaySummary
 */
import type { ErrorCode } from '../core/errors.js';
import { normalisePath, type JsonDifference } from './json-diff.js';

/** not-compared: answered, with `--compare none`. */
export type Outcome = 'identical' | 'different' | 'not-compared' | 'no-baseline' | 'failed' | 'skipped';

/** One line of `--report` (and of `--format jsonl`). */
export interface ExchangeOutcome {
  id: string;
  model: string;
  method: string | null;
  path: string | null;
  outcome: Outcome;
  status: { old: number | null; new: number | null };
  latencyMs: { old: number | null; new: number | null };
  /** The differing paths (at most 20 per exchange; `diffCount` is exact). */
  diff: JsonDifference[];
  diffCount: number;
  /** Why the replay got no answer (an UPSTREAM_* code from the error catalogue). */
  error?: { code: ErrorCode; message: string };
  /** Why it was skipped, or why there is nothing to compare with (no-baseline). */
  note?: string;
  /** Skipped: the reason without particulars (what the summary counts). */
  skipReason?: string;
}

export interface Percentiles {
  p50: number | null;
  p99: number | null;
}

export interface ReplaySummary {
  from: string;
  to: string;
  compare: string;
  durationMs: number;
  /** Requests sent to the target (identical + different + notCompared + noBaseline + failed). */
  replayed: number;
  identical: number;
  different: number;
  notCompared: number;
  noBaseline: number;
  failed: number;
  skipped: number;
  /** Skipped exchanges by reason, e.g. { "not an inference route (--any-route sends it)": 4 }. */
  skippedReasons: Record<string, number>;
  /** e.g. { "200→500": 3 }. */
  statusChanges: Record<string, number>;
  latencyMs: { captured: Percentiles; replayed: Percentiles };
  /** Paths with indices folded to [*], most frequent first (at most 10). */
  topDifferingPaths: { path: string; count: number }[];
  /** Set when the run stopped early (target unreachable). */
  aborted?: string;
}

/** Nearest-rank percentile of an unsorted sample. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

const MAX_TRACKED_PATHS = 10_000;

export class SummaryBuilder {
  private counts = { identical: 0, different: 0, notCompared: 0, noBaseline: 0, failed: 0, skipped: 0 };
  private statusChanges = new Map<string, number>();
  private capturedLatency: number[] = [];
  private replayedLatency: number[] = [];
  private paths = new Map<string, number>();
  private skipReasons = new Map<string, number>();
  private started = performance.now();
  aborted: string | undefined;

  constructor(private readonly meta: { from: string; to: string; compare: string }) {}

  add(o: ExchangeOutcome): void {
    switch (o.outcome) {
      case 'identical':
        this.counts.identical++;
        break;
      case 'different':
        this.counts.different++;
        break;
      case 'not-compared':
        this.counts.notCompared++;
        break;
      case 'no-baseline':
        this.counts.noBaseline++;
        break;
      case 'failed':
        this.counts.failed++;
        break;
      case 'skipped': {
        this.counts.skipped++;
        const why = o.skipReason ?? 'other';
        this.skipReasons.set(why, (this.skipReasons.get(why) ?? 0) + 1);
        return;
      }
    }
    if (o.status.old !== null && o.status.new !== null && o.status.old !== o.status.new) {
      const k = `${o.status.old}→${o.status.new}`;
      this.statusChanges.set(k, (this.statusChanges.get(k) ?? 0) + 1);
    }
    if (o.latencyMs.old !== null) this.capturedLatency.push(o.latencyMs.old);
    if (o.latencyMs.new !== null && o.outcome !== 'failed') this.replayedLatency.push(o.latencyMs.new);
    // Count each normalised path once per exchange: "in how many exchanges does this path differ".
    const seen = new Set(o.diff.map((d) => normalisePath(d.path)));
    for (const p of seen) {
      if (this.paths.has(p) || this.paths.size < MAX_TRACKED_PATHS)
        this.paths.set(p, (this.paths.get(p) ?? 0) + 1);
    }
  }

  /** The counts so far (for the progress line). */
  get progress(): Readonly<typeof this.counts> {
    return this.counts;
  }

  summary(): ReplaySummary {
    const s: ReplaySummary = {
      ...this.meta,
      durationMs: Math.round(performance.now() - this.started),
      replayed:
        this.counts.identical +
        this.counts.different +
        this.counts.notCompared +
        this.counts.noBaseline +
        this.counts.failed,
      ...this.counts,
      skippedReasons: Object.fromEntries([...this.skipReasons].sort((a, b) => b[1] - a[1])),
      statusChanges: Object.fromEntries([...this.statusChanges].sort((a, b) => b[1] - a[1])),
      latencyMs: {
        captured: { p50: percentile(this.capturedLatency, 50), p99: percentile(this.capturedLatency, 99) },
        replayed: { p50: percentile(this.replayedLatency, 50), p99: percentile(this.replayedLatency, 99) },
      },
      topDifferingPaths: [...this.paths]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 10)
        .map(([path, count]) => ({ path, count })),
    };
    if (this.aborted !== undefined) s.aborted = this.aborted;
    return s;
  }
}
