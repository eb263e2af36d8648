/**
 * Structural JSON diff: which paths differ between the captured and the replayed answer.
 *
 *   captured JSON ─┐
 *                  ├─▶ walk both trees in step ──▶ [{ path: 'predictions[1]', old: 1, new: 2 }, …]
 *   replayed JSON ─┘
 *
 * Numbers are equal within a tolerance (model outputs are floats: a new runtime or CPU can
 * move the last bits). Object key order never matters; array order does (predictions are
 * positional). Paths are written the way people type them in jq/JS: `outputs[0].data[3]`,
 * `["key with space"]`; the document itself is `$`.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One difference. `old`/`new` are undefined when the value is absent on that side. */
export interface JsonDifference {
  path: string;
  old?: Json;
  new?: Json;
}

export interface DiffOptions {
  /** Numbers a and b are equal when |a − b| ≤ tolerance × max(1, |a|, |b|): absolute near zero, relative for large values. */
  tolerance?: number;
  /** Stop collecting after this many differences (the count keeps going). */
  maxDifferences?: number;
  /** Normalised paths (`[*]` for every index, see normalisePath) whose values are not compared. */
  ignore?: ReadonlySet<string>;
}

export interface DiffResult {
  differences: JsonDifference[];
  /** Total number of differing paths, including those beyond maxDifferences. */
  count: number;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent === '$' ? '' : parent}[${key}]`;
  if (IDENT.test(key)) return parent === '$' ? key : `${parent}.${key}`;
  return `${parent === '$' ? '' : parent}[${JSON.stringify(key)}]`;
}

/** `outputs[0].data[12]` → `outputs[*].data[*]`: groups differences across rows for the summary. */
export function normalisePath(path: string): string {
  return path.replace(/\[\d+\]/g, '[*]');
}

export function numbersClose(a: number, b: number, tolerance: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));
}

function kind(v: Json): 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as 'boolean' | 'number' | 'string' | 'object';
}

export function diffJson(a: Json, b: Json, options: DiffOptions = {}): DiffResult {
  const tolerance = options.tolerance ?? 0;
  const max = options.maxDifferences ?? Number.POSITIVE_INFINITY;
  const ignore = options.ignore;
  const differences: JsonDifference[] = [];
  let count = 0;

  const report = (path: string, oldValue: Json | undefined, newValue: Json | undefined): void => {
    count++;
    if (differences.length >= max) return;
    const d: JsonDifference = { path };
    if (oldValue !== undefined) d.old = oldValue;
    if (newValue !== undefined) d.new = newValue;
    differences.push(d);
  };

  const walk = (x: Json, y: Json, path: string): void => {
    if (ignore !== undefined && ignore.size > 0 && ignore.has(normalisePath(path))) return;
    const kx = kind(x);
    const ky = kind(y);
    if (kx !== ky) return report(path, x, y);
    switch (kx) {
      case 'number':
        if (!numbersClose(x as number, y as number, tolerance)) report(path, x, y);
        return;
      case 'array': {
        const xs = x as Json[];
        const ys = y as Json[];
        const n = Math.max(xs.length, ys.length);
        for (let i = 0; i < n; i++) {
          const p = childPath(path, i);
          if (i >= xs.length) report(p, undefined, ys[i]);
          else if (i >= ys.length) report(p, xs[i], undefined);
          else walk(xs[i] as Json, ys[i] as Json, p);
        }
        return;
      }
      case 'object': {
        const ox = x as Record<string, Json>;
        const oy = y as Record<string, Json>;
        for (const k of Object.keys(ox)) {
          const p = childPath(path, k);
          if (!Object.hasOwn(oy, k)) {
            if (!(ignore?.has(normalisePath(p)) ?? false)) report(p, ox[k], undefined);
          } else walk(ox[k] as Json, oy[k] as Json, p);
        }
        for (const k of Object.keys(oy)) {
          if (Object.hasOwn(ox, k)) continue;
          const p = childPath(path, k);
          if (!(ignore?.has(normalisePath(p)) ?? false)) report(p, undefined, oy[k]);
        }
        return;
      }
      default:
        if (x !== y) report(path, x, y);
    }
  };

  walk(a, b, '$');
  return { differences, count };
}

/** `predictions[1]: 1 → 2` (absent sides shown as `(absent)`; long values shortened). */
export function formatDifference(d: JsonDifference, maxValueChars = 60): string {
  const show = (v: Json | undefined): string => {
    if (v === undefined) return '(absent)';
    const s = JSON.stringify(v);
    return s.length > maxValueChars ? s.slice(0, maxValueChars - 1) + '…' : s;
  };
  return `${d.path}: ${show(d.old)} → ${show(d.new)}`;
}
