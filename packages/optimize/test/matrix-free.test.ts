import { describe, expect, it } from 'vitest';
import { rng } from '@nnid/core';
import { leastSquares, matrixFreeStrategy, normalEquationsStrategy, type JacobianOperator } from '@nnid/optimize';
import { equationsOf, exponentialFit, networkFit, operatorOf } from './problems.ts';

const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('matrixFreeStrategy', () => {
  it("reaches the dense solver's minimum on a network fit: weights to 1e-10, the truth too", async () => {
    const truth = new Float64Array(20);
    rng(3).fillNormal(truth);
    const start = Float64Array.from(truth);
    const noise = new Float64Array(20);
    rng(4).fillNormal(noise);
    for (let k = 0; k < 20; k++) start[k] += 0.05 * noise[k];
    const problem = networkFit(truth);
    const options = { residualTolerance: 1e-13, residualScale: 1, innerSteps: 2 };
    const dense = await leastSquares(normalEquationsStrategy(equationsOf(problem)), start, options);
    const op = operatorOf(problem);
    const strategy = matrixFreeStrategy(op);
    const free = await leastSquares(strategy, start, options);
    expect(dense.report.success).toBe(true);
    expect(free.report.success).toBe(true);
    expect(maxDiff(free.x, dense.x)).toBeLessThan(1e-10);
    expect(maxDiff(free.x, truth)).toBeLessThan(1e-10);
    const stats = free.report.strategyStats!;
    expect(free.report.strategy).toBe('matrix-free-cg');
    expect(stats.cgIterations).toBeGreaterThan(0);
    expect(stats.unconvergedSolves).toBe(0);
    // each CG iteration is one J v and one J^T w; each linearization one J^T r, each inner-step try one more
    const extra = op.products - 2 * stats.cgIterations - free.report.njev;
    expect(extra).toBeGreaterThanOrEqual(free.report.innerSteps);
    expect(extra).toBeLessThanOrEqual(free.report.innerSteps + free.report.acceptedSteps);
    expect(JSON.parse(JSON.stringify(free.report))).toEqual(free.report);
  });

  it("adaptive forcing (the default) takes fewer CG iterations than 'fixed' to the same minimum", async () => {
    const truth = new Float64Array(20);
    rng(3).fillNormal(truth);
    const start = Float64Array.from(truth, (v, k) => v + 0.1 * Math.cos(3 * k));
    const problem = networkFit(truth);
    const runs = [];
    for (const forcing of ['fixed', 'adaptive'] as const) {
      const strategy = matrixFreeStrategy(operatorOf(problem), { forcing });
      runs.push(await leastSquares(strategy, start, { residualTolerance: 1e-13 }));
    }
    const [fixed, adaptive] = runs;
    expect(fixed.report.success && adaptive.report.success).toBe(true);
    expect(adaptive.report.strategyStats!.cgIterations).toBeLessThan(fixed.report.strategyStats!.cgIterations);
    expect(maxDiff(adaptive.x, fixed.x)).toBeLessThan(1e-10);
    expect(maxDiff(adaptive.x, truth)).toBeLessThan(1e-10);
  });

  it('reaches the same nonzero minimum of a noisy exponential fit as the dense solver (to 1e-10)', async () => {
    const problem = exponentialFit(2, -1.5, 1e-3).model;
    const x0 = Float64Array.of(1, 0);
    const dense = await leastSquares(normalEquationsStrategy(equationsOf(problem)), x0, {});
    const free = await leastSquares(matrixFreeStrategy(operatorOf(problem)), x0, {});
    expect(dense.report.success && free.report.success).toBe(true);
    expect(maxDiff(free.x, dense.x)).toBeLessThan(1e-10);
    expect(Math.abs(free.report.cost - dense.report.cost)).toBeLessThan(1e-14);
  });

  it('with a CG budget too small it still descends, and says so in its stats', async () => {
    const truth = new Float64Array(20);
    rng(3).fillNormal(truth);
    const start = Float64Array.from(truth, (v, k) => v + 0.02 * Math.sin(k));
    const problem = networkFit(truth);
    const strategy = matrixFreeStrategy(operatorOf(problem), { maxIterations: 2 });
    const { report } = await leastSquares(strategy, start, { maxIterations: 30 });
    expect(report.strategyStats!.unconvergedSolves).toBeGreaterThan(0);
    expect(report.strategyStats!.maxCgIterations).toBe(2);
    expect(report.relativeResidual).toBeLessThan(report.initialRelativeResidual);
  });

  it('names bad arguments in the house template', () => {
    const op = operatorOf(exponentialFit(2, -1.5).model);
    expect(() => matrixFreeStrategy(op, { tolerance: 0 })).toThrow('invalid argument. `tolerance` must be a finite number > 0. Value: `0`.');
    expect(() => matrixFreeStrategy(op, { forcing: 'loose' as 'fixed' })).toThrow("invalid argument. `forcing` must be one of 'fixed', 'adaptive'. Value: `loose`.");
    expect(() => matrixFreeStrategy(op, { maxIterations: 0 })).toThrow('invalid argument. `maxIterations` must be a positive integer. Value: `0`.');
    expect(() => matrixFreeStrategy({} as JacobianOperator)).toThrow('invalid argument. `operator` must be a JacobianOperator { linearize, residuals, apply, applyTranspose }.');
  });
});
