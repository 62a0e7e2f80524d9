/**
 * The step strategy: how the Levenberg–Marquardt loop gets its step
 * delta = (J^T J + lambda D)^-1 rhs. The loop itself only needs sums of squares, the gradient
 * J^T r, the scaling D and such solves; where J lives is the strategy's business. The dense
 * normal-equations strategy (J^T J formed, Cholesky) is the first implementation; the matrix-free
 * one (matrix-free.ts: CG on products J v and J^T w, issue 15) the second.
 */
import { invalidArgument, matrix, matrixFrom, type Float64View } from '@nnid/core';
import { choleskyFactorization, choleskySolve, type CholeskyFactorization } from '@nnid/linalg';

/**
 * A least-squares problem as the normal equations see it (refine's interface): at a point q of
 * the free parameters, the sum of squared residuals, J^T J and J^T r.
 */
export interface NormalEquations {
  /** The sum of squared residuals, J^T J (n x n, row-major dense) and J^T r at q. */
  evaluate(q: Float64Array): Promise<{ sumSq: number; JtJ: Float64View; grad: Float64Array }>;
  /** The sum of squared residuals at q (the same bits as evaluate's); keeps r(q) for gradientAtLast. */
  sumOf(q: Float64Array): Promise<number>;
  /**
   * J^T r with J from the last evaluate and r from the last sumOf (a fresh array). Needed only
   * for inner steps (LevenbergMarquardtOptions.innerSteps > 0).
   */
  gradientAtLast(): Float64Array;
}

/**
 * What the loop asks of a step strategy. `linearize` fixes the point the steps start from; the
 * other calls refer to the last linearization until the next one.
 */
export interface StepStrategy {
  /** Its name in the report, e.g. 'normal-equations'. */
  readonly name: string;
  /** Linearizes at x (n free parameters): returns the sum of squared residuals there. */
  linearize(x: Float64Array): Promise<number>;
  /** J^T r at the last linearization (read only: the strategy's own array). */
  gradient(): Float64Array;
  /** The positive scaling D of the damping term at the last linearization (read only). */
  scaling(): Float64Array;
  /**
   * delta with (J^T J + lambda D) delta = rhs at the last linearization, or null when that
   * system cannot be solved (not positive definite in floating point): the loop then raises
   * lambda. `rhs` is -J^T r at the point the step starts from (the linearization's, or an inner
   * step's: see gradientAtLast) and is not modified.
   */
  solve(lambda: number, rhs: Float64Array): Float64Array | null | Promise<Float64Array | null>;
  /** The sum of squared residuals at x; keeps r(x) for gradientAtLast. */
  sumOf(x: Float64Array): Promise<number>;
  /** J^T r with J from the last linearization and r from the last sumOf (a fresh array). */
  gradientAtLast(): Float64Array | Promise<Float64Array>;
  /** Counts of the strategy's own work (e.g. CG iterations), put in the report as `strategyStats`. */
  stats?(): Record<string, number>;
}

export interface NormalEquationsStrategyOptions {
  /**
   * How (J^T J + lambda D) is solved. 'reuse' (default): factor it once per (linearization,
   * lambda) with `choleskyFactorization` and keep the factor for every solve at that lambda (an
   * inner step costs two triangular solves). 'per-solve': `choleskySolve` at every solve (the
   * shift fit's historical bits: on the native tier LAPACK's dpotrs substitutes in another order
   * than the kept factor's).
   */
  factorization?: 'reuse' | 'per-solve';
  /**
   * The damping's scaling D. 'marquardt' (default): D = diag(J^T J), floored as below.
   * 'levenberg': D = mu I with mu the mean of diag(J^T J) at the linearization (lambda stays
   * scale-free); the student fit's choice from random starts (its README has the measurements).
   */
  damping?: 'marquardt' | 'levenberg';
}

/**
 * The dense strategy over normal equations: D = diag(J^T J), each entry floored at 1e-12 of the
 * largest (and 1e-300) so that D is positive; the damped matrix J^T J + lambda D is factored by
 * Cholesky through @nnid/linalg.
 *
 * @example
 * const { x, report } = await leastSquares(normalEquationsStrategy(equations), x0, { maxIterations: 50 });
 */
