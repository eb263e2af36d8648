/**
 * Captured response vs replayed response → identical or different (and where).
 *
 *   baseline (status, bytes) ─┐   exact: status + bytes equal
 *                             ├─▶ json:  status equal, bodies equal as JSON (numbers within tolerance)
 *   replayed (status, bytes) ─┘   none:  status equal
 *
 * A status change is always a difference (path `(status)`), whatever the mode: 200 → 500 is the
 * first thing a person wants to know about a candidate model.
 */
import { diffJson, type Json, type JsonDifference } from './json-diff.js';
import type { CompareMode } from './options.js';

export interface CompareOptions {
  mode: CompareMode;
  tolerance: number;
  ignore: ReadonlySet<string>;
  /** Differences kept per exchange (the count is exact). */
  maxDifferences: number;
}

export interface Comparison {
  identical: boolean;
  differences: JsonDifference[];
  differenceCount: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function parseJson(bytes: Uint8Array): { ok: true; value: Json } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(decoder.decode(bytes)) as Json };
  } catch {
    return { ok: false };
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}

function bytesSummary(b: Uint8Array): string {
  return `${b.byteLength} bytes`;
}

export function compareResponses(
  baseline: { status: number; body: Uint8Array },
  replayed: { status: number; body: Uint8Array },
  opts: CompareOptions,
): Comparison {
  const differences: JsonDifference[] = [];
  let count = 0;
  if (baseline.status !== replayed.status) {
    differences.push({ path: '(status)', old: baseline.status, new: replayed.status });
    count++;
  }
  if (opts.mode === 'exact' && !bytesEqual(baseline.body, replayed.body)) {
    differences.push({ path: '(body)', old: bytesSummary(baseline.body), new: bytesSummary(replayed.body) });
    count++;
  } else if (opts.mode === 'json') {
    const a = parseJson(baseline.body);
    const b = parseJson(replayed.body);
    if (a.ok && b.ok) {
      const d = diffJson(a.value, b.value, {
        tolerance: opts.tolerance,
        ignore: opts.ignore,
        maxDifferences: Math.max(0, opts.maxDifferences - differences.length),
      });
      differences.push(...d.differences);
      count += d.count;
    } else if (!bytesEqual(baseline.body, replayed.body)) {
      // Not JSON on at least one side: only the bytes can be compared.
      differences.push({
        path: '(body)',
        old: a.ok ? 'JSON' : `not JSON, ${bytesSummary(baseline.body)}`,
        new: b.ok ? 'JSON' : `not JSON, ${bytesSummary(replayed.body)}`,
      });
      count++;
    }
  }
  return { identical: count === 0, differences, differenceCount: count };
}
