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
 * included); the free vector is its first `free` entries.
 */
export function studentEquations(full: Float64Array, layout: GeneralLayout, X: Float64Array, Y: Float64Array, N: number, free: number): NormalEquations {
  const rows = N * layout.outputs;
  const r = new Float64Array(rows);
  const J = matrix(rows, free);
  const p = Float64Array.from(full);
  const at = (x: Float64Array) => {
    p.set(x.subarray(0, free));
    return p;
  };
  return {
    async evaluate(x) {
      const sumSq = studentResiduals(at(x), layout, X, Y, N, free, r, J.data);
      return { sumSq, JtJ: gram(J), grad: matmul(J, matrixFrom(r, rows, 1), { transA: true }).data };
    },
    async sumOf(x) {
      return studentResiduals(at(x), layout, X, Y, N, free, r);
    },
    gradientAtLast() {
      return matmul(J, matrixFrom(r, rows, 1), { transA: true }).data;
    },
  };
}
