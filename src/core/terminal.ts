/**
 * What the CLI may print, and how wide: the terminal's width and colour support, and text made
 * safe for a terminal. Pure functions over an explicit stream and environment, so tests can ask
 * for any width or colour setting without a TTY.
 *
 * Captured bodies, ids, model names and error codes come from clients: printed raw, an escape
 * sequence in a body could clear the screen, move the cursor to forge a line, or retitle the
 * window; a bidi override could reorder what is shown. `printable` replaces every control and
 * bidi-control character with a visible stand-in before anything reaches the terminal.
 */

/** The parts of a stream (process.stdout, process.stderr) that say what it is connected to. */
export interface TerminalStream {
  isTTY?: boolean;
  columns?: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Width when the output is not a terminal (a pipe, a file, CI logs) and COLUMNS is not set. */
export const DEFAULT_WIDTH = 120;
/** Narrower than this, tables would be nothing but ellipses: lay out for this and let it wrap. */
export const MIN_WIDTH = 40;

/** Columns to lay out for: the terminal's, else $COLUMNS, else 120. */
export function terminalWidth(stream: TerminalStream, env: Env = process.env): number {
  const fromEnv = Number(env.COLUMNS);
  const w =
    stream.isTTY === true && stream.columns !== undefined && stream.columns > 0
      ? stream.columns
      : Number.isInteger(fromEnv) && fromEnv > 0
        ? fromEnv
        : DEFAULT_WIDTH;
  return Math.max(MIN_WIDTH, w);
}

/**
 * Colour on a terminal only. FORCE_COLOR (any value but 0/false) turns it on anywhere, e.g. for
 * `| less -R`; NO_COLOR (https://no-color.org, any non-empty value) and TERM=dumb turn it off.
 */
export function colourEnabled(stream: TerminalStream, env: Env = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

// C0 controls but tab and newline, DEL, C1 controls; bidi embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function stand(c: string): string {
  const code = c.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code); // ␀ … ␟ (␛ for ESC)
  if (code === 0x7f) return '\u2421'; // ␡
  return '\ufffd';
}

/** Text with every terminal control replaced by a visible stand-in (tab and newline kept). */
export function printable(text: string): string {
  return text.replace(UNSAFE, stand);
}

/** One line: printable, with runs of whitespace (newlines, tabs) as one space. */
export function oneLine(text: string | null | undefined): string {
  if (!text) return '';
  return printable(text.replace(/\s+/g, ' ').trim());
}

/** Columns a string takes (code points; wide CJK and emoji are counted as one). */
export function displayWidth(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Cut to `width` columns, marking the cut with an ellipsis. */
export function cut(text: string, width: number): string {
  if (width <= 0) return '';
  if (displayWidth(text) <= width) return text;
  return [...text].slice(0, width - 1).join('') + '…';
}

/** Sizes as people type them (what --max-body-bytes accepts): 5B, 1.2KiB, 16MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = v >= 10 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1);
  return `${text}${units[i] as string}`;
}

/** Durations as people type them: 250ms, 60s, 300s, 15m, 2h, 7d, 1h30m. Seconds up to 10 minutes. */
export function formatDuration(ms: number): string {
  if (ms < 1000 || ms % 1000 !== 0) return ms < 1000 ? `${Math.round(ms)}ms` : `${ms / 1000}s`;
  let rest = ms / 1000;
  if (rest < 600) return `${rest}s`;
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

/** ANSI styles; every one is the identity when colour is off. */
export interface Styles {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

const sgr =
  (on: number, off: number) =>
  (s: string): string =>
    s === '' ? s : `\u001b[${on}m${s}\u001b[${off}m`;
const plain = (s: string): string => s;

export function styles(colour: boolean): Styles {
  return colour
    ? {
        bold: sgr(1, 22),
        dim: sgr(2, 22),
        red: sgr(31, 39),
        yellow: sgr(33, 39),
        green: sgr(32, 39),
        cyan: sgr(36, 39),
      }
    : { bold: plain, dim: plain, red: plain, yellow: plain, green: plain, cyan: plain };
}
