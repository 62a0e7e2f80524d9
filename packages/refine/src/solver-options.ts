import { checkChoice, checkInteger, checkPositive, invalidArgument } from '@nnid/core';
import type { LevenbergMarquardtOptions, MatrixFreeOptions } from '@nnid/optimize';

/**
 * How a fit's steps are solved: 'normal-equations' (J^T J formed and factored by Cholesky),
 * 'matrix-free' (CG on products J v and J^T w through the layers, J never formed:
 * jacobian-operator.ts), 'auto' (the default: the dense one while its memory, about 8 (rows F + 3 F^2) bytes
 * for J, J^T J and the row blocks' copies, stays within DENSE_MEMORY_LIMIT, else the matrix-free
 * one: the dense solver was faster at every size where it ran, BENCHMARKS.md).
 */
export type Solver = 'normal-equations' | 'matrix-free' | 'auto';
export const SOLVERS: readonly Solver[] = ['normal-equations', 'matrix-free', 'auto'];
/** 'auto' takes the dense solver while 8 (rows F + 3 F^2) bytes stay within this (4 GiB). */
export const DENSE_MEMORY_LIMIT = 2 ** 32;

/** The dense solver's memory in bytes for `rows` residuals and `free` parameters (J, J^T J, the blocks' copies). */
export function denseSolverBytes(rows: number, free: number): number {
  return 8 * (rows * free + 3 * free * free);
}

/** The solver and its CG options, checked; 'auto' resolved for `rows` residuals and `free` parameters. */
export function checkSolver(o: { solver?: Solver; matrixFree?: MatrixFreeOptions }, rows: number, free: number): { solver: 'normal-equations' | 'matrix-free'; matrixFree: MatrixFreeOptions } {
  const chosen = checkChoice('solver', o.solver ?? 'auto', SOLVERS);
  const matrixFree = o.matrixFree ?? {};
  if (matrixFree === null || typeof matrixFree !== 'object') invalidArgument('matrixFree', 'must be an object', matrixFree);
  const solver = chosen === 'auto' ? (denseSolverBytes(rows, free) <= DENSE_MEMORY_LIMIT ? 'normal-equations' : 'matrix-free') : chosen;
  return { solver, matrixFree };
}

/** The solver options every fit of this package takes (see RefineOptions), checked, with their defaults. */
export interface SolverOptions {
  stepTolerance?: number;
  residualTolerance?: number;
  costTolerance?: number;
  costSteps?: number;
  maxIterations?: number;
  stallWindow?: number;
  stallFactor?: number;
  stallAbove?: number;
  innerSteps?: number;
  blasThreads?: number;
}

export function checkSolverOptions(o: SolverOptions) {
  const stepTolerance = checkPositive('stepTolerance', o.stepTolerance ?? 1e-13);
  const residualTolerance = checkPositive('residualTolerance', o.residualTolerance ?? 1e-15, true);
  const costTolerance = checkPositive('costTolerance', o.costTolerance ?? 1e-12, true);
  const costSteps = checkInteger('costSteps', o.costSteps ?? 2, 1);
  const maxIterations = checkInteger('maxIterations', o.maxIterations ?? 200, 0);
  const stallWindow = checkInteger('stallWindow', o.stallWindow ?? 50, 0);
  const stallFactor = checkPositive('stallFactor', o.stallFactor ?? 0.8);
  if (stallFactor >= 1) invalidArgument('stallFactor', 'must be a number in (0, 1)', stallFactor);
  const stallAbove = checkPositive('stallAbove', o.stallAbove ?? 1e-6, true);
  const innerSteps = checkInteger('innerSteps', o.innerSteps ?? 4, 0);
  const blasThreads = checkInteger('blasThreads', o.blasThreads ?? 1);
  return { stepTolerance, residualTolerance, costTolerance, costSteps, maxIterations, stallWindow, stallFactor, stallAbove, innerSteps, blasThreads };
}

/**
 * leastSquares' options of a fit of this package: the checked solver options, the residuals scaled
 * by |Y|, refine's damping (Nielsen's rule, allowed to fall 10x a step; see refine.ts).
 */
export function leastSquaresOptions(
  checked: ReturnType<typeof checkSolverOptions>,
  residualScale: number,
  onProgress?: (iteration: number, relativeResidual: number) => void,
): LevenbergMarquardtOptions {
  return {
    maxIterations: checked.maxIterations,
    residualScale,
    residualTolerance: checked.residualTolerance,
    stepTolerance: checked.stepTolerance,
    stepTest: 'size-and-prediction',
    costTolerance: checked.costTolerance,
    costSteps: checked.costSteps,
    acceptance: 'gain-ratio',
    innerSteps: checked.innerSteps,
    stallWindow: checked.stallWindow,
    stallFactor: checked.stallFactor,
    stallAbove: checked.stallAbove,
    damping: { initial: 1e-3, decrease: { rule: 'nielsen', minFactor: 0.1 }, ceiling: 1e20 },
    ...(onProgress ? { onProgress } : {}),
  };
}
