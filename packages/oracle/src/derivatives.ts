/**
 * Analytic gradient and Hessian of a network, for tests and error measurement only: the
 * identification never sees them (it has only queries).
 *
 * Through core's shared forward pass. With z = A x + theta, s_l = b_l . phi1(z) + tau_l and
 * c_i = sum_l phi2'(s_l) B_li:
 *   grad f(x) = sum_i c_i phi1'(z_i) a_i
 *   H(x)      = sum_i c_i phi1''(z_i) a_i a_i^T + sum_l phi2''(s_l) v_l v_l^T,  v_l = sum_i B_li phi1'(z_i) a_i
 */
import {
  firstLayerProducts,
  forwardRow,
  forwardRowScratch,
  inputGradient,
  invalidArgument,
  matrix,
  outputSlopeSums,
  type Float64View,
  type ForwardRow,
  type Network,
  type UpperLayers,
} from '@nnid/core';
import { toDenseNetwork, upperLayersOf, type DenseNetwork } from './evaluate.ts';

function readPoint(x: Float64View | ArrayLike<number>, d: number): Float64Array {
  const out = new Float64Array(d);
  if ((x as Float64View).data instanceof Float64Array && Array.isArray((x as Float64View).shape)) {
    const v = x as Float64View;
    const n = v.shape.length === 1 ? v.shape[0] : v.shape[0] * v.shape[1];
    if (n !== d || (v.shape.length === 2 && v.shape[0] !== 1 && v.shape[1] !== 1)) {
      invalidArgument('x', `must be a vector of inputDim = ${d} numbers`, v.shape);
    }
    const stride = v.shape.length === 1 ? v.strides[0] : v.shape[0] === 1 ? v.strides[1] : v.strides[0];
    for (let j = 0; j < d; j++) out[j] = v.data[v.offset + j * stride];
    return out;
  }
  const a = x as ArrayLike<number>;
  if (typeof a.length !== 'number' || a.length !== d) invalidArgument('x', `must be a vector of inputDim = ${d} numbers`, a.length);
  for (let j = 0; j < d; j++) out[j] = a[j];
  return out;
}

/** One point's forward pass with slopes, and c_i = sum_l phi2'(z2_l) B_li. */
function forward(net: DenseNetwork, x: Float64Array): { layers: UpperLayers; row: ForwardRow; c: Float64Array } {
  const layers = upperLayersOf(net);
  const row = forwardRowScratch(net.width1, net.width2);
  const u = new Float64Array(net.width1);
  firstLayerProducts(net.A, net.inputDim, net.width1, x, 0, 1, 0, 1, u, 0);
  forwardRow(layers, u, 0, row, true);
  const c = new Float64Array(net.width1);
  outputSlopeSums(layers, row, c);
  return { layers, row, c };
}

/**
 * The exact gradient of f at x (a vector of inputDim numbers).
 *
 * @example
 * const g = networkGradient(net, [0.1, 0, ...]);   // Float64Array(d)
 */
export function networkGradient(net: Network, x: Float64View | ArrayLike<number>): Float64Array {
  const dn = toDenseNetwork(net);
  const { layers, row, c } = forward(dn, readPoint(x, dn.inputDim));
  const grad = new Float64Array(dn.inputDim);
  inputGradient(layers, row, c, dn.A, dn.inputDim, grad);
  return grad;
}

/**
 * The exact Hessian of f at x, as a dense d x d view.
 *
 * @example
 * const H = networkHessian(net, x);   // get2(H, i, j)
 */
export function networkHessian(net: Network, x: Float64View | ArrayLike<number>): Float64View {
  const dn = toDenseNetwork(net);
  const { inputDim: d, width1: m0, width2: m1, A, B } = dn;
  const { layers, row, c } = forward(dn, readPoint(x, d));
  const H = matrix(d, d);
  const Hd = H.data;
  for (let i = 0; i < m0; i++) {
    const w = c[i] * layers.phi1.d2(row.z1[i]);
    for (let p = 0; p < d; p++) {
      const wp = w * A[i * d + p];
      for (let q = 0; q < d; q++) Hd[p * d + q] += wp * A[i * d + q];
    }
  }
  const v = new Float64Array(d);
  for (let l = 0; l < m1; l++) {
    v.fill(0);
    for (let i = 0; i < m0; i++) {
      const w = B[l * m0 + i] * row.g1[i];
      for (let p = 0; p < d; p++) v[p] += w * A[i * d + p];
    }
    const beta = layers.phi2.d2(row.z2[l]);
    for (let p = 0; p < d; p++) {
      const bp = beta * v[p];
      for (let q = 0; q < d; q++) Hd[p * d + q] += bp * v[q];
    }
  }
  return H;
}
