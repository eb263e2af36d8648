import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, InferlogError } from '../core/errors.js';
import { EXIT, EXIT_CODES, exitCodeFor } from './exit-codes.js';

const SRC = path.resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|js)$/.test(e.name) && !/\.(test|contract)\.ts$/.test(e.name) ? [p] : [];
  });
}

describe('one error model', () => {
  it('maps every catalogued code to a documented exit code', () => {
    const documented = new Set<number>(Object.values(EXIT));
    for (const code of Object.keys(ERROR_CODES)) {
      expect(EXIT_CODES, code).toHaveProperty(code);
      expect(documented.has(EXIT_CODES[code as keyof typeof ERROR_CODES]), code).toBe(true);
    }
    expect(Object.keys(EXIT_CODES).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('exits with the code of the error, and 70 for anything that is not an InferlogError', () => {
    expect(exitCodeFor(new InferlogError('QUERY_INVALID', 'since: invalid time'))).toBe(2);
    expect(exitCodeFor(new InferlogError('COLLECTOR_UNREACHABLE', 'down'))).toBe(69);
    expect(exitCodeFor(new InferlogError('CONFIG_INVALID', 'bad'))).toBe(1);
    expect(exitCodeFor(new Error('a bug'))).toBe(70);
  });

  it('has no error class in src/ but InferlogError', () => {
    // The browser UI (collector/ui/) cannot import core/errors.ts; its ApiError mirrors the API's shape.
    const offenders = sourceFiles(SRC)
      .filter((f) => !f.includes(`${path.sep}collector${path.sep}ui${path.sep}`))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, where: `${path.relative(SRC, f)}:${i + 1}` }))
          .filter(({ line }) => /\bclass\s+\w+\s+extends\s+\w*Error\b/.test(line))
          .filter(({ line }) => !/class InferlogError extends Error\b/.test(line))
          .map(({ where, line }) => `${where}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it('says why each plain Error left in src/ is not a catalogued one', () => {
    // A user-visible error is an InferlogError; a plain one is an invariant or an abort reason,
    // and a comment on one of the two lines above it says so.
    const unexplained = sourceFiles(SRC)
      .filter((f) => !f.includes(`${path.sep}collector${path.sep}ui${path.sep}`))
      .flatMap((f) => {
        const lines = readFileSync(f, 'utf8').split('\n');
        return lines
          .map((line, i) => ({ line, i }))
          .filter(({ line }) => /\bnew Error\(/.test(line))
          .filter(({ i }) => !lines.slice(Math.max(0, i - 2), i).some((l) => /^\s*(\/\/|\*|\/\*)/.test(l)))
          .map(({ line, i }) => `${path.relative(SRC, f)}:${i + 1}: ${line.trim()}`);
      });
    expect(unexplained).toEqual([]);
  });
});
