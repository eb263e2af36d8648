/**
 * KServe V1 protocol.
 *
 *   POST /v1/models/{name}:predict  {"instances":[…]} ──▶ model.predict ──▶ {"predictions":[…]}
 *   GET  /v1/models                 {"models":[…]}
 *   GET  /v1/models/{name}          {"name":…,"ready":true}
 */
import type { ServerResponse } from 'node:http';
import type { BodyReader } from './read-body.js';
import { type ServerContext, getModel, readJson } from './context.js';
import { invalidInput } from './http-error.js';
import { sendJson } from './respond.js';

export function v1Models(ctx: ServerContext, res: ServerResponse): void {
  sendJson(res, 200, JSON.stringify({ models: [...ctx.models.keys()] }));
}

export function v1ModelReady(ctx: ServerContext, res: ServerResponse, name: string): void {
  getModel(ctx, name);
  sendJson(res, 200, JSON.stringify({ name, ready: true }));
}

export async function v1Predict(
  ctx: ServerContext,
  body: BodyReader,
  res: ServerResponse,
  name: string,
): Promise<void> {
  const model = getModel(ctx, name); // KServe checks the model before reading the body
  const parsed = await readJson(body);
  const b =
    parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  const instances = b.instances ?? b.inputs;
  if (!Array.isArray(instances) || instances.length === 0) {
    throw invalidInput('Expected "instances" (or "inputs") to be a non-empty list');
  }
  const predictions = await model.predict(instances);
  sendJson(res, 200, `{"predictions":${predictions}}`);
}
