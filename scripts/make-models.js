#!/usr/bin/env node
/**
 * Writes the example models `inferlog up` serves, as real ONNX files:
 *
 *   hand-written protobuf writer ──▶ ModelProto bytes ──▶ examples/models/<name>/model.onnx
 *
 *   simple-model: input x float[N], y = 2·x + 1      ({"instances":[1.0,2.0]} → {"predictions":[3.0,5.0]})
 *   iris:         input float[N,4] → label int64[N], probabilities float[N,3]
 *                 (softmax regression fitted here, by gradient descent on Fisher's iris data)
 *
 * Plain Node ESM with no dependencies: it runs from `npm install`'s prepare step,
 * before (or without) tsc. Deterministic, so reruns produce identical bytes and
 * leave unchanged files alone. Usage: node scripts/make-models.js [--out DIR]
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// ── protobuf writer ─────────────────────────────────────────────────────────
// Only what ONNX needs: varints, length-delimited fields and raw bytes.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** A message under construction: a list of byte chunks. */
class Msg {
  constructor() {
    /** @type {Uint8Array[]} */
    this.parts = [];
    this.size = 0;
  }
  /** @param {Uint8Array} bytes */
  push(bytes) {
    this.parts.push(bytes);
    this.size += bytes.length;
    return this;
  }
  /** @param {number} n a non-negative integer below 2^53 */
  varint(n) {
    const out = [];
    let v = n;
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    return this.push(Uint8Array.from(out));
  }
  tag(field, wire) {
    return this.varint(field * 8 + wire);
  }
  int(field, n) {
    return this.tag(field, WIRE_VARINT).varint(n);
  }
  bytes(field, bytes) {
    return this.tag(field, WIRE_LEN).varint(bytes.length).push(bytes);
  }
  string(field, s) {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  /** @param {Msg} msg */
  msg(field, msg) {
    return this.bytes(field, msg.finish());
  }
  finish() {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

// ── ONNX messages (field numbers from onnx/onnx.proto) ──────────────────────

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
const ATTR_INT = 2;

/** TensorProto with float32 raw_data. */
export function floatTensor(name, dims, values) {
  const t = new Msg();
  for (const d of dims) t.int(1, d); // dims
  t.int(2, ONNX_FLOAT); // data_type
  t.string(8, name); // name
  const raw = new Uint8Array(Float32Array.from(values).buffer); // little-endian on every platform Node supports
  t.bytes(9, raw); // raw_data
  return t;
}

/** ValueInfoProto for a tensor; dims are numbers (fixed) or strings (symbolic, e.g. 'N'). */
export function valueInfo(name, elemType, dims) {
  const shape = new Msg();
  for (const d of dims) {
    const dim = new Msg();
    if (typeof d === 'number')
      dim.int(1, d); // dim_value
    else dim.string(2, d); // dim_param
    shape.msg(1, dim);
  }
  const tensorType = new Msg().int(1, elemType).msg(2, shape); // elem_type, shape
  const type = new Msg().msg(1, tensorType); // TypeProto.tensor_type
  return new Msg().string(1, name).msg(2, type);
}

/** NodeProto; attrs maps name → integer attribute. */
export function node(opType, inputs, outputs, name, attrs = {}) {
  const n = new Msg();
  for (const i of inputs) n.string(1, i);
  for (const o of outputs) n.string(2, o);
  n.string(3, name);
  n.string(4, opType);
  for (const [key, value] of Object.entries(attrs)) {
    n.msg(5, new Msg().string(1, key).int(3, value).int(20, ATTR_INT)); // AttributeProto name, i, type
  }
  return n;
}

/** ModelProto: IR version 8, default-domain opset 13 (any onnxruntime since 1.8 loads it). */
export function model({ graphName, doc, nodes, initializers, inputs, outputs }) {
  const g = new Msg();
  for (const n of nodes) g.msg(1, n);
  g.string(2, graphName);
  for (const t of initializers) g.msg(5, t);
  g.string(10, doc);
  for (const i of inputs) g.msg(11, i);
  for (const o of outputs) g.msg(12, o);
  const m = new Msg();
  m.int(1, 8); // ir_version
  m.string(2, 'inferlog-make-models'); // producer_name
  m.string(3, '1'); // producer_version
  m.msg(7, g); // graph
  m.msg(8, new Msg().string(1, '').int(2, 13)); // opset_import
  return m.finish();
}

// ── simple-model: y = 2·x + 1 ───────────────────────────────────────────────

export function simpleModel() {
  return model({
    graphName: 'simple-model',
    doc: 'y = 2*x + 1, elementwise',
    nodes: [node('Mul', ['x', 'two'], ['twice_x'], 'mul'), node('Add', ['twice_x', 'one'], ['y'], 'add')],
    initializers: [floatTensor('two', [], [2]), floatTensor('one', [], [1])],
    inputs: [valueInfo('x', ONNX_FLOAT, ['N'])],
    outputs: [valueInfo('y', ONNX_FLOAT, ['N'])],
  });
}

// ── iris: softmax regression ────────────────────────────────────────────────

// Fisher's iris data (public domain; the UCI Machine Learning Repository copy), 50 flowers per
// species. Each 8-digit group is one flower: sepal length, sepal width, petal length, petal
// width, in millimetres (cm × 10), two digits each.
const IRIS = [
  // setosa
  [
    '51351402 49301402 47321302 46311502 50361402 54391704 46341403 50341502 44291402 49311501',
    '54371502 48341602 48301401 43301101 58401202 57441504 54391304 51351403 57381703 51381503',
    '54341702 51371504 46361002 51331705 48341902 50301602 50341604 52351502 52341402 47321602',
    '48311602 54341504 52411501 55421402 49311502 50321202 55351302 49361401 44301302 51341502',
    '50351303 45231303 44321302 50351606 51381904 48301403 51381602 46321402 53371502 50331402',
  ].join(' '),
  // versicolor
  [
    '70324714 64324515 69314915 55234013 65284615 57284513 63334716 49243310 66294613 52273914',
    '50203510 59304215 60224010 61294714 56293613 67314414 56304515 58274110 62224515 56253911',
    '59324818 61284013 63254915 61284712 64294313 66304414 68284814 67305017 60294515 57263510',
    '55243811 55243710 58273912 60275116 54304515 60344516 67314715 63234413 56304113 55254013',
    '55264412 61304614 58264012 50233310 56274213 57304212 57294213 62294313 51253011 57284113',
  ].join(' '),
  // virginica
  [
    '63336025 58275119 71305921 63295618 65305822 76306621 49254517 73296318 67255818 72366125',
    '65325120 64275319 68305521 57255020 58285124 64325323 65305518 77386722 77266923 60225015',
    '69325723 56284920 77286720 63274918 67335721 72326018 62284818 61304918 64285621 72305816',
    '74286119 79386420 64285622 63285115 61265614 77306123 63345624 64315518 60304818 69315421',
    '67315624 69315123 58275119 68325923 67335725 67305223 63255019 65305220 62345423 59305118',
  ].join(' '),
];
export const IRIS_CLASSES = ['setosa', 'versicolor', 'virginica'];

/** @returns {{ x: number[][], y: number[] }} */
export function irisData() {
  const x = [];
  const y = [];
  IRIS.forEach((text, label) => {
    for (const group of text.split(' ')) {
      const row = [];
      for (let i = 0; i < 8; i += 2) row.push(Number(group.slice(i, i + 2)) / 10);
      x.push(row);
      y.push(label);
    }
  });
  return { x, y };
}

/**
 * Fits multinomial logistic regression on standardised features by full-batch gradient
 * descent (deterministic: zero start, fixed steps), then folds the standardisation into
 * the weights so the ONNX graph takes raw centimetres.
 */
function fitIris() {
  const { x, y } = irisData();
  const n = x.length;
  const F = 4;
  const K = 3;
  const mean = Array(F).fill(0);
  const std = Array(F).fill(0);
  for (const r of x) for (let f = 0; f < F; f++) mean[f] += r[f] / n;
  for (const r of x) for (let f = 0; f < F; f++) std[f] += (r[f] - mean[f]) ** 2 / n;
  for (let f = 0; f < F; f++) std[f] = Math.sqrt(std[f]);
  const z = x.map((r) => r.map((v, f) => (v - mean[f]) / std[f]));

  const w = Array.from({ length: F }, () => Array(K).fill(0));
  const b = Array(K).fill(0);
  const rate = 0.5;
  const l2 = 1e-3;
  const p = Array(K).fill(0);
  for (let step = 0; step < 3000; step++) {
    const gw = Array.from({ length: F }, () => Array(K).fill(0));
    const gb = Array(K).fill(0);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        p[k] = b[k];
        for (let f = 0; f < F; f++) p[k] += z[i][f] * w[f][k];
        max = Math.max(max, p[k]);
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += p[k] = Math.exp(p[k] - max);
      for (let k = 0; k < K; k++) {
        const err = p[k] / sum - (y[i] === k ? 1 : 0);
        gb[k] += err / n;
        for (let f = 0; f < F; f++) gw[f][k] += (err * z[i][f]) / n;
      }
    }
    for (let k = 0; k < K; k++) {
      b[k] -= rate * gb[k];
      for (let f = 0; f < F; f++) w[f][k] -= rate * (gw[f][k] + l2 * w[f][k]);
    }
  }

  // logits = ((x - mean) / std)·W + b = x·(W / std) + (b - Σ mean/std·W)
  const W = w.map((row, f) => row.map((v) => v / std[f]));
  const B = b.map((v, k) => v - w.reduce((acc, row, f) => acc + (mean[f] / std[f]) * row[k], 0));

  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < K; k++) {
      let s = B[k];
      for (let f = 0; f < F; f++) s += x[i][f] * W[f][k];
      if (s > bestScore) [best, bestScore] = [k, s];
    }
    if (best === y[i]) correct++;
  }
  return { W, B, accuracy: correct / n };
}

