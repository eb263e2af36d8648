import { describe, expect, it } from 'vitest';
import {
  colourEnabled,
  cut,
  formatBytes,
  formatDuration,
  oneLine,
  printable,
  styles,
  terminalWidth,
} from './terminal.js';
import { parseBytes, parseDuration } from './units.js';

describe('terminalWidth', () => {
  it("is the terminal's width on a TTY, else $COLUMNS, else 120", () => {
    expect(terminalWidth({ isTTY: true, columns: 93 }, {})).toBe(93);
    expect(terminalWidth({ isTTY: false }, { COLUMNS: '80' })).toBe(80);
    expect(terminalWidth({}, {})).toBe(120);
    expect(terminalWidth({}, { COLUMNS: 'wide' })).toBe(120);
    // Too narrow to be useful: lay out for 40 and let the terminal wrap.
    expect(terminalWidth({ isTTY: true, columns: 12 }, {})).toBe(40);
  });
});

describe('colourEnabled', () => {
  it('colours a terminal only; NO_COLOR and TERM=dumb turn it off; FORCE_COLOR wins either way', () => {
    expect(colourEnabled({ isTTY: true }, {})).toBe(true);
    expect(colourEnabled({ isTTY: false }, {})).toBe(false);
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(colourEnabled({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colourEnabled({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(colourEnabled({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourEnabled({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourEnabled({ isTTY: true }, { FORCE_COLOR: 'false', NO_COLOR: '' })).toBe(false);
  });

  it('styles are the identity without colour', () => {
    expect(styles(false).red('x')).toBe('x');
    expect(styles(true).red('x')).toBe('\u001b[31mx\u001b[39m');
  });
});

describe('printable', () => {
  it('shows escape sequences, other controls and bidi overrides as visible stand-ins', () => {
    expect(printable('a\u001b[2Jb')).toBe('a␛[2Jb');
    expect(printable('\u0000\u0007\u007f\u009b')).toBe('␀␇␡\ufffd');
    expect(printable('abc\u202edef\u2066')).toBe('abc\ufffddef\ufffd');
    expect(printable('line\n\tnext')).toBe('line\n\tnext');
    expect(printable('naïve — 日本')).toBe('naïve — 日本');
  });

  it('oneLine folds newlines and whitespace runs, and is printable', () => {
    expect(oneLine('a\r\n  b\u001b')).toBe('a b␛');
    expect(oneLine(null)).toBe('');
  });
});

describe('cut', () => {
  it('cuts to the width with an ellipsis, counting code points', () => {
    expect(cut('abcdef', 4)).toBe('abc…');
    expect(cut('abc', 3)).toBe('abc');
    expect(cut('😀😀😀', 2)).toBe('😀…');
    expect(cut('abc', 0)).toBe('');
  });
});

describe('formatBytes and formatDuration', () => {
  it('print what the flags accept back', () => {
    for (const n of [5, 1024, 1536, 16 * 1024 * 1024, 256 * 1024 * 1024]) {
      expect(parseBytes(formatBytes(n))).toBe(n);
    }
    expect(formatBytes(16 * 1024 * 1024)).toBe('16MiB');
    expect(formatBytes(5)).toBe('5B');
    for (const ms of [250, 1500, 60_000, 300_000, 900_000, 5_400_000, 7 * 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
    expect(formatDuration(60_000)).toBe('60s');
    expect(formatDuration(300_000)).toBe('300s');
    expect(formatDuration(5_400_000)).toBe('1h30m');
  });
});
