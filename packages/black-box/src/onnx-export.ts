/**
 * A network as an ONNX model, in float64 throughout, so a model exported here answers as the
 * in-process network does (to float64 rounding: see README, "Agreement between adapters").
 *
 *   x [n, d] -> MatMul(A^T) -> Add(theta) -> phi1 -> MatMul(B^T) -> Add(tau) -> phi2 -> ReduceSum(axis 1) -> y [n]
 */
import { writeFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { ErrorCodes, NnidError, toGeneral, type ActivationName, type Float64View, type GeneralNetwork, type Network } from '@nnid/core';

const { onnx } = onnxProto;

/** Names of the model's input and output (what `onnxBlackBox` looks for first). */
export const ONNX_INPUT_NAME = 'x';
export const ONNX_OUTPUT_NAME = 'y';
/** Opset 13: the first where ReduceSum takes its axes as an input; ORT 1.30 runs it on CPU in double. */
const OPSET = 13;
/** IR version 7 goes with opset 13. */
const IR_VERSION = 7;

type OnnxNode = onnxProto.onnx.INodeProto;

function onnxNode(opType: string, input: string[], output: string, attribute: onnxProto.onnx.IAttributeProto[] = []): OnnxNode {
  return { opType, input, output: [output], name: output, attribute };
}

/**
 * The ONNX nodes of each activation, from tensor `input` to tensor `output` (helper tensors named
 * after `output`). Exhaustive: a name added to ACTIVATIONS does not compile without its row here.
 */
export const ONNX_ACTIVATION_NODES: Readonly<Record<ActivationName, (input: string, output: string) => OnnxNode[]>> = {
  tanh: (x, y) => [onnxNode('Tanh', [x], y)],
  sigmoid: (x, y) => [onnxNode('Sigmoid', [x], y)],
  // relu(x) + log(1 + exp(-|x|)): no overflow, and built of operators onnxruntime runs in double
  // (its Softplus has a float kernel only)
  softplus: (x, y) => [
    onnxNode('Abs', [x], `${y}_abs`),
    onnxNode('Neg', [`${y}_abs`], `${y}_neg`),
    onnxNode('Exp', [`${y}_neg`], `${y}_exp`),
    onnxConstant(`${y}_one`, 1),
    onnxNode('Add', [`${y}_exp`, `${y}_one`], `${y}_1p`),
    onnxNode('Log', [`${y}_1p`], `${y}_log`),
    onnxNode('Relu', [x], `${y}_relu`),
    onnxNode('Add', [`${y}_relu`, `${y}_log`], y),
  ],
  // x (1 + erf(x / sqrt 2)) / 2, as PyTorch exports nn.GELU() (onnxruntime has no double Erf kernel)
  gelu: (x, y) => [
    onnxConstant(`${y}_rsqrt2`, Math.SQRT1_2),
    onnxNode('Mul', [x, `${y}_rsqrt2`], `${y}_scaled`),
    onnxNode('Erf', [`${y}_scaled`], `${y}_erf`),
    onnxConstant(`${y}_one`, 1),
    onnxNode('Add', [`${y}_erf`, `${y}_one`], `${y}_1p`),
    onnxNode('Mul', [x, `${y}_1p`], `${y}_x1p`),
    onnxConstant(`${y}_half`, 0.5),
    onnxNode('Mul', [`${y}_x1p`, `${y}_half`], y),
  ],
  // x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2, as PyTorch exports nn.GELU(approximate='tanh')
  gelu_tanh: (x, y) => [
    onnxNode('Mul', [x, x], `${y}_x2`),
    onnxNode('Mul', [`${y}_x2`, x], `${y}_x3`),
    onnxConstant(`${y}_c`, 0.044715),
    onnxNode('Mul', [`${y}_x3`, `${y}_c`], `${y}_cx3`),
    onnxNode('Add', [x, `${y}_cx3`], `${y}_inner`),
    onnxConstant(`${y}_k`, Math.sqrt(2 / Math.PI)),
    onnxNode('Mul', [`${y}_inner`, `${y}_k`], `${y}_u`),
    onnxNode('Tanh', [`${y}_u`], `${y}_tanh`),
    onnxConstant(`${y}_one`, 1),
    onnxNode('Add', [`${y}_tanh`, `${y}_one`], `${y}_1p`),
    onnxNode('Mul', [x, `${y}_1p`], `${y}_x1p`),
    onnxConstant(`${y}_half`, 0.5),
    onnxNode('Mul', [`${y}_x1p`, `${y}_half`], y),
  ],
  silu: (x, y) => [onnxNode('Sigmoid', [x], `${y}_sigmoid`), onnxNode('Mul', [x, `${y}_sigmoid`], y)],
  // onnxruntime has no double Atan kernel
  arctan: (x, y) => [onnxNode('Atan', [x], y)],
};

/** A scalar double constant tensor named `name`. */
function onnxConstant(name: string, value: number): OnnxNode {
  return onnxNode('Constant', [], name, [
    { name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: doubleTensor(name, [], Float64Array.of(value)) },
  ]);
}

/** Row-major transpose of a 2-d view: out is cols x rows. */
function transposed(view: Float64View): Float64Array {
  const [r, c] = view.shape;
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) out[j * r + i] = view.data[view.offset + i * view.strides[0] + j * view.strides[1]];
  }
  return out;
}

