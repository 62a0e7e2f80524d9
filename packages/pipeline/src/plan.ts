/**
 * identify's plan, made before the first query: the queries of each paying stage and in total, as
 * a multiple of P, against the target (`queryBudget`). It is the Hessian budget's arithmetic on
 * the counts the stages will ask (the noise estimate's 45, the gradients' stencils), so the plan
 * and the run agree: retries refit data already paid and add no queries.
 */
import { stencilRows } from '@nnid/hessian-sampler';
import type { ResolvedOptions } from './options.ts';
import { gradientPointsOf, hessianBudget, NOISE_LINES, NOISE_STEPS } from './hessian-budget.ts';
import type { PayingStage } from './stages.ts';
import type { MemoryPlan } from './memory-plan.ts';

// the noise estimate's 45 queries and the gradients' count live with the Hessian budget (which counts with them)
export { gradientPointsOf, NOISE_LINES, NOISE_STEPS } from './hessian-budget.ts';

export interface QueryPlan {
  /** The widths the plan counts with; `assumed` says which were not known yet. */
  widths: { inputDim: number; width1: number; width2: number; reducedDim: number; assumed: string | null };
  /** P at those widths. */
  parameterCount: number;
  /** Queries planned per paying stage. */
  queries: Record<PayingStage, number>;
  hessianPoints: number;
  queriesPerHessian: number;
  total: number;
  /** total / P. */
  multipleOfP: number;
  /** The target, as a multiple of P (`queryBudget`). */
  target: number;
  exceedsTarget: boolean;
  /** The peak memory per stage against the machine (memory-plan.ts), once identify has planned it. */
  memory?: MemoryPlan;
}

/**
 * The plan at widths (m0, r): known (given, or after range(A)) or, before range(A) with m0 unknown,
 * m0 = r = inputDim as an upper bound (`assumed`).
 */
export function planQueries(options: ResolvedOptions, at: { inputDim: number; width1?: number; reducedDim?: number; gradientQueries?: number }): QueryPlan {
  const d = at.inputDim;
  const width1 = at.width1 ?? options.width1 ?? d;
  const reducedDim = at.reducedDim ?? (options.reduceToRange ? width1 : d);
  const assumed = at.width1 === undefined && options.width1 === undefined ? 'width1 unknown until range(A): m0 = inputDim, an upper bound' : null;
  const noise = options.noise === 'auto' ? NOISE_LINES * (NOISE_STEPS + 1) : 0;
  // after range(A): the rows the gradients paid (a central completion's included), else as planned
  const gradients = at.gradientQueries ?? gradientPointsOf(options, d) * stencilRows('gradient', options.gradientScheme, d);
  const budget = hessianBudget(options, { inputDim: d, width1, reducedDim, paidBefore: noise + gradients });
  const queries: Record<PayingStage, number> = {
    noise,
    gradients,
    hessians: budget.points * budget.queriesPerHessian,
    shifts: budget.shiftQueries,
    refine: budget.refineQueries,
  };
  const total = queries.noise + queries.gradients + queries.hessians + queries.shifts + queries.refine;
  const multipleOfP = total / budget.parameterCount;
  return {
    widths: { inputDim: d, width1, width2: budget.width2, reducedDim, assumed },
    parameterCount: budget.parameterCount,
    queries,
    hessianPoints: budget.points,
    queriesPerHessian: budget.queriesPerHessian,
    total,
    multipleOfP,
    target: options.queryBudget,
    exceedsTarget: multipleOfP > options.queryBudget,
  };
}

/** One line: the plan's total and its stages, as multiples of P. */
export function describePlan(plan: QueryPlan): string {
  const P = plan.parameterCount;
  const part = (n: number) => `${n} (${(n / P).toFixed(1)} P)`;
  const q = plan.queries;
  const { width1, width2, inputDim } = plan.widths;
  return (
    `${plan.total} queries = ${plan.multipleOfP.toFixed(1)} P (P = ${P} at (${inputDim}, ${width1}, ${width2})${plan.widths.assumed ? `; ${plan.widths.assumed}` : ''}): ` +
    `noise ${part(q.noise)}, gradients ${part(q.gradients)}, hessians ${part(q.hessians)} (${plan.hessianPoints} x ${plan.queriesPerHessian}), shifts ${part(q.shifts)}, refine ${part(q.refine)}`
  );
}

/** The warning when the plan exceeds its target (null when it does not). */
export function planWarning(plan: QueryPlan): string | null {
  if (!plan.exceedsTarget) return null;
  const floor = plan.widths.width1 + plan.widths.width2 + 2;
  const hessiansP = plan.queries.hessians / plan.parameterCount;
  return (
    `the plan (${plan.multipleOfP.toFixed(1)} P) exceeds the target of ${plan.target} P (queryBudget): ` +
    `the Hessians alone take ${hessiansP.toFixed(1)} P` +
    (plan.hessianPoints === floor ? ` at the floor of m0 + m1 + 2 = ${floor} Hessians of ${plan.queriesPerHessian} queries` : '')
  );
}
