/**
 * Open Inference Protocol (KServe V2) REST.
 *
 *   POST /v2/models/{name}/infer
 *     JSON body, or JSON header + raw tensor bytes (binary tensor data extension:
 *     `Inference-Header-Content-Length` = JSON length, `parameters.binary_data_size` per input)
 *       ──▶ RawInput[] ──▶ model.infer ──▶ {model_name, id, outputs:[{name, shape, datatype, data}]}
 *     Outputs go back as binary too when the request asks (`binary_data_output`, or an output's
 *     `parameters.binary_data`).
 *   GET  /v2, /v2/health/live, /v2/health/ready, /v2/models, /v2/models/{name}, /v2/models/{name}/ready
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ServerContext, getModel } from './context.js';
import { invalidInput } from './http-error.js';
import type { BodyReader } from './read-body.js';
import { sendJson } from './respond.js';
import { type InferRequestBody, inferRequestSchema, parseJson, parseOrThrow } from './schemas.js';
import type { OutputTensor, RawInput, ServedModel } from './served-model.js';
import { binaryBytes, jsonFlat } from './tensor-encode.js';

export const INFERENCE_HEADER = 'inference-header-content-length';

export function v2Server(res: ServerResponse): void {
  sendJson(
    res,
    200,
    JSON.stringify({ name: 'inferlog-model-server', version: '1', extensions: ['binary_tensor_data'] }),
  );
}

export function v2Live(res: ServerResponse): void {
  sendJson(res, 200, '{"live":true}');
}

export function v2Ready(res: ServerResponse): void {
  // Models load before the server accepts requests, so once it answers it is ready.
  sendJson(res, 200, '{"ready":true}');
}

export function v2Models(ctx: ServerContext, res: ServerResponse): void {
  sendJson(res, 200, JSON.stringify({ models: [...ctx.models.keys()] }));
}

export function v2ModelMetadata(ctx: ServerContext, res: ServerResponse, name: string): void {
  const m = getModel(ctx, name);
  sendJson(
    res,
    200,
    JSON.stringify({ name, versions: [], platform: m.platform, inputs: m.inputs, outputs: m.outputs }),
  );
}

export function v2ModelReady(ctx: ServerContext, res: ServerResponse, name: string): void {
  getModel(ctx, name);
  sendJson(res, 200, JSON.stringify({ name, ready: true }));
}

/** Splits a request into its JSON part and the inputs' raw bytes (binary extension). */
function parseInferBody(
  body: Buffer,
  headerLength: string | undefined,
  model: ServedModel,
): {
  request: InferRequestBody;
  inputs: RawInput[];
} {
  let jsonLength = body.length;
  if (headerLength !== undefined) {
    jsonLength = Number(headerLength);
    if (!Number.isInteger(jsonLength) || jsonLength < 0 || jsonLength > body.length) {
      throw invalidInput(
        `Inference-Header-Content-Length is ${JSON.stringify(headerLength)}, but the body has ${body.length} bytes`,
      );
    }
  }
  const request = parseOrThrow(
    inferRequestSchema,
    parseJson(body.subarray(0, jsonLength).toString('utf8')),
    'inference request',
  );
  let at = jsonLength;
  const inputs = request.inputs.map((input): RawInput => {
    if (input.data !== undefined && input.data !== null) {
      return { name: input.name, shape: input.shape, datatype: input.datatype, data: input.data };
    }
    const size = input.parameters?.binary_data_size;
    if (headerLength !== undefined && size !== undefined) {
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
        throw invalidInput(`'binary_data_size' of input '${input.name}' must be a non-negative integer`);
      }
      if (at + size > body.length) {
        throw invalidInput(
          `input '${input.name}' declares binary_data_size ${size}, but only ${body.length - at} bytes follow`,
        );
      }
      const binary = body.subarray(at, at + size);
      at += size;
      return { name: input.name, shape: input.shape, datatype: input.datatype, binary };
    }
    throw invalidInput(`'data' field is missing for input '${input.name}' for model '${model.name}'`);
  });
  if (headerLength !== undefined && at !== body.length) {
    throw invalidInput(
      `binary request has ${body.length - at} bytes after the last input's binary_data_size`,
    );
  }
  return { request, inputs };
}

function encodeResponse(
  res: ServerResponse,
  model: ServedModel,
  id: string,
  outputs: readonly OutputTensor[],
  binaryNames: ReadonlySet<string>,
): void {
  const head = `{"model_name":${JSON.stringify(model.name)},"id":${JSON.stringify(id)},"outputs":[`;
  let json = head;
  const blobs: Uint8Array[] = [];
  outputs.forEach((o, i) => {
    const meta = `${i ? ',' : ''}{"name":${JSON.stringify(o.name)},"shape":[${o.shape.join(',')}],"datatype":"${o.datatype}"`;
    if (binaryNames.has(o.name)) {
      const bytes = binaryBytes(o.data);
      blobs.push(bytes);
      json += `${meta},"parameters":{"binary_data_size":${bytes.byteLength}}}`;
    } else {
      json += `${meta},"data":${jsonFlat(o.datatype, o.data)}}`;
    }
  });
  json += ']}';
  if (blobs.length === 0) {
    sendJson(res, 200, json);
    return;
  }
  const jsonBytes = Buffer.from(json, 'utf8');
  const body = Buffer.concat([jsonBytes, ...blobs]);
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': body.length,
    [INFERENCE_HEADER]: jsonBytes.length,
  });
  res.end(body);
}

export async function v2Infer(
  ctx: ServerContext,
  req: IncomingMessage,
  body: BodyReader,
  res: ServerResponse,
  name: string,
): Promise<void> {
  const model = getModel(ctx, name);
  const bytes = await body();
  const header = req.headers[INFERENCE_HEADER];
  const { request, inputs } = parseInferBody(bytes, Array.isArray(header) ? header[0] : header, model);
  const requested = request.outputs?.map((o) => o.name);
  const outputs = await model.infer(inputs, requested);

  const binaryNames = new Set<string>();
  const allBinary = request.parameters?.binary_data_output === true;
  for (const o of outputs) {
    const asked = request.outputs?.find((r) => r.name === o.name)?.parameters?.binary_data;
    if (asked === true || (asked === undefined && allBinary)) binaryNames.add(o.name);
  }
  encodeResponse(res, model, request.id ?? randomUUID(), outputs, binaryNames);
}
