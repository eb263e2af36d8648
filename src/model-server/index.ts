/**
 * The built-in model server `inferlog up` runs: KServe's V1, V2 (Open Inference Protocol)
 * and OpenAI-compatible REST routes over real models, with no Kubernetes.
 *
 *   ISVC YAML ─▶ ModelSpec[] ─▶ createModelServer ─▶ load each model (onnxruntime / echo)
 *   node:http request ─▶ handle() ─▶ matchRoute ─▶ v1 / v2 / generate / openai handler ─▶ response
 *
 * `handle` is a plain node:http handler so inferlog's capture can wrap it in-process.
 * It never throws: every failure becomes a KServe-style JSON error with its status.
 *
 * @example
 *   const server = await createModelServer({ models: [{ name: 'iris', modelFormat: 'onnx', storageUri: './models/iris', baseDir }] });
 *   http.createServer(server.handle).listen(8080);
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OpLogger } from '../core/log.js';
import type { ServerContext } from './context.js';
import { ECHO_FORMAT, createEchoModel } from './echo-model.js';
import { v2Generate } from './generate.js';
import { InferlogError, isInferlogError } from '../core/errors.js';
import { resolveModelPath } from './model-path.js';
import { loadOnnxModel } from './onnx-model.js';
import { openaiChat, openaiCompletions, openaiModels } from './openai.js';
import { type ErrorStyle, sendError, sendJson } from './respond.js';
import { type BodyReader, bodyReader, tooLarge } from './read-body.js';
import { type RouteMatch, matchRoute } from './router.js';
import type { ServedModel } from './served-model.js';
import {
  asServerResponse,
  recordedRequest,
  RecordedResponse,
  type RecordedAnswer,
} from './recorded-response.js';
import { v1ModelReady, v1Models, v1Predict } from './v1.js';
import { v2Infer, v2Live, v2ModelMetadata, v2ModelReady, v2Models, v2Ready, v2Server } from './v2.js';

export { resolveModelPath } from './model-path.js';
export { modelInBody, modelInBodyRoute } from './target.js';
export type { RecordedAnswer } from './recorded-response.js';

export interface ModelSpec {
  name: string;
  modelFormat: string;
  /** Local model file or directory; may be '' for formats that need no file (inferlog-echo). */
  storageUri: string;
  /** dir of the YAML file: relative storageUri resolves against it */
  baseDir: string;
}

export interface ModelServer {
  /**
   * node:http request handler for every route. Never throws; answers errors KServe-style.
   * `body`: the request body when a wrapper (in-process capture) has already read it;
   * otherwise the handler reads it from `req`. Either way it is held to maxBodyBytes.
   */
  handle(req: IncomingMessage, res: ServerResponse, body?: Buffer): void;
  /**
   * Calls a route in-process and collects its answer (the request batcher's merged call in
   * `inferlog up`): what `handle` would have answered over HTTP, without a socket.
   */
  invoke(
    method: string,
    url: string,
    body: Buffer,
    headers?: Record<string, string>,
  ): Promise<RecordedAnswer>;
  /** Answers 413 as `handle` would for a body over the limit (for a wrapper that stopped reading it). */
  rejectTooLarge(req: IncomingMessage, res: ServerResponse): void;
  /** Bodies larger than this are refused with 413. */
  readonly maxBodyBytes: number;
  readonly modelNames: readonly string[];
  close(): Promise<void>;
}

export interface ModelServerOptions {
  models: ModelSpec[];
  /** Largest request body accepted; larger ones get 413. Default 16 MiB. */
  maxBodyBytes?: number;
  log?: OpLogger;
  /** Pause between streamed tokens of text models (inferlog-echo). Default 20 ms. */
  tokenDelayMs?: number;
  /** onnxruntime intra-op threads per ONNX model. Default 1 (best for small models on small machines). */
  onnxThreads?: number;
}

/** modelFormat names this server can serve (case-insensitive, as KServe matches them). */
export const SUPPORTED_MODEL_FORMATS: readonly string[] = ['onnx', ECHO_FORMAT];

