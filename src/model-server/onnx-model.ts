/**
 * `modelFormat: onnx`: a model file run by onnxruntime-node on the CPU.
 *
 *   V1 instances ─┐                                   ┌─▶ first output → predictions
 *                 ├─▶ typed arrays ─▶ session.run() ──┤
 *   V2 inputs ────┘   (checked against cached          └─▶ requested outputs → V2 outputs
 *                      input metadata)
 *
 * Input/output metadata is read once at load; a request only decodes its data and runs.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { type DatatypeInfo, type TensorData, datatypeInfo, fromOrtType } from './datatypes.js';
import { invalidInput, modelFailed } from './http-error.js';
import type { OutputTensor, ServedModel, TensorMeta } from './served-model.js';
import {
  decodeBinaryData,
  decodeJsonData,
  elementCount,
  instancesShape,
  shapeText,
} from './tensor-decode.js';
import { jsonNested } from './tensor-encode.js';

interface InputSpec extends TensorMeta {
  readonly info: DatatypeInfo | undefined;
  /** Declared dims: -1 where variable; empty when the model declares no shape. */
  readonly shape: readonly number[];
  /** Declared dims as the model spells them (symbolic names kept), for messages. */
  readonly declared: readonly (number | string)[];
}

function tensorSpec(meta: InferenceSession.ValueMetadata): InputSpec {
  if (!meta.isTensor) {
    return { name: meta.name, datatype: 'UNSUPPORTED', shape: [], declared: [], info: undefined };
  }
  const info = fromOrtType(meta.type);
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return {
    name: meta.name,
    datatype: info?.datatype ?? meta.type.toUpperCase(),
    shape,
    declared: meta.shape,
    info,
  };
}

export interface OnnxOptions {
  /**
   * onnxruntime intra-op threads per model. Default 1: small models answer fastest on the
   * calling thread, and idle pool threads would spin against the event loop for CPU.
   * Raise it for large models on a machine with cores to spare.
   */
  threads?: number;
}

