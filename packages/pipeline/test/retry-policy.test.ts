/** The retry policy on fake outcomes: which attempt follows which, with which m1 and why. */
import { describe, expect, it } from 'vitest';
import { decide, dimensionFor, firstPlan, GROWTH_GAIN, type PolicyContext, type Step } from '../src/retry-policy.ts';

const inferred: PolicyContext = { width2Given: false, width1: 10, refine: true, threshold: 1e-9 };
const given: PolicyContext = { ...inferred, width2Given: true };

describe('firstPlan', () => {
  it('the first dimension, then one per retry factor, duplicates skipped, ids in creation order', () => {
    // m0 + m1 = 13: factors 2, 1, 1.25, 0.75 -> 26, 13, 16, 10; 1.5 -> 20 first
    const plan = firstPlan(20, [2, 1, 1.25, 0.75, 1.5, 1], { width1: 10, width2: 3, maxDim: 66 });
    expect(plan.map((s) => s.subspaceDimension)).toEqual([20, 26, 13, 16, 10]);
    expect(plan.map((s) => s.id)).toEqual([0, 1, 2, 3, 4]);
    expect(plan.every((s) => s.width2 === undefined)).toBe(true);
  });

  it('dimensions stay within what the stack gives; a given m1 goes into every step', () => {
    expect(dimensionFor(2, 10, 3, 20)).toBe(20);
    expect(dimensionFor(0.01, 10, 3, 20)).toBe(1);
    const plan = firstPlan(12, [2, 1], { width1: 6, width2: 2, maxDim: 14, width2Given: 2 });
    expect(plan).toEqual([
      { id: 0, subspaceDimension: 12, width2: 2 },
      { id: 1, subspaceDimension: 14, width2: 2 },
      { id: 2, subspaceDimension: 8, width2: 2 },
    ]);
  });
});

describe('decide', () => {
  const plan: readonly Step[] = firstPlan(20, [2, 1], { width1: 10, width2: 3, maxDim: 66 });

  it('stops at a residual within the threshold, and without refinement', () => {
    expect(decide(plan, 0, { ok: true, width2: 3, refinedResidual: 1e-15 }, inferred).stop).toBe(true);
    expect(decide(plan, 0, { ok: true, width2: 3, refinedResidual: null }, { ...inferred, refine: false }).stop).toBe(true);
    expect(decide(plan, 0, { ok: true, width2: 3, refinedResidual: 1e-3 }, { ...inferred, refine: false }).stop).toBe(true);
  });

  it('with m1 inferred, a failed check tries the same dimension with one more unit first (a new step, the plan not mutated)', () => {
    const before = plan.map((s) => ({ ...s }));
    const next = decide(plan, 0, { ok: true, width2: 3, refinedResidual: 1e-2 }, inferred);
    expect(plan).toEqual(before);
    expect(next.stop).toBe(false);
    expect(next.plan[1]).toEqual({ id: 3, subspaceDimension: 20, width2: 4, grownFrom: 1e-2 });
    expect(next.plan.slice(2)).toEqual(plan.slice(1));
    expect(next.reason).toBe('relative residual 1.00e-2 > 1e-9 after refinement (subspace dimension 20, m1 = 3)');
    expect(next.warning).toBe(
      'truth-free check failed (relative residual 1.00e-2 > 1e-9 after refinement (subspace dimension 20, m1 = 3)); retrying with subspace dimension 20, m1 = 4',
    );
  });

  it(`keeps adding units while each lowers the residual at least ${GROWTH_GAIN}-fold, and no further than m0`, () => {
    const grown = decide(plan, 0, { ok: true, width2: 3, refinedResidual: 1e-2 }, inferred).plan;
    const halved = decide(grown, 1, { ok: true, width2: 4, refinedResidual: 5e-3 }, inferred);
    expect(halved.plan[2]).toEqual({ id: 4, subspaceDimension: 20, width2: 5, grownFrom: 5e-3 });
    const notHalved = decide(grown, 1, { ok: true, width2: 4, refinedResidual: 6e-3 }, inferred);
    expect(notHalved.plan).toEqual(grown);
    expect(notHalved.warning).toContain(`retrying with subspace dimension ${grown[2].subspaceDimension}`);
    const atWidth1 = decide(plan, 0, { ok: true, width2: 10, refinedResidual: 1e-2 }, inferred);
    expect(atWidth1.plan).toEqual(plan);
  });

  it('with m1 given, a failed check moves to the next dimension; after the last there is no warning', () => {
    const withM1 = firstPlan(20, [2], { width1: 10, width2: 3, maxDim: 66, width2Given: 3 });
    const next = decide(withM1, 0, { ok: true, width2: 3, refinedResidual: 1e-2 }, given);
    expect(next.plan).toEqual(withM1);
    expect(next.warning).toContain('retrying with subspace dimension 26, m1 = 3');
    const last = decide(withM1, 1, { ok: true, width2: 3, refinedResidual: 1e-2 }, given);
    expect(last.stop).toBe(false);
    expect(last.warning).toBeNull();
  });

  it('an attempt that found no entangled weight (m1 inferred) is followed by the same dimension at m1 = 1', () => {
    const next = decide(plan, 0, { ok: false, message: 'no entangled weight' }, inferred);
    expect(next.plan[1]).toEqual({ id: 3, subspaceDimension: 20, width2: 1, grownFrom: Infinity });
    expect(next.reason).toBe('attempt 0 failed');
    expect(next.warning).toBe('attempt with subspace dimension 20 failed: no entangled weight');
    // m1 = 1 then grows while each unit pays (grownFrom = Infinity: the first always does)
    const grew = decide(next.plan, 1, { ok: true, width2: 1, refinedResidual: 0.3 }, inferred);
    expect(grew.plan[2]).toMatchObject({ subspaceDimension: 20, width2: 2, grownFrom: 0.3 });
    // m1 given: a failed attempt moves on
    expect(decide(plan, 0, { ok: false, message: 'x' }, given).plan).toEqual(plan);
  });
});
