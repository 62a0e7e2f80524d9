/**
 * The student's least-squares problem as normal equations, in the general model's parameters
 * (refine's general layout: [W1, b1, W2, b2, C, c]),
 *
 *   f(x) = C phi2( W2 phi1( W1 x + b1 ) + b2 ) + c,   k outputs as k residuals per row.
 *
 * The paper's form is the case C = 1^T, c = 0 held fixed: the free vector is then the first
 * `layout.offC` parameters (W1 = A, b1 = theta, W2 = B, b2 = tau), and its Jacobian columns are the
 * paper-form fit's. Kernels are core's forward pass (forwardRow, outputSlopeSums,
 * parameterJacobianRow), as refine's; J^T J and J^T r by BLAS (@nnid/linalg), one thread.
 */
import {
  activation,
  forwardRow,
  forwardRowScratch,
  matrix,
  matrixFrom,
  outputSlopeSums,
  parameterJacobianRow,
  type ForwardRow,
} from '@nnid/core';
import { gram, matmul } from '@nnid/linalg';
import type { NormalEquations } from '@nnid/optimize';
import { fitLayers, type GeneralLayout } from '@nnid/refine';

/**
 * Kernel: residuals r[n k + o] = f_o(x_n) - Y[n k + o] of the network in p (all of it: the fixed
 * output layer too) and, when `jacobian` is given ((N k) x free, row-major), dr/dp for the first
 * `free` parameters (layout.offC: the hidden layers; layout.size: all). Returns sum r^2.
 */
export function studentResiduals(
  p: Float64Array,
  layout: GeneralLayout,
  X: Float64Array,
  Y: Float64Array,
  N: number,
  free: number,
  residuals: Float64Array,
  jacobian?: Float64Array,
): number {
  const { inputDim: d, width1: m0, width2: m1, outputs: k, offC, offBias } = layout;
  const net = fitLayers(p, layout);
  const row = forwardRowScratch(m0, m1);
  const weighted: ForwardRow = { ...row, h1: new Float64Array(m1) };
  const cw = new Float64Array(m0);
  // W1 x_n for every row at once (BLAS)
  const U = matmul(matrixFrom(X, N, d), matrixFrom(p, m0, d), { transB: true }).data;
  const all = free === layout.size;
  let sum = 0;
  for (let n = 0; n < N; n++) {
    forwardRow(net, U, n * m0, row, jacobian !== undefined);
    for (let o = 0; o < k; o++) {
      const co = offC + o * m1;
      let s = 0;
      for (let l = 0; l < m1; l++) s += p[co + l] * row.h[l];
      const q = n * k + o;
      const res = s + p[offBias + o] - Y[q];
      residuals[q] = res;
      sum += res * res;
      if (jacobian) {
        // df_o/dz2_l = C_ol phi2'(z2_l): the paper-form kernels with phi2' so weighted give df_o/dp
        for (let l = 0; l < m1; l++) weighted.h1[l] = p[co + l] * row.h1[l];
        outputSlopeSums(net, weighted, cw);
        const at = q * free;
        parameterJacobianRow(net, weighted, cw, X, n * d, d, jacobian, at);
        if (all) {
          const cAt = at + offC;
          jacobian.fill(0, cAt, cAt + k * m1 + k);
          for (let l = 0; l < m1; l++) jacobian[cAt + o * m1 + l] = row.h[l];
          jacobian[cAt + k * m1 + o] = 1;
        }
      }
    }
  }
  return sum;
}

/**
 * The normal equations of the student's fit: `full` holds every parameter (the fixed ones
 * included); the free vector is its first `free` entries. With `gradients`, the derivative rows
 * (gradientResiduals) follow the value rows.
 */
export function studentEquations(full: Float64Array, layout: GeneralLayout, X: Float64Array, Y: Float64Array, N: number, free: number, gradients?: GradientData): NormalEquations {
  const valueRows = N * layout.outputs;
  const rows = valueRows + (gradients ? gradients.points * layout.outputs * layout.inputDim : 0);
  const r = new Float64Array(rows);
  const J = matrix(rows, free);
  const p = Float64Array.from(full);
  const at = (x: Float64Array) => {
    p.set(x.subarray(0, free));
    return p;
  };
  // the value rows first, then the derivative rows (views on the same residual vector and Jacobian)
  const sumOf = (q: Float64Array, jacobian?: Float64Array) =>
    studentResiduals(q, layout, X, Y, N, free, r, jacobian) +
    (gradients ? gradientResiduals(q, layout, X, gradients, free, r.subarray(valueRows), jacobian?.subarray(valueRows * free)) : 0);
  return {
    async evaluate(x) {
      const sumSq = sumOf(at(x), J.data);
      return { sumSq, JtJ: gram(J), grad: matmul(J, matrixFrom(r, rows, 1), { transA: true }).data };
    },
    async sumOf(x) {
      return sumOf(at(x));
    },
    gradientAtLast() {
      return matmul(J, matrixFrom(r, rows, 1), { transA: true }).data;
    },
  };
}

