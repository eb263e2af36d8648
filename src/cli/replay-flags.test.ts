import { describe, expect, it } from 'vitest';
import { parseRate, parseReplayFlags, type RawReplayFlags } from './replay-flags.js';

const raw = (over: Partial<RawReplayFlags> = {}): RawReplayFlags => ({
  from: 'http://127.0.0.1:8090',
  to: 'http://127.0.0.1:8081',
  limit: '1000',
  path: '/v1/models/{model}:predict',
  pathRewrite: [],
  concurrency: '8',
  timeout: '10s',
  compare: 'json',
  tolerance: '0',
  ignore: [],
  header: [],
  replayId: true,
  dryRun: false,
  format: 'table',
  ...over,
});

describe('parseReplayFlags', () => {
  it('turns flags into typed options', () => {
    const o = parseReplayFlags(
      raw({
        rate: '300/m',
        timeout: '1m30s',
        ignore: ['$.outputs[0].name', 'id'],
        since: '1h',
        tolerance: '1e-6',
      }),
    );
    expect(o).toMatchObject({
      ratePerSecond: 5,
      timeoutMs: 90_000,
      ignore: ['outputs[*].name', 'id'],
      filter: { since: '1h' },
      tolerance: 1e-6,
    });
    expect(o.to.origin).toBe('http://127.0.0.1:8081');
  });

  it.each([
    [{ to: undefined }, /--to is required/],
    [{ to: 'ftp://x' }, /--to "ftp:\/\/x"/],
    [{ compare: 'fuzzy' }, /--compare "fuzzy": use exact, json or none/],
    [{ concurrency: '0' }, /--concurrency "0"/],
    [{ tolerance: '-1' }, /--tolerance/],
    [{ timeout: 'soon' }, /--timeout "soon"/],
    [{ rate: 'fast' }, /--rate "fast"/],
    [{ header: ['bad header: x'] }, /--header/],
    [{ pathRewrite: ['nope'] }, /--path-rewrite/],
    [{ format: 'xml' }, /--format "xml"/],
  ] as const)('rejects %j', (over, message) => {
    expect(() => parseReplayFlags(raw(over as Partial<RawReplayFlags>))).toThrow(message);
  });

  it('reads rates per second, minute and hour', () => {
    expect(parseRate('50/s')).toBe(50);
    expect(parseRate('50')).toBe(50);
    expect(parseRate('3600/h')).toBe(1);
  });
});
