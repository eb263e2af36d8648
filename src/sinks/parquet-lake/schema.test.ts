import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXCHANGE_COLUMNS } from './schema.js';

describe('exchanges layout columns', () => {
  it('are all documented, with their types, in docs/exchanges-layout.md', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../../docs/exchanges-layout.md'), 'utf8');
    for (const c of EXCHANGE_COLUMNS) expect(doc, c.name).toContain(`| \`${c.name}\` | \`${c.type}\` |`);
  });
});
