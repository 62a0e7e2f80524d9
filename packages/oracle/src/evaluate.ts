/**
 * Dense, validated-once form of a network and the tight evaluation kernel over it.
 *
 * f(x) = sum_l phi2( b_l . phi1(A^T x + theta) + tau_l )
 */
import {
  activation,
  checkInteger,
  checkView,
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
  type ViewLike,
  matrixFrom,
} from '@nnid/core';
import { matmul } from '@nnid/linalg';

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
/**
 * The one check of a batch of points at the oracle's entries: a Float64View or an ndarray (core's
 * checkView, no copy), n x inputDim or one point of inputDim numbers. Returns the batch as a view
 * with its row and column strides (a single point is one row).
 */
export function checkBatch(inputs: ViewLike, inputDim: number, name = 'inputs'): { view: Float64View; rows: number; rowStride: number; colStride: number } {
  const shape = (inputs as { shape?: unknown } | null)?.shape;
  const ndim = Array.isArray(shape) && shape.length === 1 ? 1 : 2;
  if (ndim === 1) {
    const view = checkView(name, inputs, { ndim: 1, rows: inputDim, rowsName: 'inputDim', dims: 'inputDim numbers' });
    return { view, rows: 1, rowStride: 0, colStride: view.strides[0] };
  }
  const view = checkView(name, inputs, { cols: inputDim, colsName: 'inputDim', dims: 'n x inputDim' });
  checkInteger(`${name}.shape[0]`, view.shape[0], 0);
  return { view, rows: view.shape[0], rowStride: view.strides[0], colStride: view.strides[1] };
}

/** Rows per block of first-layer products (a multiple of 4: firstLayerProducts takes rows four at a time). */
const BLOCK_ROWS = 64;

/**
 * From this many first-layer weights (inputDim x width1) on, the first layer's products go through
 * linalg's matrix product (BLAS on the native tier): at (784, 128) the JavaScript loops take ~0.4
 * GFLOP/s, BLAS 20-40x more. Below, the loops are as fast and keep the answers of small networks
 * (and identify's recorded bits) unchanged.
 */
export const GEMM_FROM = 4096;

/**
 * Rows per product of the BLAS path. Every product has exactly this shape, the last block padded
 * with zero rows: OpenBLAS rounds a row's products differently in products of another shape (its
 * small-matrix kernels), but never by the row's place in a product of one shape, so a point gets
 * the same answer in any batch, chunk or thread.
 */
export const GEMM_BLOCK_ROWS = 64;

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
  if (d * m0 >= GEMM_FROM) {
    const block = new Float64Array(GEMM_BLOCK_ROWS * d);
    const blockView = matrixFrom(block, GEMM_BLOCK_ROWS, d);
    const weights = matrixFrom(A, m0, d);
    for (let r0 = 0; r0 < rows; r0 += GEMM_BLOCK_ROWS) {
      const n = Math.min(GEMM_BLOCK_ROWS, rows - r0);
      if (n < GEMM_BLOCK_ROWS) block.fill(0);
      for (let r = 0; r < n; r++) {
        const base = offset + (r0 + r) * rowStride;
        if (colStride === 1) block.set(data.subarray(base, base + d), r * d);
        else for (let j = 0; j < d; j++) block[r * d + j] = data[base + j * colStride];
      }
      const U = matmul(blockView, weights, { transB: true }).data;
      for (let r = 0; r < n; r++) out[r0 + r] = forwardRow(layers, U, r * m0, row, false);
    }
    return;
  }
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
export function evaluateNetwork(net: Network, points: ViewLike): Float64Array {
  const { view: inputs, rows, rowStride, colStride } = checkBatch(points, net.inputDim);
  const out = new Float64Array(rows);
  evaluateDense(toDenseNetwork(net), inputs.data, inputs.offset, rows, rowStride, colStride, out);
  return out;
}


