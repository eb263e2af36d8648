/**
 * Progress on stderr while a replay runs: a redrawn line on a terminal, a plain line every
 * few seconds otherwise (CI logs, pipes), so stdout stays clean for `--format json|jsonl`.
 */
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
  /** Clears the terminal line (or prints nothing more). */
  done(): void;
}

function line(c: ProgressCounts, limit: number): string {
  const n = c.identical + c.different + c.notCompared + c.noBaseline + c.failed + c.skipped;
  return `${n}/${limit} max  identical ${c.identical}  different ${c.different}  failed ${c.failed}  no baseline ${c.noBaseline}  skipped ${c.skipped}`;
}

export function createProgress(stream: NodeJS.WriteStream, limit: number, plainEveryMs = 5000): Progress {
  const tty = stream.isTTY === true;
  const width = 24;
  let last = 0;
  let drawn = false;
  return {
    update(c) {
      const now = performance.now();
      if (tty) {
        if (now - last < 100) return;
        last = now;
        const n = c.identical + c.different + c.notCompared + c.noBaseline + c.failed + c.skipped;
        const filled = Math.min(width, Math.round((n / limit) * width));
        stream.write(`\r\x1b[K[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${line(c, limit)}`);
        drawn = true;
      } else {
        if (last === 0) last = now;
        if (now - last < plainEveryMs) return;
        last = now;
        stream.write(`inferlog replay: ${line(c, limit)}\n`);
      }
    },
    done() {
      if (tty && drawn) stream.write('\r\x1b[K');
    },
  };
}
