/**
 * The parameter vector of a network for least squares, in the order
 * [A (width1 x inputDim, row-major), theta (width1), B (width2 x width1, row-major), tau (width2)],
 * and the kernel that evaluates residuals and the analytic Jacobian.
 */
import { logistic, matrix, matrixFrom, type ActivationName, type Network } from '@nnid/core';
import { matmul } from '@nnid/linalg';

export interface Layout {
  readonly inputDim: number;
  readonly width1: number;
  readonly width2: number;
  readonly layer1: ActivationName;
  readonly layer2: ActivationName;
  readonly offTheta: number;
  readonly offB: number;
  readonly offTau: number;
  /** P = d m0 + m0 + m0 m1 + m1 */
  readonly size: number;
}

export function layoutOf(net: Network): Layout {
  const d = net.inputDim;
  const m0 = net.width1;
  const m1 = net.width2;
  const offTheta = d * m0;
  const offB = offTheta + m0;
  const offTau = offB + m0 * m1;
  return {
    inputDim: d,
    width1: m0,
    width2: m1,
    layer1: net.activation.layer1,
    layer2: net.activation.layer2,
    offTheta,
    offB,
    offTau,
    size: offTau + m1,
  };
}

export function packParameters(net: Network, layout: Layout): Float64Array {
  const p = new Float64Array(layout.size);
  const { inputDim: d, width1: m0, width2: m1 } = layout;
  for (let i = 0; i < m0; i++) {
    for (let j = 0; j < d; j++) p[i * d + j] = net.A.data[net.A.offset + i * net.A.strides[0] + j * net.A.strides[1]];
    p[layout.offTheta + i] = net.theta[i];
  }
  for (let l = 0; l < m1; l++) {
    for (let i = 0; i < m0; i++) p[layout.offB + l * m0 + i] = net.B.data[net.B.offset + l * net.B.strides[0] + i * net.B.strides[1]];
    p[layout.offTau + l] = net.tau[l];
  }
  return p;
}

export function unpackParameters(p: Float64Array, layout: Layout): Network {
  const { inputDim: d, width1: m0, width2: m1 } = layout;
  const A = matrix(m0, d);
  A.data.set(p.subarray(0, d * m0));
  const B = matrix(m1, m0);
  B.data.set(p.subarray(layout.offB, layout.offB + m0 * m1));
  return {
    activation: { layer1: layout.layer1, layer2: layout.layer2 },
    inputDim: d,
    width1: m0,
    width2: m1,
    A,
    theta: p.slice(layout.offTheta, layout.offTheta + m0),
    B,
    tau: p.slice(layout.offTau, layout.offTau + m1),
  };
}


/**
 * Kernel: residuals r_n = f_p(x_n) - y_n for the rows of X (n x d dense row-major) and, when
 * `jacobian` is given (n x P dense row-major), the analytic Jacobian dr_n/dp. Returns sum r^2.
 * Formula: with u = A x + theta, g = phi1(u), z = B g + tau,
 *   df/dtau_l = phi2'(z_l), df/dB_li = phi2'(z_l) g_i, c_i = phi1'(u_i) sum_l phi2'(z_l) B_li,
 *   df/dtheta_i = c_i, df/dA_ij = c_i x_j.
 */
export function residualsAndJacobian(
  p: Float64Array,
  layout: Layout,
  X: Float64Array,
  y: Float64Array,
  residuals: Float64Array,
  jacobian?: Float64Array,
): number {
  const { inputDim: d, width1: m0, width2: m1, offTheta, offB, size: P } = layout;
  const tanh1 = layout.layer1 === 'tanh';
  const tanh2 = layout.layer2 === 'tanh';
  const g = new Float64Array(m0);
  const g1 = new Float64Array(m0);
  const h1 = new Float64Array(m1);
  const n = y.length;
  if (n === 0) return 0;
  // A x_n for all rows at once (BLAS), then row by row
  const AX = matmul(matrixFrom(X, n, d), matrixFrom(p, m0, d), { transB: true }).data;
  let sum = 0;
  for (let r = 0; r < n; r++) {
    const xo = r * d;
    const uo = r * m0;
    for (let i = 0; i < m0; i++) activate(AX[uo + i] + p[offTheta + i], tanh1, g, g1, i);
    const res = secondLayerRow(p, layout, tanh2, g, h1) - y[r];
    residuals[r] = res;
    sum += res * res;
    if (jacobian) {
      const jo = r * P;
      for (let i = 0; i < m0; i++) {
        const c = firstLayerCoefficient(p, layout, h1, g1, i);
        const ao = jo + i * d;
        for (let j = 0; j < d; j++) jacobian[ao + j] = c * X[xo + j];
        jacobian[jo + offTheta + i] = c;
      }
      secondLayerColumns(jacobian, jo + offB, m0, m1, g, h1);
    }
  }
  return sum;
}