function rawBytes(a: Float64Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian; so is every platform Node runs on that we support.
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function doubleTensor(name: string, dims: number[], values: Float64Array): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.DOUBLE, rawData: rawBytes(values) };
}

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.DOUBLE,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * The ONNX model of `network` as bytes (a serialized ModelProto). Input `x`: double [n, inputDim]
 * (n symbolic); output `y`: double [n].
 *
 * @example
 * const bytes = onnxModelBytes(net);
 * const session = await InferenceSession.create(bytes);
 */
export function onnxModelBytes(network: Network): Uint8Array {
  const { inputDim: d, width1: m0, width2: m1 } = network;
  const node = onnxNode;
  const graph: onnxProto.onnx.IGraphProto = {
    name: 'nnid_network',
    docString: `f(x) = sum_l ${network.activation.layer2}(b_l . ${network.activation.layer1}(A^T x + theta) + tau_l), d=${d}, m0=${m0}, m1=${m1}`,
    initializer: [
      doubleTensor('A_T', [d, m0], transposed(network.A)),
      doubleTensor('theta', [m0], Float64Array.from(network.theta)),
      doubleTensor('B_T', [m0, m1], transposed(network.B)),
      doubleTensor('tau', [m1], Float64Array.from(network.tau)),
      { name: 'sum_axes', dims: [1], dataType: onnx.TensorProto.DataType.INT64, rawData: rawBytes(BigInt64Array.of(1n)) },
    ],
    node: [
      node('MatMul', [ONNX_INPUT_NAME, 'A_T'], 'z1'),
      node('Add', ['z1', 'theta'], 'u1'),
      ...ONNX_ACTIVATION_NODES[network.activation.layer1]('u1', 'h1'),
      node('MatMul', ['h1', 'B_T'], 'z2'),
      node('Add', ['z2', 'tau'], 'u2'),
      ...ONNX_ACTIVATION_NODES[network.activation.layer2]('u2', 'h2'),
      node('ReduceSum', ['h2', 'sum_axes'], ONNX_OUTPUT_NAME, [
        { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 },
      ]),
    ],
    input: [valueInfo(ONNX_INPUT_NAME, ['n', d])],
    output: [valueInfo(ONNX_OUTPUT_NAME, ['n'])],
  };
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'nnid',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

export interface OnnxExportOptions {
  /** Weights, constants, input and output in float32 (default false: float64 throughout). */
  float32?: boolean;
}

function floatTensor(name: string, dims: number[], values: Float64Array): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}

/** The activation's nodes with their Constant tensors in float32 (the table writes double constants). */
function toFloat32Constants(nodes: OnnxNode[]): OnnxNode[] {
  return nodes.map((n) => {
    if (n.opType !== 'Constant') return n;
    const attribute = (n.attribute ?? []).map((a) => {
      const t = a.t;
      if (a.name !== 'value' || !t || t.dataType !== onnx.TensorProto.DataType.DOUBLE || !t.rawData) return a;
      const values = new Float64Array(Uint8Array.from(t.rawData).buffer);
      return { ...a, t: floatTensor(t.name ?? '', (t.dims ?? []).map(Number), values) };
    });
    return { ...n, attribute };
  });
}

