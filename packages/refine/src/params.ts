/**
 * The parameter vector of a network for least squares, in the order
 * [A (width1 x inputDim, row-major), theta (width1), B (width2 x width1, row-major), tau (width2)],
 * and the kernel that evaluates residuals and the analytic Jacobian.
 */
import {
  activation,
  firstLayerProducts,
  forwardRow,
  forwardRowScratch,
  matrix,
  matrixFrom,
  outputSlopeSums,
  parameterJacobianRow,
  type ActivationName,
  type Network,
  type UpperLayers,
} from '@nnid/core';
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
 * The layers above A (W1) of the network in p for core's shared forward pass (z2_l summed from
 * tau_l): the paper-form layout and the general one (general.ts) share these offsets.
 */
export function fitLayers(p: Float64Array, layout: Pick<Layout, 'layer1' | 'layer2' | 'width1' | 'width2' | 'offTheta' | 'offB' | 'offTau'>): UpperLayers {
  return {
    phi1: activation(layout.layer1),
    phi2: activation(layout.layer2),
    width1: layout.width1,
    width2: layout.width2,
    theta: p,
    thetaAt: layout.offTheta,
    B: p,
    bAt: layout.offB,
    tau: p,
    tauAt: layout.offTau,
    tauFirst: true,
  };
}

/**
 * Kernel: residuals r_n = f_p(x_n) - y_n for the rows of X (n x d dense row-major) and, when
 * `jacobian` is given (n x P dense row-major), the analytic Jacobian dr_n/dp. Returns sum r^2.
 * Through core's shared forward pass (forwardRow, parameterJacobianRow), A x_n by BLAS.
 */
export function residualsAndJacobian(
  p: Float64Array,
  layout: Layout,
  X: Float64Array,
  y: Float64Array,
  residuals: Float64Array,
  jacobian?: Float64Array,
): number {
  const { inputDim: d, width1: m0, width2: m1, size: P } = layout;
  const n = y.length;
  if (n === 0) return 0;
  const net = fitLayers(p, layout);
  const row = forwardRowScratch(m0, m1);
  const c = new Float64Array(m0);
  // A x_n for all rows at once (BLAS), then row by row
  const AX = matmul(matrixFrom(X, n, d), matrixFrom(p, m0, d), { transB: true }).data;
  let sum = 0;
  for (let r = 0; r < n; r++) {
    const res = forwardRow(net, AX, r * m0, row, jacobian !== undefined) - y[r];
    residuals[r] = res;
    sum += res * res;
    if (jacobian) {
      outputSlopeSums(net, row, c);
      parameterJacobianRow(net, row, c, X, r * d, d, jacobian, r * P);
    }
  }
  return sum;
}

/** The first layer's inputs without the shifts, A x_n (N x m0, row-major), of the network in p. */
export function firstLayerInputs(p: Float64Array, layout: Layout, X: Float64Array, N: number): Float64Array {
  const { inputDim: d, width1: m0 } = layout;
  const U = new Float64Array(N * m0);
  firstLayerProducts(p, d, m0, X, 0, N, d, 1, U, 0);
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
  const { width1: m0, width2: m1 } = layout;
  const Pf = (withTheta ? m0 : 0) + m0 * m1 + m1;
  const net = fitLayers(p, layout);
  const row = forwardRowScratch(m0, m1);
  const c = withTheta ? new Float64Array(m0) : null;
  let sum = 0;
  for (let r = 0; r < y.length; r++) {
    const res = forwardRow(net, U, r * m0, row, jacobian !== undefined) - y[r];
    residuals[r] = res;
    sum += res * res;
    if (jacobian) {
      if (c) outputSlopeSums(net, row, c);
      parameterJacobianRow(net, row, c, null, 0, 0, jacobian, r * Pf);
    }
  }
  return sum;
}
