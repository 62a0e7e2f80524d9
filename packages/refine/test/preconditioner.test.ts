/**
 * The matrix-free fit's first layer as one block of the preconditioner (networkOperator's
 * firstLayerBlock 'whole'): the block is J^T J's (A, theta) block (from all rows; from every s-th
 * row past its budget with the diagonal still exact), and CG with it reaches the dense solver's
 * minimum (weights to 1e-10) with fewer CG iterations than the per-unit blocks, paper form and
 * general form with k = 2 outputs.
 */
import { describe, expect, it } from 'vitest';
import { matrix, rng } from '@nnid/core';
import { leastSquares, matrixFreeStrategy } from '@nnid/optimize';
import { evaluateGeneral, evaluateNetwork, randomGeneralNetwork, randomNetwork } from '@nnid/oracle';
import { fitNetwork, generalLayoutOf, layoutOf, packGeneral, packParameters } from '@nnid/refine';
import { perturb } from './helpers.ts';
import { residualsAndJacobian } from '../src/params.ts';
import { firstLayerBlockOf, networkOperator } from '../src/jacobian-operator.ts';

function gaussian(n: number, d: number, seed: number) {
  const X = matrix(n, d);
  rng(seed).fillNormal(X.data);
  return X;
}
const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);

describe("networkOperator firstLayerBlock 'whole'", () => {
  const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 3, activation: 'tanh', seed: 31 });
  const layout = layoutOf(truth);
  const P = layout.size;
  const N = 4 * P;
  const X = gaussian(N, 12, 32);
  const y = evaluateNetwork(truth, X);
  const start = packParameters(perturb(truth, 0.03, 33), layout);

  it("is J^T J's (A, theta) block; from every s-th row its diagonal stays exact", async () => {
    const J = new Float64Array(N * P);
    const r = new Float64Array(N);
    residualsAndJacobian(start, layout, X.data, y, r, J);
    for (const blockFlops of [undefined, 1e4]) {
      const op = networkOperator({ layout, p: start, free: 'weights-and-shifts', X: X.data, Y: y, N, firstLayerBlock: 'whole', ...(blockFlops ? { blockFlops } : {}) });
      const { blocks } = await op.linearize(start);
      const idx = blocks!.indices[0];
      expect(idx.length).toBe(6 * 13);
      const g = blocks!.grams[0];
      const W = idx.length;
      let worst = 0;
      for (let a = 0; a < W; a++) {
        for (let b = 0; b < W; b++) {
          let s = 0;
          for (let n = 0; n < N; n++) s += J[n * P + idx[a]] * J[n * P + idx[b]];
          const err = Math.abs(g[a * W + b] - s) / Math.max(1e-300, Math.sqrt(g[a * W + a] * g[b * W + b]));
          if (a === b || blockFlops === undefined) expect(err).toBeLessThan(1e-12);
          else worst = Math.max(worst, err);
        }
      }
      // the subsample's off-diagonal entries are not J^T J's
      if (blockFlops !== undefined) expect(worst).toBeGreaterThan(1e-6);
    }
  });

  it("CG with it reaches the dense minimum (weights to 1e-10) with fewer CG iterations than per-unit blocks; the same bits twice", async () => {
    const dense = await fitNetwork(perturb(truth, 0.03, 33), { inputs: X, values: y }, { solver: 'normal-equations' });
    const w = packParameters(dense.network, layout);
    const runs = [];
    for (const choice of ['units', 'whole', 'whole'] as const) {
      const op = networkOperator({ layout, p: start, free: 'weights-and-shifts', X: X.data, Y: y, N, firstLayerBlock: choice });
      const strategy = matrixFreeStrategy(op);
      const { x, report } = await leastSquares(strategy, start, { residualScale: Math.hypot(...y), residualTolerance: 1e-14 });
      expect(report.success).toBe(true);
      expect(maxDiff(x, w)).toBeLessThan(1e-10);
      expect(maxDiff(x, packParameters(truth, layout))).toBeLessThan(1e-10);
      runs.push({ x, stats: strategy.stats() });
    }
    expect(runs[1].stats.preconditionerBlocks).toBe(2);
    expect(runs[1].stats.cgIterations).toBeLessThan(runs[0].stats.cgIterations);
    expect(Array.from(runs[2].x)).toEqual(Array.from(runs[1].x));
  });

  it('general form, k = 2: the same minimum as the dense solver', async () => {
    const g = randomGeneralNetwork({ inputDim: 8, width1: 5, width2: 3, outputs: 2, activation: 'tanh', seed: 40 });
    const gl = generalLayoutOf(g);
    const n = 4 * gl.size;
    const Xg = gaussian(n, 8, 41);
    const Y = evaluateGeneral(g, Xg);
    const p0 = packGeneral(g, gl);
    const s = rng(42);
    for (let k = 0; k < p0.length; k++) p0[k] += 0.02 * s.normal();
    const values = Float64Array.from(Y.data.subarray(Y.offset, Y.offset + n * 2));
    const op = networkOperator({ layout: gl, p: p0, free: 'weights-and-shifts', X: Xg.data, Y: values, N: n, firstLayerBlock: 'whole' });
    const strategy = matrixFreeStrategy(op);
    const { x, report } = await leastSquares(strategy, p0, { residualScale: Math.hypot(...values), residualTolerance: 1e-14 });
    expect(report.success).toBe(true);
    expect(maxDiff(x, packGeneral(g, gl))).toBeLessThan(1e-10);
    expect(strategy.stats().preconditionerBlocks).toBe(1 + 1 + 2);
  });

  it("'auto' resolves to the per-unit blocks (the whole block measured slower in CPU: BENCHMARKS.md)", () => {
    expect(firstLayerBlockOf('auto', 6, 12)).toBe('units');
    expect(firstLayerBlockOf(undefined, 6, 12)).toBe('units');
    expect(firstLayerBlockOf('whole', 600, 1200)).toBe('whole');
  });
});
