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

describe('collect: the limits shown in help are the ones in effect', () => {
  it('--max-connections and --headers-timeout show the server defaults', async () => {
    const { register } = await import('./commands/collect.js');
    const { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS } = await import('../collector/server.js');
    const { parseDuration } = await import('../core/units.js');
    const program = new Command();
    register(program);
    const collect = program.commands.find((c) => c.name() === 'collect')!;
    const shown = (flag: string): unknown => collect.options.find((o) => o.long === flag)?.defaultValue;
    expect(Number(shown('--max-connections'))).toBe(DEFAULT_MAX_CONNECTIONS);
    expect(parseDuration(String(shown('--headers-timeout')))).toBe(DEFAULT_HEADERS_TIMEOUT_MS);
    for (const flag of [
      '--auth-file',
      '--tls-cert',
      '--tls-key',
      '--tls-client-ca',
      '--insecure-no-auth',
      '--metrics-public',
      '--ingest-port',
      '--ingest-host',
      '--ingest-open',
      '--rate-limit',
    ])
      expect(
        collect.options.some((o) => o.long === flag),
        flag,
      ).toBe(true);
  });
});
