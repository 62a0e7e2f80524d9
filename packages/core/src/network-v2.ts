/**
 * The general network and its file format `nnid.network/v2` (docs/DESIGN.md section 6):
 *
 *   f(x) = C phi2( W2 phi1( W1 x + b1 ) + b2 ) + c,    x in R^d, f(x) in R^k
 *
 * W1 is width1 x inputDim, W2 width2 x width1, C outputs x width2, each as `torch.nn.Linear`
 * stores its weight (out x in). The paper's form (nnid.network/v1) is the case C = 1^T, c = 0
 * (`toGeneral`). Unlike v1, the file does not require width1 <= inputDim or width2 <= width1:
 * it holds the networks users train; whoever identifies one checks the widths it can handle.
 *
 * @example
 * const net = parseNetworkV2(JSON.parse(text));   // throws NetworkFormatError naming layer, field and index
 * const json = serializeNetworkV2(net);            // back to the file's form
 * const any = readNetworkAny('net.json');          // v1 or v2, by its "format"
 */
import { ACTIVATIONS, checkActivation, type ActivationName } from './activation.ts';
import { describe, isObject, readMatrix, readVector } from './json-fields.ts';
import { NetworkFormatError } from './errors.ts';
import { NETWORK_FORMAT, parseNetwork, readJsonFile, type Network } from './network.ts';
import { matrix, toRows, type AllocOptions, type Float64View } from './view.ts';

export const NETWORK_FORMAT_V2 = 'nnid.network/v2';

/** A network of the general form in memory (see the module comment). */
export interface GeneralNetwork {
  readonly activation: { readonly layer1: ActivationName; readonly layer2: ActivationName };
  readonly inputDim: number;
  readonly width1: number;
  readonly width2: number;
  /** k, the number of outputs. */
  readonly outputs: number;
  /** width1 x inputDim. */
  readonly W1: Float64View;
  readonly b1: Float64Array;
  /** width2 x width1. */
  readonly W2: Float64View;
  readonly b2: Float64Array;
  /** outputs x width2. */
  readonly C: Float64View;
  readonly c: Float64Array;
}

/** The JSON form of a v2 file (plus any extra fields such as `report`). */
export interface GeneralNetworkJson {
  format: typeof NETWORK_FORMAT_V2;
  inputDim: number;
  layers: [
    { weight: number[][]; bias: number[]; activation: ActivationName },
    { weight: number[][]; bias: number[]; activation: ActivationName },
    { weight: number[][]; bias: number[] },
  ];
  [extra: string]: unknown;
}





const LAYERS_EXPECTED = 'expected 3: two hidden layers with an "activation", then the linear output layer without one';

/**
 * Validates a parsed JSON value as nnid.network/v2. Errors name the layer, field and index
 * (`layers[1].weight[3][2]` is "x", expected a finite number); a refused activation (relu, ...)
 * gets checkActivation's line; three hidden layers, a missing output layer and an activation on
 * the output layer get one line each.
 */
export function parseNetworkV2(json: unknown, options: AllocOptions = {}): GeneralNetwork {
  if (!isObject(json)) throw new NetworkFormatError('(root)', `is ${describe(json)}, expected an object`);
  if (json.format !== NETWORK_FORMAT_V2) {
    throw new NetworkFormatError('format', `is ${describe(json.format)}, expected "${NETWORK_FORMAT_V2}"`);
  }
  const inputDim = json.inputDim;
  if (typeof inputDim !== 'number' || !Number.isInteger(inputDim) || inputDim < 1) {
    throw new NetworkFormatError('inputDim', `is ${describe(inputDim)}, expected a positive integer`);
  }
  const layers = json.layers;
  if (!Array.isArray(layers)) throw new NetworkFormatError('layers', `is ${describe(layers)}, ${LAYERS_EXPECTED}`);
  layers.forEach((layer, i) => {
    if (!isObject(layer)) throw new NetworkFormatError(`layers[${i}]`, `is ${describe(layer)}, expected an object { "weight", "bias", "activation" }`);
  });
  const layer = layers as Record<string, unknown>[];
  if (layer.length > 3) {
    throw new NetworkFormatError('layers', `has ${layer.length} layers (${layer.length - 1} hidden): nnid takes two hidden layers and a linear output layer, ${LAYERS_EXPECTED}`);
  }
  if (layer.length < 3) {
    const last = layer[layer.length - 1];
    const missingOutput = last !== undefined && last.activation !== undefined;
    throw new NetworkFormatError(
      'layers',
      `has ${layer.length} layer${layer.length === 1 ? '' : 's'}${missingOutput ? ' and the last has an activation: the linear output layer is missing' : ''}, ${LAYERS_EXPECTED}`,
    );
  }
  const acts: ActivationName[] = [];
  for (const i of [0, 1]) {
    const a = layer[i].activation;
    if (a === undefined) {
      throw new NetworkFormatError(`layers[${i}].activation`, `is missing: a hidden layer needs one of ${ACTIVATIONS.join(', ')}`);
    }
    acts.push(checkActivation(`layers[${i}].activation`, a));
  }
  if (layer[2].activation !== undefined) {
    throw new NetworkFormatError(
      'layers[2].activation',
      `is ${describe(layer[2].activation)}: the last layer is the linear output layer (f = C h + c) and takes no activation`,
    );
  }
  const W1 = readMatrix('layers[0].weight', layer[0].weight, inputDim, 'inputDim', options);
  const m0 = W1.shape[0];
  const b1 = new Float64Array(m0);
  readVector('layers[0].bias', layer[0].bias, m0, 'm0 (rows of layers[0].weight)', b1, 0);
  const W2 = readMatrix('layers[1].weight', layer[1].weight, m0, 'm0 (rows of layers[0].weight)', options);
  const m1 = W2.shape[0];
  const b2 = new Float64Array(m1);
  readVector('layers[1].bias', layer[1].bias, m1, 'm1 (rows of layers[1].weight)', b2, 0);
  const C = readMatrix('layers[2].weight', layer[2].weight, m1, 'm1 (rows of layers[1].weight)', options);
  const k = C.shape[0];
  const c = new Float64Array(k);
  readVector('layers[2].bias', layer[2].bias, k, 'k (rows of layers[2].weight)', c, 0);
  return { activation: { layer1: acts[0], layer2: acts[1] }, inputDim, width1: m0, width2: m1, outputs: k, W1, b1, W2, b2, C, c };
}

