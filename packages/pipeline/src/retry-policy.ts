/**
 * The retry policy: which attempts identify makes, and in which order. Pure functions of a step
 * and its outcome (unit-tested with fake outcomes); the plan is a value replaced, never spliced
 * while it is iterated.
 *
 * Attempts are (dimension of W-hat, m1). With m1 unknown each dimension first infers it (w);
 * when the check fails there, the same dimension is tried with w + 1 (a unit the search missed)
 * before the next dimension, and with w + 2, ... while each added unit lowers the residual at
 * least GROWTH_GAIN-fold (units still missing); when no unit is found at all, from m1 = 1.
 */

/** One planned attempt. */
export interface Step {
  /** Creation order: seeds the attempt, so that its result does not depend on when or where it runs. */
  id: number;
  subspaceDimension: number;
  /** m1 of the attempt, when given or tried; undefined: the attribution's count. */
  width2?: number;
  /** The residual of the attempt before, at width2 - 1 (see GROWTH_GAIN). */
  grownFrom?: number;
}

/**
 * With m1 inferred, a failing attempt at m1 = w + 1 is followed by one at w + 2 when the added unit
 * lowered the relative residual at least this many times (units still missing, not a local minimum);
 * 10 stopped (10, 10, 3) runs at m1 = 2 (0.3 -> 0.1) and (20, 20, 5) runs at 4 (1e-2 -> 3e-3).
 */
export const GROWTH_GAIN = 2;

/** The dimension of W-hat for a factor of (m0 + m1), within what the stack can give. */
export function dimensionFor(factor: number, m0: number, m1: number, maxDim: number): number {
  return Math.max(1, Math.min(maxDim, Math.round(factor * (m0 + m1))));
}

/** The first plan: the first dimension, then one per retry factor (duplicates skipped), all at the given m1. */
export function firstPlan(first: number, retryFactors: readonly number[], at: { width1: number; width2: number; maxDim: number; width2Given?: number }): Step[] {
  const dims = [first];
  for (const f of retryFactors) {
    const k = dimensionFor(f, at.width1, at.width2, at.maxDim);
    if (!dims.includes(k)) dims.push(k);
  }
  return dims.map((k, id) => ({ id, subspaceDimension: k, ...(at.width2Given !== undefined ? { width2: at.width2Given } : {}) }));
}

/** What the policy needs of an attempt that ran. */
export type Outcome =
  | { ok: false; message: string }
  | { ok: true; width2: number; refinedResidual: number | null };

export interface PolicyContext {
  /** m1 given by the caller (then it never grows). */
  width2Given: boolean;
  width1: number;
  refine: boolean;
  /** The truth-free check's threshold. */
  threshold: number;
}

export interface Decision {
  /** The attempt passed (or there is nothing to check): no more attempts. */
  stop: boolean;
  /** The plan from here on (the same steps before `index`, maybe one more after it). */
  plan: readonly Step[];
  /** Why the next attempt runs (its report's `reason`). */
  reason: string;
  warning: string | null;
}

function insertAfter(plan: readonly Step[], index: number, step: Omit<Step, 'id'>): Step[] {
  const id = plan.reduce((max, s) => Math.max(max, s.id), -1) + 1;
  return [...plan.slice(0, index + 1), { id, ...step }, ...plan.slice(index + 1)];
}

/** The decision after attempt `index` of `plan` ended with `outcome`. */
export function decide(plan: readonly Step[], index: number, outcome: Outcome, context: PolicyContext): Decision {
  const step = plan[index];
  if (!outcome.ok) {
    // m1 unknown and none inferred (no entangled weight passed the check): the same dimension
    // with m1 = 1, then more units while they pay
    const next = step.width2 === undefined && !context.width2Given ? insertAfter(plan, index, { subspaceDimension: step.subspaceDimension, width2: 1, grownFrom: Infinity }) : plan;
    return { stop: false, plan: next, reason: `attempt ${index} failed`, warning: `attempt with subspace dimension ${step.subspaceDimension} failed: ${outcome.message}` };
  }
  const residual = outcome.refinedResidual;
  if (!context.refine || residual === null || residual <= context.threshold) return { stop: true, plan, reason: '', warning: null };
  const reason = `relative residual ${residual.toExponential(2)} > ${context.threshold} after refinement (subspace dimension ${step.subspaceDimension}, m1 = ${outcome.width2})`;
  const grow = step.width2 === undefined || (step.grownFrom !== undefined && residual * GROWTH_GAIN <= step.grownFrom);
  const next =
    grow && !context.width2Given && outcome.width2 + 1 <= context.width1
      ? insertAfter(plan, index, { subspaceDimension: step.subspaceDimension, width2: outcome.width2 + 1, grownFrom: residual })
      : plan;
  const following = next[index + 1];
  const warning = following
    ? `truth-free check failed (${reason}); retrying with subspace dimension ${following.subspaceDimension}${following.width2 !== undefined ? `, m1 = ${following.width2}` : ''}`
    : null;
  return { stop: false, plan: next, reason, warning };
}
