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
}

/** Fills the block's outputs; returns its sum of squared residuals. */
export function runBlock(t: BlockTask): number {
  const { layout, r0, r1 } = t;
  const d = layout.inputDim;
  const P = layout.size;
  const n = r1 - r0;
  const sum = residualsAndJacobian(t.p, layout, t.X.subarray(r0 * d, r1 * d), t.y.subarray(r0, r1), t.residuals, t.jacobian);
  const J = matrixFrom(t.jacobian, n, P);
  t.jtj.set(gram(J).data);
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
