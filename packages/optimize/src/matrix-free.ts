/**
 * The matrix-free step strategy (issue 15): no J^T J. The damped normal equations
 * (J^T J + lambda D) delta = rhs are solved by conjugate gradients on products J v and J^T w,
 * preconditioned by the blocks of J^T J + lambda D that the operator gives (e.g. one block per
 * unit of a network, each factored by Cholesky once per linearization and lambda), else by its
 * diagonal (Jacobi). Memory: what the operator keeps, its blocks and a few vectors of n and N
 * values; never n x n.
 */
import { checkChoice, checkInteger, checkPositive, invalidArgument } from '@nnid/core';
import { choleskyFactorization, type CholeskyFactorization } from '@nnid/linalg';
import type { StepStrategy } from './strategy.ts';

/**
 * Diagonal blocks of J^T J for a block-Jacobi preconditioner: block b covers the parameters
 * `indices[b]` (disjoint across blocks; parameters in no block are preconditioned by their
 * diagonal) and `grams[b]` is its sub-matrix of J^T J (indices[b].length squared, row-major,
 * symmetric; several blocks may share one array). Its diagonal must be the column norms.
 */
export interface PreconditionerBlocks {
  indices: Int32Array[];
  grams: Float64Array[];
}

/**
 * A least-squares problem seen through its Jacobian's products: r(x) (m residuals), and at the
 * last linearization J v (m values) and J^T w (n values). Products may be asynchronous (e.g.
 * blocks of rows in worker threads).
 */
