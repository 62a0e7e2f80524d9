/**
 * The matrix-free step strategy (issue 15's direction): no J^T J. The damped normal equations
 * (J^T J + lambda D) delta = rhs are solved by conjugate gradients on products J v and J^T w,
 * preconditioned by their diagonal diag(J^T J) + lambda D (Jacobi). Memory: what the operator
 * keeps (at most J, N x n) and a few vectors of n and N values; never n x n.
 */
import { checkInteger, checkPositive, invalidArgument } from '@nnid/core';
import type { StepStrategy } from './strategy.ts';

/**
 * A least-squares problem seen through its Jacobian's products: r(x) (m residuals), and at the
 * last linearization J v (m values) and J^T w (n values). Products may be asynchronous (e.g.
 * blocks of rows in worker threads).
 */
export interface JacobianOperator {
  /** Linearizes at x: the residuals r(x) and the squared column norms of J(x) (= diag(J^T J)). */
  linearize(x: Float64Array): Promise<{ residuals: Float64Array; columnNormsSquared: Float64Array }>;
  /** The residuals r(x) (read before the next call: the operator may reuse the array). */
  residuals(x: Float64Array): Promise<Float64Array>;
  /** J v at the last linearization (m values; a fresh array or one the operator reuses). */
  apply(v: Float64Array): Float64Array | Promise<Float64Array>;
  /** J^T w at the last linearization (n values, a fresh array). */
  applyTranspose(w: Float64Array): Float64Array | Promise<Float64Array>;
}

export interface MatrixFreeOptions {
  /** CG stops when |rhs - A delta| <= tolerance |rhs| (default 1e-10). */
  tolerance?: number;
  /** At most this many CG iterations per solve (default 2 n + 20). */
  maxIterations?: number;
  /**
   * 'adaptive' (default; inexact Newton): a solve stops at max(tolerance, min(0.1, |rhs| / |g_0|))
   * |rhs|, g_0 the gradient at the first linearization: loose while the gradient is large, tight
   * near the minimum (1.2-3.8x fewer CG iterations than 'fixed' on refine's fits, the same final
   * residual: BENCHMARKS.md; sqrt(|rhs| / |g_0|) saved more but stopped a fit with a nonzero
   * minimum 2.4e-10 away from the dense solver's). 'fixed': every solve to `tolerance`.
   */
  forcing?: 'fixed' | 'adaptive';
}

/** Counts of the CG solves, for the report. */
export type MatrixFreeStats = {
  solves: number;
  /** CG iterations in all solves (each one J v and one J^T w product). */
  cgIterations: number;
  /** The most CG iterations one solve took. */
  maxCgIterations: number;
  /** Solves that stopped on maxIterations before reaching the tolerance. */
  unconvergedSolves: number;
};

function sumOfSquares(r: Float64Array): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += r[i] * r[i];
  return s;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The matrix-free strategy over a JacobianOperator: D = diag(J^T J) floored like the dense
 * strategy's (1e-12 of the largest, 1e-300), steps by Jacobi-preconditioned CG. `stats()` counts
 * the CG work; leastSquares puts it in its report as `strategyStats`. One strategy object serves
 * one leastSquares run: its counts and its adaptive forcing (g_0) start at its first linearization.
 *
 * @example
 * const { x, report } = await leastSquares(matrixFreeStrategy(operator), x0, { residualTolerance: 1e-14 });
 * report.strategyStats; // { solves, cgIterations, maxCgIterations, unconvergedSolves }
 */
