// Text routes over real HTTP: OpenAI-compatible chat/completions (SSE when stream: true) and V2 generate.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, start } from './harness.js';

let srv: Running;
// Long enough that each token leaves the server in its own TCP segment.
const DELAY = 40;
beforeAll(async () => {
  srv = await start({
    models: [{ name: 'echo', modelFormat: 'inferlog-echo', storageUri: '', baseDir: '.' }],
    tokenDelayMs: DELAY,
  });
});
afterAll(async () => {
  await srv?.close();
});

/** POSTs and records each body chunk as the client receives it. */
function stream(
  path: string,
  body: unknown,
): Promise<{ status: number; type: string; reads: string[]; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${srv.base}${path}`,
      { method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        const reads: string[] = [];
        res.setEncoding('utf8');
        res.on('data', (c: string) => reads.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type']),
            reads,
            text: reads.join(''),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const events = (text: string): string[] =>
  text
    .split('\n\n')
    .filter((e) => e.length > 0)
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      return e.slice('data: '.length);
    });

interface ChatChunk {
  object: string;
  model: string;
  choices: Array<{ index: number; delta: { role?: string; content?: string }; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

describe('OpenAI chat completions', () => {
  it('streams one SSE chunk per token as it is produced, then usage and [DONE]', async () => {
    const r = await stream('/openai/v1/chat/completions', {
      model: 'echo',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'the quick brown fox' },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/event-stream');
    const ev = events(r.text);
    expect(ev.at(-1)).toBe('[DONE]');
    const chunks = ev.slice(0, -1).map((e) => JSON.parse(e) as ChatChunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'echo')).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('the quick brown fox');
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    // Chunk by chunk: the client saw the tokens in separate reads, not one buffered body.
    expect(r.reads.length).toBeGreaterThanOrEqual(4);
    expect(r.reads[0]).toContain('"role":"assistant"');
  });

  it('omits usage chunks unless asked, and stops at max_tokens with finish_reason length', async () => {
    const r = await stream('/openai/v1/chat/completions', {
      model: 'echo',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'one two three' }] }],
      stream: true,
      max_tokens: 2,
    });
    const chunks = events(r.text)
      .slice(0, -1)
      .map((e) => JSON.parse(e) as ChatChunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('one two');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('length');
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
  });

  it('answers a non-streamed completion as one JSON object with usage', async () => {
    const r = await call(srv.base, 'POST', '/openai/v1/chat/completions', {
      model: 'echo',
      messages: [{ role: 'user', content: 'hello there' }],
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      object: 'chat.completion',
      model: 'echo',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello there' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 },
    });
    expect((r.json as { id: string }).id).toMatch(/^chatcmpl-/);
  });

  it('answers OpenAI-shaped errors: 400 for an invalid request, 404 for an unknown model', async () => {
    const bad = await call(srv.base, 'POST', '/openai/v1/chat/completions', { model: 'echo', messages: [] });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: { type: 'BadRequestError', code: '400' } });
    expect((bad.json as { error: { message: string } }).error.message).toMatch(/messages/);
    const missing = await call(srv.base, 'POST', '/openai/v1/chat/completions', {
      model: 'gpt-x',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({
      error: { message: 'Model with name gpt-x does not exist.', code: '404' },
    });
  });

  it('stops generating when the client goes away, and keeps serving', async () => {
    // Wrap the handler to see what the server writes after the client has gone.
    let writesAfterClose = 0;
    let closed!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
    const wrapped = http.createServer((req, res) => {
      let gone = false;
      res.once('close', () => {
        gone = true;
        closed();
      });
      const write = res.write.bind(res) as (...a: unknown[]) => boolean;
      res.write = ((...a: unknown[]) => {
        if (gone) writesAfterClose++;
        return write(...a);
      }) as typeof res.write;
      srv.models.handle(req, res);
    });
    await new Promise<void>((resolve) => wrapped.listen(0, '127.0.0.1', resolve));
    const port = (wrapped.address() as { port: number }).port;
    try {
      await new Promise<void>((resolve, reject) => {
        const req = http.request(
          `http://127.0.0.1:${port}/openai/v1/chat/completions`,
          { method: 'POST' },
          (res) => {
            res.once('data', () => {
              req.destroy();
              resolve();
            });
          },
        );
        req.on('error', () => {});
        req.end(
          JSON.stringify({
            model: 'echo',
            stream: true,
            messages: [{ role: 'user', content: 'a b c d e f' }],
          }),
        );
        setTimeout(() => reject(new Error('no first chunk')), 5000);
      });
      await serverSawClose;
      // Longer than the rest of the generation (5 tokens x DELAY) would have taken.
      await new Promise((resolve) => setTimeout(resolve, DELAY * 8));
      expect(writesAfterClose).toBe(0);
      expect((await call(`http://127.0.0.1:${port}`, 'GET', '/v2/health/live')).status).toBe(200);
    } finally {
      wrapped.closeAllConnections();
      await new Promise((resolve) => wrapped.close(resolve));
    }
  });
});

describe('OpenAI completions', () => {
  it('streams text_completion chunks and a usage chunk', async () => {
    const r = await stream('/openai/v1/completions', {
      model: 'echo',
      prompt: 'to be or not',
      stream: true,
      stream_options: { include_usage: true },
    });
    const ev = events(r.text);
    expect(ev.at(-1)).toBe('[DONE]');
    const chunks = ev.slice(0, -1).map(
      (e) =>
        JSON.parse(e) as {
          object: string;
          choices: Array<{ text: string; finish_reason: string | null }>;
          usage?: { total_tokens: number } | null;
        },
    );
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe('to be or not');
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 });
    expect(r.reads.length).toBeGreaterThanOrEqual(4);
  });

  it('answers one choice per prompt when not streamed', async () => {
    const r = await call(srv.base, 'POST', '/openai/v1/completions', { model: 'echo', prompt: ['a b', 'c'] });
    expect(r.json).toMatchObject({
      object: 'text_completion',
      choices: [
        { index: 0, text: 'a b', finish_reason: 'stop' },
        { index: 1, text: 'c', finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
    });
  });

  it('lists the text models', async () => {
    const r = await call(srv.base, 'GET', '/openai/v1/models');
    expect(r.json).toMatchObject({ object: 'list', data: [{ id: 'echo', object: 'model' }] });
  });
});

describe('V2 generate', () => {
  it('answers text_output for /generate', async () => {
    const r = await call(srv.base, 'POST', '/v2/models/echo/generate', {
      text_input: 'what is  inferlog',
      parameters: { max_tokens: 10 },
    });
    expect(r.json).toEqual({ text_output: 'what is inferlog', model_name: 'echo' });
  });

  it('streams one SSE event per token for /generate_stream', async () => {
    const r = await stream('/v2/models/echo/generate_stream', { text_input: 'one two three four' });
    expect(r.type).toBe('text/event-stream');
    const parts = events(r.text).map((e) => JSON.parse(e) as { text_output: string; model_name: string });
    expect(parts.map((p) => p.text_output)).toEqual(['one', ' two', ' three', ' four']);
    expect(parts.every((p) => p.model_name === 'echo')).toBe(true);
    expect(r.reads.length).toBeGreaterThanOrEqual(4);
  });

  it('answers 400 for a request without text_input', async () => {
    const r = await call(srv.base, 'POST', '/v2/models/echo/generate', { prompt: 'x' });
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toMatch(/Invalid generate request: text_input/);
  });
});
