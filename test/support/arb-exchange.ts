// fast-check generator of arbitrary, valid Exchanges (shared by the format and spool property tests).
import fc from 'fast-check';
import type { CapturedBody, Exchange } from '../../src/core/exchange.js';

// JSON cannot carry -0, NaN or Infinity; capture never produces them.
const num = (): fc.Arbitrary<number> =>
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n));
const key = (): fc.Arbitrary<string> => fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/);

const body = (): fc.Arbitrary<CapturedBody> =>
  fc.record(
    {
      bytes: fc.uint8Array({ maxLength: 300 }),
      contentType: fc.string(),
      contentEncoding: fc.constantFrom('gzip', 'br'),
      size: fc.nat(),
      truncated: fc.boolean(),
      sha256: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }),
    },
    { requiredKeys: ['bytes', 'size', 'truncated'], noNullPrototype: true },
  );

export function arbExchange(): fc.Arbitrary<Exchange> {
  return fc.record(
    {
      id: fc.string({ minLength: 1 }),
      source: fc.record(
        {
          inferenceService: fc.string(),
          namespace: fc.string(),
          component: fc.string(),
          endpoint: fc.string(),
          sourceUri: fc.string(),
          annotations: fc.dictionary(key(), fc.string(), { maxKeys: 3, noNullPrototype: true }),
        },
        { noNullPrototype: true },
      ),
      mode: fc.constantFrom('all' as const, 'request' as const, 'response' as const),
      method: fc.constantFrom('GET', 'POST'),
      url: fc.string(),
      metadata: fc.dictionary(key(), fc.array(fc.string(), { maxLength: 3 }), {
        maxKeys: 3,
        noNullPrototype: true,
      }),
      requestTime: num(),
      responseTime: num(),
      request: body(),
      status: fc.integer({ min: 0, max: 599 }),
      response: body(),
      error: fc.record({ code: fc.string(), message: fc.string() }, { noNullPrototype: true }),
      stream: fc.record(
        {
          chunks: fc.nat(),
          ttfbMs: num(),
          ttlbMs: num(),
          partial: fc.boolean(),
          reason: fc.string(),
          assembledText: fc.string(),
          usage: fc.record(
            { promptTokens: fc.nat(), completionTokens: fc.nat(), totalTokens: fc.nat() },
            { requiredKeys: [], noNullPrototype: true },
          ),
        },
        { requiredKeys: ['chunks', 'ttfbMs', 'ttlbMs', 'partial'], noNullPrototype: true },
      ),
      sampleWeight: num(),
      trace: fc.record(
        {
          traceId: fc.stringMatching(/^[0-9a-f]{32}$/),
          spanId: fc.stringMatching(/^[0-9a-f]{16}$/),
          parentSpanId: fc.stringMatching(/^[0-9a-f]{16}$/),
          flags: fc.integer({ min: 0, max: 255 }),
          tracestate: fc.constantFrom('rojo=00f067aa0ba902b7', 'a=1,b@v=2'),
          generated: fc.boolean(),
        },
        { requiredKeys: ['traceId', 'spanId', 'flags'], noNullPrototype: true },
      ),
    },
    {
      noNullPrototype: true,
      requiredKeys: [
        'id',
        'source',
        'mode',
        'method',
        'url',
        'metadata',
        'requestTime',
        'responseTime',
        'status',
        'sampleWeight',
      ],
    },
  );
}