export function irisModel() {
  const { W, B, accuracy } = fitIris();
  const bytes = model({
    graphName: 'iris',
    doc:
      'Iris classifier: softmax regression on sepal length, sepal width, petal length, petal width (cm). ' +
      `label: 0 setosa, 1 versicolor, 2 virginica. Training accuracy ${(accuracy * 100).toFixed(1)}%.`,
    nodes: [
      node('Gemm', ['input', 'weights', 'bias'], ['logits'], 'linear'),
      node('Softmax', ['logits'], ['probabilities'], 'softmax', { axis: 1 }),
      node('ArgMax', ['probabilities'], ['label'], 'argmax', { axis: 1, keepdims: 0 }),
    ],
    initializers: [floatTensor('weights', [4, 3], W.flat()), floatTensor('bias', [3], B)],
    inputs: [valueInfo('input', ONNX_FLOAT, ['N', 4])],
    // label first: V1 :predict answers with the first output, like KServe's sklearn server.
    outputs: [valueInfo('label', ONNX_INT64, ['N']), valueInfo('probabilities', ONNX_FLOAT, ['N', 3])],
  });
  return { bytes, note: `softmax regression, training accuracy ${(accuracy * 100).toFixed(1)}%` };
}

// ── main ────────────────────────────────────────────────────────────────────

function writeIfChanged(path, bytes) {
  if (existsSync(path)) {
    const old = readFileSync(path);
    if (old.length === bytes.length && old.equals(Buffer.from(bytes))) return false;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return true;
}

export function main(argv) {
  const here = dirname(fileURLToPath(import.meta.url));
  const outFlag = argv.indexOf('--out');
  const outDir =
    outFlag >= 0 && argv[outFlag + 1] ? resolve(argv[outFlag + 1]) : join(here, '..', 'examples', 'models');
  const models = [
    { name: 'simple-model', build: () => ({ bytes: simpleModel(), note: 'y = 2x + 1' }) },
    { name: 'iris', build: irisModel },
  ];
  for (const m of models) {
    const path = join(outDir, m.name, 'model.onnx');
    const { bytes, note } = m.build();
    const changed = writeIfChanged(path, bytes);
    const shown = relative(process.cwd(), path) || path;
    console.log(`make-models: ${changed ? 'wrote' : 'unchanged'} ${shown} (${bytes.length} bytes; ${note})`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main(process.argv.slice(2));
