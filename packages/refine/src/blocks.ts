/**
 * The normal equations of a row block: residuals, Jacobian, J_b^T J_b and J_b^T r_b of the data
 * rows [r0, r1). Large problems split their rows into a fixed number of blocks and sum the
 * blocks' products in block order, so the bits do not depend on whether the blocks ran in one
 * thread or in several.
 */
import { matrixFrom } from '@nnid/core';
import { gram, matmul } from '@nnid/linalg';
import { residualsAndJacobian, type Layout } from './params.ts';

export interface BlockTask {
  p: Float64Array;
  layout: Layout;
  /** All rows (N x d inputs, N values); the block's rows are [r0, r1). */
  X: Float64Array;
  y: Float64Array;
  r0: number;
  r1: number;
  /** The block's residuals (r1 - r0) and Jacobian ((r1 - r0) x P): written. */
  residuals: Float64Array;
  jacobian: Float64Array;
  /** J_b^T J_b (P x P) and J_b^T r_b (P): written. */
  jtj: Float64Array;
  jtr: Float64Array;
  /**
   * 'normal' (default): residuals, Jacobian, J_b^T J_b and J_b^T r_b at p. 'residuals': the
   * residuals at p, and J_b^T r_b with the Jacobian left by the last 'normal' run (jtj untouched).
   */
  mode?: 'normal' | 'residuals';
  /**
   * The inputs' pair products x~_j x~_j' (j <= j', x~ = (x, 1)), N x (d+1)(d+2)/2 (see
   * inputPairs): J^T J's block of (A, theta) is then formed from them (normalMatrix). Absent: J^T J
   * of the whole J.
   */
  pairs?: Float64Array;
}

/** Fills the block's outputs; returns its sum of squared residuals. */
export function runBlock(t: BlockTask): number {
  const { layout, r0, r1 } = t;
  const d = layout.inputDim;
  const P = layout.size;
  const n = r1 - r0;
  const normal = t.mode !== 'residuals';
  const sum = residualsAndJacobian(t.p, layout, t.X.subarray(r0 * d, r1 * d), t.y.subarray(r0, r1), t.residuals, normal ? t.jacobian : undefined);
  const J = matrixFrom(t.jacobian, n, P);
  if (normal) {
    if (t.pairs) normalMatrix(t.jacobian, n, layout, t.pairs.subarray(r0 * pairCount(d + 1), r1 * pairCount(d + 1)), t.jtj);
    else t.jtj.set(gram(J).data);
  }
  t.jtr.set(matmul(J, matrixFrom(t.residuals, n, 1), { transA: true }).data);
  return sum;
}

/** Rows [r0, r1) of each of `blocks` blocks of N rows (the first blocks one row longer). */
export function blockRanges(N: number, blocks: number): [number, number][] {
  const out: [number, number][] = [];
  let r0 = 0;
  for (let b = 0; b < blocks; b++) {
    const r1 = r0 + Math.floor(N / blocks) + (b < N % blocks ? 1 : 0);
    out.push([r0, r1]);
    r0 = r1;
  }
  return out;
}

/** k (k + 1) / 2: the pairs (j, j') with j <= j' < k. */
export function pairCount(k: number): number {
  return (k * (k + 1)) / 2;
}

/** Index of the pair (j, j'), j <= j' < k, in the order (0,0), (0,1), ..., (0,k-1), (1,1), ... */
function pairIndex(j: number, j2: number, k: number): number {
  return j * k - (j * (j - 1)) / 2 + (j2 - j);
}

/** The pair products x~_j x~_j' (j <= j') of x~ = (x_n, 1) for the N rows of X (N x d): N x pairCount(d + 1). */
export function inputPairs(X: Float64Array, N: number, d: number, out: Float64Array): Float64Array {
  const D2 = pairCount(d + 1);
  for (let r = 0; r < N; r++) {
    const xo = r * d;
    let q = r * D2;
    for (let j = 0; j <= d; j++) {
      const xj = j < d ? X[xo + j] : 1;
      for (let j2 = j; j2 <= d; j2++) out[q++] = xj * (j2 < d ? X[xo + j2] : 1);
    }
  }
  return out;
}

/**
 * J^T J (P x P, written into out) of n rows of the Jacobian. Its (A, theta) block,
 *   sum_n c_ni c_ni' x~_nj x~_nj'   (c_ni = df/dtheta_i, the Jacobian's theta columns),
 * is (C o C)^T (X~ o X~) over the pairs i <= i' and j <= j' (o: the row-wise products): half the
 * flops of that block of J^T J, and the same sums in another order. The rest is J's own products.
 */
export function normalMatrix(jacobian: Float64Array, n: number, layout: Layout, pairs: Float64Array, out: Float64Array): void {
  const { inputDim: d, width1: m0, offTheta, offB, size: P } = layout;
  const D1 = d + 1;
  const D2 = pairCount(D1);
  const M2 = pairCount(m0);
  const cc = new Float64Array(n * M2);
  for (let r = 0; r < n; r++) {
    const co = r * P + offTheta;
    let q = r * M2;
    for (let i = 0; i < m0; i++) {
      const ci = jacobian[co + i];
      for (let i2 = i; i2 < m0; i2++) cc[q++] = ci * jacobian[co + i2];
    }
  }
  const K = matmul(matrixFrom(cc, n, M2), matrixFrom(pairs, n, D2), { transA: true }).data; // M2 x D2
  const pj = new Int32Array(D1 * D1);
  for (let j = 0; j < D1; j++) for (let j2 = 0; j2 < D1; j2++) pj[j * D1 + j2] = pairIndex(Math.min(j, j2), Math.max(j, j2), D1);
  // parameter index of (neuron i, input coordinate j~): a_ij, or theta_i for j~ = d
  const index = (i: number, j: number) => (j < d ? i * d + j : offTheta + i);
  for (let i = 0; i < m0; i++) {
    for (let j = 0; j < D1; j++) {
      const row = index(i, j) * P;
      const pr = j * D1;
      for (let i2 = 0; i2 < m0; i2++) {
        const kq = pairIndex(Math.min(i, i2), Math.max(i, i2), m0) * D2;
        const at = row + i2 * d;
        for (let j2 = 0; j2 < d; j2++) out[at + j2] = K[kq + pj[pr + j2]];
        out[row + offTheta + i2] = K[kq + pj[pr + d]];
      }
    }
  }
  // the (A, theta) x (B, tau) block and the (B, tau) block from J's columns
  const Q = P - offB;
  const first = { data: jacobian, offset: 0, shape: [n, offB], strides: [P, 1] };
  const second = { data: jacobian, offset: offB, shape: [n, Q], strides: [P, 1] };
  const cross = matmul(first, second, { transA: true }).data; // offB x Q
  for (let a = 0; a < offB; a++) {
    for (let b = 0; b < Q; b++) {
      const v = cross[a * Q + b];
      out[a * P + offB + b] = v;
      out[(offB + b) * P + a] = v;
    }
  }
  const bb = gram(second).data;
  for (let a = 0; a < Q; a++) out.set(bb.subarray(a * Q, (a + 1) * Q), (offB + a) * P + offB);
}
