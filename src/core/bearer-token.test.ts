import { describe, expect, it } from 'vitest';
import { sentInClear, tokenFromText } from './bearer-token.js';

describe('bearer tokens', () => {
  it('accept one RFC 6750 token, trimmed, and name the source but never the content when refusing', () => {
    expect(tokenFromText('  ilt_abc-123.XYZ~+/==\n', 'f')).toBe('ilt_abc-123.XYZ~+/==');
    for (const bad of ['', 'two words', 'line1\nline2', 'a\u0000b', 'x'.repeat(16 * 1024 + 1)]) {
      const err = (() => {
        try {
          tokenFromText(bad, '/run/secrets/token');
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(err?.message, JSON.stringify(bad.slice(0, 20))).toContain('/run/secrets/token');
      if (bad.length > 0 && bad.length < 100) expect(err?.message).not.toContain(bad);
    }
  });

  it('say when a token would cross the network in clear text', () => {
    expect(sentInClear('http://collector.inferlog.svc:8091/')).toBe(true);
    expect(sentInClear('http://10.0.0.7/')).toBe(true);
    expect(sentInClear('https://collector.inferlog.svc/')).toBe(false);
    expect(sentInClear('http://127.0.0.1:8090/')).toBe(false);
    expect(sentInClear('http://localhost:8090/')).toBe(false);
    expect(sentInClear('http://[::1]:8090/')).toBe(false);
    expect(sentInClear('otlp+http://otel:4318')).toBe(true);
    expect(sentInClear('not a url')).toBe(false);
  });
});
