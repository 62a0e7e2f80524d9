/**
 * matrixFreeStrategy's block preconditioner: blocks of J^T J given by the operator. With one
 * block holding all of J^T J, CG solves each step in one iteration; with per-unit blocks it takes
 * fewer iterations than Jacobi to the same minimum; malformed blocks are refused.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '@nnid/core';
import { leastSquares, matrixFreeStrategy, type JacobianOperator, type PreconditionerBlocks } from '@nnid/optimize';
import { networkFit, operatorOf } from './problems.ts';

const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** networkFit's operator with blocks of J^T J over the given index sets (J formed by the model). */
function withBlocks(truth: Float64Array, sets: number[][]): JacobianOperator {
  const model = networkFit(truth);
  const op = operatorOf(model);
  return {
    ...op,
    async linearize(x) {
      const base = await op.linearize(x);
      const J = model.jacobian(x);
      const n = x.length;
      const blocks: PreconditionerBlocks = { indices: [], grams: [] };
      for (const set of sets) {
        const m = set.length;
        const g = new Float64Array(m * m);
        for (let s = 0; s < m; s++) for (let t = 0; t < m; t++) for (let i = 0; i < model.m; i++) g[s * m + t] += J[i * n + set[s]] * J[i * n + set[t]];
        blocks.indices.push(Int32Array.from(set));
        blocks.grams.push(g);
      }
      return { ...base, blocks };
    },
  };
}

describe('matrixFreeStrategy with blocks', () => {
  const truth = new Float64Array(20);
  rng(3).fillNormal(truth);
  const start = Float64Array.from(truth, (v, k) => v + 0.05 * Math.sin(2 * k + 1));
  const all = Array.from({ length: 20 }, (_, k) => k);

  it('one block holding all of J^T J: one CG iteration per solve, the same minimum', async () => {
    const { x, report } = await leastSquares(matrixFreeStrategy(withBlocks(truth, [all])), start, { residualTolerance: 1e-13 });
    expect(report.success).toBe(true);
    expect(maxDiff(x, truth)).toBeLessThan(1e-10);
    const stats = report.strategyStats!;
    expect(stats.preconditionerBlocks).toBe(1);
    expect(stats.maxCgIterations).toBe(1);
    expect(stats.factorizations).toBeGreaterThanOrEqual(report.njev - 1);
  });

  it('blocks of 4 parameters: fewer CG iterations than Jacobi to the same minimum', async () => {
    const sets = [0, 1, 2, 3, 4].map((b) => [4 * b, 4 * b + 1, 4 * b + 2, 4 * b + 3]);
    const blocked = await leastSquares(matrixFreeStrategy(withBlocks(truth, sets)), start, { residualTolerance: 1e-13 });
    const jacobi = await leastSquares(matrixFreeStrategy(withBlocks(truth, sets), { preconditioner: 'jacobi' }), start, { residualTolerance: 1e-13 });
    expect(blocked.report.success && jacobi.report.success).toBe(true);
    expect(maxDiff(blocked.x, truth)).toBeLessThan(1e-10);
    expect(maxDiff(jacobi.x, truth)).toBeLessThan(1e-10);
    expect(jacobi.report.strategyStats!.preconditionerBlocks).toBe(0);
    expect(blocked.report.strategyStats!.cgIterations).toBeLessThan(jacobi.report.strategyStats!.cgIterations);
  });

  it('refuses overlapping blocks and a blocks preconditioner without blocks', async () => {
    await expect(leastSquares(matrixFreeStrategy(withBlocks(truth, [[0, 1], [1, 2]])), start, {})).rejects.toThrow(
      'invalid argument. `operator.linearize blocks[1]` must hold distinct parameter indices in [0, 20) not in another block. Value: `1`.',
    );
    await expect(leastSquares(matrixFreeStrategy(operatorOf(networkFit(truth)), { preconditioner: 'blocks' }), start, {})).rejects.toThrow(
      "invalid argument. `preconditioner` must be 'auto' or 'jacobi' with an operator that gives no blocks. Value: `blocks`.",
    );
  });
});
