/**
 * The Hessian budget: how many Hessians identify samples. With `hessianPoints` 'auto' the Hessians
 * get what the query budget leaves after the queries paid before them (noise estimate, gradients)
 * and those planned after them (shift fit, refinement), within [m0 + m1 + 2, 2 (m0 + m1)]: the
 * floor holds even when the budget is smaller (the plan then warns). From `SCALE_START_PARAMETERS` on, the
 * refinement's fresh points give way first (`scaleRefinePoints`).
 */
import { stencilRows } from '@nnid/hessian-sampler';
import { OPTIONS, valueOf, type ResolvedOptions } from './options.ts';
import { budgetWidth2 } from './widths.ts';

/** The noise estimate's lines and steps per line (estimateNoise of @nnid/hessian-sampler): 5 x (8 + 1) = 45 queries. */
export const NOISE_LINES = 5;
export const NOISE_STEPS = 8;

/**
 * From this many parameters on, identify runs at scale: its start (attempt.ts: the completion takes back the first
 * search's rows coherent with the others, the entangled part searched wider) and the refinement's fresh points within
 * the query target (`scaleRefinePoints`). Below it the bits stay. BENCHMARKS.md, ninth to eleventh passes.
 */
export const SCALE_START_PARAMETERS = 4000;

/**
 * At scale, the least share of P the refinement's fresh points keep when they give way to the query target: at
 * (100, 50, 20) the target leaves them 3.31 P (exact on seeds 1-4, BENCHMARKS.md eleventh pass); 3 P where the
 * Hessians' floor alone is over the target ((200, 100, 30): 29.4 P).
 */
export const SCALE_REFINE_FLOOR_FACTOR = 3;

/** Gradients planned for range(A): 'auto' = m0 + 4 (d + 4 when m0 is unknown); 0 without the reduction. */
export function gradientPointsOf(options: ResolvedOptions, inputDim: number): number {
  if (!options.reduceToRange) return 0;
  return valueOf(options.gradientPoints, OPTIONS.gradientPoints, { width1: options.width1, inputDim });
}

/**
 * The refinement's fresh points from `SCALE_START_PARAMETERS` on, when every count is 'auto' and the Hessians at
 * their floor (m0 + m1 + 2) with the default refinement (refineDataFactor P) exceed `queryBudget` P: what the target
 * leaves after the planned noise estimate, gradients, Hessians at the floor and shift fit, at least
 * `SCALE_REFINE_FLOOR_FACTOR` P. null elsewhere (the default count). The plan and the run both count with the planned
 * queries (never the paid ones), so the two agree. At (100, 50, 20): 24,280 -> 20,069 (the plan 125,611 -> 121,400 = 20.0 P).
 *
 * @example
 * scaleRefinePoints(options, { inputDim: 100, width1: 50, reducedDim: 50 }); // 20069 with width2 20
 */
export function scaleRefinePoints(options: ResolvedOptions, at: { inputDim: number; width1: number; reducedDim: number }): number | null {
  const d = at.inputDim;
  const m0 = at.width1;
  const m1 = budgetWidth2(options, m0);
  const P = d * m0 + m0 + m0 * m1 + m1;
  const auto = options.refineDataPoints === 'auto' && options.hessianPoints === 'auto' && options.hessianBudget === 'auto';
  if (!options.refine || !auto || P < SCALE_START_PARAMETERS) return null;
  const refine = valueOf(options.refineDataPoints, OPTIONS.refineDataPoints, { parameterCount: P, refineDataFactor: options.refineDataFactor });
  const noise = options.noise === 'auto' ? NOISE_LINES * (NOISE_STEPS + 1) : 0;
  const gradients = gradientPointsOf({ ...options, width1: m0 }, d) * stencilRows('gradient', options.gradientScheme, d);
  const hessians = (m0 + m1 + 2) * stencilRows('hessian', options.scheme, at.reducedDim);
  const shifts = valueOf(options.shiftDataPoints, OPTIONS.shiftDataPoints, { width1: m0, width2: m1, inputDim: d });
  const left = Math.floor(options.queryBudget * P - noise - gradients - hessians - shifts);
  if (left >= refine) return null;
  return Math.min(refine, Math.max(Math.ceil(SCALE_REFINE_FLOOR_FACTOR * P), left));
}

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
  const refineQueries = !options.refine
    ? 0
    : (scaleRefinePoints(options, at) ?? valueOf(options.refineDataPoints, OPTIONS.refineDataPoints, { parameterCount: P, refineDataFactor: options.refineDataFactor }));
  const queries = options.hessianBudget === 'auto' ? Math.max(0, options.queryBudget * P - at.paidBefore - (shiftQueries + refineQueries)) : options.hessianBudget * P;
  const affordable = Math.floor(queries / perHessian);
  const points = valueOf(options.hessianPoints, OPTIONS.hessianPoints, { width1: m0, width2: m1, affordable });
  return { width2: m1, parameterCount: P, queriesPerHessian: perHessian, shiftQueries, refineQueries, queries, points, atFloor: options.hessianPoints === 'auto' && affordable < m0 + m1 + 2 };
}