/** The JSON form of a general network (numbers in full precision). */
export function serializeNetworkV2(net: GeneralNetwork): GeneralNetworkJson {
  return {
    format: NETWORK_FORMAT_V2,
    inputDim: net.inputDim,
    layers: [
      { weight: toRows(net.W1), bias: Array.from(net.b1), activation: net.activation.layer1 },
      { weight: toRows(net.W2), bias: Array.from(net.b2), activation: net.activation.layer2 },
      { weight: toRows(net.C), bias: Array.from(net.c) },
    ],
  };
}

/** A v1 network in the general form: W1 = A, b1 = theta, W2 = B, b2 = tau, C = 1^T, c = 0 (exact). */
export function toGeneral(net: Network, options: AllocOptions = {}): GeneralNetwork {
  const C = matrix(1, net.width2, options);
  C.data.fill(1);
  return {
    activation: { layer1: net.activation.layer1, layer2: net.activation.layer2 },
    inputDim: net.inputDim,
    width1: net.width1,
    width2: net.width2,
    outputs: 1,
    W1: net.A,
    b1: net.theta,
    W2: net.B,
    b2: net.tau,
    C,
    c: new Float64Array(1),
  };
}

/**
 * The general network as a v1 network, when it is one: one output, C = 1^T exactly, c = 0,
 * and v1's widths (m0 <= d, m1 <= m0); otherwise a NetworkFormatError saying which fails.
 */
export function toNetworkV1(net: GeneralNetwork, options: AllocOptions = {}): Network {
  const { C, c } = net;
  if (net.outputs !== 1) throw new NetworkFormatError('layers[2].weight', `has ${net.outputs} rows (k = ${net.outputs} outputs): ${NETWORK_FORMAT} holds one output`);
  for (let l = 0; l < net.width2; l++) {
    const v = C.data[C.offset + l * C.strides[1]];
    if (v !== 1) throw new NetworkFormatError(`layers[2].weight[0][${l}]`, `is ${v}: ${NETWORK_FORMAT} holds C = 1^T only (f = sum_l h_l)`);
  }
  if (c[0] !== 0) throw new NetworkFormatError('layers[2].bias[0]', `is ${c[0]}: ${NETWORK_FORMAT} holds c = 0 only`);
  return parseNetwork(
    {
      format: NETWORK_FORMAT,
      activation: { layer1: net.activation.layer1, layer2: net.activation.layer2 },
      inputDim: net.inputDim,
      A: toRows(net.W1),
      theta: Array.from(net.b1),
      B: toRows(net.W2),
      tau: Array.from(net.b2),
    },
    options,
  );
}

/** Every weight and bias: P = d m0 + m0 + m0 m1 + m1 + m1 k + k. */
export function generalParameterCount(net: Pick<GeneralNetwork, 'inputDim' | 'width1' | 'width2' | 'outputs'>): number {
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = net;
  return d * m0 + m0 + m0 * m1 + m1 + m1 * k + k;
}

/** A network file of either format, as read. */
export type AnyNetwork =
  | { readonly format: typeof NETWORK_FORMAT; readonly network: Network; readonly general: GeneralNetwork }
  | { readonly format: typeof NETWORK_FORMAT_V2; readonly network: GeneralNetwork; readonly general: GeneralNetwork };

/** Validates a parsed JSON value as v1 or v2, by its "format" (anything else: one line naming both). */
export function parseNetworkAny(json: unknown, options: AllocOptions = {}): AnyNetwork {
  const format = isObject(json) ? json.format : undefined;
  if (format === NETWORK_FORMAT) {
    const network = parseNetwork(json, options);
    return { format, network, general: toGeneral(network, options) };
  }
  if (format === NETWORK_FORMAT_V2) {
    const network = parseNetworkV2(json, options);
    return { format, network, general: network };
  }
  if (!isObject(json)) throw new NetworkFormatError('(root)', `is ${describe(json)}, expected an object`);
  throw new NetworkFormatError('format', `is ${describe(format)}, expected "${NETWORK_FORMAT}" or "${NETWORK_FORMAT_V2}"`);
}

/**
 * Reads a network file of either format (E_FILE_READ for an unreadable file or bad JSON); `general`
 * is the network in the general form whichever the file held.
 *
 * @example
 * const { format, general } = readNetworkAny('net.json');
 */
export function readNetworkAny(path: string, options: AllocOptions = {}): AnyNetwork {
  return parseNetworkAny(readJsonFile(path), options);
}
