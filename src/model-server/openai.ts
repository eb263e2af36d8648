/**
 * OpenAI-compatible routes, as KServe's huggingface runtime serves them under /openai.
 *
 *   POST /openai/v1/chat/completions  ─┐                 ┌─ stream: false ─▶ one JSON completion (with usage)
 *   POST /openai/v1/completions       ─┴─▶ generate() ───┤
 *                                                        └─ stream: true ──▶ SSE chunks, one per token, a
 *                                                           final chunk with finish_reason, a usage chunk when
 *                                                           stream_options.include_usage, then data: [DONE]
 *   GET  /openai/v1/models            the text models
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { BodyReader } from './read-body.js';
import { type ServerContext, readJson } from './context.js';
import { sendJson } from './respond.js';
import { type ChatRequest, chatRequestSchema, completionRequestSchema, parseOrThrow } from './schemas.js';
import type { Generation } from './served-model.js';
import { SseStream } from './sse.js';
import { getTextModel } from './text-model.js';

const startedAt = Math.floor(Date.now() / 1000);

export function openaiModels(ctx: ServerContext, res: ServerResponse): void {
  const data = [...ctx.models.values()]
    .filter((m) => m.text)
    .map((m) => ({ id: m.name, object: 'model', created: startedAt, owned_by: 'inferlog' }));
  sendJson(res, 200, JSON.stringify({ object: 'list', data }));
}

const idFor = (prefix: string): string => prefix + randomUUID().replaceAll('-', '');

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

function usageOf(gens: readonly Generation[]): Usage {
  // Every prompt of a batch counts once, as OpenAI bills it.
  const prompt = gens.reduce((n, g) => n + g.promptTokens, 0);
  const completion = gens.reduce((n, g) => n + g.tokens.length, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function messageText(content: ChatRequest['messages'][number]['content']): string {
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content
    .filter((p) => p.type === 'text' && p.text !== undefined)
    .map((p) => p.text)
    .join(' ');
}

export async function openaiChat(ctx: ServerContext, body: BodyReader, res: ServerResponse): Promise<void> {
  const request = parseOrThrow(chatRequestSchema, await readJson(body), 'chat completion request');
  const model = getTextModel(ctx, request.model);
  const last =
    [...request.messages].reverse().find((m) => m.role === 'user') ??
    request.messages[request.messages.length - 1]!;
  const context = request.messages.map((m) => messageText(m.content)).join(' ');
  const gen = model.text.generate(
    messageText(last.content),
    request.max_completion_tokens ?? request.max_tokens ?? undefined,
    context,
  );
  const id = idFor('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);

  if (!request.stream) {
    sendJson(
      res,
      200,
      JSON.stringify({
        id,
        object: 'chat.completion',
        created,
        model: request.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: gen.tokens.join('') },
            logprobs: null,
            finish_reason: gen.finishReason,
          },
        ],
        usage: usageOf([gen]),
      }),
    );
    return;
  }

  const includeUsage = request.stream_options?.include_usage === true;
  const chunk = (choices: unknown[], usage?: Usage): Record<string, unknown> => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: request.model,
    choices,
    ...(includeUsage ? { usage: usage ?? null } : {}),
  });
  const sse = new SseStream(res);
  await sse.send(
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]),
  );
  for (const token of gen.tokens) {
    if (!(await sse.wait(ctx.tokenDelayMs))) return;
    await sse.send(chunk([{ index: 0, delta: { content: token }, logprobs: null, finish_reason: null }]));
  }
  await sse.send(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: gen.finishReason }]));
  if (includeUsage) await sse.send(chunk([], usageOf([gen])));
  await sse.send('[DONE]');
  sse.end();
}

export async function openaiCompletions(
  ctx: ServerContext,
  body: BodyReader,
  res: ServerResponse,
): Promise<void> {
  const request = parseOrThrow(completionRequestSchema, await readJson(body), 'completion request');
  const model = getTextModel(ctx, request.model);
  const prompts = typeof request.prompt === 'string' ? [request.prompt] : request.prompt;
  const gens = prompts.map((p) => model.text.generate(p, request.max_tokens ?? undefined));
  const id = idFor('cmpl-');
  const created = Math.floor(Date.now() / 1000);

  if (!request.stream) {
    sendJson(
      res,
      200,
      JSON.stringify({
        id,
        object: 'text_completion',
        created,
        model: request.model,
        choices: gens.map((g, index) => ({
          index,
          text: g.tokens.join(''),
          logprobs: null,
          finish_reason: g.finishReason,
        })),
        usage: usageOf(gens),
      }),
    );
    return;
  }

  const includeUsage = request.stream_options?.include_usage === true;
  const chunk = (choices: unknown[], usage?: Usage): Record<string, unknown> => ({
    id,
    object: 'text_completion',
    created,
    model: request.model,
    choices,
    ...(includeUsage ? { usage: usage ?? null } : {}),
  });
  const sse = new SseStream(res);
  let first = true;
  for (const [index, gen] of gens.entries()) {
    for (const token of gen.tokens) {
      if (!first && !(await sse.wait(ctx.tokenDelayMs))) return;
      first = false;
      await sse.send(chunk([{ index, text: token, logprobs: null, finish_reason: null }]));
    }
    await sse.send(chunk([{ index, text: '', logprobs: null, finish_reason: gen.finishReason }]));
  }
  if (includeUsage) await sse.send(chunk([], usageOf(gens)));
  await sse.send('[DONE]');
  sse.end();
}
