import { makeExchange } from '../../../test/support/exchange-fixture.js';
import { describe, expect, it } from 'vitest';
import type { CapturedBody } from '../../core/exchange.js';
import type { RedactionOptions } from '../../config/settings.js';
import {
  createRedactor,
  redactionProblems,
  TRUNCATED_TAIL_CHARS,
  validateRedactionOptions,
} from './index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function body(text: string | Uint8Array, over: Partial<CapturedBody> = {}): CapturedBody {
  const bytes = typeof text === 'string' ? enc.encode(text) : text;
  return { bytes, contentType: 'application/json', size: bytes.length, truncated: false, ...over };
}

const exchange = makeExchange;

const policy = (over: Partial<RedactionOptions> = {}): RedactionOptions => ({
  jsonPaths: [],
  patterns: [],
  forceHeaders: [],
  marker: '[REDACTED]',
  ...over,
});
const text = (b: CapturedBody | undefined): string => dec.decode(b?.bytes);

describe('createRedactor', () => {
  it('is the identity when no rule is configured', () => {
    const ex = exchange({ request: body('{"ssn":"1"}') });
    expect(createRedactor(policy()).apply(ex)).toBe(ex);
  });

  it('replaces the values at the paths and keeps every other byte (worked example of the docs)', () => {
    const r = createRedactor(policy({ jsonPaths: ['instances[*].ssn', '**.password'], patterns: ['email'] }));
    const req =
      '{"instances": [{"ssn": "123-45-6789", "age": 41, "id": 12345678901234567890},\n  {"ssn": {"nested": 1}, "note": "mail jane@example.com"}],\n "auth": {"Password": "hunter2"}}';
    const out = r.apply(exchange({ request: body(req) }));
    expect(text(out?.request)).toBe(
      '{"instances": [{"ssn": "[REDACTED]", "age": 41, "id": 12345678901234567890},\n  {"ssn": "[REDACTED]", "note": "mail [REDACTED]"}],\n "auth": {"Password": "[REDACTED]"}}',
    );
  });

  it('finds secrets written with JSON escapes', () => {
    const r = createRedactor(policy({ patterns: ['email'] }));
    const out = r.apply(exchange({ request: body('{"to":"jane\\u0040example.com"}') }));
    expect(text(out?.request)).toBe('{"to":"[REDACTED]"}');
  });

  it('does not modify its input', () => {
    const ex = exchange({ request: body('{"ssn":"x"}'), metadata: { 'X-User': ['a@b.com'] } });
    const before = structuredClone(ex);
    createRedactor(policy({ jsonPaths: ['ssn'], patterns: ['email'] })).apply(ex);
    expect(ex).toEqual(before);
  });

  describe('fails closed', () => {
    const r = createRedactor(policy({ jsonPaths: ['ssn'] }));
    it('withholds a body that is not JSON when JSON paths are configured, keeping size and sha256', () => {
      const out = r.apply(exchange({ request: body('ssn=123-45-6789', { contentType: 'text/plain' }) }));
      expect(text(out?.request)).toBe(
        '[REDACTED] (whole body withheld: JSON paths are configured and the body is not valid JSON at offset 0: unexpected character; 15 bytes)',
      );
      expect(out?.request?.contentType).toBe('text/plain; charset=utf-8');
      expect(out?.request?.size).toBe(15);
    });
    it('withholds a truncated JSON body', () => {
      const b = body('{"a":1,"ssn":"123-45-6789","b":[1,2', {
        truncated: true,
        size: 90_000,
        sha256: 'ab'.repeat(32),
      });
      const out = r.apply(exchange({ request: b }));
      expect(text(out?.request)).toBe(
        `[REDACTED] (whole body withheld: JSON paths are configured and the body was cut at the capture limit, so fields cannot be located; 90000 bytes, sha256 ${'ab'.repeat(32)})`,
      );
      expect(out?.request).toMatchObject({ truncated: true, size: 90_000, sha256: 'ab'.repeat(32) });
    });
    it('withholds a binary body when any rule is configured', () => {
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00]);
      for (const p of [policy({ jsonPaths: ['ssn'] }), policy({ patterns: ['email'] })]) {
        const out = createRedactor(p).apply(exchange({ request: body(png, { contentType: 'image/png' }) }));
        expect(text(out?.request)).toMatch(/^\[REDACTED\] \(whole body withheld: not UTF-8 text/);
      }
    });
    it('withholds a document nested too deep to scan safely', () => {
      const deep = '['.repeat(2000) + ']'.repeat(2000);
      expect(text(r.apply(exchange({ request: body(deep) }))?.request)).toMatch(/nested too deep/);
    });
    it('drops the tail of a truncated text body, where a secret may be cut in half', () => {
      const rp = createRedactor(policy({ patterns: ['email'] }));
      const head = 'x'.repeat(1000) + ' mail jane@example.com ';
      const cut = 'y'.repeat(TRUNCATED_TAIL_CHARS) + ' ann@exam'; // ann@example.com was cut at the capture limit
      const out = rp.apply(
        exchange({ request: body(head + cut, { contentType: 'text/plain', truncated: true, size: 5000 }) }),
      );
      const t = text(out?.request);
      expect(t).not.toContain('ann@');
      expect(t).not.toContain('jane@');
      expect(t.endsWith('[REDACTED]')).toBe(true);
      expect(t.startsWith('x'.repeat(1000) + ' mail [REDACTED] ')).toBe(true);
    });
  });

  it('redacts SSE bodies event by event, and withholds the assembled text a path names', () => {
    const r = createRedactor(policy({ jsonPaths: ['choices[*].delta.content'], patterns: ['email'] }));
    const sse =
      'data: {"choices":[{"index":0,"delta":{"content":"call 555"}}]}\r\n\r\n' +
      ': keep-alive\n\n' +
      'data: {"choices":[{"index":0,"delta":{"content":"mail a@b.com"}}],"note":"x@y.org"}\n\n' +
      'data: not json\n\n' +
      'data: [DONE]\n\n';
    const ex = exchange({
      url: '/openai/v1/chat/completions',
      response: body(sse, { contentType: 'text/event-stream' }),
      stream: { chunks: 5, ttfbMs: 1, ttlbMs: 2, partial: false, assembledText: 'call 555mail a@b.com' },
    });
    const out = r.apply(ex);
    expect(text(out?.response)).toBe(
      'data: {"choices":[{"index":0,"delta":{"content":"[REDACTED]"}}]}\r\n\r\n' +
        ': keep-alive\n\n' +
        'data: {"choices":[{"index":0,"delta":{"content":"[REDACTED]"}}],"note":"[REDACTED]"}\n\n' +
        'data: [REDACTED]\n\n' +
        'data: [DONE]\n\n',
    );
    expect(out?.stream?.assembledText).toBe('[REDACTED]');
  });

  it('keeps the complete events of a truncated SSE body and withholds the cut-off one', () => {
    const r = createRedactor(policy({ jsonPaths: ['ssn'] }));
    const sse = 'data: {"ssn":"1","ok":true}\n\ndata: {"ssn":"2","o';
    const out = r.apply(
      exchange({ response: body(sse, { contentType: 'text/event-stream', truncated: true, size: 999 }) }),
    );
    expect(text(out?.response)).toBe('data: {"ssn":"[REDACTED]","ok":true}\n\n[REDACTED]');
  });

  it('scrubs the assembled text with patterns when no path names it', () => {
    const r = createRedactor(policy({ jsonPaths: ['messages[*].content'], patterns: ['email'] }));
    const out = r.apply(
      exchange({
        url: '/openai/v1/chat/completions',
        stream: { chunks: 1, ttfbMs: 1, ttlbMs: 1, partial: false, assembledText: 'write to a@b.com' },
      }),
    );
    expect(out?.stream?.assembledText).toBe('write to [REDACTED]');
  });

  it('scrubs header values, the url and error messages', () => {
    const r = createRedactor(policy({ patterns: ['email', 'bearer-token'] }));
    const out = r.apply(
      exchange({
        url: '/v1/models/m:predict?user=a@b.com',
        metadata: { 'X-User': ['a@b.com', 'plain'], Authorization: ['Bearer abc.def'] },
        status: 0,
        error: { code: 'UPSTREAM_RESET', message: 'reset while sending to a@b.com' },
      }),
    );
    expect(out?.url).toBe('/v1/models/m:predict?user=[REDACTED]');
    expect(out?.metadata).toEqual({ 'X-User': ['[REDACTED]', 'plain'], Authorization: ['[REDACTED]'] });
    expect(out?.error).toEqual({ code: 'UPSTREAM_RESET', message: 'reset while sending to [REDACTED]' });
  });

  it('rejects a bad policy with the message the config validator shows', () => {
    expect(() => createRedactor(policy({ jsonPaths: ['a[x]'] }))).toThrow(
      'invalid JSON path "a[x]" at position 3',
    );
    expect(() => validateRedactionOptions(policy({ patterns: ['phone'] }))).toThrow(
      /unknown redaction pattern "phone"/,
    );
    expect(() => validateRedactionOptions(policy({ marker: '' }))).toThrow(/marker/);
  });
});

