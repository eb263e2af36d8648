import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANNOTATION_PREFIX, EXTENSION_OPTIONS, parseBytes } from './annotations.js';

describe('inferlog.dev annotations', () => {
  it('are all in the README’s configuration reference', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    for (const opt of EXTENSION_OPTIONS)
      expect(readme, opt.key).toContain(`\`${ANNOTATION_PREFIX}${opt.key}\``);
  });

  it('parse sizes with binary and decimal units, and reject junk with an example', () => {
    expect(parseBytes('1MiB')).toBe(1024 * 1024);
    expect(parseBytes('512KiB')).toBe(512 * 1024);
    expect(parseBytes('10MB')).toBe(10_000_000);
    expect(parseBytes('2048')).toBe(2048);
    expect(() => parseBytes('lots')).toThrow(/e\.g\. 1048576, 512KiB, 1MiB/);
  });
});
