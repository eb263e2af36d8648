import { describe, expect, it } from 'vitest';
import type { ExchangeView } from '../../api/view.js';
import { styles } from '../../core/terminal.js';
import { previewText, queryColumns, renderDetail, shortError, statusText, tailColumns } from './exchange.js';
import { layout, renderHeader, renderRow, renderTable } from './table.js';

const plain = styles(false);

function ex(over: Partial<ExchangeView> = {}): ExchangeView {
  return {
    id: '441a7034-909a-479f-b5f9-3b3af5476373',
    complete: true,
    model: 'simple-model',
    namespace: 'default',
    component: 'predictor',
    endpoint: '',
    source: 'http://localhost:9081/',
    method: 'POST',
    url: '/v1/models/simple-model:predict?api_key=[REDACTED]',
    time: '2026-11-30T10:01:12.123456789Z',
    requestTime: null,
    responseTime: null,
    latencyMs: 12.34,
    status: 200,
    errorCode: null,
    sampleWeight: 1,
    metadata: {},
    annotations: {},
    request: {
      type: 't',
      contentType: 'application/json',
      size: 30,
      truncated: false,
      originalSize: null,
      sha256: null,
      time: null,
      recordedTime: null,
    },
    response: {
      type: 't',
      contentType: 'application/json',
      size: 20,
      truncated: false,
      originalSize: null,
      sha256: null,
      time: null,
      recordedTime: null,
    },
    requestPreview: '{"instances":[[1,2,3,4]],"parameters":{"long":"' + 'x'.repeat(300) + '"}}',
    responsePreview: '{"predictions":[0]}',
    ...over,
  };
}

const widths = (text: string): number[] =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => [...l].length);

describe('query table', () => {
  it('fits every width from 40 to 200 columns, and keeps the id whole', () => {
    const rows = [
      ex(),
      ex({
        id: 'b',
        status: 502,
        errorCode: 'UPSTREAM_TIMEOUT',
        model: 'a-very-long-model-name-for-the-table',
      }),
    ];
    for (const w of [40, 60, 80, 100, 120, 160, 200]) {
      const out = renderTable(queryColumns(), rows, w, plain);
      // 40 columns cannot hold time + status + the 36-character id: lines may only be longer
      // there because the id is never cut.
      if (w >= 80) for (const n of widths(out)) expect(n, `${w}\n${out}`).toBeLessThanOrEqual(w);
      expect(out).toContain('441a7034-909a-479f-b5f9-3b3af5476373');
    }
  });

  it('cuts long values with an ellipsis and leaves out the least important columns first', () => {
    const wide = renderTable(queryColumns(), [ex()], 200, plain);
    expect(wide.split('\n')[0]).toMatch(
      /^TIME\s+MODEL\s+ROUTE\s+STATUS\s+LATENCY\s+ID\s+REQUEST\s+RESPONSE$/,
    );
    expect(wide).toContain('2026-11-30T10:01:12.123Z');
    const short = renderTable(queryColumns(), [ex({ time: '2026-11-30T10:01:12.5Z' })], 200, plain);
    expect(short).toContain('2026-11-30T10:01:12.500Z');
    expect(wide).toContain('POST /v1/models/simple-model:predict');
    expect(wide).not.toContain('api_key');
    expect(wide).toContain('…');
    const narrow = renderTable(queryColumns(), [ex()], 80, plain);
    // The date stays, the seconds' fraction goes; previews and the route make room first.
    expect(narrow).toContain('11-30 10:01:12');
    expect(narrow.split('\n')[0]).not.toContain('RESPONSE');
  });

  it('status is the code plus a short error code; binary bodies get a summary', () => {
    expect(statusText(ex({ status: 502, errorCode: 'UPSTREAM_RESET' }))).toBe('502 reset');
    expect(statusText(ex({ status: null, errorCode: 'CLIENT_ABORTED' }))).toBe('- client-aborted');
    expect(statusText(ex({ status: null, complete: false }))).toBe('incomplete');
    expect(shortError('EVIL\u001b[2J')).toBe('evil␛[2j');
    const bin = ex({ requestPreview: null });
    expect(previewText(bin.request, null)).toBe('‹binary, 30B, application/json›');
    expect(previewText(null, null)).toBe('');
  });

  it('colours on request only, and the coloured line is the plain line plus escapes', () => {
    const rows = [ex({ status: 503 })];
    const coloured = renderTable(queryColumns(), rows, 120, styles(true));
    expect(coloured).toContain('\u001b[31m');
    // eslint-disable-next-line no-control-regex -- removing the colour codes
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(renderTable(queryColumns(), rows, 120, plain));
  });
});

describe('tail lines', () => {
  it('are laid out once, before any row, and line up whatever the values', () => {
    for (const w of [80, 120, 200]) {
      const l = layout(tailColumns(), [], w, true);
      const header = renderHeader(l, plain);
      expect(header).toMatch(/^TIME\s+MODEL/);
      const a = renderRow(l, ex(), plain);
      const b = renderRow(l, ex({ model: 'm', url: '/', status: 404, latencyMs: 1234.5 }), plain);
      expect(a.indexOf('200')).toBe(b.indexOf('404'));
      expect(a.indexOf('200')).toBe(header.indexOf('STATUS'));
      for (const line of [header, a, b]) expect([...line].length).toBeLessThanOrEqual(w);
    }
    // A streamed answer says so.
    const streamed = ex({
      response: { ...ex().response!, stream: { chunks: 12, ttfbMs: 31.2, partial: false } },
    });
    expect(renderRow(layout(tailColumns(), [], 200, true), streamed, plain)).toContain(
      '12 chunks, ttfb 31ms',
    );
  });
});

describe('query --id detail', () => {
  it('shows both bodies: JSON pretty-printed, binary as a hex dump, controls made visible', () => {
    const e = ex({
      request: { ...ex().request!, body: '{"instances":[[1]]}', bodyEncoding: 'utf8' },
      response: {
        ...ex().response!,
        contentType: 'application/octet-stream',
        body: Buffer.from([0xff, 0, 0x41]).toString('base64'),
        bodyEncoding: 'base64',
        size: 3,
      },
      metadata: { 'X-Request-Id': ['abc\u001b]0;pwned\u0007'] },
    });
    const out = renderDetail(e, plain);
    expect(out).toContain('REQUEST  application/json, 30B');
    expect(out).toContain('"instances": [');
    expect(out).toContain('RESPONSE  application/octet-stream, binary, 3B');
    expect(out).toContain('00000000  ff 00 41');
    expect(out).toContain('X-Request-Id: abc␛]0;pwned␇');
    expect(out).not.toContain('\u001b');
    expect(renderDetail(ex({ response: null, complete: false, status: null }), plain)).toContain(
      'RESPONSE  (not captured)',
    );
  });
});