export function matrixFreeStrategy(operator: JacobianOperator, options: MatrixFreeOptions = {}): StepStrategy & { stats(): MatrixFreeStats } {
  if (!operator || typeof operator.linearize !== 'function' || typeof operator.residuals !== 'function' || typeof operator.apply !== 'function' || typeof operator.applyTranspose !== 'function') {
    invalidArgument('operator', 'must be a JacobianOperator { linearize, residuals, apply, applyTranspose }', operator);
  }
  if (options === null || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const tolerance = checkPositive('tolerance', options.tolerance ?? 1e-10);
  const maxCg = options.maxIterations === undefined ? undefined : checkInteger('maxIterations', options.maxIterations, 1);
  const forcing = options.forcing ?? 'adaptive';
  if (forcing !== 'fixed' && forcing !== 'adaptive') invalidArgument('forcing', "must be one of 'fixed', 'adaptive'", forcing);
  let firstGradientNorm = NaN;
  let colNorms: Float64Array = new Float64Array(0);
  let diag: Float64Array = new Float64Array(0);
  let grad: Float64Array = new Float64Array(0);
  let lastResiduals: Float64Array = new Float64Array(0);
  let linearized = false;
  const stats: MatrixFreeStats = { solves: 0, cgIterations: 0, maxCgIterations: 0, unconvergedSolves: 0 };
  return {
    name: 'matrix-free-cg',
    async linearize(x) {
      const { residuals, columnNormsSquared } = await operator.linearize(x);
      const n = x.length;
      if (columnNormsSquared.length !== n) invalidArgument('operator.linearize', `must give ${n} column norms`, columnNormsSquared.length);
      colNorms = Float64Array.from(columnNormsSquared);
      let maxDiag = 0;
      for (let k = 0; k < n; k++) maxDiag = Math.max(maxDiag, colNorms[k]);
      diag = new Float64Array(n);
      for (let k = 0; k < n; k++) diag[k] = Math.max(colNorms[k], 1e-12 * maxDiag, 1e-300);
      const sumSq = sumOfSquares(residuals);
      grad = Float64Array.from(await operator.applyTranspose(residuals));
      if (Number.isNaN(firstGradientNorm)) firstGradientNorm = Math.sqrt(dot(grad, grad));
      lastResiduals = Float64Array.from(residuals);
      linearized = true;
      return sumSq;
    },
    gradient: () => grad,
    scaling: () => diag,
    async solve(lambda, rhs) {
      if (!linearized) throw new Error('matrixFreeStrategy: solve before linearize');
      const n = diag.length;
      const limit = maxCg ?? 2 * n + 20;
      // preconditioned CG on A = J^T J + lambda D, preconditioner diag(A) = colNorms + lambda D
      const precond = new Float64Array(n);
      for (let k = 0; k < n; k++) precond[k] = 1 / (colNorms[k] + lambda * diag[k]);
      const delta = new Float64Array(n);
      const r = Float64Array.from(rhs);
      const z = new Float64Array(n);
      for (let k = 0; k < n; k++) z[k] = precond[k] * r[k];
      const p = Float64Array.from(z);
      let rz = dot(r, z);
      const rhsNorm = Math.sqrt(dot(rhs, rhs));
      const eta = forcing === 'adaptive' && firstGradientNorm > 0 ? Math.max(tolerance, Math.min(0.1, rhsNorm / firstGradientNorm)) : tolerance;
      const bound = eta * rhsNorm;
      let it = 0;
      let converged = Math.sqrt(dot(r, r)) <= bound;
      while (!converged && it < limit) {
        const Jp = await operator.apply(p);
        const Ap = await operator.applyTranspose(Jp);
        for (let k = 0; k < n; k++) Ap[k] += lambda * diag[k] * p[k];
        const pAp = dot(p, Ap);
        // not positive definite in floating point: let the loop raise lambda
        if (!(pAp > 0) || !Number.isFinite(pAp)) return null;
        const alpha = rz / pAp;
        for (let k = 0; k < n; k++) {
          delta[k] += alpha * p[k];
          r[k] -= alpha * Ap[k];
        }
        it++;
        if (Math.sqrt(dot(r, r)) <= bound) {
          converged = true;
          break;
        }
        for (let k = 0; k < n; k++) z[k] = precond[k] * r[k];
        const rzNext = dot(r, z);
        const beta = rzNext / rz;
        rz = rzNext;
        for (let k = 0; k < n; k++) p[k] = z[k] + beta * p[k];
      }
      stats.solves++;
      stats.cgIterations += it;
      stats.maxCgIterations = Math.max(stats.maxCgIterations, it);
      if (!converged) stats.unconvergedSolves++;
      return delta;
    },
    async sumOf(x) {
      const r = await operator.residuals(x);
      lastResiduals = Float64Array.from(r);
      return sumOfSquares(lastResiduals);
    },
    async gradientAtLast() {
      return Float64Array.from(await operator.applyTranspose(lastResiduals));
    },
    stats: () => ({ ...stats }),
  };
}
