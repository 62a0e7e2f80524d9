/**
 * The general network (core's GeneralNetwork, nnid.network/v2) evaluated with k outputs:
 *
 *   f(x) = C phi2( W2 phi1( W1 x + b1 ) + b2 ) + c
 *
 * through core's shared forward pass (firstLayerProducts, forwardRow) for the hidden layers, then
 * the output layer. `evaluateGeneral` answers n x k; `generalBlackBox` is the BlackBox of a
 * one-output network (the BlackBox contract answers one number per row).
 */
import { createHash } from 'node:crypto';
import {
  checkInteger,
  firstLayerProducts,
  forwardRow,
  forwardRowScratch,
  invalidArgument,
  matrix,
  rng,
  activation,
  type ActivationName,
  type BlackBox,
  type Float64View,
  type ViewLike,
  type GeneralNetwork,
  type UpperLayers,
} from '@nnid/core';
import { checkBatch } from './evaluate.ts';

function dense(view: Float64View): Float64Array {
  const [r, c] = view.shape;
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) out[i * c + j] = view.data[view.offset + i * view.strides[0] + j * view.strides[1]];
  }
  return out;
}

/** Rows per block of first-layer products (a multiple of 4, as evaluate.ts). */
const BLOCK_ROWS = 64;

/**
 * f at each row of `inputs` (n x inputDim, any strides; a 1-d view is one point) as an n x k
 * row-major view: out[r][j] = c_j + sum_l C_jl h_l (l ascending), with h = phi2(W2 phi1(W1 x + b1) + b2).
 *
 * @example
 * const logits = evaluateGeneral(net, points);   // points.shape[0] x net.outputs
 */
export function evaluateGeneral(network: GeneralNetwork, points: ViewLike): Float64View {
  const { view: inputs, rows, rowStride, colStride } = checkBatch(points, network.inputDim);
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = network;
  const W1 = dense(network.W1);
  const C = dense(network.C);
  const c = network.c;
  const layers: UpperLayers = {
    phi1: activation(network.activation.layer1),
    phi2: activation(network.activation.layer2),
    width1: m0,
    width2: m1,
    theta: Float64Array.from(network.b1),
    thetaAt: 0,
    B: dense(network.W2),
    bAt: 0,
    tau: Float64Array.from(network.b2),
    tauAt: 0,
    tauFirst: false,
  };
  const row = forwardRowScratch(m0, m1);
  const out = matrix(rows, k);
  const U = new Float64Array(Math.min(Math.max(rows, 1), BLOCK_ROWS) * m0);
  for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const n = Math.min(BLOCK_ROWS, rows - r0);
    firstLayerProducts(W1, d, m0, inputs.data, inputs.offset + r0 * rowStride, n, rowStride, colStride, U, 0);
    for (let r = 0; r < n; r++) {
      forwardRow(layers, U, r * m0, row, false);
      const h = row.h;
      const o = (r0 + r) * k;
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let l = 0; l < m1; l++) s += C[j * m1 + l] * h[l];
        out.data[o + j] = s + c[j];
      }
    }
  }
  return out;
}

/** Stable identity of a general network: its shapes, activations and the bits of every parameter. */
export function generalIdentity(network: GeneralNetwork): string {
  const hash = createHash('sha256');
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = network;
  hash.update(JSON.stringify({ format: 'nnid.network/v2', activation: [network.activation.layer1, network.activation.layer2], dims: [d, m0, m1, k] }));
  for (const a of [dense(network.W1), network.b1, dense(network.W2), network.b2, dense(network.C), network.c]) {
    const copy = Float64Array.from(a);
    hash.update(new Uint8Array(copy.buffer));
  }
  return `nnid.network2:d${d}-m${m0}-m${m1}-k${k}:${createHash('sha256').update(hash.digest()).digest('hex').slice(0, 32)}`;
}

/**
 * A one-output general network as a BlackBox (answers evaluateGeneral's single column). A network
 * with k > 1 outputs is refused: the BlackBox contract answers one number per row; use
 * evaluateGeneral for all k.
 *
 * @example
 * const oracle = createOracle(generalBlackBox(net), { maxQueries: 1e5 });
 */