/** Whether a modelFormat reads a model file (so storageUri must resolve). inferlog-echo needs none. */
export function modelFormatNeedsStorage(modelFormat: string): boolean {
  return modelFormat.toLowerCase() !== ECHO_FORMAT;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_TOKEN_DELAY_MS = 20;

async function loadModel(spec: ModelSpec, options: ModelServerOptions): Promise<ServedModel> {
  const format = spec.modelFormat.toLowerCase();
  if (format === ECHO_FORMAT) return createEchoModel(spec.name);
  if (format !== 'onnx') {
    throw new InferlogError(
      'MODEL_LOAD_FAILED',
      `model '${spec.name}': modelFormat '${spec.modelFormat}' is not supported; supported formats: ${SUPPORTED_MODEL_FORMATS.join(', ')} ` +
        `(export other models to ONNX to serve them here)`,
    );
  }
  let path: string;
  try {
    path = resolveModelPath(spec.storageUri, spec.baseDir);
  } catch (err) {
    throw new InferlogError('MODEL_LOAD_FAILED', `model '${spec.name}': ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return await loadOnnxModel(spec.name, path, { threads: options.onnxThreads });
  } catch (err) {
    throw new InferlogError(
      'MODEL_LOAD_FAILED',
      `model '${spec.name}': cannot load ${path} as ONNX: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

async function route(
  ctx: ServerContext,
  m: RouteMatch,
  req: IncomingMessage,
  body: BodyReader,
  res: ServerResponse,
): Promise<void> {
  const model = m.model as string;
  switch (m.route) {
    case 'root':
      return sendJson(res, 200, '{"status":"alive"}');
    case 'v1.models':
      return v1Models(ctx, res);
    case 'v1.model':
      return v1ModelReady(ctx, res, model);
    case 'v1.predict':
      return v1Predict(ctx, body, res, model);
    case 'v2.server':
      return v2Server(res);
    case 'v2.live':
      return v2Live(res);
    case 'v2.ready':
      return v2Ready(res);
    case 'v2.models':
      return v2Models(ctx, res);
    case 'v2.model':
      return v2ModelMetadata(ctx, res, model);
    case 'v2.model-ready':
      return v2ModelReady(ctx, res, model);
    case 'v2.infer':
      return v2Infer(ctx, req, body, res, model);
    case 'v2.generate':
      return v2Generate(ctx, body, res, model, false);
    case 'v2.generate-stream':
      return v2Generate(ctx, body, res, model, true);
    case 'openai.models':
      return openaiModels(ctx, res);
    case 'openai.chat':
      return openaiChat(ctx, body, res);
    case 'openai.completions':
      return openaiCompletions(ctx, body, res);
  }
}

/** Loads every model (rejecting with a message naming the model and the path when one cannot load). */
export async function createModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const seen = new Set<string>();
  for (const spec of options.models) {
    if (seen.has(spec.name))
      throw new InferlogError(
        'CONFIG_INVALID',
        `model '${spec.name}' is declared twice: model names must be unique`,
      );
    seen.add(spec.name);
  }
  const results = await Promise.allSettled(options.models.map((spec) => loadModel(spec, options)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const loaded = results
    .filter((r): r is PromiseFulfilledResult<ServedModel> => r.status === 'fulfilled')
    .map((r) => r.value);
  if (failed) {
    await Promise.allSettled(loaded.map((m) => m.close()));
    throw isInferlogError(failed.reason)
      ? failed.reason
      : new InferlogError('MODEL_LOAD_FAILED', String((failed.reason as Error)?.message ?? failed.reason), {
          cause: failed.reason,
        });
  }
  const models = new Map(loaded.map((m) => [m.name, m]));
  for (const m of loaded) {
    options.log?.info('model loaded', {
      model: m.name,
      format: m.format,
      inputs: m.inputs.map((i) => `${i.name}:${i.datatype}[${i.shape.join(',')}]`).join(' '),
    });
  }
  const ctx: ServerContext = {
    models,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    tokenDelayMs: options.tokenDelayMs ?? DEFAULT_TOKEN_DELAY_MS,
    log: options.log,
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body?: Buffer): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const style: ErrorStyle = path.startsWith('/openai/') ? 'openai' : 'kserve';
    const m = matchRoute(path);
    if (!m)
      return sendError(res, new InferlogError('NOT_FOUND', 'Not Found', { status: 404 }), style, undefined);
    if (req.method !== m.method) {
      const err = new InferlogError('METHOD_NOT_ALLOWED', 'Method Not Allowed', {
        status: 405,
        headers: { allow: m.method },
      });
      return sendError(res, err, style, undefined);
    }
    try {
      route(ctx, m, req, bodyReader(req, ctx.maxBodyBytes, body), res).catch((err: unknown) =>
        sendError(res, err, style, ctx.log),
      );
    } catch (err) {
      sendError(res, err, style, ctx.log);
    }
  };

  let closed: Promise<void> | undefined;
  return {
    handle,
    invoke(method, url, body, headers) {
      const res = new RecordedResponse();
      handle(recordedRequest(method, url, headers), asServerResponse(res), body);
      return res.done;
    },
    rejectTooLarge(req, res) {
      sendError(
        res,
        tooLarge(ctx.maxBodyBytes),
        (req.url ?? '').startsWith('/openai/') ? 'openai' : 'kserve',
        undefined,
      );
    },
    maxBodyBytes: ctx.maxBodyBytes,
    modelNames: Object.freeze([...models.keys()]),
    close() {
      closed ??= Promise.allSettled(loaded.map((m) => m.close())).then(() => undefined);
      return closed;
    },
  };
}
