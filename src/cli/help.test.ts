import { describe, expect, it } from 'vitest';
import { EXTENSION_OPTIONS } from '../config/annotations.js';
import { defaultLoggerSettings } from '../config/settings.js';
import { requestLimitsFrom } from './request-limits.js';
import { PROXY_DEFAULTS } from '../capture/proxy.js';
import { Command } from 'commander';
import { addRequestLimitFlags } from './request-limits.js';

describe('defaults shown in help are the defaults in effect', () => {
  it('every logger extension: applying the shown default changes nothing', () => {
    for (const opt of EXTENSION_OPTIONS) {
      if (opt.default === undefined) continue;
      const settings = defaultLoggerSettings();
      opt.apply(settings, opt.default);
      expect(settings, opt.key).toEqual(defaultLoggerSettings());
    }
  });

  it('every request limit: parsing the shown default gives the default', () => {
    const cmd = new Command();
    addRequestLimitFlags(cmd, true);
    const flags: Record<string, string> = {};
    for (const o of cmd.options) flags[o.attributeName()] = o.defaultValueDescription as string;
    expect(Object.values(flags).every((v) => typeof v === 'string' && v.length > 0)).toBe(true);
    expect(requestLimitsFrom(flags, 'test')).toEqual({
      requestBodyTimeoutMs: PROXY_DEFAULTS.requestBodyTimeoutMs,
      requestTimeoutMs: PROXY_DEFAULTS.requestTimeoutMs,
      requestBufferBytes: PROXY_DEFAULTS.requestBufferBytes,
      connections: PROXY_DEFAULTS.connections,
    });
  });
});
