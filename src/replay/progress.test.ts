import { describe, expect, it } from 'vitest';
import { createProgress, type ProgressCounts } from './progress.js';

const counts = (identical: number, over: Partial<ProgressCounts> = {}): ProgressCounts => ({
  identical,
  different: 0,
  notCompared: 0,
  noBaseline: 0,
  failed: 0,
  skipped: 0,
  ...over,
});

function fakeStream(
  isTTY: boolean,
  columns?: number,
): { isTTY: boolean; columns?: number; out: string[]; write(s: string): void } {
  const out: string[] = [];
  return { isTTY, columns, out, write: (s: string) => void out.push(s) };
}

describe('replay progress', () => {
  it('on a terminal: a bar with count, rate and ETA, redrawn in place, sized to the terminal', () => {
    for (const columns of [60, 80, 200]) {
      let t = 0;
      const s = fakeStream(true, columns);
      const p = createProgress(s, 1000, { now: () => t, env: {} });
      t = 10_000;
      p.update(counts(200, { different: 3, failed: 1 }));
      const line = (s.out.at(-1) as string).replace('\r\u001b[K', '');
      expect([...line].length).toBeLessThan(columns);
      expect(line).toContain('204/≤1000');
      expect(line).toContain(' 20/s ');
      // (1000 − 204) / 20.4 per second: 40 s, at most (fewer may match).
      expect(line).toContain('ETA ≤40s');
      if (columns >= 80) expect(line).toMatch(/^\[█+░+\]/);
      if (columns >= 120) expect(line).toContain('different 3');
      // The listing ended: 400 matched; the bar and the ETA count towards that.
      p.total(400);
      const after = s.out.at(-1) as string;
      expect(after).toContain('204/400');
      expect(after).toContain('ETA 10s');
      p.done();
      expect(s.out.at(-1)).toBe('\r\u001b[K');
    }
  });

  it('redraws at most every 100 ms', () => {
    let t = 0;
    const s = fakeStream(true, 100);
    const p = createProgress(s, 10, { now: () => t, env: {} });
    for (let i = 1; i <= 10; i++) {
      t += 20;
      p.update(counts(i));
    }
    expect(s.out.length).toBe(2);
  });

  it('off a terminal: one plain line a second, and nothing to clear', () => {
    let t = 0;
    const s = fakeStream(false);
    const p = createProgress(s, 50, { now: () => t, env: {} });
    for (let i = 1; i <= 30; i++) {
      t += 100;
      p.update(counts(i));
    }
    expect(s.out).toEqual([
      'inferlog replay: 10/≤50 replayed, 10/s, ETA ≤4s, identical 10, different 0, failed 0\n',
      'inferlog replay: 20/≤50 replayed, 10/s, ETA ≤3s, identical 20, different 0, failed 0\n',
      'inferlog replay: 30/≤50 replayed, 10/s, ETA ≤2s, identical 30, different 0, failed 0\n',
    ]);
    p.total(30);
    p.done();
    expect(s.out).toHaveLength(3);
    expect(s.out.join('')).not.toContain('\u001b');
  });
});
