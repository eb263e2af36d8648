import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANNOTATION_PREFIX, EXTENSION_OPTIONS } from './annotations.js';

describe('inferlog.dev annotations', () => {
  it('are all in the README’s configuration reference', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    for (const opt of EXTENSION_OPTIONS)
      expect(readme, opt.key).toContain(`\`${ANNOTATION_PREFIX}${opt.key}\``);
  });
});
