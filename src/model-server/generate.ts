/**
 * V2 generate extension (KServe's huggingface runtime before its OpenAI routes, and Triton).
 *
 *   POST /v2/models/{name}/generate         {"text_input":…} ──▶ {"text_output":…,"model_name":…}
 *   POST /v2/models/{name}/generate_stream  {"text_input":…} ──▶ SSE: data: {"text_output":<token>,"model_name":…} …
 */
import type { ServerResponse } from 'node:http';
import type { BodyReader } from './read-body.js';
import { type ServerContext, readJson } from './context.js';
import { sendJson } from './respond.js';
import { generateRequestSchema, parseOrThrow } from './schemas.js';
import { SseStream } from './sse.js';
import { getTextModel } from './text-model.js';

export async function v2Generate(
  ctx: ServerContext,
  body: BodyReader,
  res: ServerResponse,
  name: string,
  stream: boolean,
): Promise<void> {
  const model = getTextModel(ctx, name);
  const request = parseOrThrow(generateRequestSchema, await readJson(body), 'generate request');
  const gen = model.text.generate(request.text_input, request.parameters?.max_tokens ?? undefined);
  if (!stream) {
    sendJson(res, 200, JSON.stringify({ text_output: gen.tokens.join(''), model_name: name }));
    return;
  }
  const sse = new SseStream(res);
  for (let i = 0; i < gen.tokens.length; i++) {
    if (i > 0 && !(await sse.wait(ctx.tokenDelayMs))) return;
    await sse.send({ text_output: gen.tokens[i], model_name: name });
  }
  sse.end();
}
