/**
 * At scale (P >= SCALE_START_PARAMETERS) the refinement's fresh points give way to the query target when the
 * Hessians' floor with 4 P of them exceeds it: the plan's arithmetic at (100, 50, 20), (200, 100, 30) and below the
 * gate, and on a planted P >= 4,000 network the run pays what the plan says (stopped at the refinement's first step).
 */
import { describe, expect, it } from 'vitest';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, PAYING_STAGES, type IdentifyProgress, type QueryPlan } from '@nnid/pipeline';
import { resolveOptions } from '../src/options.ts';
import { planQueries } from '../src/plan.ts';
import { planWithinBudget } from '../src/budget.ts';
import { SCALE_REFINE_FLOOR_FACTOR, SCALE_START_PARAMETERS, scaleRefinePoints } from '../src/hessian-budget.ts';

const tanh = { layer1: 'tanh', layer2: 'tanh' } as const;
const planAt = (d: number, m0: number, m1: number, more: Record<string, unknown> = {}) =>
  planQueries(resolveOptions({ activation: tanh, seed: 1, width1: m0, width2: m1, ...more }, d), { inputDim: d });

describe('the refinement within the query target at scale', () => {
  it('(100, 50, 20): 72 Hessians at the floor, the fresh points what 20 P leaves (20,069 = 3.31 P), the plan at 20 P', () => {
    const plan = planAt(100, 50, 20);
    expect(plan.parameterCount).toBe(6070);
    expect(plan.hessianPoints).toBe(72);
    expect(plan.queries.hessians).toBe(72 * 1326);
    expect(plan.queries.refine).toBe(121400 - 45 - 54 * 101 - 72 * 1326 - 360);
    expect(plan.queries.refine).toBe(20069);
    expect(plan.total).toBe(121400);
    expect(plan.exceedsTarget).toBe(false);
    // the run counts with the same function (attempt-refine.ts)
    expect(scaleRefinePoints(resolveOptions({ activation: tanh, seed: 1, width1: 50, width2: 20 }, 100), { inputDim: 100, width1: 50, reducedDim: 50 })).toBe(20069);
    // a budget that the default plan fits takes the same counts (not binding)
    const budget = planWithinBudget(resolveOptions({ activation: tanh, seed: 1, width1: 50, width2: 20 }, 100), 121400, { inputDim: 100, width1: 50, reducedDim: 50 });
    expect(budget.binding).toBe(false);
    expect(budget.total).toBe(121400);
    expect(budget.counts.refineDataPoints).toBe(20069);
  });

  it('(200, 100, 30): the Hessian floor alone is over the target, the fresh points stop at SCALE_REFINE_FLOOR_FACTOR P', () => {
    const plan = planAt(200, 100, 30);
    expect(plan.queries.refine).toBe(Math.ceil(SCALE_REFINE_FLOOR_FACTOR * 23130));
    expect(plan.queries.refine).toBe(69390);
    expect(plan.hessianPoints).toBe(132);
    expect(plan.exceedsTarget).toBe(true);
  });

  it('below SCALE_START_PARAMETERS, with a count given, or when the target holds the default 4 P, nothing changes', () => {
    const small = planAt(50, 30, 10); // P = 1,840: 4 P as before
    expect(small.parameterCount).toBeLessThan(SCALE_START_PARAMETERS);
    expect(small.queries.refine).toBe(4 * 1840);
    const given = planAt(100, 50, 20, { refineDataPoints: 24280 });
    expect(given.queries.refine).toBe(24280);
    expect(given.total).toBe(125611);
    expect(planAt(100, 50, 20, { hessianPoints: 72 }).queries.refine).toBe(24280);
    expect(planAt(100, 50, 20, { refine: false }).queries.refine).toBe(0);
    // (784, 128, 64): the target buys 195 Hessians above the floor of 194 with 4 P
    const large = planAt(784, 128, 64);
    expect(large.hessianPoints).toBe(195);
    expect(large.queries.refine).toBe(4 * 108736);
  });

  it('on a planted (400, 10, 2) network (P = 4,032) at queryBudget 5: the run pays the plan, its fresh points what 5 P leaves', async () => {
    const truth = randomNetwork({ inputDim: 400, width1: 10, width2: 2, activation: 'tanh', seed: 3 });
    const oracle = createOracle(networkBlackBox(truth));
    const stop = new Error('stop at the refinement');
    let plan: QueryPlan | undefined;
    let paidAtRefine = -1;
    await expect(
      identify(oracle, {
        width1: 10,
        width2: 2,
        activation: tanh,
        seed: 1,
        threads: 1,
        queryBudget: 5,
        onProgress: (e: IdentifyProgress) => {
          if (e.event === 'plan') plan = e.plan;
          if (e.event === 'step' && e.stage === 'refine') {
            // the refinement's data is paid before its first step: every query of the run
            paidAtRefine = oracle.counts().total;
            throw stop;
          }
        },
      }),
    ).rejects.toThrow('stop at the refinement');
    expect(plan!.parameterCount).toBe(4032);
    // Hessians at their floor m0 + m1 + 2 = 14 (66 queries each in range(A)), the fresh points what 5 P leaves
    expect(plan!.hessianPoints).toBe(14);
    const left = 5 * 4032 - 45 - 14 * 401 - 14 * 66 - 200;
    expect(left).toBeGreaterThan(SCALE_REFINE_FLOOR_FACTOR * 4032);
    expect(plan!.queries.refine).toBe(left);
    expect(plan!.total).toBe(5 * 4032);
    expect(plan!.total).toBe(PAYING_STAGES.reduce((s, stage) => s + plan!.queries[stage], 0));
    expect(paidAtRefine).toBe(plan!.total);
  });
});
