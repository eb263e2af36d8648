import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { exchangeKey } from './exchange-record.js';

describe('exchangeKey', () => {
  it('is the same key as every earlier version computed: stored rows, their links and late halves still match', () => {
    const scope = {
      source: 'http://localhost:9081/',
      namespace: 'ns',
      model: 'iris',
      component: 'predictor',
    };
    for (const id of ['0b1f6c8e-8c1e-4f55-9f0e-1c2d3e4f5a6b', '', 'ünïcode "quoted" \u0000']) {
      const h = { ...scope, id };
      const before = createHash('sha256')
        .update(JSON.stringify([h.source, h.namespace, h.model, h.component, h.id]))
        .digest('base64url')
        .slice(0, 32);
      expect(exchangeKey(h)).toBe(before);
    }
    expect(exchangeKey({ ...scope, id: 'a' })).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
