import { describe, expect, it } from 'vitest';
import {
  formatTraceparent,
  parseTraceparent,
  parseTracestate,
  traceContextFromHeaders,
} from './trace-context.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C traceparent', () => {
  it('parses a valid version-00 value', () => {
    expect(parseTraceparent(TP)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentId: '00f067aa0ba902b7',
      flags: 1,
    });
  });

  it('accepts a future version with more fields, and ignores what it does not know', () => {
    expect(parseTraceparent('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-ever')?.flags).toBe(
      9,
    );
  });

  it.each([
    ['upper-case hex', TP.toUpperCase()],
    ['version ff', 'ff' + TP.slice(2)],
    ['all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['all-zero parent id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['version 00 with extra fields', TP + '-00'],
    ['short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['not hex', '00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01'],
    ['empty', ''],
    ['huge', TP + '-' + 'a'.repeat(100_000)],
    ['two headers', [TP, TP]],
    ['script', '<script>alert(1)</script>'],
  ])('ignores %s', (_label, value) => {
    expect(parseTraceparent(value as string)).toBeUndefined();
  });

  it('formats what it parses', () => {
    const p = parseTraceparent(TP)!;
    expect(formatTraceparent({ traceId: p.traceId, spanId: p.parentId, flags: p.flags })).toBe(TP);
  });
});

describe('W3C tracestate', () => {
  it('keeps a valid list, joining repeated headers', () => {
    expect(parseTracestate(['rojo=00f067aa0ba902b7', 'congo=t61rcWkgMzE'])).toBe(
      'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    );
    expect(parseTracestate('tenant@vendor=x')).toBe('tenant@vendor=x');
  });

  it.each([
    ['no equals', 'rojo'],
    ['upper-case key', 'Rojo=1'],
    ['duplicate key', 'a=1,a=2'],
    ['a comma in a value smuggled through', 'a=1,b'],
    ['over 512 characters', 'a=' + 'x'.repeat(600)],
    ['33 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
  ])('drops %s', (_label, value) => {
    expect(parseTracestate(value)).toBeUndefined();
  });
});

describe('trace context of a request', () => {
  it("takes the caller's trace and span, and its tracestate", () => {
    expect(traceContextFromHeaders({ traceparent: TP, tracestate: 'rojo=1' })).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      parentSpanId: '00f067aa0ba902b7',
      flags: 1,
      tracestate: 'rojo=1',
    });
  });

  it('starts a fresh, unsampled trace when there is none or it is invalid, and drops tracestate then', () => {
    for (const traceparent of [undefined, 'garbage', TP.toUpperCase()]) {
      const ctx = traceContextFromHeaders({ traceparent, tracestate: 'rojo=1' });
      expect(ctx.generated).toBe(true);
      expect(ctx.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(ctx.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(ctx.flags).toBe(0);
      expect(ctx.tracestate).toBeUndefined();
      expect(ctx.parentSpanId).toBeUndefined();
    }
    const a = traceContextFromHeaders({});
    const b = traceContextFromHeaders({});
    expect(a.traceId).not.toBe(b.traceId);
  });
});
