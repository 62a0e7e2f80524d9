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

/**
 * The import's refusal (E_NETWORK_FORMAT, one line). `unidentifiable` is true when the graph was
 * read and computes what nnid cannot identify (a ReLU-like activation, other than two hidden
 * layers, a nonlinear output such as Softmax, a convolution, an input of rank > 2): asking such a
 * model queries is pointless. False when the graph only uses an operator the import does not
 * read (the model may still be a black box nnid can identify).
 */
export class OnnxImportError extends NnidError {
  constructor(
    message: string,
    readonly unidentifiable: boolean,
  ) {
    super(ErrorCodes.networkFormat, message);
  }
}

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

/** y = scale * x + shift, unit by unit. */
interface Affine {
  scale: Float64Array;
  shift: Float64Array;
}

/** `a` then `b`. */
function compose(a: Affine, b: Affine): Affine {
  return { scale: a.scale.map((s, i) => b.scale[i] * s), shift: a.shift.map((t, i) => b.scale[i] * t + b.shift[i]) };
}

/** The layer's outputs mapped by `f`: row i of W times scale_i, b_i -> scale_i b_i + shift_i. */
function foldAfter(layer: Linear, f: Affine): void {
  const bias = layer.bias ?? new Float64Array(layer.out);
  for (let i = 0; i < layer.out; i++) {
    for (let j = 0; j < layer.in; j++) layer.weight[i * layer.in + j] *= f.scale[i];
    bias[i] = f.scale[i] * bias[i] + f.shift[i];
  }
  layer.bias = bias;
}