export function normalEquationsStrategy(equations: NormalEquations, options: NormalEquationsStrategyOptions = {}): StepStrategy {
  if (!equations || typeof equations.evaluate !== 'function' || typeof equations.sumOf !== 'function' || typeof equations.gradientAtLast !== 'function') {
    invalidArgument('equations', 'must be NormalEquations { evaluate, sumOf, gradientAtLast }', equations);
  }
  const mode = options?.factorization ?? 'reuse';
  if (mode !== 'reuse' && mode !== 'per-solve') invalidArgument('factorization', "must be one of 'reuse', 'per-solve'", mode);
  const damping = options?.damping ?? 'marquardt';
  if (damping !== 'marquardt' && damping !== 'levenberg') invalidArgument('damping', "must be one of 'marquardt', 'levenberg'", damping);
  let JtJ: Float64View | null = null;
  let grad: Float64Array = new Float64Array(0);
  let diag: Float64Array = new Float64Array(0);
  // the factor of J^T J + factoredLambda D (mode 'reuse'), dropped at each linearization
  let factor: CholeskyFactorization | null = null;
  let factoredLambda = NaN;
  let damped: Float64View | null = null;
  return {
    name: damping === 'levenberg' ? 'levenberg' : 'normal-equations',
    async linearize(x) {
      const e = await equations.evaluate(x);
      const n = x.length;
      if (e.JtJ.shape[0] !== n || e.JtJ.shape[1] !== n || e.grad.length !== n) {
        invalidArgument('equations.evaluate', `must give a ${n} x ${n} J^T J and ${n} gradient values`, { JtJ: e.JtJ.shape, grad: e.grad.length });
      }
      JtJ = e.JtJ;
      grad = e.grad;
      if (diag.length !== n) diag = new Float64Array(n);
      if (damping === 'levenberg') {
        let trace = 0;
        for (let k = 0; k < n; k++) trace += JtJ.data[JtJ.offset + k * (JtJ.strides[0] + JtJ.strides[1])];
        diag.fill(Math.max(trace / n, 1e-300));
      } else {
        let maxDiag = 0;
        for (let k = 0; k < n; k++) maxDiag = Math.max(maxDiag, JtJ.data[JtJ.offset + k * (JtJ.strides[0] + JtJ.strides[1])]);
        for (let k = 0; k < n; k++) diag[k] = Math.max(JtJ.data[JtJ.offset + k * (JtJ.strides[0] + JtJ.strides[1])], 1e-12 * maxDiag, 1e-300);
      }
      factor = null;
      factoredLambda = NaN;
      return e.sumSq;
    },
    gradient: () => grad,
    scaling: () => diag,
    solve(lambda, rhs) {
      const M = JtJ;
      if (!M) throw new Error('normalEquationsStrategy: solve before linearize');
      const n = diag.length;
      if (mode === 'per-solve') {
        if (!damped || damped.shape[0] !== n) damped = matrix(n, n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) damped.data[i * n + j] = M.data[M.offset + i * M.strides[0] + j * M.strides[1]];
        for (let k = 0; k < n; k++) damped.data[k * n + k] += lambda * diag[k];
        try {
          return choleskySolve(damped, matrixFrom(Float64Array.from(rhs), n, 1)).data;
        } catch {
          return null;
        }
      }
      if (!factor || factoredLambda !== lambda) {
        // J^T J + lambda D in place, its diagonal restored after: the factorization copies it
        const save = new Float64Array(n);
        const at = (k: number) => M.offset + k * (M.strides[0] + M.strides[1]);
        for (let k = 0; k < n; k++) {
          save[k] = M.data[at(k)];
          M.data[at(k)] += lambda * diag[k];
        }
        try {
          factor = choleskyFactorization(M);
          factoredLambda = lambda;
        } catch {
          factor = null;
          return null;
        } finally {
          for (let k = 0; k < n; k++) M.data[at(k)] = save[k];
        }
      }
      return factor.solve(rhs);
    },
    sumOf: (x) => equations.sumOf(x),
    gradientAtLast: () => equations.gradientAtLast(),
  };
}
