/**
 * The Hessian budget: how many Hessians identify samples. With `hessianPoints` 'auto' the Hessians
 * get what the query budget leaves after the queries paid before them (noise estimate, gradients)
 * and those planned after them (shift fit, refinement), within [m0 + m1 + 2, 2 (m0 + m1)]: the
 * floor holds even when the budget is smaller (the plan then warns).
 */
import { stencilRows } from '@nnid/hessian-sampler';
import { OPTIONS, valueOf, type ResolvedOptions } from './options.ts';
import { budgetWidth2 } from './widths.ts';

export interface HessianBudget {
  /** m1 the budget counts with (given, or ceil(m0 / 2)). */
  width2: number;
  /** P at (d, m0, that m1). */
  parameterCount: number;
  queriesPerHessian: number;
  /** Queries planned after the Hessians: the shift fit's and the refinement's data. */
  shiftQueries: number;
  refineQueries: number;
  /** Queries the Hessians may take. */
  queries: number;
  /** Hessians to sample. */
  points: number;
  /** The floor m0 + m1 + 2 set the count (the budget alone would buy fewer). */
  atFloor: boolean;
}

/**
 * @example
 * hessianBudget(options, { inputDim: 20, width1: 10, reducedDim: 10, paidBefore: 339 }).points; // 26
 */
export function hessianBudget(
  options: ResolvedOptions,
  at: { inputDim: number; width1: number; reducedDim: number; paidBefore: number },
): HessianBudget {
  const d = at.inputDim;
  const m0 = at.width1;
  const m1 = budgetWidth2(options, m0);
  const perHessian = stencilRows('hessian', options.scheme, at.reducedDim);
  // the budget's P with m1 unknown: P at m1 = ceil(m0 / 2). Budgeting at m1 = 1 (a total within
  // 20 P whatever m1 is) bought fewer Hessians: 46 of 54 widths-auto runs exact against 50 (BENCHMARKS.md)
  const P = d * m0 + m0 + m0 * m1 + m1;
  const shiftQueries = valueOf(options.shiftDataPoints, OPTIONS.shiftDataPoints, { width1: m0, width2: m1, inputDim: d });
  const refineQueries = !options.refine ? 0 : valueOf(options.refineDataPoints, OPTIONS.refineDataPoints, { parameterCount: P, refineDataFactor: options.refineDataFactor });
  const queries = options.hessianBudget === 'auto' ? Math.max(0, options.queryBudget * P - at.paidBefore - (shiftQueries + refineQueries)) : options.hessianBudget * P;
  const affordable = Math.floor(queries / perHessian);
  const points = valueOf(options.hessianPoints, OPTIONS.hessianPoints, { width1: m0, width2: m1, affordable });
  return { width2: m1, parameterCount: P, queriesPerHessian: perHessian, shiftQueries, refineQueries, queries, points, atFloor: options.hessianPoints === 'auto' && affordable < m0 + m1 + 2 };
}
