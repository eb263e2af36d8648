/**
 * Progress on stderr while a replay runs, so stdout stays clean for `--format json|jsonl`:
 *
 *   terminal:  [██████████░░░░░░░░░░]  412/1000  38.2/s  ETA 15s  identical 400  different 9  failed 3
 *              (redrawn in place at most 10 times a second, sized to the terminal's width)
 *   otherwise: inferlog replay: 412/1000 replayed, 38.2/s, ETA 15s, identical 400, different 9, …
 *              (one plain line a second: CI logs, pipes)
 *
 * How many exchanges match is known only when the listing ends (the collector pages it), so until
 * then the bar counts towards --limit and says so (`412/≤1000`).
 */
import { terminalWidth, type Env } from '../core/terminal.js';

export interface ProgressCounts {
  identical: number;
  different: number;
  notCompared: number;
  noBaseline: number;
  failed: number;
  skipped: number;
}

export interface Progress {
  update(counts: ProgressCounts): void;
  /** The listing has ended: `n` exchanges matched (the bar's end from now on). */
  total(n: number): void;
  /** Clears the terminal line (or prints nothing more). */
  done(): void;
}

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export interface ProgressOptions {
  /** Milliseconds between plain lines off a terminal (default 1000). */
  plainEveryMs?: number;
  /** Milliseconds between redraws on a terminal (default 100). */
  redrawEveryMs?: number;
  now?: () => number;
  env?: Env;
}

const done = (c: ProgressCounts): number =>
  c.identical + c.different + c.notCompared + c.noBaseline + c.failed + c.skipped;

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

interface Figures {
  n: number;
  of: string;
  fraction: number;
  rate: string;
  eta: string;
  counts: [string, number][];
}

function figures(c: ProgressCounts, total: number | undefined, limit: number, elapsedMs: number): Figures {
  const n = done(c);
  const end = total ?? limit;
  const perSecond = elapsedMs > 0 ? (n * 1000) / elapsedMs : 0;
  const counts: [string, number][] = [
    ['identical', c.identical],
    ['different', c.different],
    ['failed', c.failed],
  ];
  if (c.notCompared > 0) counts.push(['answered', c.notCompared]);
  if (c.noBaseline > 0) counts.push(['no baseline', c.noBaseline]);
  if (c.skipped > 0) counts.push(['skipped', c.skipped]);
  return {
    n,
    of: total === undefined ? `≤${limit}` : String(total),
    fraction: end > 0 ? Math.min(1, n / end) : 1,
    rate: `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond)}/s`,
    eta: (total === undefined ? '≤' : '') + (perSecond > 0 ? eta((end - n) / perSecond) : '-'),
    counts,
  };
}

/** The terminal line, at most `width - 1` columns (the last column would wrap on some terminals). */
export function barLine(f: Figures, width: number): string {
  const text = `  ${f.n}/${f.of}  ${f.rate}  ETA ${f.eta}`;
  const counts = f.counts.map(([k, v]) => `  ${k} ${v}`);
  const room = width - 1;
  // The bar gets a quarter of the line (10 to 40 cells); the counts go as far as they fit.
  const barCells = Math.max(10, Math.min(40, Math.floor(room / 4)));
  let line = '';
  if (barCells + 2 + text.length <= room) {
    const filled = Math.round(f.fraction * barCells);
    line = `[${'█'.repeat(filled)}${'░'.repeat(barCells - filled)}]${text}`;
  } else line = text.trim();
  for (const c of counts) {
    if ([...line].length + c.length > room) break;
    line += c;
  }
  return [...line].slice(0, room).join('');
}

export function plainLine(f: Figures): string {
  const counts = f.counts.map(([k, v]) => `${k} ${v}`).join(', ');
  return `inferlog replay: ${f.n}/${f.of} replayed, ${f.rate}, ETA ${f.eta}, ${counts}\n`;
}

export function createProgress(stream: ProgressStream, limit: number, o: ProgressOptions = {}): Progress {
  const now = o.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  const every = tty ? (o.redrawEveryMs ?? 100) : (o.plainEveryMs ?? 1000);
  const started = now();
  let last = started;
  let total: number | undefined;
  let drawn = false;
  let latest: ProgressCounts | undefined;
  const draw = (c: ProgressCounts): void => {
    const f = figures(c, total, limit, now() - started);
    if (tty) {
      stream.write(`\r\u001b[K${barLine(f, terminalWidth(stream, o.env))}`);
      drawn = true;
    } else stream.write(plainLine(f));
  };
  return {
    update(c) {
      latest = c;
      const t = now();
      if (t - last < every) return;
      last = t;
      draw(c);
    },
    total(n) {
      total = n;
      if (tty && latest !== undefined) draw(latest);
    },
    done() {
      if (tty && drawn) stream.write('\r\u001b[K');
    },
  };
}