export interface JacobianOperator {
  /**
   * Linearizes at x: the residuals r(x), the squared column norms of J(x) (= diag(J^T J)) and,
   * optionally, diagonal blocks of J^T J for the block preconditioner.
   */
  linearize(x: Float64Array): Promise<{ residuals: Float64Array; columnNormsSquared: Float64Array; blocks?: PreconditionerBlocks }>;
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
  /**
   * 'auto' (default): the operator's blocks when it gives them, else Jacobi. 'blocks': block
   * Jacobi (each block of J^T J + lambda D factored by Cholesky once per linearization and
   * lambda; an operator without blocks is refused at its first linearization). 'jacobi': the
   * diagonal diag(J^T J) + lambda D alone.
   */
  preconditioner?: 'auto' | 'blocks' | 'jacobi';
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
  /** Blocks of the block preconditioner (0: Jacobi). */
  preconditionerBlocks: number;
  /** Their Cholesky factorizations (one per block, linearization and lambda). */
  factorizations: number;
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
 * The block-Jacobi preconditioner of J^T J + lambda D: each block (plus lambda D on its diagonal)
 * factored by Cholesky; a block that is not positive definite in floating point falls back to its
 * diagonal. Parameters outside every block: the diagonal.
 */
class BlockPreconditioner {
  private factors: (CholeskyFactorization | null)[] = [];
  private lambda = NaN;
  private readonly inverseDiagonal: Float64Array;
  factorizations = 0;
  constructor(
    private readonly blocks: PreconditionerBlocks,
    private readonly colNorms: Float64Array,
    private readonly diag: Float64Array,
  ) {
    this.inverseDiagonal = new Float64Array(colNorms.length);
  }
  prepare(lambda: number): void {
    const n = this.colNorms.length;
    for (let k = 0; k < n; k++) this.inverseDiagonal[k] = 1 / (this.colNorms[k] + lambda * this.diag[k]);
    if (lambda === this.lambda) return;
    this.lambda = lambda;
    const { indices, grams } = this.blocks;
    this.factors = indices.map((idx, b) => {
      const m = idx.length;
      const g = grams[b];
      const damped = Float64Array.from(g.subarray(0, m * m));
      for (let t = 0; t < m; t++) damped[t * m + t] += lambda * this.diag[idx[t]];
      this.factorizations++;
      try {
        return choleskyFactorization({ data: damped, offset: 0, shape: [m, m], strides: [m, 1] });
      } catch {
        return null;
      }
    });
  }
  /** z = M^-1 r. */
  apply(r: Float64Array, z: Float64Array): void {
    const n = r.length;
    for (let k = 0; k < n; k++) z[k] = this.inverseDiagonal[k] * r[k];
    const { indices } = this.blocks;
    for (let b = 0; b < indices.length; b++) {
      const f = this.factors[b];
      if (!f) continue;
      const idx = indices[b];
      const rb = new Float64Array(idx.length);
      for (let t = 0; t < idx.length; t++) rb[t] = r[idx[t]];
      const zb = f.solve(rb);
      for (let t = 0; t < idx.length; t++) z[idx[t]] = zb[t];
    }
  }
}

function checkBlocks(blocks: PreconditionerBlocks, n: number): void {
  if (!blocks || !Array.isArray(blocks.indices) || !Array.isArray(blocks.grams) || blocks.indices.length !== blocks.grams.length) {
    invalidArgument('operator.linearize', 'must give blocks { indices: Int32Array[], grams: Float64Array[] } of equal lengths', blocks);
  }
  const seen = new Uint8Array(n);
  blocks.indices.forEach((idx, b) => {
    const m = idx.length;
    if (!(idx instanceof Int32Array) || !(blocks.grams[b] instanceof Float64Array) || blocks.grams[b].length < m * m) {
      invalidArgument(`operator.linearize blocks[${b}]`, 'must be an Int32Array of indices with a Float64Array of at least its length squared', m);
    }
    for (let t = 0; t < m; t++) {
      const k = idx[t];
      if (!(k >= 0 && k < n) || seen[k]) invalidArgument(`operator.linearize blocks[${b}]`, `must hold distinct parameter indices in [0, ${n}) not in another block`, k);
      seen[k] = 1;
    }
  });
}

/**
 * The matrix-free strategy over a JacobianOperator: D = diag(J^T J) floored like the dense
 * strategy's (1e-12 of the largest, 1e-300), steps by preconditioned CG (the operator's blocks,
 * else Jacobi). `stats()` counts the CG work; leastSquares puts it in its report as
 * `strategyStats`. One strategy object serves one leastSquares run: its counts and its adaptive
 * forcing (g_0) start at its first linearization.
 *
 * @example
 * const { x, report } = await leastSquares(matrixFreeStrategy(operator), x0, { residualTolerance: 1e-14 });
 * report.strategyStats; // { solves, cgIterations, maxCgIterations, unconvergedSolves, preconditionerBlocks, factorizations }
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
  const preconditioning = checkChoice('preconditioner', options.preconditioner ?? 'auto', ['auto', 'blocks', 'jacobi'] as const);
  let firstGradientNorm = NaN;
  let colNorms: Float64Array = new Float64Array(0);
  let diag: Float64Array = new Float64Array(0);
  let grad: Float64Array = new Float64Array(0);
  let lastResiduals: Float64Array = new Float64Array(0);
  let precond: BlockPreconditioner | null = null;
  let factorizations = 0;
  let linearized = false;
  const stats: MatrixFreeStats = { solves: 0, cgIterations: 0, maxCgIterations: 0, unconvergedSolves: 0, preconditionerBlocks: 0, factorizations: 0 };
  return {
    name: 'matrix-free-cg',
    async linearize(x) {
      const { residuals, columnNormsSquared, blocks } = await operator.linearize(x);
      const n = x.length;
      if (columnNormsSquared.length !== n) invalidArgument('operator.linearize', `must give ${n} column norms`, columnNormsSquared.length);
      colNorms = Float64Array.from(columnNormsSquared);
      let maxDiag = 0;
      for (let k = 0; k < n; k++) maxDiag = Math.max(maxDiag, colNorms[k]);
      diag = new Float64Array(n);
      for (let k = 0; k < n; k++) diag[k] = Math.max(colNorms[k], 1e-12 * maxDiag, 1e-300);
      if (preconditioning === 'blocks' && !blocks) invalidArgument('preconditioner', "must be 'auto' or 'jacobi' with an operator that gives no blocks", preconditioning);
      if (precond) factorizations += precond.factorizations;
      const useBlocks = preconditioning !== 'jacobi' && blocks !== undefined;
      if (useBlocks) checkBlocks(blocks, n);
      precond = new BlockPreconditioner(useBlocks ? blocks : { indices: [], grams: [] }, colNorms, diag);
      stats.preconditionerBlocks = useBlocks ? blocks.indices.length : 0;
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
      if (!linearized || !precond) throw new Error('matrixFreeStrategy: solve before linearize');
      const n = diag.length;
      const limit = maxCg ?? 2 * n + 20;
      // preconditioned CG on A = J^T J + lambda D, M = its blocks (or its diagonal)
      precond.prepare(lambda);
      const delta = new Float64Array(n);
      const r = Float64Array.from(rhs);
      const z = new Float64Array(n);
      precond.apply(r, z);
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
        precond.apply(r, z);
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
    stats: () => ({ ...stats, factorizations: factorizations + (precond?.factorizations ?? 0) }),
  };
}
