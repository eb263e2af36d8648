/**
 * Which model a request is for, decided without serving it: `inferlog up` logs each exchange
 * under the model it targeted, even when the answer is a 404, 405 or 400.
 *
 *   /v1/models/NAME…, /v2/models/NAME…      ─▶ NAME (from the path, known when the request starts)
 *   POST /openai/v1/{chat/,}completions      ─▶ the body's "model" (known once the body is read)
 *   anything else (health, lists, /, unknown) ─▶ no model named
 */
import { matchRoute } from './router.js';

/** Whether the route names its model in the JSON body (OpenAI completions), not in the path. */
export function modelInBodyRoute(url: string): boolean {
  const q = url.indexOf('?');
  const route = matchRoute(q < 0 ? url : url.slice(0, q))?.route;
  return route === 'openai.chat' || route === 'openai.completions';
}

/** The `model` of an OpenAI request body, or undefined when the body is not a JSON object naming one. */
export function modelInBody(body: Uint8Array): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const model = (parsed as { model?: unknown }).model;
  return typeof model === 'string' ? model : undefined;
}
