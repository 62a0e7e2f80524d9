/**
 * An MLP's weights read out of an ONNX graph into a GeneralNetwork (nnid.network/v2):
 *
 *   x [n, d] -> linear -> phi1 -> linear -> phi2 -> linear -> y [n, k]
 *
 * A linear layer is a Gemm (any transB, alpha, beta), a MatMul by a constant followed by an Add of
 * a constant (PyTorch's and tf2onnx's exporters write both), or a final ReduceSum over the units
 * (nnid's own v1 export: C = 1^T). Between linear layers, the activation is whatever elementwise
 * subgraph the exporter wrote (Tanh; Sigmoid; Softplus; Atan; x * Sigmoid(x); the Erf form of GELU;
 * its tanh approximation; nnid's own stable softplus): it is recognized by evaluating the
 * subgraph on probe points and comparing with each activation nnid knows (to 1e-6), so the
 * spelling of the graph does not matter, only the function it computes.
 *
 * Refused, each in one line naming what is unsupported: a piecewise-linear or non-C2 activation
 * (ReLU, LeakyReLU, ELU, Clip, ...), a number of hidden layers other than two, an activation after
 * the last layer, a convolution, an input of rank other than 2, any other operator.
 */
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import {
  ACTIVATIONS,
  ACTIVATION_TABLE,
  ErrorCodes,
  NnidError,
  REFUSED_ACTIVATIONS,
  erf,
  matrixFrom,
  type ActivationName,
  type GeneralNetwork,
} from '@nnid/core';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

/** What an ONNX file held: the network and the element type the model computes in. */
export interface ImportedOnnx {
  readonly network: GeneralNetwork;
  readonly dtype: 'float32' | 'float64';
}

interface Tensor {
  readonly dims: number[];
  readonly values: Float64Array;
}

interface Linear {
  /** out x in, row-major */
  weight: Float64Array;
  bias: Float64Array | null;
  out: number;
  in: number;
  node: string;
}

const CONVOLUTIONS = new Set(['Conv', 'ConvTranspose', 'ConvInteger', 'QLinearConv', 'DeformConv']);

/** Operators that refuse a layer, with the name REFUSED_ACTIVATIONS knows them by and the name users know. */
const REFUSED_OPS: Readonly<Record<string, [string, string]>> = {
  Relu: ['relu', 'ReLU'],
  LeakyRelu: ['leaky_relu', 'LeakyReLU'],
  PRelu: ['prelu', 'PReLU'],
  Clip: ['hardtanh', 'Clip (ReLU6/hardtanh)'],
  HardSigmoid: ['hardsigmoid', 'HardSigmoid'],
  HardSwish: ['hardswish', 'HardSwish'],
  Elu: ['elu', 'ELU'],
  Selu: ['selu', 'SELU'],
  Celu: ['celu', 'CELU'],
};

const SMOOTH = `retrain with a smooth activation (softplus is a smooth relu; gelu and silu are smooth too; nnid knows ${ACTIVATIONS.join(', ')})`;

/** Elementwise operators the probe evaluation knows (Relu only to read nnid's own softplus). */
const UNARY: Readonly<Record<string, (t: number) => number>> = {
  Tanh: Math.tanh,
  Sigmoid: (t) => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t))),
  Softplus: (t) => Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t))),
  Erf: erf,
  Atan: Math.atan,
  Abs: Math.abs,
  Neg: (t) => -t,
  Exp: Math.exp,
  Log: Math.log,
  Sqrt: Math.sqrt,
  Reciprocal: (t) => 1 / t,
  Relu: (t) => Math.max(t, 0),
  Identity: (t) => t,
  Dropout: (t) => t,
  Cast: (t) => t,
};
const BINARY: Readonly<Record<string, (a: number, b: number) => number>> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: (a, b) => a ** b,
};

class Importer {
  private readonly consts = new Map<string, Tensor>();

