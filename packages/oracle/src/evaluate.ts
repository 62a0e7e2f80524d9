/**
 * Dense, validated-once form of a network and the tight evaluation kernel over it.
 *
 * f(x) = sum_l phi2( b_l . phi1(A^T x + theta) + tau_l )
 */
import {
  activation,
  checkInteger,
  firstLayerProducts,
  forwardRow,
  forwardRowScratch,
  invalidArgument,
  NnidError,
  ErrorCodes,
  type ActivationName,
  type Float64View,
  type Network,
  type UpperLayers,
} from '@nnid/core';

/** A network with its weights copied into dense row-major Float64Arrays (internal). */
export interface DenseNetwork {
  readonly layer1: ActivationName;
  readonly layer2: ActivationName;
  readonly inputDim: number;
  readonly width1: number;
  readonly width2: number;
  /** width1 x inputDim, row-major (row i = a_i). */
  readonly A: Float64Array;
  readonly theta: Float64Array;
  /** width2 x width1, row-major (row l = b_l). */
  readonly B: Float64Array;
  readonly tau: Float64Array;
}

function denseCopy(view: Float64View): Float64Array {
  const [r, c] = view.shape;
  const out = new Float64Array(r * c);
  const { data, offset, strides } = view;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) out[i * c + j] = data[offset + i * strides[0] + j * strides[1]];
  }
  return out;
}

export function toDenseNetwork(net: Network): DenseNetwork {
  return {
    layer1: net.activation.layer1,
    layer2: net.activation.layer2,
    inputDim: net.inputDim,
    width1: net.width1,
    width2: net.width2,
    A: denseCopy(net.A),
    theta: Float64Array.from(net.theta),
    B: denseCopy(net.B),
    tau: Float64Array.from(net.tau),
  };
}


/** The layers above A of a dense network for the shared forward pass (tau added after b_l . g, as the black box always did). */
export function upperLayersOf(net: DenseNetwork): UpperLayers {
  return {
    phi1: activation(net.layer1),
    phi2: activation(net.layer2),
    width1: net.width1,
    width2: net.width2,
    theta: net.theta,
    thetaAt: 0,
    B: net.B,
    bAt: 0,
    tau: net.tau,
    tauAt: 0,
    tauFirst: false,
  };
}

/** The batch as rows: checks a 2-d view with `inputDim` columns (a 1-d view is one row). */
export function checkBatch(inputs: Float64View, inputDim: number, name = 'inputs'): { rows: number; rowStride: number; colStride: number } {
  if (!inputs || !(inputs.data instanceof Float64Array) || !Array.isArray(inputs.shape)) {
    invalidArgument(name, 'must be a Float64View (n x inputDim)', inputs);
  }
  if (inputs.shape.length === 1) {
    if (inputs.shape[0] !== inputDim) {
      throw new NnidError(ErrorCodes.dimensionMismatch, `\`${name}\` has ${inputs.shape[0]} entries, expected inputDim = ${inputDim}`);
    }
    return { rows: 1, rowStride: 0, colStride: inputs.strides[0] };
  }
  if (inputs.shape.length !== 2) invalidArgument(name, 'must be a 2-d view (n x inputDim)', inputs.shape);
  if (inputs.shape[1] !== inputDim) {
    throw new NnidError(ErrorCodes.dimensionMismatch, `\`${name}\` has ${inputs.shape[1]} columns, expected inputDim = ${inputDim}`);
  }
  checkInteger(`${name}.shape[0]`, inputs.shape[0], 0);
  return { rows: inputs.shape[0], rowStride: inputs.strides[0], colStride: inputs.strides[1] };
}

/** Rows per block of first-layer products (a multiple of 4: firstLayerProducts takes rows four at a time). */
const BLOCK_ROWS = 64;

/**
 * Kernel: out[r] = f(row r of the batch) for rows [0, rows), through core's shared forward pass.
 * Trusts its arguments. `hidden` is scratch of length width1.
 */
export function evaluateDense(
  net: DenseNetwork,
  data: Float64Array,
  offset: number,
  rows: number,
  rowStride: number,
  colStride: number,
  out: Float64Array,
  hidden: Float64Array = new Float64Array(net.width1),
): void {
  const { inputDim: d, width1: m0, width2: m1, A } = net;
  const layers = upperLayersOf(net);
  const row = { ...forwardRowScratch(m0, m1), g: hidden };
  const U = new Float64Array(Math.min(rows, BLOCK_ROWS) * m0);
  for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const n = Math.min(BLOCK_ROWS, rows - r0);
    firstLayerProducts(A, d, m0, data, offset + r0 * rowStride, n, rowStride, colStride, U, 0);
    for (let r = 0; r < n; r++) out[r0 + r] = forwardRow(layers, U, r * m0, row, false);
  }
}

/**
 * f at each row of `inputs` (n x inputDim, any strides; a 1-d view is one point), synchronously.
 * For tests and scoring; identification goes through an Oracle.
 *
 * @example
 * const values = evaluateNetwork(net, points);   // Float64Array of n values
 */
export function evaluateNetwork(net: Network, inputs: Float64View): Float64Array {
  const { rows, rowStride, colStride } = checkBatch(inputs, net.inputDim);
  const out = new Float64Array(rows);
  evaluateDense(toDenseNetwork(net), inputs.data, inputs.offset, rows, rowStride, colStride, out);
  return out;
}