/**
 * The ONNX model of a general network (nnid.network/v2) as bytes: input `x` [n, inputDim], output
 * `y` [n, k], as PyTorch's exporter writes an nn.Sequential but with MatMul + Add:
 *
 *   x -> MatMul(W1^T) -> Add(b1) -> phi1 -> MatMul(W2^T) -> Add(b2) -> phi2 -> MatMul(C^T) -> Add(c) -> y
 *
 * in float64 throughout, or float32 with `float32: true` (weights rounded to float32).
 *
 * @example
 * const bytes = onnxGeneralModelBytes(net, { float32: true });
 */
export function onnxGeneralModelBytes(network: GeneralNetwork, options: OnnxExportOptions = {}): Uint8Array {
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = network;
  const float32 = options.float32 === true;
  const tensor = float32 ? floatTensor : doubleTensor;
  const elemType = float32 ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.DOUBLE;
  const info = (name: string, dims: (number | string)[]) => {
    const v = valueInfo(name, dims);
    v.type!.tensorType!.elemType = elemType;
    return v;
  };
  const act = (name: ActivationName, x: string, y: string) => {
    const nodes = ONNX_ACTIVATION_NODES[name](x, y);
    return float32 ? toFloat32Constants(nodes) : nodes;
  };
  const node = onnxNode;
  const graph: onnxProto.onnx.IGraphProto = {
    name: 'nnid_general_network',
    docString: `f(x) = C ${network.activation.layer2}(W2 ${network.activation.layer1}(W1 x + b1) + b2) + c, d=${d}, m0=${m0}, m1=${m1}, k=${k}`,
    initializer: [
      tensor('W1_T', [d, m0], transposed(network.W1)),
      tensor('b1', [m0], Float64Array.from(network.b1)),
      tensor('W2_T', [m0, m1], transposed(network.W2)),
      tensor('b2', [m1], Float64Array.from(network.b2)),
      tensor('C_T', [m1, k], transposed(network.C)),
      tensor('c', [k], Float64Array.from(network.c)),
    ],
    node: [
      node('MatMul', [ONNX_INPUT_NAME, 'W1_T'], 'z1'),
      node('Add', ['z1', 'b1'], 'u1'),
      ...act(network.activation.layer1, 'u1', 'h1'),
      node('MatMul', ['h1', 'W2_T'], 'z2'),
      node('Add', ['z2', 'b2'], 'u2'),
      ...act(network.activation.layer2, 'u2', 'h2'),
      node('MatMul', ['h2', 'C_T'], 'z3'),
      node('Add', ['z3', 'c'], ONNX_OUTPUT_NAME),
    ],
    input: [info(ONNX_INPUT_NAME, ['n', d])],
    output: [info(ONNX_OUTPUT_NAME, ['n', k])],
  };
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'nnid',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Writes `network` as an ONNX model file: a v1 network as onnxModelBytes (float64, output [n]);
 * a general network (or a v1 network with `float32`) as onnxGeneralModelBytes (output [n, k]).
 *
 * @example
 * await exportOnnx(readNetworkFile('net.json'), 'model.onnx');
 * await exportOnnx(readNetworkAny('net2.json').general, 'model32.onnx', { float32: true });
 * const box = await onnxBlackBox('model.onnx');
 */
export async function exportOnnx(network: Network | GeneralNetwork, path: string, options: OnnxExportOptions = {}): Promise<void> {
  const general = 'W1' in network ? network : options.float32 ? toGeneral(network) : null;
  const bytes = general ? onnxGeneralModelBytes(general, options) : onnxModelBytes(network as Network);
  try {
    await writeFile(path, bytes);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such directory' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new NnidError(ErrorCodes.fileWrite, `cannot write ${path}: ${reason}`, { cause: e });
  }
}
