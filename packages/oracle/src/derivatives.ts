/**
 * Analytic gradient and Hessian of a network, for tests and error measurement only: the
 * identification never sees them (it has only queries).
 *
 * With z = A x + theta, s_l = b_l . phi1(z) + tau_l and c_i = sum_l phi2'(s_l) B_li:
 *   grad f(x) = sum_i c_i phi1'(z_i) a_i
 *   H(x)      = sum_i c_i phi1''(z_i) a_i a_i^T + sum_l phi2''(s_l) v_l v_l^T,  v_l = sum_i B_li phi1'(z_i) a_i
 */
import { activation, invalidArgument, matrix, type Float64View, type Network } from '@nnid/core';
import { toDenseNetwork, type DenseNetwork } from './evaluate.ts';

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

interface Parts {
  z: Float64Array;
  c: Float64Array;
  phi2pp: Float64Array;
}

function forward(net: DenseNetwork, x: Float64Array): Parts {
  const { inputDim: d, width1: m0, width2: m1, A, theta, B, tau } = net;
  const act1 = activation(net.layer1);
  const act2 = activation(net.layer2);
  const z = new Float64Array(m0);
  const h = new Float64Array(m0);
  for (let i = 0; i < m0; i++) {
    let s = theta[i];
    for (let j = 0; j < d; j++) s += A[i * d + j] * x[j];
    z[i] = s;
    h[i] = act1.value(s);
  }
  const c = new Float64Array(m0);
  const phi2pp = new Float64Array(m1);
  for (let l = 0; l < m1; l++) {
    let s = tau[l];
    for (let i = 0; i < m0; i++) s += B[l * m0 + i] * h[i];
    const g = act2.d1(s);
    phi2pp[l] = act2.d2(s);
    for (let i = 0; i < m0; i++) c[i] += g * B[l * m0 + i];
  }
  return { z, c, phi2pp };
}

/**
 * The exact gradient of f at x (a vector of inputDim numbers).
 *
 * @example
 * const g = networkGradient(net, [0.1, 0, ...]);   // Float64Array(d)
 */
export function networkGradient(net: Network, x: Float64View | ArrayLike<number>): Float64Array {
  const dn = toDenseNetwork(net);
  const d = dn.inputDim;
  const point = readPoint(x, d);
  const { z, c } = forward(dn, point);
  const act1 = activation(dn.layer1);
  const grad = new Float64Array(d);
  for (let i = 0; i < dn.width1; i++) {
    const w = c[i] * act1.d1(z[i]);
    for (let j = 0; j < d; j++) grad[j] += w * dn.A[i * d + j];
  }
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
  const point = readPoint(x, d);
  const { z, c, phi2pp } = forward(dn, point);
  const act1 = activation(dn.layer1);
  const H = matrix(d, d);
  const Hd = H.data;
  for (let i = 0; i < m0; i++) {
    const w = c[i] * act1.d2(z[i]);
    for (let p = 0; p < d; p++) {
      const wp = w * A[i * d + p];
      for (let q = 0; q < d; q++) Hd[p * d + q] += wp * A[i * d + q];
    }
  }
  const v = new Float64Array(d);
  for (let l = 0; l < m1; l++) {
    v.fill(0);
    for (let i = 0; i < m0; i++) {
      const w = B[l * m0 + i] * act1.d1(z[i]);
      for (let p = 0; p < d; p++) v[p] += w * A[i * d + p];
    }
    const beta = phi2pp[l];
    for (let p = 0; p < d; p++) {
      const bp = beta * v[p];
      for (let q = 0; q < d; q++) Hd[p * d + q] += bp * v[q];
    }
  }
  return H;
}
