/**
 * Property: a value the policy names never reaches any output form — the JSON log line, the
 * lossless JSONL record, CloudEvents binary (headers and body) and structured — whatever the body
 * looks like: nested JSON, SSE events, text, a truncated or binary body.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CapturedBody, Exchange } from '../../src/core/exchange.js';
import { createRedactor } from '../../src/pipeline/redaction/index.js';
import { encodeJsonLine } from '../../src/formats/json-line.js';
import { encodeRecord } from '../../src/formats/jsonl-record.js';
import { encodeBinary, encodeStructured } from '../../src/formats/cloudevents.js';
import { makeExchange } from '../support/exchange-fixture.js';

const enc = new TextEncoder();
const lenient = new TextDecoder('utf-8');

const redactor = createRedactor({
  jsonPaths: ['ssn', 'instances[*].ssn', 'inputs[*].data', 'messages[*].content', 'a.b[0].c', '**.password'],
  patterns: ['email', 'card'],
  forceHeaders: [],
  marker: '[REDACTED]',
});

/** Everything a sink could emit for an exchange, as text (base64 payloads decoded). */
function allOutputs(ex: Exchange): string[] {
  const out: string[] = [encodeJsonLine(ex), encodeRecord(ex)];
  for (const b of [ex.request, ex.response])
    if (b) out.push(lenient.decode(b.bytes), Buffer.from(b.bytes).toString('latin1'));
  for (const e of encodeBinary(ex)) {
    out.push(e.headers.join('\n'));
    if (e.body) out.push(lenient.decode(e.body));
  }
  for (const e of encodeStructured(ex)) {
    out.push(e.json);
    const m = /"data_base64":"([^"]*)"/.exec(e.json);
    if (m) out.push(Buffer.from(m[1] as string, 'base64').toString('utf8'));
  }
  if (ex.stream?.assembledText) out.push(ex.stream.assembledText);
  return out;
}

function expectNoLeak(ex: Exchange, secrets: readonly string[]): void {
  const outputs = allOutputs(ex);
  for (const s of secrets) {
    const escaped = JSON.stringify(s).slice(1, -1);
    for (const o of outputs) {
      expect(o.includes(s), `"${s}" leaked in ${o.slice(0, 200)}`).toBe(false);
      expect(o.includes(escaped), `"${escaped}" leaked`).toBe(false);
    }
  }
}

function exchange(
  request: CapturedBody | undefined,
  response?: CapturedBody,
  over: Partial<Exchange> = {},
): Exchange {
  return makeExchange({ request, response, ...over });
}

const jsonBody = (text: string, over: Partial<CapturedBody> = {}): CapturedBody => {
  const bytes = enc.encode(text);
  return { bytes, contentType: 'application/json', size: bytes.length, truncated: false, ...over };
};

/** A secret: distinctive, and sometimes with characters JSON must escape or that are not ASCII. */
const secret = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9]{6,10}$/), fc.constantFrom('', '"q"', '\\', 'é日', '\n', '😀'))
  .map(([a, b]) => `ZZSECRET${a}${b}`);

/** A Luhn-valid 16-digit card number. */
const card = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 15, maxLength: 15 }).map((digits) => {
  const d = [4, ...digits.slice(1)];
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let x = d[14 - i] as number;
    if (i % 2 === 0) {
      x *= 2;
      if (x > 9) x -= 9;
    }
    sum += x;
  }
  return d.join('') + String((10 - (sum % 10)) % 10);
});

const email = fc
  .tuple(fc.stringMatching(/^[a-z][a-z0-9.]{2,8}$/), fc.stringMatching(/^[a-z]{3,8}$/))
  .map(([u, d]) => `${u}@${d}.example.com`);

/** A JSON document with the secrets at the configured paths and pattern matches in free text. */
const document = fc
  .record({
    s: fc.array(secret, { minLength: 6, maxLength: 6 }),
    filler: fc.jsonValue({ maxDepth: 2 }),
    mail: email,
    cardNo: card,
    n: fc.integer({ min: 1, max: 3 }),
    indent: fc.constantFrom(0, 2),
  })
  .map(({ s, filler, mail, cardNo, n, indent }) => {
    const [s0, s1, s2, s3, s4, s5] = s as [string, string, string, string, string, string];
    const doc = {
      filler,
      ssn: s0,
      instances: Array.from({ length: n }, (_, i) => ({
        ssn: { deep: [s1, i] },
        keep: i,
        note: `contact ${mail} now`,
      })),
      inputs: [{ name: 'x', data: [s2, 1, 2] }],
      messages: [{ role: 'user', content: `${s3} pay with ${cardNo}` }],
      a: { b: [{ c: s4 }, { c: 'visible' }] },
      config: { nested: [{ Password: s5 }] },
    };
    return { text: JSON.stringify(doc, null, indent), secrets: [...s, mail, cardNo] };
  });

