/**
 * The UI's pure formatting helpers (src/collector/ui/format.js, plain browser JS), run in Node:
 * what an engineer reads off the page must be exactly what the model sent.
 */
import { describe, expect, it } from 'vitest';

interface FormatModule {
  prettyJson(text: string): Array<[string, string]> | null;
  hexDump(bytes: Uint8Array, max?: number): string;
  base64ToBytes(b64: string): Uint8Array;
  statusClass(ex: { status: number | null; errorCode: string | null }): string;
  statusLabel(ex: { status: number | null; errorCode: string | null }): string;
  formatTime(iso: string | null, utc: boolean): string;
  fromInputTime(value: string, utc: boolean): number | null;
  toInputTime(ms: number, utc: boolean): string;
  formatLatency(ms: number | null): string;
  formatBytes(n: number | null): string;
  formatWeight(w: number): string;
  looksLikeJson(contentType: string | null, text: string): boolean;
}

// A variable specifier: the module is browser JS without type declarations.
const modulePath = '../../src/collector/ui/format.js';
const fmt = (await import(modulePath)) as FormatModule;
const pretty = (text: string): string | undefined =>
  fmt
    .prettyJson(text)
    ?.map((s) => s[1])
    .join('');

describe('prettyJson', () => {
  it('keeps numbers, escapes and key order verbatim (no JSON.parse round trip)', () => {
    const text = '{"id":12345678901234567890,"f":1.0,"e":1e400,"s":"a\\"b\\u00e9<x>","z":1,"a":2}';
    expect(pretty(text)).toBe(
      '{\n  "id": 12345678901234567890,\n  "f": 1.0,\n  "e": 1e400,\n  "s": "a\\"b\\u00e9<x>",\n  "z": 1,\n  "a": 2\n}',
    );
  });

  it('keeps arrays of scalars (tensors) on one line and indents nested structure', () => {
    expect(pretty('{"instances":[[1,2],[3,4]],"empty":[],"o":{}}')).toBe(
      '{\n  "instances": [\n    [1, 2],\n    [3, 4]\n  ],\n  "empty": [],\n  "o": {}\n}',
    );
    expect(pretty('[true, null, "x"]')).toBe('[true, null, "x"]');
  });

  it('marks keys and value kinds for colouring', () => {
    const segs = fmt.prettyJson('{"k":"v","n":1,"b":false}') ?? [];
    expect(segs.filter(([c]) => c === 'key').map(([, t]) => t)).toEqual(['"k"', '"n"', '"b"']);
    expect(segs.find(([c]) => c === 'str')?.[1]).toBe('"v"');
    expect(segs.find(([c]) => c === 'num')?.[1]).toBe('1');
    expect(segs.find(([c]) => c === 'bool')?.[1]).toBe('false');
  });

  it('returns null for text that is not JSON', () => {
    expect(fmt.prettyJson('{"a":')).toBeNull();
    expect(fmt.prettyJson('hello')).toBeNull();
    expect(fmt.prettyJson('')).toBeNull();
  });
});

describe('binary bodies', () => {
  it('hex dumps 16 bytes a line with printable ASCII', () => {
    const bytes = fmt.base64ToBytes('iVBORw0KGgr/AA==');
    expect([...bytes]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00]);
    expect(fmt.hexDump(bytes)).toBe(
      '00000000  89 50 4e 47 0d 0a 1a 0a  ff 00                    |.PNG......|',
    );
    const many = new Uint8Array(40).fill(0x41);
    const lines = fmt.hexDump(many, 32).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]?.startsWith('00000010  41 41')).toBe(true);
  });
});

describe('status', () => {
  it('classes match the API filter buckets', () => {
    expect(fmt.statusClass({ status: 200, errorCode: null })).toBe('ok');
    expect(fmt.statusClass({ status: 302, errorCode: null })).toBe('redirect');
    expect(fmt.statusClass({ status: 404, errorCode: null })).toBe('client');
    expect(fmt.statusClass({ status: 503, errorCode: null })).toBe('server');
    expect(fmt.statusClass({ status: 0, errorCode: null })).toBe('error');
    expect(fmt.statusClass({ status: 502, errorCode: 'UPSTREAM_TIMEOUT' })).toBe('error');
    expect(fmt.statusClass({ status: null, errorCode: null })).toBe('incomplete');
    expect(fmt.statusLabel({ status: 0, errorCode: 'UPSTREAM_UNREACHABLE' })).toBe('UPSTREAM_UNREACHABLE');
    expect(fmt.statusLabel({ status: 502, errorCode: 'UPSTREAM_TIMEOUT' })).toBe('502 UPSTREAM_TIMEOUT');
  });
});

describe('times and sizes', () => {
  it('reads RFC 3339 with nanoseconds and shows UTC to the millisecond', () => {
    expect(fmt.formatTime('2026-08-21T10:15:30.001873512Z', true)).toBe('2026-08-21 10:15:30.001');
    expect(fmt.formatTime(null, true)).toBe('—');
  });

  it('round-trips custom range inputs in UTC', () => {
    const ms = Date.UTC(2026, 7, 21, 10, 15, 30);
    expect(fmt.toInputTime(ms, true)).toBe('2026-08-21T10:15');
    expect(fmt.fromInputTime('2026-08-21T10:15:30', true)).toBe(ms);
    expect(fmt.fromInputTime('not a time', true)).toBeNull();
  });

  it('formats latency, sizes and weights for reading', () => {
    expect(fmt.formatLatency(0.42)).toBe('0.42 ms');
    expect(fmt.formatLatency(11.031)).toBe('11.0 ms');
    expect(fmt.formatLatency(1234)).toBe('1.23 s');
    expect(fmt.formatLatency(null)).toBe('—');
    expect(fmt.formatBytes(59)).toBe('59 B');
    expect(fmt.formatBytes(16 * 1024 * 1024)).toBe('16.0 MiB');
    expect(fmt.formatWeight(1)).toBe('');
    expect(fmt.formatWeight(10)).toBe('×10');
    expect(fmt.looksLikeJson('application/vnd.api+json', 'x')).toBe(true);
    expect(fmt.looksLikeJson(null, '  [1]')).toBe(true);
    expect(fmt.looksLikeJson('text/plain', 'hello')).toBe(false);
  });
});
