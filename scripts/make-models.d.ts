// Types for scripts/make-models.js (plain JS so it runs before tsc), for tests that build models with it.
export interface EncodedPart {
  finish(): Uint8Array;
}
export const ONNX_FLOAT: number;
export const ONNX_INT64: number;
export const IRIS_CLASSES: readonly string[];
export function floatTensor(name: string, dims: readonly number[], values: readonly number[]): EncodedPart;
export function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): EncodedPart;
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attrs?: Record<string, number>,
): EncodedPart;
export function model(spec: {
  graphName: string;
  doc: string;
  nodes: EncodedPart[];
  initializers: EncodedPart[];
  inputs: EncodedPart[];
  outputs: EncodedPart[];
}): Uint8Array;
export function irisData(): { x: number[][]; y: number[] };
export function simpleModel(): Uint8Array;
export function irisModel(): { bytes: Uint8Array; note: string };
export function main(argv: readonly string[]): void;