/**
 * Gradients measured at some of the data points (e.g. forward differences paid for range(A)):
 * `values` holds n x k x din numbers, the gradient of output o at point j (row j of the fit's
 * inputs, j < n) in the fit's input coordinates, row-major [j][o][q]. Fitted as derivative
 * equations w (grad_x f_o(x_j) - values[j, o]) beside the value rows.
 */
export interface GradientData {
  points: number;
  values: Float64Array;
  /** The derivative rows' weight w against the value rows' 1. */
  weight: number;
}

/**
 * Kernel: the derivative rows r[(j k + o) din + q] = w (df_o/dx_q (x_j) - G[j, o, q]) of the
 * network in p for the first `points` rows of X (din = layout.inputDim columns) and, when
 * `jacobian` is given (rows x free, row-major), their derivatives by the first `free` parameters
 * (analytic: the input gradient is W1^T (phi1' . W2^T (phi2' . C_o)), differentiated once more).
 * Returns sum r^2.
 */
export function gradientResiduals(
  p: Float64Array,
  layout: GeneralLayout,
  X: Float64Array,
  data: GradientData,
  free: number,
  residuals: Float64Array,
  jacobian?: Float64Array,
): number {
  const { inputDim: din, width1: m0, width2: m1, outputs: k, offTheta, offB, offTau, offC } = layout;
  const { points: n, values: G, weight: w } = data;
  const phi1 = activation(layout.layer1);
  const phi2 = activation(layout.layer2);
  const z1 = new Float64Array(m0);
  const a1 = new Float64Array(m0);
  const p1 = new Float64Array(m0);
  const q1 = new Float64Array(m0);
  const z2 = new Float64Array(m1);
  const p2 = new Float64Array(m1);
  const q2 = new Float64Array(m1);
  const s = new Float64Array(m1);
  const t = new Float64Array(m0);
  const u = new Float64Array(m0);
  const L = new Float64Array(din * m1); // L[q, l] = sum_i W1[i, q] p1_i W2[l, i]: d z2_l / d x_q
  const K = new Float64Array(din * m0); // d grad_q / d z1_i
  const e = new Float64Array(m1); // q2_l c_l
  const all = free === layout.size;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const x = j * din;
    for (let i = 0; i < m0; i++) {
      let v = p[offTheta + i];
      for (let q = 0; q < din; q++) v += p[i * din + q] * X[x + q];
      z1[i] = v;
      a1[i] = phi1.value(v);
      p1[i] = phi1.d1(v);
      q1[i] = phi1.d2(v);
    }
    for (let l = 0; l < m1; l++) {
      let v = p[offTau + l];
      for (let i = 0; i < m0; i++) v += p[offB + l * m0 + i] * a1[i];
      z2[l] = v;
      p2[l] = phi2.d1(v);
      q2[l] = phi2.d2(v);
    }
    if (jacobian) {
      L.fill(0);
      for (let i = 0; i < m0; i++) {
        for (let l = 0; l < m1; l++) {
          const c = p1[i] * p[offB + l * m0 + i];
          for (let q = 0; q < din; q++) L[q * m1 + l] += p[i * din + q] * c;
        }
      }
    }
    for (let o = 0; o < k; o++) {
      const co = offC + o * m1;
      for (let l = 0; l < m1; l++) s[l] = p2[l] * p[co + l];
      for (let i = 0; i < m0; i++) {
        let v = 0;
        for (let l = 0; l < m1; l++) v += p[offB + l * m0 + i] * s[l];
        t[i] = v;
        u[i] = p1[i] * v;
      }
      const row0 = (j * k + o) * din;
      for (let q = 0; q < din; q++) {
        let v = 0;
        for (let i = 0; i < m0; i++) v += p[i * din + q] * u[i];
        const r = w * (v - G[row0 + q]);
        residuals[row0 + q] = r;
        sum += r * r;
      }
      if (!jacobian) continue;
      for (let l = 0; l < m1; l++) e[l] = q2[l] * p[co + l];
      for (let q = 0; q < din; q++) {
        for (let i = 0; i < m0; i++) {
          let v = 0;
          for (let l = 0; l < m1; l++) v += L[q * m1 + l] * e[l] * p[offB + l * m0 + i];
          K[q * m0 + i] = p[i * din + q] * q1[i] * t[i] + v * p1[i];
        }
      }
      for (let q = 0; q < din; q++) {
        const at = (row0 + q) * free;
        jacobian.fill(0, at, at + free);
        for (let i = 0; i < m0; i++) {
          const kqi = w * K[q * m0 + i];
          const wi = at + i * din;
          for (let c = 0; c < din; c++) jacobian[wi + c] = kqi * X[x + c];
          jacobian[wi + q] += w * u[i];
          jacobian[at + offTheta + i] = kqi;
        }
        for (let l = 0; l < m1; l++) {
          const lq = w * L[q * m1 + l];
          const bl = at + offB + l * m0;
          for (let i = 0; i < m0; i++) jacobian[bl + i] = lq * e[l] * a1[i] + w * p[i * din + q] * p1[i] * s[l];
          jacobian[at + offTau + l] = lq * e[l];
          if (all) jacobian[at + co + l] = lq * p2[l];
        }
      }
    }
  }
  return sum;
}