  constructor(private readonly source: string) {}

  fail(problem: string): never {
    throw new NnidError(ErrorCodes.networkFormat, `cannot import ${this.source}: ${problem}`);
  }

  tensor(t: TensorProto, what: string): Tensor {
    const dims = (t.dims ?? []).map(Number);
    const size = dims.reduce((a, b) => a * b, 1);
    const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
    let values: Float64Array;
    if (t.dataType === onnx.TensorProto.DataType.FLOAT) {
      values = raw ? Float64Array.from(new Float32Array(Uint8Array.from(raw).buffer)) : Float64Array.from(t.floatData ?? []);
    } else if (t.dataType === onnx.TensorProto.DataType.DOUBLE) {
      values = raw ? new Float64Array(Uint8Array.from(raw).buffer) : Float64Array.from(t.doubleData ?? []);
    } else if (t.dataType === onnx.TensorProto.DataType.INT64) {
      values = raw ? Float64Array.from(new BigInt64Array(Uint8Array.from(raw).buffer), Number) : Float64Array.from((t.int64Data ?? []).map(Number));
    } else {
      const type = onnx.TensorProto.DataType[t.dataType ?? 0] ?? String(t.dataType);
      return this.fail(`${what} is a ${type} tensor; nnid reads float32 and float64 weights`);
    }
    if (values.length !== size) this.fail(`${what} holds ${values.length} numbers, its dims [${dims.join(', ')}] say ${size}`);
    return { dims, values };
  }

  constant(name: string | undefined | null): Tensor | undefined {
    return name ? this.consts.get(name) : undefined;
  }