/** phi1(u) into g[i] and phi1'(u) into g1[i]. */
function activate(u: number, tanh: boolean, g: Float64Array, g1: Float64Array, i: number): void {
  if (tanh) {
    const t = Math.tanh(u);
    g[i] = t;
    g1[i] = 1 - t * t;
  } else {
    const s = logistic(u);
    g[i] = s;
    g1[i] = s * (1 - s);
  }
}

/** One row's f = sum_l phi2(b_l . g + tau_l) from the first layer's outputs g; phi2'(z_l) into h1. */
function secondLayerRow(p: Float64Array, layout: Layout, tanh2: boolean, g: Float64Array, h1: Float64Array): number {
  const { width1: m0, width2: m1, offB, offTau } = layout;
  let f = 0;
  for (let l = 0; l < m1; l++) {
    let z = p[offTau + l];
    const bo = offB + l * m0;
    for (let i = 0; i < m0; i++) z += p[bo + i] * g[i];
    if (tanh2) {
      const t = Math.tanh(z);
      f += t;
      h1[l] = 1 - t * t;
    } else {
      const s = logistic(z);
      f += s;
      h1[l] = s * (1 - s);
    }
  }
  return f;
}

/** c_i = phi1'(u_i) sum_l phi2'(z_l) B_li: df/dtheta_i (and df/dA_ij = c_i x_j). */
function firstLayerCoefficient(p: Float64Array, layout: Layout, h1: Float64Array, g1: Float64Array, i: number): number {
  const { width1: m0, width2: m1, offB } = layout;
  let c = 0;
  for (let l = 0; l < m1; l++) c += h1[l] * p[offB + l * m0 + i];
  return c * g1[i];
}

/** One row's Jacobian columns of (B, tau) from `at`: df/dB_li = phi2'(z_l) g_i, then df/dtau_l = phi2'(z_l). */
function secondLayerColumns(jacobian: Float64Array, at: number, m0: number, m1: number, g: Float64Array, h1: Float64Array): void {
  for (let l = 0; l < m1; l++) {
    const bo = at + l * m0;
    const hl = h1[l];
    for (let i = 0; i < m0; i++) jacobian[bo + i] = hl * g[i];
    jacobian[at + m0 * m1 + l] = hl;
  }
}

/** The first layer's inputs without the shifts, A x_n (N x m0, row-major), of the network in p. */
export function firstLayerInputs(p: Float64Array, layout: Layout, X: Float64Array, N: number): Float64Array {
  const { inputDim: d, width1: m0 } = layout;
  const U = new Float64Array(N * m0);
  for (let r = 0; r < N; r++) {
    for (let i = 0; i < m0; i++) {
      let u = 0;
      for (let j = 0; j < d; j++) u += p[i * d + j] * X[r * d + j];
      U[r * m0 + i] = u;
    }
  }
  return U;
}

/**
 * Kernel with A fixed: residuals and the Jacobian with respect to (theta, B, tau)
 * (N x (m0 + m0 m1 + m1)), or to (B, tau) alone when `withTheta` is false (N x (m0 m1 + m1)),
 * from U = A x_n (see firstLayerInputs). The first layer's outputs are phi1(U + theta).
 */
export function upperResidualsAndJacobian(
  p: Float64Array,
  layout: Layout,
  U: Float64Array,
  y: Float64Array,
  residuals: Float64Array,
  jacobian: Float64Array | undefined,
  withTheta: boolean,
): number {
  const { width1: m0, width2: m1, offTheta } = layout;
  const tanh1 = layout.layer1 === 'tanh';
  const tanh2 = layout.layer2 === 'tanh';
  const t0 = withTheta ? m0 : 0; // Jacobian columns before B's
  const Pf = t0 + m0 * m1 + m1;
  const g = new Float64Array(m0);
  const g1 = new Float64Array(m0);
  const h1 = new Float64Array(m1);
  let sum = 0;
  for (let r = 0; r < y.length; r++) {
    const uo = r * m0;
    for (let i = 0; i < m0; i++) activate(U[uo + i] + p[offTheta + i], tanh1, g, g1, i);
    const res = secondLayerRow(p, layout, tanh2, g, h1) - y[r];
    residuals[r] = res;
    sum += res * res;
    if (jacobian) {
      const jo = r * Pf;
      if (withTheta) for (let i = 0; i < m0; i++) jacobian[jo + i] = firstLayerCoefficient(p, layout, h1, g1, i);
      secondLayerColumns(jacobian, jo + t0, m0, m1, g, h1);
    }
  }
  return sum;
}