/** The layer's inputs mapped by `f` first: W diag(scale) and b + W shift. */
function foldBefore(layer: Linear, f: Affine): void {
  const bias = layer.bias ?? new Float64Array(layer.out);
  for (let i = 0; i < layer.out; i++) {
    let s = 0;
    for (let j = 0; j < layer.in; j++) {
      s += layer.weight[i * layer.in + j] * f.shift[j];
      layer.weight[i * layer.in + j] *= f.scale[j];
    }
    bias[i] += s;
  }
  layer.bias = bias;
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
  /** How many nodes (and graph outputs) read each tensor. */
  private readonly readers = new Map<string, number>();

  constructor(private readonly source: string) {}

  /** `unidentifiable`: the graph is read, and what it computes is outside what nnid identifies (not only outside what it reads). */
  fail(problem: string, unidentifiable = false): never {
    throw new OnnxImportError(`cannot import ${this.source}: ${problem}`, unidentifiable);
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
      this.fail(`a convolution (${conv.opType} node '${conv.name || conv.output?.[0]}'): nnid reads multilayer perceptrons (Gemm, or MatMul + Add, and elementwise activations)`, true);
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
    // [n, 1, d] is taken when the graph squeezes it to [n, d] before the first layer (a Squeeze, Flatten or Reshape)
    let squeezeFirst = shape.length === 3 && shape[1] === 1;
    if (shape.length !== 2 && !squeezeFirst) {
      this.fail(`input '${input.name}' has rank ${shape.length} ([${shape.join(', ')}]): nnid reads models whose input is a batch of vectors, [n, d]`, true);
    }
    const outputs = graph.output ?? [];
    if (outputs.length !== 1) this.fail(`the model has ${outputs.length} outputs (${outputs.map((o) => o.name).join(', ')}), expected one`);
    const outputName = outputs[0].name ?? '';
    const inputDim = Number(shape[shape.length - 1]);

    // how many nodes (and graph outputs) read each tensor: an affine op is folded into its neighbour only when it is the tensor's one reader
    this.readers.clear();
    for (const n of nodes) for (const i of n.input ?? []) this.readers.set(i, (this.readers.get(i) ?? 0) + 1);
    this.readers.set(outputName, (this.readers.get(outputName) ?? 0) + 1);

    const layers: Linear[] = [];
    const acts: { name: ActivationName; node: string }[] = [];
    let cur = input.name ?? '';
    let pending: NodeProto[] = [];
    // an input scaling before the first layer ((x - mean) / std): folded into W1 and b1 when the first layer comes
    let inputAffine: Affine | null = null;
    let postAffine: Affine | null = null;
    const nodeName = (n: NodeProto) => n.name || n.output?.[0] || n.opType || '?';
    for (const node of nodes) {
      const op = node.opType ?? '';
      const ins = node.input ?? [];
      const out = node.output?.[0] ?? '';
      if (op === 'Constant') {
        const value = node.attribute?.find((a) => a.name === 'value')?.t;
        const f = node.attribute?.find((a) => a.name === 'value_float');
        const fs = node.attribute?.find((a) => a.name === 'value_floats');
        const is = node.attribute?.find((a) => a.name === 'value_ints');
        if (value) this.consts.set(out, this.tensor(value, `constant '${out}'`));
        else if (f) this.consts.set(out, { dims: [], values: Float64Array.of(f.f ?? 0) });
        else if (fs) this.consts.set(out, { dims: [fs.floats?.length ?? 0], values: Float64Array.from(fs.floats ?? []) });
        else if (is) this.consts.set(out, { dims: [is.ints?.length ?? 0], values: Float64Array.from((is.ints ?? []).map(Number)) });
        else this.fail(`Constant node '${nodeName(node)}' holds no tensor nnid reads`);
        continue;
      }
      if (squeezeFirst) {
        // the [n, 1, d] input: its first node must make it [n, d]
        if (ins[0] === cur && this.squeezesAxis1(node, inputDim)) {
          squeezeFirst = false;
          cur = out;
          continue;
        }
        this.fail(`input '${input.name}' has rank 3 ([${shape.join(', ')}]) and ${op} node '${nodeName(node)}' does not squeeze it to [n, d] first: nnid reads models whose input is a batch of vectors, [n, d]`, true);
      }
      if (op === 'Gemm' || op === 'MatMul' || op === 'ReduceSum') {
        const data = op === 'MatMul' && this.consts.has(ins[0]) ? ins[1] : ins[0];
        let pre: Affine | null = null;
        if (pending.length > 0) {
          const found = this.classify(layers.length, cur, data, pending, layers[layers.length - 1].out);
          acts.push({ name: found.name, node: nodeName(pending[0]) });
          pre = found.pre;
          postAffine = found.post;
          pending = [];
        } else if (data !== cur) {
          this.fail(`${op} node '${nodeName(node)}' reads '${data}', which is not the output of the layer before`);
        } else if (layers.length > 0) {
          this.fail(`${op} node '${nodeName(node)}' follows layer ${layers.length} with no activation between: nnid takes linear, activation, linear, activation, linear`);
        }
        if (pre) foldAfter(layers[layers.length - 1], pre);
        const layer = this.linear(node, layers.length > 0 ? layers[layers.length - 1].out : inputDim);
        const before = layers.length === 0 ? inputAffine : postAffine;
        if (before) foldBefore(layer, before);
        postAffine = null;
        layers.push(layer);
        cur = out;
        continue;
      }
      if (op === 'Softmax' || op === 'LogSoftmax') {
        this.fail(
          `the last layer is followed by ${op} (node '${nodeName(node)}'), a nonlinear function of all k logits together: each output's Hessian then holds products of the logits' gradients, outside the span of a_i a_i^T and v_l v_l^T that nnid identifies from; export the model without it (the logits)`,
          true,
        );
      }
      if (pending.length === 0 && ins[0] === cur && (op === 'Identity' || op === 'Dropout' || op === 'Cast' || ((op === 'Flatten' || op === 'Squeeze' || op === 'Reshape') && this.keepsRows(node, layers.length > 0 ? layers[layers.length - 1].out : inputDim)))) {
        // a pass-through on the chain itself (tf2onnx starts and ends graphs with Identity nodes; nn.Flatten on [n, d])
        cur = out;
        continue;
      }
      if (pending.length === 0 && (this.readers.get(cur) ?? 0) === 1) {
        // a per-unit affine op on the chain (a bias Add after MatMul, an input scaling, BatchNormalization in eval): folded exactly
        const width = layers.length > 0 ? layers[layers.length - 1].out : inputDim;
        const affine = this.affineOf(node, cur, width);
        if (affine) {
          if (layers.length === 0) inputAffine = inputAffine ? compose(inputAffine, affine) : affine;
          else foldAfter(layers[layers.length - 1], affine);
          cur = out;
          continue;
        }
      }
      if (op in UNARY || op in BINARY || op in REFUSED_OPS || op === 'Flatten' || op === 'BatchNormalization') {
        pending.push(node);
        continue;
      }
      this.fail(`operator ${op} (node '${nodeName(node)}') is not supported: nnid reads multilayer perceptrons (Gemm, or MatMul + Add, and elementwise activations)`);
    }
    if (pending.length > 0) {
      const ops = [...new Set(pending.map((n) => n.opType))].join(', ');
      this.fail(`the last layer is followed by ${ops} (node '${nodeName(pending[0])}'): nnid's last layer is linear; export the model without its final activation (the logits)`, true);
    }
    if (cur !== outputName) this.fail(`the output '${outputName}' is not the last linear layer's output '${cur}'`);
    if (layers.length !== 3) {
      const why =
        layers.length === 2
          ? ' (one hidden layer: its Hessians hold the first-layer directions only, and nnid\'s shift fit and refinement are built for two; not supported yet)'
          : '';
      this.fail(`the model has ${layers.length} linear layer${layers.length === 1 ? '' : 's'} (${Math.max(0, layers.length - 1)} hidden): nnid takes two hidden layers and a linear output layer${why}`, true);
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

  /** A Squeeze of axis 1, a Flatten on axis 1, or a Reshape to [-1 or 0, d]: [n, 1, d] -> [n, d]. */
  private squeezesAxis1(node: NodeProto, d: number): boolean {
    const op = node.opType ?? '';
    const ins = node.input ?? [];
    const attr = (key: string) => node.attribute?.find((a) => a.name === key);
    if (op === 'Squeeze') {
      const axes = this.constant(ins[1])?.values ?? Float64Array.from((attr('axes')?.ints ?? []).map(Number));
      return axes.length === 1 && (axes[0] === 1 || axes[0] === -2);
    }
    if (op === 'Flatten') return Number(attr('axis')?.i ?? 1) === 1;
    if (op === 'Reshape') {
      const to = this.constant(ins[1])?.values;
      return to !== undefined && to.length === 2 && (to[0] === -1 || to[0] === 0) && to[1] === d;
    }
    return false;
  }

  /** A Flatten on axis 1, or a Reshape to [-1 or 0, -1 or width] of an [n, width] tensor: changes nothing. */
  private keepsRows(node: NodeProto, width: number): boolean {
    const op = node.opType ?? '';
    const ins = node.input ?? [];
    const attr = (key: string) => node.attribute?.find((a) => a.name === key);
    if (op === 'Flatten') return Number(attr('axis')?.i ?? 1) === 1;
    if (op === 'Squeeze') return false;
    const to = this.constant(ins[1])?.values;
    return to !== undefined && to.length === 2 && (to[0] === -1 || to[0] === 0) && (to[1] === -1 || to[1] === width);
  }

  /**
   * The per-unit affine map y = scale * x + shift that `node` applies to tensor `chain` of `width`
   * units (Add, Sub, Mul, Div by a constant of 1 or `width` numbers, Neg, BatchNormalization with
   * constant statistics as in eval mode), or null when it is not one.
   */
  private affineOf(node: NodeProto, chain: string, width: number): Affine | null {
    const op = node.opType ?? '';
    const ins = node.input ?? [];
    const ones = () => new Float64Array(width).fill(1);
    const broadcast = (name: string | undefined): Float64Array | null => {
      const c = this.constant(name);
      if (!c || (c.values.length !== 1 && c.values.length !== width) || c.dims.length > 2) return null;
      if (c.dims.length === 2 && c.dims[1] !== c.values.length) return null; // a column vector would broadcast over the batch
      return c.values.length === 1 ? new Float64Array(width).fill(c.values[0]) : Float64Array.from(c.values);
    };
    if (op === 'Neg' && ins[0] === chain) return { scale: new Float64Array(width).fill(-1), shift: new Float64Array(width) };
    if (op === 'BatchNormalization' && ins[0] === chain) {
      const [gamma, beta, mean, variance] = ins.slice(1, 5).map((n) => broadcast(n));
      if (!gamma || !beta || !mean || !variance || (node.output?.length ?? 1) > 1 && (node.output ?? []).slice(1).some((o) => o)) return null;
      const eps = node.attribute?.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
      const scale = new Float64Array(width);
      const shift = new Float64Array(width);
      for (let i = 0; i < width; i++) {
        scale[i] = gamma[i] / Math.sqrt(variance[i] + eps);
        shift[i] = beta[i] - mean[i] * scale[i];
      }
      return { scale, shift };
    }
    if (!(op in BINARY) || op === 'Pow' || ins.length !== 2) return null;
    const first = ins[0] === chain;
    if (!first && ins[1] !== chain) return null;
    const c = broadcast(first ? ins[1] : ins[0]);
    if (!c) return null;
    const zero = new Float64Array(width);
    if (op === 'Add') return { scale: ones(), shift: c };
    if (op === 'Mul') return { scale: c, shift: zero };
    if (op === 'Sub') return first ? { scale: ones(), shift: c.map((v) => -v) } : { scale: new Float64Array(width).fill(-1), shift: c };
    if (op === 'Div' && first) return { scale: c.map((v) => 1 / v), shift: zero };
    return null;
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
   * evaluating them on probe points; refused operators named. When the nodes as they stand
   * compute none, per-unit affine ops at either end (softplus with beta: Mul, Softplus, Div;
   * BatchNormalization after the activation) are peeled off, fewest first, and returned to be
   * folded into the layers around (`pre` into the layer before, `post` into the layer after).
   */
  private classify(layer: number, from: string, to: string, nodes: NodeProto[], width: number): { name: ActivationName; pre: Affine | null; post: Affine | null } {
    const where = `the activation after layer ${layer}`;
    const nodeName = (n: NodeProto) => n.name || n.output?.[0] || n.opType || '?';
    const refuse = (n: NodeProto): never => {
      const [key, shown] = REFUSED_OPS[n.opType ?? ''];
      return this.fail(`${where} is ${shown} (node '${nodeName(n)}'), which ${REFUSED_ACTIVATIONS[key]}; ${SMOOTH}`, true);
    };
    const hard = nodes.find((n) => n.opType !== 'Relu' && (n.opType ?? '') in REFUSED_OPS);
    if (hard) refuse(hard);
    for (const n of nodes) {
      if (n.opType === 'Flatten' && Number(n.attribute?.find((x) => x.name === 'axis')?.i ?? 1) !== 1) this.fail(`Flatten node '${nodeName(n)}' is not on axis 1`);
    }
    const whole = this.probe(nodes, from, to, where);
    if (whole.name && whole.error <= 1e-6) return { name: whole.name, pre: null, post: null };
    // affine ops at the two ends, outermost first
    const pre: NodeProto[] = [];
    const post: NodeProto[] = [];
    const rest = new Set(nodes);
    const affine = new Map<NodeProto, Affine>();
    const chainOf = new Map<NodeProto, string>();
    for (let f = from; ; ) {
      const readers = [...rest].filter((n) => (n.input ?? []).includes(f));
      const a = readers.length === 1 && (this.readers.get(f) ?? 0) === 1 ? this.affineOf(readers[0], f, width) : null;
      if (!a) break;
      affine.set(readers[0], a);
      pre.push(readers[0]);
      rest.delete(readers[0]);
      f = readers[0].output?.[0] ?? '';
    }
    for (let t = to; ; ) {
      const n = [...rest].find((m) => m.output?.[0] === t);
      const chain = n?.opType === 'BatchNormalization' ? n.input?.[0] : n?.input?.find((i) => !this.consts.has(i));
      const a = n && chain && (this.readers.get(chain) ?? 0) === 1 ? this.affineOf(n, chain, width) : null;
      if (!n || !chain || !a) break;
      affine.set(n, a);
      chainOf.set(n, chain);
      post.unshift(n);
      rest.delete(n);
      t = chain;
    }
    const fold = (list: NodeProto[]): Affine | null => list.reduce<Affine | null>((acc, n) => (acc ? compose(acc, affine.get(n)!) : affine.get(n)!), null);
    for (let total = 1; total <= pre.length + post.length; total++) {
      for (let i = Math.min(total, pre.length); i >= 0; i--) {
        const j = total - i;
        if (j > post.length) continue;
        const middle = [...pre.slice(i), ...nodes.filter((n) => rest.has(n)), ...post.slice(0, post.length - j)];
        const start = i === 0 ? from : (pre[i - 1].output?.[0] ?? '');
        const end = j === 0 ? to : chainOf.get(post[post.length - j])!;
        if (middle.length === 0) continue;
        const found = this.probe(middle, start, end, where);
        if (found.name && found.error <= 1e-6) return { name: found.name, pre: fold(pre.slice(0, i)), post: fold(post.slice(post.length - j)) };
      }
    }
    if (whole.problem) this.fail(whole.problem);
    const relu = nodes.find((n) => n.opType === 'Relu');
    if (relu) refuse(relu);
    const ops = nodes.map((n) => n.opType).join(', ');
    return this.fail(`${where} (nodes ${ops}, from '${nodeName(nodes[0])}') computes none of the activations nnid knows (${ACTIVATIONS.join(', ')}); the nearest, ${whole.name}, is off by ${whole.error.toExponential(1)}`);
  }

  /**
   * The elementwise `nodes` evaluated from tensor `from` (probe points -6..6) to tensor `to`, and
   * the activation nnid knows nearest to what they compute (max error relative to max(1, |phi|));
   * `problem` says why they could not be evaluated (a constant of more than one number, ...).
   */
  private probe(nodes: NodeProto[], from: string, to: string, where: string): { name?: ActivationName; error: number; problem?: string } {
    const nodeName = (n: NodeProto) => n.name || n.output?.[0] || n.opType || '?';
    const probes = new Float64Array(121);
    for (let i = 0; i < probes.length; i++) probes[i] = -6 + 0.1 * i;
    const env = new Map<string, Float64Array>([[from, probes]]);
    let problem: string | undefined;
    const read = (name: string, n: NodeProto): Float64Array | number | undefined => {
      const v = env.get(name);
      if (v) return v;
      const c = this.constant(name);
      if (c && c.values.length === 1) return c.values[0];
      problem ??= `${where}: node '${nodeName(n)}' (${n.opType}) reads '${name}', which is neither the layer's output nor a scalar constant`;
      return undefined;
    };
    for (const n of nodes) {
      const op = n.opType ?? '';
      const ins = n.input ?? [];
      const out = new Float64Array(probes.length);
      if (op in BINARY) {
        const [a, b] = [read(ins[0], n), read(ins[1], n)];
        if (a === undefined || b === undefined) return { error: Infinity, problem };
        const f = BINARY[op];
        for (let i = 0; i < out.length; i++) out[i] = f(typeof a === 'number' ? a : a[i], typeof b === 'number' ? b : b[i]);
      } else if (op in UNARY || op === 'Flatten') {
        const a = read(ins[0], n);
        if (a === undefined) return { error: Infinity, problem };
        if (typeof a === 'number') return { error: Infinity, problem: `${where}: node '${nodeName(n)}' (${op}) reads a constant only` };
        const f = UNARY[op] ?? ((t: number) => t); // Flatten of an [n, m] tensor on axis 1 changes nothing
        for (let i = 0; i < out.length; i++) out[i] = f(a[i]);
      } else {
        return { error: Infinity, problem: `${where}: node '${nodeName(n)}' (${op}) is not elementwise with scalar constants` };
      }
      env.set(n.output?.[0] ?? '', out);
    }
    const y = env.get(to);
    if (!y) return { error: Infinity, problem: `${where}: the next layer reads '${to}', which the activation's nodes do not compute from the layer's output` };
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
    return { name: best, error: bestErr };
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
