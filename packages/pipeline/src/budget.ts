/**
 * identify within a hard budget (`maxQueries`, paid queries of the run): the stages' counts fitted
 * into it. When the default plan fits, nothing changes (same queries, same bits). When it does not,
 * every stage starts at its floor and the rest of the budget is handed out in the order that
 * measured to matter (BENCHMARKS.md): two more Hessians, the gradients, the shift fit's data, the
 * refinement's fresh points, then Hessians up to the default count. The refinement fits the shift
 * fit's answers besides its fresh points, and answers given (`refinementData`), and with
 * `refitStencils` the gradients' and Hessians' stencils too. Below the floor identify refuses
 * before it pays for a query (when m0 is known), naming the floor.
 *
 * Floors (r = m0 with the range(A) reduction, q = (r + 1)(r + 2) / 2 forward or 2 r^2 + 1 central):
 *   noise      45 (when estimated; 0 when `noise` is given)
 *   gradients  (m0 + 2) stencils of d + 1 (forward) or 2 d (central) queries
 *   hessians   m0 + m1 Hessians of q queries (W has dimension m0 + m1: fewer cannot span it)
 *   shifts     4 (m0 + 2 m1) points (four per unknown of the shift fit)
 *   refine     REFINE_FLOOR_FACTOR P - shifts - answers given, fresh points
 */
import { stencilRows } from '@nnid/hessian-sampler';
import { invalidArgument } from '@nnid/core';
import { gradientPointsOf, hessianBudget, NOISE_LINES, NOISE_STEPS, scaleRefinePoints } from './hessian-budget.ts';
import { OPTIONS, valueOf, type ResolvedOptions } from './options.ts';
import type { PayingStage } from './stages.ts';
import { budgetWidth2 } from './widths.ts';

/**
 * The refinement's floor: fresh, shift-fit and given points together at least this many times P
 * (more data than parameters, so that a small residual means something). Measured on (20, 10, 3)
 * tanh at 6 P (1.07 P of them): 1 of 3 networks exact, the misses from the start (13 Hessians),
 * not the data; at 8 P (2.5 P) 3 of 3. The stencils' answers (clustered within a step of a few
 * centers) added nothing there.
 */
export const REFINE_FLOOR_FACTOR = 1;

/** The counts a budgeted run uses. */
export interface StageCounts {
  gradientPoints: number;
  hessianPoints: number;
  shiftDataPoints: number;
  refineDataPoints: number;
}

export interface BudgetPlan {
  /** Paid queries the run may make (maxQueries). */
  maxQueries: number;
  /** The default plan did not fit: counts lowered toward their floors, stencils refitted. */
  binding: boolean;
  counts: StageCounts;
  /** The queries of each paying stage at these counts, and their sum. */
  queries: Record<PayingStage, number>;
  total: number;
  /** The pipeline's floor at these widths: per stage and in total. */
  floor: Record<PayingStage, number> & { total: number };
  parameterCount: number;
  widths: { inputDim: number; width1: number; width2: number; reducedDim: number };
}

/** The widths a budget counts with (m1 as the Hessian budget counts it when unknown). */
interface At {
  inputDim: number;
  width1: number;
  reducedDim: number;
  /** Once range(A) is known: the queries this run has paid (the noise estimate and the gradients) and the gradients' count. */
  paid?: { queries: number; gradientPoints: number };
  /** Answers in hand that the refinement fits (given to identify): fewer fresh points needed. */
  paidFitPoints?: number;
}

const noiseQueries = (options: ResolvedOptions) => (options.noise === 'auto' ? NOISE_LINES * (NOISE_STEPS + 1) : 0);

/**
 * The stages' counts within `maxQueries` at widths `at`; throws (house template, naming the floor)
 * when even the floor does not fit.
 *
 * @example
 * planWithinBudget(options, 1700, { inputDim: 20, width1: 10, reducedDim: 10 }).counts.hessianPoints; // 13..26
 */
