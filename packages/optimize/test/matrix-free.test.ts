import { describe, expect, it } from 'vitest';
import { matrixFrom, rng } from '@nnid/core';
import { gram, matmul } from '@nnid/linalg';
import { leastSquares, matrixFreeStrategy, normalEquationsStrategy, type JacobianOperator, type NormalEquations } from '@nnid/optimize';

type Model = { m: number; residual: (x: Float64Array) => Float64Array; jacobian: (x: Float64Array) => Float64Array };

/** J v and J^T w by loops over a J (m x n) formed at each linearization: no n x n matrix. */
function operatorOf({ m, residual, jacobian }: Model): JacobianOperator & { products: number } {
  let J: Float64Array = new Float64Array(0);
  let n = 0;
  const op = {
    products: 0,
    async linearize(x: Float64Array) {
      n = x.length;
      J = jacobian(x);
      const columnNormsSquared = new Float64Array(n);
      for (let i = 0; i < m; i++) for (let k = 0; k < n; k++) columnNormsSquared[k] += J[i * n + k] ** 2;
      return { residuals: residual(x), columnNormsSquared };
    },
    async residuals(x: Float64Array) {
      return residual(x);
    },
    apply(v: Float64Array) {
      op.products++;
      const out = new Float64Array(m);
      for (let i = 0; i < m; i++) for (let k = 0; k < n; k++) out[i] += J[i * n + k] * v[k];
      return out;
    },
    applyTranspose(w: Float64Array) {
      op.products++;
      const out = new Float64Array(n);
      for (let i = 0; i < m; i++) for (let k = 0; k < n; k++) out[k] += J[i * n + k] * w[i];
      return out;
    },
  };
  return op;
}

/** The same problem as normal equations (the dense strategy). */
function equationsOf({ m, residual, jacobian }: Model): NormalEquations {
  let J: Float64Array = new Float64Array(0);
  let r: Float64Array = new Float64Array(0);
  const sum = (v: Float64Array) => v.reduce((s, t) => s + t * t, 0);
  return {
    async evaluate(x) {
      r = residual(x);
      J = jacobian(x);
      const Jv = matrixFrom(J, m, x.length);
      return { sumSq: sum(r), JtJ: gram(Jv), grad: matmul(Jv, matrixFrom(r, m, 1), { transA: true }).data };
    },
    async sumOf(x) {
      r = residual(x);
      return sum(r);
    },
    gradientAtLast() {
      return matmul(matrixFrom(J, m, J.length / m), matrixFrom(r, m, 1), { transA: true }).data;
    },
  };
}

/**
 * A one-hidden-layer tanh network f(x) = sum_j c_j tanh(w_j . x + b_j) (d = 3, 4 units: 20
 * parameters [w (4 x 3), b, c]) fitted to its own values at 60 Gaussian points.
 */
function networkFit(truth: Float64Array): Model {
  const d = 3;
  const h = 4;
  const N = 60;
  const X = new Float64Array(N * d);
  rng(7).fillNormal(X);
  const forward = (p: Float64Array, n: number, J: Float64Array | null) => {
    let f = 0;
    for (let j = 0; j < h; j++) {
      let s = p[h * d + j];
      for (let t = 0; t < d; t++) s += p[j * d + t] * X[n * d + t];
      const a = Math.tanh(s);
      f += p[h * d + h + j] * a;
      if (J) {
        const slope = p[h * d + h + j] * (1 - a * a);
        for (let t = 0; t < d; t++) J[n * 20 + j * d + t] = slope * X[n * d + t];
        J[n * 20 + h * d + j] = slope;
        J[n * 20 + h * d + h + j] = a;
      }
    }
    return f;
  };
  const y = Float64Array.from({ length: N }, (_, n) => forward(truth, n, null));
  return {
    m: N,
    residual: (p) => Float64Array.from({ length: N }, (_, n) => forward(p, n, null) - y[n]),
    jacobian: (p) => {
      const J = new Float64Array(N * 20);
      for (let n = 0; n < N; n++) forward(p, n, J);
      return J;
    },
  };
}

function exponentialFit(): Model {
  const t = Float64Array.from({ length: 30 }, (_, k) => k / 10);
  const y = t.map((tk, k) => 2 * Math.exp(-1.5 * tk) + 1e-3 * (k % 2 === 0 ? 1 : -1) * (1 + (k % 3)));
  return {
    m: 30,
    residual: (x) => t.map((tk, k) => x[0] * Math.exp(x[1] * tk) - y[k]),
    jacobian: (x) => {
      const J = new Float64Array(60);
      t.forEach((tk, k) => {
        J[2 * k] = Math.exp(x[1] * tk);
        J[2 * k + 1] = x[0] * tk * Math.exp(x[1] * tk);
      });
      return J;
    },
  };
}

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

  it('reaches the same nonzero minimum of a noisy exponential fit as the dense solver (to 1e-10)', async () => {
    const problem = exponentialFit();
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
    const op = operatorOf(exponentialFit());
    expect(() => matrixFreeStrategy(op, { tolerance: 0 })).toThrow('invalid argument. `tolerance` must be a finite number > 0. Value: `0`.');
    expect(() => matrixFreeStrategy(op, { maxIterations: 0 })).toThrow('invalid argument. `maxIterations` must be a positive integer. Value: `0`.');
    expect(() => matrixFreeStrategy({} as JacobianOperator)).toThrow('invalid argument. `operator` must be a JacobianOperator { linearize, residuals, apply, applyTranspose }.');
  });
});