export async function loadOnnxModel(
  name: string,
  path: string,
  options: OnnxOptions = {},
): Promise<ServedModel> {
  // Loaded lazily so that config validation and echo-only servers never load the native runtime.
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(path, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    // Fatal only: run failures come back as 500s (and into inferlog's log); onnxruntime's own
    // console lines would otherwise interleave with the user's output.
    logSeverityLevel: 4,
    intraOpNumThreads: options.threads ?? 1,
    interOpNumThreads: 1,
    // Waiting pool threads sleep instead of spinning: on a small machine the HTTP side needs the CPU.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  const inputs = session.inputMetadata.map(tensorSpec);
  const outputs = session.outputMetadata.map(tensorSpec);
  const inputByName = new Map(inputs.map((i) => [i.name, i]));
  const outputByName = new Map(outputs.map((o) => [o.name, o]));
  const allOutputs = outputs.map((o) => o.name);
  const inputNames = inputs.map((i) => i.name).join(', ');

  const checkDims = (spec: InputSpec, shape: readonly number[], label: string): void => {
    const dims = spec.shape;
    if (dims.length === 0) return;
    const ok = dims.length === shape.length && dims.every((d, i) => d < 0 || d === shape[i]);
    if (!ok) {
      throw invalidInput(
        `${label}: shape ${shapeText(shape)} does not match the model's ${shapeText(spec.declared)}`,
      );
    }
  };

  const requireInfo = (spec: InputSpec): DatatypeInfo => {
    if (!spec.info)
      throw invalidInput(
        `model '${name}' input '${spec.name}' has type ${spec.datatype}, which this server cannot feed`,
      );
    return spec.info;
  };

  const run = async (feeds: Record<string, Tensor>, fetch: readonly string[]): Promise<OutputTensor[]> => {
    let result: InferenceSession.OnnxValueMapType;
    try {
      result = await session.run(feeds, fetch as string[]);
    } catch (err) {
      throw modelFailed(`model '${name}' failed: ${(err as Error).message}`);
    }
    return fetch.map((outName) => {
      const t = result[outName] as Tensor;
      const info = fromOrtType(t.type);
      if (!info)
        throw modelFailed(`model '${name}' output '${outName}' has type ${t.type}, which V2 cannot express`);
      return { name: outName, datatype: info.datatype, shape: t.dims, data: t.data as TensorData };
    });
  };

  const model: ServedModel = {
    name,
    format: 'onnx',
    platform: 'onnxruntime_onnx',
    inputs: inputs.map(({ name: n, datatype, shape }) => ({ name: n, datatype, shape })),
    outputs: outputs.map(({ name: n, datatype, shape }) => ({ name: n, datatype, shape })),

    async predict(instances) {
      if (inputs.length !== 1) {
        throw invalidInput(
          `model '${name}' has ${inputs.length} inputs (${inputNames}); V1 :predict feeds one: use V2 /v2/models/${name}/infer`,
        );
      }
      const spec = inputs[0] as InputSpec;
      const info = requireInfo(spec);
      const label = `instances for input '${spec.name}'`;
      let shape = instancesShape(instances, label);
      const dims = spec.shape;
      if (dims.length > 0 && dims.length !== shape.length) {
        // e.g. scalars [1, 2] for a model taking [N, 1]: each instance fills the fixed trailing dims.
        const tail = dims.slice(1);
        if (tail.every((d) => d >= 0) && elementCount(tail) === elementCount(shape.slice(1))) {
          shape = [shape[0] as number, ...tail];
        }
      }
      checkDims(spec, shape, label);
      const data = decodeJsonData(instances, info, shape, label);
      const first = outputs[0];
      if (!first) throw modelFailed(`model '${name}' has no outputs`);
      const [out] = await run(
        { [spec.name]: new ort.Tensor(info.ort as 'float32', data as Float32Array, shape) },
        [first.name],
      );
      return jsonNested(out!.datatype, out!.data, out!.shape);
    },

    async infer(raw, requested) {
      const feeds: Record<string, Tensor> = {};
      // A single unnamed-looking input (e.g. KServe's "input-0") feeds a single-input model.
      const positional = raw.length === 1 && inputs.length === 1 && !inputByName.has(raw[0]!.name);
      for (const input of raw) {
        const spec = positional ? (inputs[0] as InputSpec) : inputByName.get(input.name);
        if (!spec)
          throw invalidInput(
            `model '${name}' has no input named '${input.name}'; its inputs are: ${inputNames}`,
          );
        const label = `input '${input.name}'`;
        const info = requireInfo(spec);
        const sent = datatypeInfo(input.datatype);
        if (!sent) throw invalidInput(`invalid datatype ${input.datatype} in the input '${input.name}'`);
        // JSON numbers convert to the model's type; raw bytes cannot, so they must match.
        const compatible =
          input.binary !== undefined
            ? sent.datatype === info.datatype
            : (sent.kind === 'bytes') === (info.kind === 'bytes');
        if (!compatible) {
          throw invalidInput(
            `${label} has datatype ${sent.datatype}, but model '${name}' expects ${info.datatype}`,
          );
        }
        checkDims(spec, input.shape, label);
        const data =
          input.binary !== undefined
            ? decodeBinaryData(input.binary, info, input.shape, label)
            : decodeJsonData(input.data, info, input.shape, label);
        feeds[spec.name] = new ort.Tensor(info.ort as 'float32', data as Float32Array, input.shape);
      }
      for (const spec of inputs) {
        if (!(spec.name in feeds))
          throw invalidInput(`model '${name}' needs input '${spec.name}'; inputs are: ${inputNames}`);
      }
      if (requested) {
        for (const r of requested) {
          if (!outputByName.has(r)) {
            throw invalidInput(
              `model '${name}' has no output named '${r}'; its outputs are: ${allOutputs.join(', ')}`,
            );
          }
        }
      }
      return run(feeds, requested ?? allOutputs);
    },

    async close() {
      await session.release();
    },
  };
  return model;
}
