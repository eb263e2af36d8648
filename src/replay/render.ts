/**
 * The replay summary as text for people (`--format table`). JSON formats print the objects as they are.
 * Ids and differing values come from captured traffic: they are made printable (core/terminal.ts).
 * Example lines are not cut to the terminal (the values are already shortened, and the difference
 * is the point) but are bounded: a hostile key name cannot make one a megabyte long.
 */
import { cut, oneLine, printable } from '../core/terminal.js';
import { formatDifference } from './json-diff.js';
import type { ExchangeOutcome, Percentiles, ReplaySummary } from './summary.js';

const ms = (v: number | null): string => (v === null ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const pct = (p: Percentiles): string => `p50 ${ms(p.p50)} ms  p99 ${ms(p.p99)} ms`;

const MAX_EXAMPLE_CHARS = 400;

export function renderTable(s: ReplaySummary, examples: readonly ExchangeOutcome[]): string {
  const out: string[] = [];
  out.push(
    `replayed ${s.replayed} exchange${s.replayed === 1 ? '' : 's'} from ${s.from} to ${s.to} in ${(s.durationMs / 1000).toFixed(1)}s (compare: ${s.compare})`,
  );
  if (s.aborted !== undefined) out.push(`STOPPED EARLY: ${s.aborted}`);
  const row = (label: string, n: number, note = ''): string =>
    `  ${label.padEnd(12)} ${String(n).padStart(7)}${note ? '   ' + note : ''}`;
  out.push(row('identical', s.identical));
  out.push(row('different', s.different));
  if (s.notCompared > 0) out.push(row('answered', s.notCompared, '(not compared: --compare none)'));
  out.push(row('failed', s.failed, s.failed > 0 ? '(no answer, or a new 5xx)' : ''));
  out.push(
    row(
      'no baseline',
      s.noBaseline,
      s.noBaseline > 0 ? '(no response was captured: replayed, not compared)' : '',
    ),
  );
  out.push(row('skipped', s.skipped, s.skipped > 0 ? '(not replayed; ids in --report):' : ''));
  for (const [why, n] of Object.entries(s.skippedReasons))
    out.push(`  ${''.padEnd(12)} ${String(n).padStart(7)}     ${why}`);
  const changes = Object.entries(s.statusChanges);
  if (changes.length > 0) out.push(`status changes: ${changes.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  out.push(`latency  captured ${pct(s.latencyMs.captured)}`);
  out.push(`         replayed ${pct(s.latencyMs.replayed)}`);
  if (s.topDifferingPaths.length > 0) {
    out.push('top differing paths (exchanges):');
    const w = Math.max(...s.topDifferingPaths.map((p) => p.path.length));
    for (const p of s.topDifferingPaths) out.push(`  ${p.path.padEnd(w)}  ${p.count}`);
  }
  if (examples.length > 0) {
    out.push('examples:');
    for (const e of examples) {
      const first = e.diff[0];
      const what =
        e.error !== undefined
          ? `${e.error.code}: ${e.error.message}`
          : first
            ? formatDifference(first)
            : `status ${e.status.old ?? '-'} → ${e.status.new ?? '-'}`;
      const more = e.diffCount > 1 ? ` (+${e.diffCount - 1} more)` : '';
      out.push('  ' + cut(`${oneLine(e.id)}  ${oneLine(what)}${more}`, MAX_EXAMPLE_CHARS));
    }
  }
  return printable(out.join('\n')) + '\n';
}
