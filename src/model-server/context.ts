/** What every route handler gets: the loaded models and the server's limits. */
import type { OpLogger } from '../core/log.js';
import { modelNotFound } from './http-error.js';
import type { BodyReader } from './read-body.js';
import { parseJson } from './schemas.js';
import type { ServedModel } from './served-model.js';

export interface ServerContext {
  readonly models: ReadonlyMap<string, ServedModel>;
  readonly maxBodyBytes: number;
  /** Pause between streamed tokens of text models. */
  readonly tokenDelayMs: number;
  readonly log: OpLogger | undefined;
}

export function getModel(ctx: ServerContext, name: string): ServedModel {
  const model = ctx.models.get(name);
  if (!model) throw modelNotFound(name);
  return model;
}

/** Reads (bounded) and parses the body once. */
export async function readJson(body: BodyReader): Promise<unknown> {
  return parseJson(await body());
}