describe('redaction never leaks a configured value', () => {
  it('in JSON bodies, nested at any configured path, in every output form', () => {
    fc.assert(
      fc.property(document, ({ text, secrets }) => {
        const out = redactor.apply(exchange(jsonBody(text), jsonBody(text))) as Exchange;
        expectNoLeak(out, secrets);
        // The structure stays: still JSON, unredacted values unchanged.
        const parsed = JSON.parse(lenient.decode(out.request?.bytes)) as {
          a: { b: Array<{ c: string }> };
          instances: Array<{ keep: number }>;
        };
        expect(parsed.a.b[1]?.c).toBe('visible');
        expect(parsed.instances.map((i) => i.keep)).toEqual(parsed.instances.map((_, i) => i));
      }),
      { numRuns: 200 },
    );
  });

  it('when the body is cut at the capture limit anywhere', () => {
    fc.assert(
      fc.property(document, fc.double({ min: 0, max: 1, noNaN: true }), ({ text, secrets }, at) => {
        const bytes = enc.encode(text);
        const cut = bytes.subarray(0, Math.floor(bytes.length * at));
        const b: CapturedBody = {
          bytes: cut,
          contentType: 'application/json',
          size: bytes.length,
          truncated: true,
          sha256: '00'.repeat(32),
        };
        expectNoLeak(redactor.apply(exchange(b)) as Exchange, secrets);
      }),
      { numRuns: 200 },
    );
  });

  it('in SSE response bodies (whole or cut) and in the assembled text', () => {
    fc.assert(
      fc.property(
        fc.array(document, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (docs, cutIt, at) => {
          const sse = docs.map((d) => `data: ${d.text.replace(/\n/g, '')}\n\n`).join('') + 'data: [DONE]\n\n';
          const bytes = enc.encode(sse);
          const kept = cutIt ? bytes.subarray(0, Math.floor(bytes.length * at)) : bytes;
          const response: CapturedBody = {
            bytes: kept,
            contentType: 'text/event-stream',
            size: bytes.length,
            truncated: cutIt,
          };
          const secrets = docs.flatMap((d) => d.secrets);
          const ex = exchange(undefined, response, {
            url: '/openai/v1/chat/completions',
            stream: {
              chunks: docs.length,
              ttfbMs: 1,
              ttlbMs: 2,
              partial: false,
              assembledText: secrets.join(' '),
            },
          });
          const out = redactor.apply(ex) as Exchange;
          // messages[*].content does not name the streamed text, so it is scrubbed, not withheld:
          // the pattern matches (emails, cards) must be gone; path secrets in free text are out of scope.
          expectNoLeak({ ...out, stream: undefined }, secrets);
          for (const s of docs.flatMap((d) => d.secrets.slice(6)))
            expect(out.stream?.assembledText).not.toContain(s);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('in text bodies, header values, the url and error messages (patterns)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ maxLength: 20 }), fc.oneof(email, card)), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.boolean(),
        (parts, truncated) => {
          const secrets = parts.map(([, s]) => s);
          const text = parts.map(([pre, s]) => `${pre.replace(/[\w@.-]$/, '')} ${s} `).join('');
          const b: CapturedBody = {
            bytes: enc.encode(text),
            contentType: 'text/plain',
            size: text.length,
            truncated,
          };
          const ex = exchange(b, undefined, {
            url: `/v1/models/m:predict?who=${encodeURIComponent(secrets[0] as string).replace(/%40/g, '@')}`,
            metadata: { 'X-Who': secrets },
            status: 0,
            error: { code: 'UPSTREAM_RESET', message: `failed for ${secrets.join(', ')}` },
          });
          expectNoLeak(redactor.apply(ex) as Exchange, secrets);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('in binary bodies', () => {
    fc.assert(
      fc.property(secret, fc.uint8Array({ minLength: 1, maxLength: 64 }), (s, noise) => {
        const bytes = new Uint8Array([0xff, ...noise, ...enc.encode(`{"ssn":"${s}"}`)]);
        const b: CapturedBody = {
          bytes,
          contentType: 'application/octet-stream',
          size: bytes.length,
          truncated: false,
        };
        expectNoLeak(redactor.apply(exchange(b)) as Exchange, [s]);
      }),
    );
  });
});
