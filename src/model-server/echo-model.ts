/**
 * `modelFormat: inferlog-echo`: a weightless text model that answers with the words of its
 * prompt, so streaming and capture tests can assert exactly what was assembled.
 *
 *   prompt "hello big world" ──▶ tokens ["hello", " big", " world"] ──▶ joined: "hello big world"
 *
 * It also answers V1 (predictions = instances) and V2 infer (outputs = inputs), so every
 * route can be exercised without a model file.
 */
import { type TensorData, datatypeInfo } from './datatypes.js';
import { invalidInput } from './http-error.js';
import type { Generation, OutputTensor, ServedModel, TextGenerator } from './served-model.js';
import { decodeBinaryData, decodeJsonData } from './tensor-decode.js';

export const ECHO_FORMAT = 'inferlog-echo';

const words = (text: string): string[] => text.split(/\s+/).filter((w) => w.length > 0);

export const echoGenerator: TextGenerator = {
  generate(prompt: string, maxTokens: number | undefined, context?: string): Generation {
    const all = words(prompt);
    const kept = maxTokens !== undefined && maxTokens < all.length ? all.slice(0, maxTokens) : all;
    return {
      tokens: kept.map((w, i) => (i === 0 ? w : ' ' + w)),
      finishReason: kept.length < all.length ? 'length' : 'stop',
      promptTokens: context === undefined ? all.length : words(context).length,
    };
  },
};

export function createEchoModel(name: string): ServedModel {
  return {
    name,
    format: ECHO_FORMAT,
    platform: '',
    inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [-1] }],
    outputs: [{ name: 'text_output', datatype: 'BYTES', shape: [-1] }],
    text: echoGenerator,

    async predict(instances) {
      return JSON.stringify(instances);
    },

    async infer(raw, requested) {
      const outputs: OutputTensor[] = raw.map((input) => {
        const info = datatypeInfo(input.datatype);
        if (!info) throw invalidInput(`invalid datatype ${input.datatype} in the input '${input.name}'`);
        const label = `input '${input.name}'`;
        const data: TensorData =
          input.binary !== undefined
            ? decodeBinaryData(input.binary, info, input.shape, label)
            : decodeJsonData(input.data, info, input.shape, label);
        return { name: input.name, datatype: info.datatype, shape: input.shape, data };
      });
      if (!requested) return outputs;
      return requested.map((r) => {
        const o = outputs.find((x) => x.name === r);
        if (!o)
          throw invalidInput(`model '${name}' echoes its inputs; there is no input named '${r}' to return`);
        return o;
      });
    },

    async close() {},
  };
}
