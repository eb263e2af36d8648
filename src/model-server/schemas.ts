/**
 * Request bodies, validated once at the edge with zod. Tensor `data` stays `unknown` here:
 * it can hold millions of elements, so tensor-decode.ts checks it in the same pass that
 * fills the typed array.
 */
import { z } from 'zod';
import { invalidInput } from './http-error.js';

const parameters = z.record(z.string(), z.unknown());

export const inferRequestSchema = z.object({
  id: z.string().optional(),
  parameters: parameters.optional(),
  inputs: z
    .array(
      z.object({
        name: z.string(),
        shape: z.array(z.number().int().nonnegative()),
        datatype: z.string(),
        parameters: parameters.optional(),
        data: z.unknown().optional(),
      }),
    )
    .min(1),
  outputs: z.array(z.object({ name: z.string(), parameters: parameters.optional() })).optional(),
});
export type InferRequestBody = z.infer<typeof inferRequestSchema>;

const streamOptions = z.object({ include_usage: z.boolean().optional() }).nullish();
const maxTokens = z.number().int().nonnegative().nullish();

const contentPart = z.object({ type: z.string(), text: z.string().optional() });
export const chatRequestSchema = z.object({
  model: z.string(),
  messages: z
    .array(
      z.object({
        role: z.string(),
        content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
      }),
    )
    .min(1),
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  max_tokens: maxTokens,
  max_completion_tokens: maxTokens,
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

export const completionRequestSchema = z.object({
  model: z.string(),
  prompt: z.union([z.string(), z.array(z.string()).min(1)]),
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  max_tokens: maxTokens,
});
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

export const generateRequestSchema = z.object({
  text_input: z.string(),
  parameters: z.object({ max_tokens: maxTokens }).nullish(),
});

/** Parses with a schema, turning zod's issues into one 400 that names each bad field. */
export function parseOrThrow<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const detail = r.error.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? i.path.join('.') + ': ' : '') + i.message)
    .join('; ');
  throw invalidInput(`Invalid ${what}: ${detail}`);
}

/** JSON.parse with KServe's error text for malformed bodies. */
export function parseJson(body: Buffer | string): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (err) {
    throw invalidInput(`Unrecognized request format: ${(err as Error).message}`);
  }
}