export function planWithinBudget(options: ResolvedOptions, maxQueries: number, at: At): BudgetPlan {
  const d = at.inputDim;
  const m0 = at.width1;
  const m1 = budgetWidth2(options, m0);
  const r = at.reducedDim;
  const P = d * m0 + m0 + m0 * m1 + m1;
  const perGradient = stencilRows('gradient', options.gradientScheme, d);
  const perHessian = stencilRows('hessian', options.scheme, r);
  // once paid, the noise estimate and the gradients count as one number (under 'gradients')
  const gradientsFixed = at.paid !== undefined;
  const noise = gradientsFixed ? 0 : noiseQueries(options);
  const g0 = at.paid ? at.paid.gradientPoints : gradientPointsOf({ ...options, width1: m0 }, d);
  const gradientQueries = (g: number) => (at.paid ? at.paid.queries : g * perGradient);
  const inHand = at.paidFitPoints ?? 0;
  // the default counts (identify without maxQueries)
  const s0 = valueOf(options.shiftDataPoints, OPTIONS.shiftDataPoints, { width1: m0, width2: m1, inputDim: d });
  const f0 = !options.refine
    ? 0
    : Math.max(0, (scaleRefinePoints(options, at) ?? valueOf(options.refineDataPoints, OPTIONS.refineDataPoints, { parameterCount: P, refineDataFactor: options.refineDataFactor })) - inHand);
  const n0 = hessianBudget(options, { inputDim: d, width1: m0, reducedDim: r, paidBefore: noise + gradientQueries(g0) }).points;
  // the floors (a count given as an option is its own floor)
  const gMin = gradientsFixed || options.gradientPoints !== 'auto' || !options.reduceToRange ? g0 : Math.min(g0, m0 + 2);
  const nMin = options.hessianPoints !== 'auto' ? n0 : Math.min(n0, m0 + m1);
  const sMin = options.shiftDataPoints !== 'auto' ? s0 : Math.min(s0, 4 * (m0 + 2 * m1));
  const fMin = !options.refine || options.refineDataPoints !== 'auto' ? f0 : Math.min(f0, Math.max(0, Math.ceil(REFINE_FLOOR_FACTOR * P) - sMin - inHand));
  const queriesOf = (c: StageCounts): Record<PayingStage, number> => ({
    noise,
    gradients: gradientQueries(c.gradientPoints),
    hessians: c.hessianPoints * perHessian,
    shifts: c.shiftDataPoints,
    refine: c.refineDataPoints,
  });
  const sum = (q: Record<PayingStage, number>) => q.noise + q.gradients + q.hessians + q.shifts + q.refine;
  const floorCounts: StageCounts = { gradientPoints: gMin, hessianPoints: nMin, shiftDataPoints: sMin, refineDataPoints: fMin };
  const floorQueries = queriesOf(floorCounts);
  const floor = { ...floorQueries, total: sum(floorQueries) };
  const widths = { inputDim: d, width1: m0, width2: m1, reducedDim: r };
  const defaults: StageCounts = { gradientPoints: g0, hessianPoints: n0, shiftDataPoints: s0, refineDataPoints: f0 };
  const defaultQueries = queriesOf(defaults);
  if (sum(defaultQueries) <= maxQueries) {
    return { maxQueries, binding: false, counts: defaults, queries: defaultQueries, total: sum(defaultQueries), floor, parameterCount: P, widths };
  }
  if (floor.total > maxQueries) {
    const part = (n: number) => `${n} (${(n / P).toFixed(2)} P)`;
    invalidArgument(
      'maxQueries',
      `must be at least ${floor.total} = ${(floor.total / P).toFixed(2)} P, the floor of the paper's pipeline at (d, m0, m1) = (${d}, ${m0}, ${m1}): ` +
        `${gradientsFixed ? `noise and gradients ${part(floor.gradients)} (paid)` : `noise ${part(floor.noise)}, gradients ${part(floor.gradients)} (${gMin} x ${perGradient})`}, hessians ${part(floor.hessians)} (${nMin} x ${perHessian}), ` +
        `shifts ${part(floor.shifts)}, refine ${part(floor.refine)}; below it use method 'fit' or 'auto'`,
      maxQueries,
    );
  }
  // hand out what is left above the floor, in order
  const counts = { ...floorCounts };
  let left = maxQueries - floor.total;
  const grow = (key: keyof StageCounts, to: number, unit: number) => {
    const more = Math.max(0, Math.min(to - counts[key], Math.floor(left / unit)));
    counts[key] += more;
    left -= more * unit;
  };
  grow('hessianPoints', Math.min(n0, m0 + m1 + 2), perHessian);
  if (!gradientsFixed) grow('gradientPoints', g0, perGradient);
  grow('shiftDataPoints', s0, 1);
  grow('refineDataPoints', f0, 1);
  grow('hessianPoints', n0, perHessian);
  const queries = queriesOf(counts);
  return { maxQueries, binding: true, counts, queries, total: sum(queries), floor, parameterCount: P, widths };
}

/** One line: the budget, whether it bound, the floor. */
export function describeBudget(plan: BudgetPlan): string {
  const P = plan.parameterCount;
  const c = plan.counts;
  return (
    `maxQueries ${plan.maxQueries} (${(plan.maxQueries / P).toFixed(2)} P): ` +
    (plan.binding
      ? `plan lowered to ${plan.total} (${(plan.total / P).toFixed(2)} P; ${c.gradientPoints} gradients, ${c.hessianPoints} Hessians, ${c.shiftDataPoints} shift points, ${c.refineDataPoints} fresh refinement points; the stencils' answers refitted)`
      : `the default plan fits (${plan.total} queries)`) +
    `; the pipeline's floor ${plan.floor.total} (${(plan.floor.total / P).toFixed(2)} P)`
  );
}
