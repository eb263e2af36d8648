/**
 * One interface for every model format the server can serve (onnx-model.ts, echo-model.ts).
 * Protocol handlers (v1.ts, v2.ts, openai.ts, generate.ts) only talk to this.
 */
import type { Datatype, TensorData } from './datatypes.js';

/** A tensor as declared by the model, for V2 metadata. -1 marks a variable dimension. */
export interface TensorMeta {
  readonly name: string;
  readonly datatype: Datatype | string;
  readonly shape: readonly number[];
}

/** A V2 request input before decoding: each model decodes into the type it needs. */
export interface RawInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: string;
  /** JSON `data`, when the input came as JSON. */
  readonly data?: unknown;
  /** This input's bytes, when it came through the binary tensor extension. */
  readonly binary?: Uint8Array;
}

export interface OutputTensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export interface Generation {
  /** Text pieces in order; joined they are the completion. */
  readonly tokens: readonly string[];
  readonly finishReason: 'stop' | 'length';
  readonly promptTokens: number;
}

/** Text generation, for the OpenAI-compatible and V2 generate routes. */
export interface TextGenerator {
  /** `promptTokens` counts `context` (e.g. every chat message) when given, else `prompt`. */
  generate(prompt: string, maxTokens: number | undefined, context?: string): Generation;
}

export interface ServedModel {
  readonly name: string;
  /** The modelFormat it was loaded as, e.g. `onnx`. */
  readonly format: string;
  /** V2 model metadata `platform`. */
  readonly platform: string;
  readonly inputs: readonly TensorMeta[];
  readonly outputs: readonly TensorMeta[];
  /** V1: `instances` → the JSON text of `predictions`. */
  predict(instances: readonly unknown[]): Promise<string>;
  /** V2: inputs → outputs (only `requested` ones, in that order, when given). */
  infer(inputs: readonly RawInput[], requested: readonly string[] | undefined): Promise<OutputTensor[]>;
  /** Present when the model generates text. */
  readonly text?: TextGenerator;
  close(): Promise<void>;
}
