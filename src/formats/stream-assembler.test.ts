import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createStreamAssembler, detectStreamKind, type StreamKind } from './stream-assembler.js';

const enc = new TextEncoder();

function run(kind: StreamKind, chunks: Array<string | Uint8Array>, options = {}) {
  const a = createStreamAssembler(kind, options);
  for (const c of chunks) a.push(typeof c === 'string' ? enc.encode(c) : c);
  return a.finish();
}

const chat = (content: string, extra: Record<string, unknown> = {}): string =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }], ...extra })}\n\n`;

describe('createStreamAssembler', () => {
  it('assembles an OpenAI chat stream with usage and [DONE]', () => {
    const body =
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant' } }] })}\n\n` +
      chat('Hel') +
      ': keep-alive\n\n' +
      chat('lo, wörld') +
      `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 } })}\n\n` +
      'data: [DONE]\n\n';
    expect(run('openai-chat', [body])).toEqual({
      assembledText: 'Hello, wörld',
      usage: { promptTokens: 5, completionTokens: 3, totalTokens: 8 },
      events: 4,
      malformed: 0,
      done: true,
    });
  });

  it('assembles completions and v2 generate_stream text', () => {
    const comp =
      ['Once', ' upon']
        .map((t) => `data: ${JSON.stringify({ choices: [{ index: 0, text: t }] })}\n\n`)
        .join('') + 'data: [DONE]\n\n';
    expect(run('openai-completion', [comp]).assembledText).toBe('Once upon');
    const v2 = ['a', 'b', 'c']
      .map((t) => `data: ${JSON.stringify({ model_name: 'm', text_output: t })}\n\n`)
      .join('');
    expect(run('v2-generate', [v2])).toMatchObject({ assembledText: 'abc', events: 3, done: false });
  });

  it('only assembles choice 0 when a stream carries several choices', () => {
    const body = `data: ${JSON.stringify({
      choices: [
        { index: 1, delta: { content: 'B' } },
        { index: 0, delta: { content: 'A' } },
      ],
    })}\n\n`;
    expect(run('openai-chat', [body]).assembledText).toBe('A');
  });

  it('counts malformed events and never throws', () => {
    const body =
      'data: {not json\n\n' +
      chat('ok') +
      'data: {"unexpected":true}\n\n' +
      'event: ping\n\n' +
      'data: 42\n\n';
    const got = run('openai-chat', [body]);
    expect(got.assembledText).toBe('ok');
    expect(got.events).toBe(4);
    expect(got.malformed).toBe(3);
  });

  it('handles CRLF and lone CR split across chunks, and a multi-byte character split across chunks', () => {
    const text = chat('ü€😀').replace(/\n/g, '\r\n');
    const bytes = enc.encode(text);
    const chunks = Array.from(bytes, (b) => new Uint8Array([b])); // one byte at a time
    expect(run('openai-chat', chunks).assembledText).toBe('ü€😀');
    expect(run('openai-chat', [chat('x').replace(/\n/g, '\r')]).assembledText).toBe('x');
  });

  it('dispatches an event left unterminated when the stream ends (a cut-off stream keeps its last words)', () => {
    expect(run('openai-chat', [chat('a') + chat('b').trimEnd()]).assembledText).toBe('ab');
  });

  it('caps the assembled text and drops over-long lines', () => {
    const got = run('openai-chat', [chat('abcdef'), chat('ghij')], { maxTextChars: 8 });
    expect(got.assembledText).toBe('abcdefgh');
    expect(got.textTruncated).toBe(true);
    const long = run('openai-chat', [`data: ${'x'.repeat(100)}`, `${'y'.repeat(100)}\n\n`, chat('ok')], {
      maxLineChars: 50,
    });
    expect(long.assembledText).toBe('ok');
    expect(long.malformed).toBe(1);
  });

  it('joins multi-line data fields with LF, as the SSE spec says', () => {
    const body = 'data: {"choices":[{"index":0,\ndata: "delta":{"content":"joined"}}]}\n\n';
    expect(run('openai-chat', [body]).assembledText).toBe('joined');
  });

  it('raw streams are not parsed', () => {
    expect(run('raw', ['anything'])).toEqual({ events: 0, malformed: 0, done: false });
  });

  it('gives the same result for any chunking of the same bytes as for one chunk', () => {
    const eol = fc.constantFrom('\n', '\r\n', '\r');
    const event = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }).map((t) => ({ kind: 'text' as const, t })),
      fc.constant({ kind: 'comment' as const, t: '' }),
      fc.constant({ kind: 'done' as const, t: '' }),
      fc.string({ maxLength: 8 }).map((t) => ({ kind: 'junk' as const, t })),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(event, eol), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (events, cuts) => {
          const text = events
            .map(([e, nl]) => {
              if (e.kind === 'text')
                return `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: e.t } }] })}${nl}${nl}`;
              if (e.kind === 'comment') return `: ping${nl}`;
              if (e.kind === 'done') return `data: [DONE]${nl}${nl}`;
              return `data: ${e.t.replace(/[\r\n]/g, '')}${nl}${nl}`;
            })
            .join('');
          const bytes = enc.encode(text);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let at = 0;
          for (const p of points) {
            chunks.push(bytes.subarray(at, p));
            at = p;
          }
          chunks.push(bytes.subarray(at));
          expect(run('openai-chat', chunks)).toEqual(run('openai-chat', [bytes]));
          const texts = events.filter(([e]) => e.kind === 'text').map(([e]) => e.t);
          if (texts.length > 0) expect(run('openai-chat', chunks).assembledText).toBe(texts.join(''));
        },
      ),
    );
  });
});

describe('detectStreamKind', () => {
  it.each([
    ['/openai/v1/chat/completions', 'text/event-stream; charset=utf-8', 'openai-chat'],
    ['/v1/chat/completions?x=1', 'Text/Event-Stream', 'openai-chat'],
    ['/openai/v1/completions', 'text/event-stream', 'openai-completion'],
    ['/v2/models/llm/generate_stream', 'text/event-stream', 'v2-generate'],
    ['/custom/stream', 'text/event-stream', 'sse'],
    ['/v1/chat/completions', 'application/json', undefined],
    ['/v1/chat/completions', undefined, undefined],
  ])('%s with %s → %s', (url, ct, want) => expect(detectStreamKind(url, ct)).toBe(want));
});