export function generalBlackBox(network: GeneralNetwork): BlackBox & { evaluateSync(inputs: Float64View): Float64Array } {
  if (network.outputs !== 1) {
    invalidArgument('network.outputs', 'must be 1 for a BlackBox (one answer per row; evaluateGeneral answers all k)', network.outputs);
  }
  const identity = generalIdentity(network);
  const evaluateSync = (inputs: Float64View) => Float64Array.from(evaluateGeneral(network, inputs).data);
  return { inputDim: network.inputDim, identity, evaluateSync, evaluate: async (inputs) => evaluateSync(inputs), close: async () => {} };
}

export interface RandomGeneralNetworkOptions {
  inputDim: number;
  width1: number;
  width2: number;
  /** k (default 1). */
  outputs?: number;
  activation?: ActivationName | { layer1: ActivationName; layer2: ActivationName };
  /** Each row of W1 and W2 is a random unit vector times a scale drawn uniformly from this range (default [0.3, 3]). */
  scales?: [number, number];
  /**
   * The directions of W1's rows: 'random' (default: independent, uniform on the sphere) or
   * 'orthonormal' (Gram-Schmidt on Gaussian rows, as nnid's paper-form generator; needs
   * width1 <= inputDim). Either way each row is then scaled.
   */
  directions?: 'random' | 'orthonormal';
  seed?: number;
}

/**
 * A random general network: rows of W1 and W2 of random directions and scales, biases N(0, 0.25),
 * C and c N(0, 1). For tests and examples (a reproducible function of the options).
 */
export function randomGeneralNetwork(options: RandomGeneralNetworkOptions): GeneralNetwork {
  const d = checkInteger('inputDim', options.inputDim);
  const m0 = checkInteger('width1', options.width1);
  const m1 = checkInteger('width2', options.width2);
  const k = checkInteger('outputs', options.outputs ?? 1);
  const [lo, hi] = options.scales ?? [0.3, 3];
  const act = options.activation ?? 'tanh';
  const { layer1, layer2 } = typeof act === 'string' ? { layer1: act, layer2: act } : act;
  const stream = rng(checkInteger('seed', options.seed ?? 0, 0));
  // Gram-Schmidt on Gaussian rows (twice, for orthogonality to rounding), then each row scaled
  const orthonormalRows = (r: number, c: number) => {
    const W = matrix(r, c);
    for (let i = 0; i < r; i++) {
      const row = W.data.subarray(i * c, (i + 1) * c);
      for (let j = 0; j < c; j++) row[j] = stream.normal();
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < i; k++) {
          let dot = 0;
          for (let j = 0; j < c; j++) dot += row[j] * W.data[k * c + j];
          for (let j = 0; j < c; j++) row[j] -= dot * W.data[k * c + j];
        }
      }
      let sq = 0;
      for (let j = 0; j < c; j++) sq += row[j] * row[j];
      const norm = Math.sqrt(sq);
      for (let j = 0; j < c; j++) row[j] /= norm;
    }
    for (let i = 0; i < r; i++) {
      const s = lo + (hi - lo) * stream.uniform();
      for (let j = 0; j < c; j++) W.data[i * c + j] *= s;
    }
    return W;
  };
  const rows = (r: number, c: number) => {
    const W = matrix(r, c);
    for (let i = 0; i < r; i++) {
      const row = W.data.subarray(i * c, (i + 1) * c);
      stream.fillSphere(row);
      const s = lo + (hi - lo) * stream.uniform();
      for (let j = 0; j < c; j++) row[j] *= s;
    }
    return W;
  };
  const normals = (n: number, std: number) => {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = std * stream.normal();
    return v;
  };
  const directions = options.directions ?? 'random';
  if (directions !== 'random' && directions !== 'orthonormal') invalidArgument('directions', "must be one of 'random', 'orthonormal'", directions);
  if (directions === 'orthonormal' && m0 > d) invalidArgument('width1', `must be <= inputDim (${d}) with directions 'orthonormal'`, m0);
  const W1 = directions === 'random' ? rows(m0, d) : orthonormalRows(m0, d);
  const b1 = normals(m0, 0.5);
  const W2 = rows(m1, m0);
  const b2 = normals(m1, 0.5);
  const C = matrix(k, m1);
  C.data.set(normals(k * m1, 1));
  return { activation: { layer1, layer2 }, inputDim: d, width1: m0, width2: m1, outputs: k, W1, b1, W2, b2, C, c: normals(k, 1) };
}
