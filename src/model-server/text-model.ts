/** Finds a model that can generate text, with a 400 naming the format when it cannot. */
import { type ServerContext, getModel } from './context.js';
import { invalidInput } from './http-error.js';
import type { ServedModel, TextGenerator } from './served-model.js';

export function getTextModel(ctx: ServerContext, name: string): ServedModel & { text: TextGenerator } {
  const model = getModel(ctx, name);
  if (!model.text) {
    throw invalidInput(
      `Model ${name} (modelFormat ${model.format}) does not generate text; use a text model such as modelFormat inferlog-echo`,
    );
  }
  return model as ServedModel & { text: TextGenerator };
}