describe('createRedactor: the body, not its label, decides (issue 16 item 2)', () => {
  const r = createRedactor(policy({ jsonPaths: ['ssn'], patterns: ['email'] }));
  const withheld = (b: CapturedBody | undefined): boolean =>
    text(b).startsWith('[REDACTED] (whole body withheld');
  const json = '{"ssn":"123-45-6789","ok":1}';

  it('applies the paths to a JSON request and response whatever label they carry', () => {
    for (const contentType of [
      'text/event-stream',
      'application/x-ndjson',
      'text/plain',
      'application/x-www-form-urlencoded',
      undefined,
    ]) {
      const out = r.apply(
        exchange({ request: body(json, { contentType }), response: body(json, { contentType }) }),
      );
      expect(text(out?.request), String(contentType)).toBe('{"ssn":"[REDACTED]","ok":1}');
      expect(text(out?.response), String(contentType)).toBe('{"ssn":"[REDACTED]","ok":1}');
    }
  });

  it('never reads a request as SSE or NDJSON: a body that is not one JSON document is withheld', () => {
    for (const [contentType, req] of [
      ['text/event-stream', `{"x":1}\n{"ssn":"123-45-6789"}`],
      ['text/event-stream', 'data: {"a":1}\n{"ssn":"123-45-6789"}'],
      ['application/x-ndjson', '{"x": NaN, "ssn":\n"123-45-6789"\n}'],
      ['multipart/form-data; boundary=b', `--b\r\n\r\n${json}\r\n--b--`],
    ] as const) {
      expect(withheld(r.apply(exchange({ request: body(req, { contentType }) }))?.request), req).toBe(true);
    }
  });

  it('withholds a response NDJSON body with a line that is not JSON, and SSE lines that are not SSE fields', () => {
    const lenient = r.apply(
      exchange({
        response: body('{"x": NaN, "ssn":\n"123-45-6789"\n}', { contentType: 'application/x-ndjson' }),
      }),
    );
    expect(withheld(lenient?.response)).toBe(true);
    const lines = r.apply(
      exchange({ response: body(`{"ok":1}\n${json}\n`, { contentType: 'application/x-ndjson' }) }),
    );
    expect(text(lines?.response)).toBe('{"ok":1}\n{"ssn":"[REDACTED]","ok":1}\n');
    const sse = r.apply(
      exchange({
        response: body('event: x\nid: 7\n: hi\nssn: 123-45-6789\ndata: {"ssn":"1"}\n\n', {
          contentType: 'text/event-stream',
        }),
      }),
    );
    expect(text(sse?.response)).toBe('event: x\nid: 7\n: hi\n[REDACTED]\ndata: {"ssn":"[REDACTED]"}\n\n');
  });

  it('withholds UTF-16 text, a foreign charset and a body still content-encoded', () => {
    const utf16 = new Uint8Array(Buffer.from('{"mail":"jane@example.com"}', 'utf16le'));
    const scrubOnly = createRedactor(policy({ patterns: ['email'] }));
    for (const b of [
      body(utf16, { contentType: 'application/json; charset=utf-16' }),
      body(utf16, { contentType: 'application/json' }),
      body('jane+AEA-example.com', { contentType: 'text/plain; charset=UTF-7' }),
      body('\x1f\x8b jane@example.com', { contentEncoding: 'gzip', stillEncoded: true }),
    ]) {
      expect(withheld(scrubOnly.apply(exchange({ request: b }))?.request)).toBe(true);
    }
    const ok = scrubOnly.apply(
      exchange({
        request: body('{"m":"jane@example.com"}', { contentType: 'application/json; charset=UTF-8' }),
      }),
    );
    expect(text(ok?.request)).toBe('{"m":"[REDACTED]"}');
  });
});

describe('redactionProblems', () => {
  it('lists every problem with the option it belongs to', () => {
    expect(
      redactionProblems(
        policy({ jsonPaths: ['ok', 'a[x]'], patterns: ['email', 'phone', 'email'], marker: '' }),
      ),
    ).toEqual([
      {
        field: 'jsonPaths',
        index: 1,
        message:
          'invalid JSON path "a[x]" at position 3: expected an index, * or a quoted key after "[", found "x"',
      },
      { field: 'patterns', index: 1, message: expect.stringMatching(/^unknown redaction pattern "phone"/) },
      { field: 'marker', index: 0, message: 'the redaction marker must not be empty' },
    ]);
    expect(redactionProblems(policy({ patterns: ['email', 'email'] }))).toEqual([
      { field: 'patterns', index: 0, message: 'redaction pattern "email" is listed twice' },
    ]);
    expect(
      redactionProblems(policy({ jsonPaths: ['**.password'], patterns: ['card', 'id=ID-\\d+'] })),
    ).toEqual([]);
  });
});