  import(model: onnxProto.onnx.ModelProto): ImportedOnnx {
    const graph = model.graph;
    if (!graph) return this.fail('the model has no graph');
    for (const t of graph.initializer ?? []) this.consts.set(t.name ?? '', this.tensor(t, `initializer '${t.name}'`));
    const nodes = graph.node ?? [];
    const conv = nodes.find((n) => CONVOLUTIONS.has(n.opType ?? ''));
    if (conv) {
      this.fail(`a convolution (${conv.opType} node '${conv.name || conv.output?.[0]}'): nnid reads multilayer perceptrons (Gemm, or MatMul + Add, and elementwise activations)`);
    }
    const inputs = (graph.input ?? []).filter((i) => !this.consts.has(i.name ?? ''));
    if (inputs.length !== 1) this.fail(`the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}), expected one`);
    const input = inputs[0];
    const tensorType = input.type?.tensorType;
    const elem = tensorType?.elemType;
    if (elem !== onnx.TensorProto.DataType.FLOAT && elem !== onnx.TensorProto.DataType.DOUBLE) {
      this.fail(`input '${input.name}' is ${tensorType ? `a ${onnx.TensorProto.DataType[elem ?? 0]} tensor` : 'not a tensor'}, expected float32 or float64`);
    }
    const shape = (tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0) || '?'));
    if (shape.length !== 2) {
      this.fail(`input '${input.name}' has rank ${shape.length} ([${shape.join(', ')}]): nnid reads models whose input is a batch of vectors, [n, d]`);
    }
    const outputs = graph.output ?? [];
    if (outputs.length !== 1) this.fail(`the model has ${outputs.length} outputs (${outputs.map((o) => o.name).join(', ')}), expected one`);
    const outputName = outputs[0].name ?? '';

    const layers: Linear[] = [];
    const acts: { name: ActivationName; node: string }[] = [];
    let cur = input.name ?? '';
    let pending: NodeProto[] = [];
    const nodeName = (n: NodeProto) => n.name || n.output?.[0] || n.opType || '?';
    for (const node of nodes) {
      const op = node.opType ?? '';
      const ins = node.input ?? [];
      const out = node.output?.[0] ?? '';
      if (op === 'Constant') {
        const value = node.attribute?.find((a) => a.name === 'value')?.t;
        const f = node.attribute?.find((a) => a.name === 'value_float');
        if (value) this.consts.set(out, this.tensor(value, `constant '${out}'`));
        else if (f) this.consts.set(out, { dims: [], values: Float64Array.of(f.f ?? 0) });
        else this.fail(`Constant node '${nodeName(node)}' holds no tensor nnid reads`);
        continue;
      }
      if (op === 'Gemm' || op === 'MatMul' || op === 'ReduceSum') {
        const data = op === 'MatMul' && this.consts.has(ins[0]) ? ins[1] : ins[0];
        if (pending.length > 0) {
          acts.push({ name: this.classify(layers.length, cur, data, pending), node: nodeName(pending[0]) });
          pending = [];
        } else if (data !== cur) {
          this.fail(`${op} node '${nodeName(node)}' reads '${data}', which is not the output of the layer before`);
        } else if (layers.length > 0) {
          this.fail(`${op} node '${nodeName(node)}' follows layer ${layers.length} with no activation between: nnid takes linear, activation, linear, activation, linear`);
        }
        layers.push(this.linear(node, layers.length > 0 ? layers[layers.length - 1].out : Number(shape[1])));
        cur = out;
        continue;
      }
      if ((op === 'Identity' || op === 'Dropout' || op === 'Cast') && pending.length === 0 && ins[0] === cur) {
        // a pass-through on the chain itself (tf2onnx starts and ends graphs with Identity nodes)
        cur = out;
        continue;
      }
      if (op === 'Add' && pending.length === 0 && layers.length > 0 && layers[layers.length - 1].bias === null && ins.includes(cur)) {
        const other = this.constant(ins[0] === cur ? ins[1] : ins[0]);
        const last = layers[layers.length - 1];
        if (other && other.values.length === last.out) {
          last.bias = Float64Array.from(other.values);
          cur = out;
          continue;
        }
      }
      if (op in UNARY || op in BINARY || op in REFUSED_OPS || op === 'Flatten') {
        pending.push(node);
        continue;
      }
      this.fail(`operator ${op} (node '${nodeName(node)}') is not supported: nnid reads multilayer perceptrons (Gemm, or MatMul + Add, and elementwise activations)`);
    }
    if (pending.length > 0) {
      const ops = [...new Set(pending.map((n) => n.opType))].join(', ');
      this.fail(`the last layer is followed by ${ops} (node '${nodeName(pending[0])}'): nnid's last layer is linear; export the model without its final activation (the logits)`);
    }
    if (cur !== outputName) this.fail(`the output '${outputName}' is not the last linear layer's output '${cur}'`);
    if (layers.length !== 3) {
      this.fail(`the model has ${layers.length} linear layer${layers.length === 1 ? '' : 's'} (${Math.max(0, layers.length - 1)} hidden): nnid takes two hidden layers and a linear output layer`);
    }
    const [l1, l2, l3] = layers;
    const net: GeneralNetwork = {
      activation: { layer1: acts[0].name, layer2: acts[1].name },
      inputDim: l1.in,
      width1: l1.out,
      width2: l2.out,
      outputs: l3.out,
      W1: matrixFrom(l1.weight, l1.out, l1.in),
      b1: l1.bias ?? new Float64Array(l1.out),
      W2: matrixFrom(l2.weight, l2.out, l2.in),
      b2: l2.bias ?? new Float64Array(l2.out),
      C: matrixFrom(l3.weight, l3.out, l3.in),
      c: l3.bias ?? new Float64Array(l3.out),
    };
    return { network: net, dtype: elem === onnx.TensorProto.DataType.DOUBLE ? 'float64' : 'float32' };
  }

  /** One linear layer from a Gemm, a MatMul by a constant, or a ReduceSum over axis 1. */
  private linear(node: NodeProto, inDim: number): Linear {
    const op = node.opType ?? '';
    const ins = node.input ?? [];
    const name = node.name || node.output?.[0] || op;
    const attr = (key: string) => node.attribute?.find((a) => a.name === key);
    if (op === 'ReduceSum') {
      const axes = this.constant(ins[1])?.values ?? Float64Array.from((attr('axes')?.ints ?? []).map(Number));
      if (axes.length !== 1 || (axes[0] !== 1 && axes[0] !== -1)) this.fail(`ReduceSum node '${name}' sums over axes [${Array.from(axes).join(', ')}], expected [1] (the units)`);
      const weight = new Float64Array(inDim).fill(1);
      return { weight, bias: new Float64Array(1), out: 1, in: inDim, node: name };
    }
    if (op === 'MatMul') {
      if (this.consts.has(ins[0])) this.fail(`MatMul node '${name}' multiplies a constant by the data from the left; nnid reads x W (as exporters write nn.Linear)`);
      const W = this.constant(ins[1]);
      if (!W) return this.fail(`MatMul node '${name}' multiplies by '${ins[1]}', which is not a constant weight`);
      if (W.dims.length !== 2) this.fail(`MatMul node '${name}' has a weight of shape [${W.dims.join(', ')}], expected [in, out]`);
      const [rows, cols] = W.dims;
      if (rows !== inDim) this.fail(`MatMul node '${name}' has a weight of shape [${W.dims.join(', ')}] for ${inDim} inputs`);
      return { weight: transpose(W.values, rows, cols), bias: null, out: cols, in: rows, node: name };
    }
    // Gemm: Y = alpha A' B' + beta C
    if ((attr('transA')?.i ?? 0) !== 0) this.fail(`Gemm node '${name}' transposes its data input (transA = 1)`);
    const W = this.constant(ins[1]);
    if (!W || W.dims.length !== 2) return this.fail(`Gemm node '${name}' multiplies by '${ins[1]}', which is not a constant 2-d weight`);
    const alpha = attr('alpha')?.f ?? 1;
    const beta = attr('beta')?.f ?? 1;
    const transB = Number(attr('transB')?.i ?? 0) !== 0;
    const [rows, cols] = W.dims;
    const weight = transB ? Float64Array.from(W.values) : transpose(W.values, rows, cols);
    const [out, inn] = transB ? [rows, cols] : [cols, rows];
    if (inn !== inDim) this.fail(`Gemm node '${name}' has a weight of shape [${W.dims.join(', ')}] for ${inDim} inputs`);
    if (alpha !== 1) for (let i = 0; i < weight.length; i++) weight[i] *= alpha;
    let bias: Float64Array | null = null;
    if (ins[2]) {
      const C = this.constant(ins[2]);
      if (!C) return this.fail(`Gemm node '${name}' adds '${ins[2]}', which is not a constant bias`);
      if (C.values.length !== out && C.values.length !== 1) this.fail(`Gemm node '${name}' has a bias of shape [${C.dims.join(', ')}] for ${out} outputs`);
      bias = new Float64Array(out);
      for (let i = 0; i < out; i++) bias[i] = beta * C.values[C.values.length === 1 ? 0 : i];
    }
    return { weight, bias, out, in: inn, node: name };
  }

  /**
   * The activation the elementwise `nodes` compute from tensor `from` to tensor `to`, by
   * evaluating them on probe points; refused operators named.
   */
  private classify(layer: number, from: string, to: string, nodes: NodeProto[]): ActivationName {
    const where = `the activation after layer ${layer}`;
    const nodeName = (n: NodeProto) => n.name || n.output?.[0] || n.opType || '?';
    const refuse = (n: NodeProto): never => {
      const [key, shown] = REFUSED_OPS[n.opType ?? ''];
      return this.fail(`${where} is ${shown} (node '${nodeName(n)}'), which ${REFUSED_ACTIVATIONS[key]}; ${SMOOTH}`);
    };
    const hard = nodes.find((n) => n.opType !== 'Relu' && (n.opType ?? '') in REFUSED_OPS);
    if (hard) refuse(hard);
    const probes = new Float64Array(121);
    for (let i = 0; i < probes.length; i++) probes[i] = -6 + 0.1 * i;
    const env = new Map<string, Float64Array>([[from, probes]]);
    const read = (name: string, n: NodeProto): Float64Array | number => {
      const v = env.get(name);
      if (v) return v;
      const c = this.constant(name);
      if (c && c.values.length === 1) return c.values[0];
      return this.fail(`${where}: node '${nodeName(n)}' (${n.opType}) reads '${name}', which is neither the layer's output nor a scalar constant`);
    };
    for (const n of nodes) {
      const op = n.opType ?? '';
      const ins = n.input ?? [];
      const out = new Float64Array(probes.length);
      if (op in BINARY) {
        const [a, b] = [read(ins[0], n), read(ins[1], n)];
        const f = BINARY[op];
        for (let i = 0; i < out.length; i++) out[i] = f(typeof a === 'number' ? a : a[i], typeof b === 'number' ? b : b[i]);
      } else {
        const a = read(ins[0], n);
        if (typeof a === 'number') this.fail(`${where}: node '${nodeName(n)}' (${op}) reads a constant only`);
        const f = UNARY[op] ?? ((t: number) => t); // Flatten of an [n, m] tensor on axis 1 changes nothing
        if (op === 'Flatten' && Number(n.attribute?.find((x) => x.name === 'axis')?.i ?? 1) !== 1) this.fail(`Flatten node '${nodeName(n)}' is not on axis 1`);
        for (let i = 0; i < out.length; i++) out[i] = f(a[i]);
      }
      env.set(n.output?.[0] ?? '', out);
    }
    const y = env.get(to);
    if (!y) return this.fail(`${where}: the next layer reads '${to}', which the activation's nodes do not compute from the layer's output`);
    let best: ActivationName | undefined;
    let bestErr = Infinity;
    for (const name of ACTIVATIONS) {
      const phi = ACTIVATION_TABLE[name];
      let err = 0;
      for (let i = 0; i < probes.length; i++) {
        const want = phi.value(probes[i]);
        err = Math.max(err, Math.abs(y[i] - want) / Math.max(1, Math.abs(want)));
      }
      if (!(err >= bestErr)) {
        bestErr = err;
        best = name;
      }
    }
    if (best !== undefined && bestErr <= 1e-6) return best;
    const relu = nodes.find((n) => n.opType === 'Relu');
    if (relu) refuse(relu);
    const ops = nodes.map((n) => n.opType).join(', ');
    return this.fail(`${where} (nodes ${ops}, from '${nodeName(nodes[0])}') computes none of the activations nnid knows (${ACTIVATIONS.join(', ')}); the nearest, ${best}, is off by ${bestErr.toExponential(1)}`);
  }
}

function transpose(values: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j];
  return out;
}

/**
 * The network an ONNX model's bytes hold (see the module comment); `source` names the model in
 * errors. Throws NnidError E_NETWORK_FORMAT with one line naming what is unsupported.
 *
 * @example
 * const { network, dtype } = importOnnxBytes(readFileSync('model.onnx'), 'model.onnx');
 */
export function importOnnxBytes(bytes: Uint8Array, source = 'the ONNX model'): ImportedOnnx {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new NnidError(ErrorCodes.fileRead, `cannot read ${source}: not an ONNX model (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  return new Importer(source).import(model);
}

/**
 * The network an ONNX model file holds.
 *
 * @example
 * const { network } = await importOnnx('model.onnx');
 * writeFileSync('net.json', JSON.stringify(serializeNetworkV2(network)));
 */
export async function importOnnx(path: string): Promise<ImportedOnnx> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new NnidError(ErrorCodes.fileRead, `cannot read ${path}: ${reason}`, { cause: e });
  }
  return importOnnxBytes(bytes, path);
}
