/**
 * identify's plan (made before the first query) against what the run pays, the warning when it
 * exceeds its target, and the progress events against the report: the same stage names and the
 * same seconds.
 */
import { describe, expect, it } from 'vitest';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, PAYING_STAGES, STAGES, type IdentifyProgress } from '@nnid/pipeline';
import { resolveOptions } from '../src/options.ts';
import { describePlan, planQueries, planWarning } from '../src/plan.ts';
import { describeMemoryPlan } from '../src/memory-plan.ts';

const tanh = { layer1: 'tanh', layer2: 'tanh' } as const;

describe('the plan', () => {
  it('on a (1000, 500, 50) network: the Hessian floor alone is ~130 P, over the 20 P target, and it says so', () => {
    const plan = planQueries(resolveOptions({ activation: tanh, seed: 1, width1: 500, width2: 50 }, 1000), { inputDim: 1000 });
    expect(plan.parameterCount).toBe(1000 * 500 + 500 + 500 * 50 + 50);
    expect(plan.hessianPoints).toBe(500 + 50 + 2); // the floor m0 + m1 + 2
    expect(plan.queriesPerHessian).toBe((501 * 502) / 2);
    expect(plan.queries.hessians / plan.parameterCount).toBeGreaterThan(130);
    expect(plan.queries.hessians / plan.parameterCount).toBeLessThan(135);
    expect(plan.exceedsTarget).toBe(true);
    expect(plan.total).toBe(PAYING_STAGES.reduce((s, stage) => s + plan.queries[stage], 0));
    expect(planWarning(plan)).toBe(
      `the plan (${plan.multipleOfP.toFixed(1)} P) exceeds the target of 20 P (queryBudget): the Hessians alone take ${(plan.queries.hessians / plan.parameterCount).toFixed(1)} P at the floor of m0 + m1 + 2 = 552 Hessians of 125751 queries`,
    );
    expect(describePlan(plan)).toMatch(/^\d+ queries = 13\d\.\d P \(P = 525550 at \(1000, 500, 50\)\): noise 45 /);
  });

  it('within its target: no warning; m0 unknown is planned at m0 = inputDim and said to be assumed', () => {
    const small = planQueries(resolveOptions({ activation: tanh, seed: 1, width1: 10, width2: 3 }, 20), { inputDim: 20 });
    expect(small.exceedsTarget).toBe(false);
    expect(planWarning(small)).toBeNull();
    const unknown = planQueries(resolveOptions({ activation: tanh, seed: 1 }, 20), { inputDim: 20 });
    expect(unknown.widths.width1).toBe(20);
    expect(unknown.widths.assumed).toContain('width1 unknown');
  });

  it('over its target on a real run: the warning is in report.warnings and in the plan event', async () => {
    // queryBudget 5 on (20, 10, 3): the floor of m0 + m1 + 2 = 15 Hessians alone is 990 queries = 4.1 P
    const truth = randomNetwork({ inputDim: 20, width1: 10, width2: 3, seed: 1 });
    const events: IdentifyProgress[] = [];
    const { report } = await identify(createOracle(networkBlackBox(truth)), { width1: 10, width2: 3, activation: tanh, seed: 1, threads: 1, queryBudget: 5, onProgress: (e) => events.push(e) });
    expect(report.plan.hessianPoints).toBe(15);
    expect(report.queries.hessians).toBe(15 * 66);
    expect(report.plan.exceedsTarget).toBe(true);
    const warning = planWarning(report.plan)!;
    expect(warning).toContain('exceeds the target of 5 P (queryBudget): the Hessians alone take 4.1 P at the floor of m0 + m1 + 2 = 15 Hessians of 66 queries');
    expect(report.warnings[0]).toBe(warning);
    expect(events[0].message).toBe(`${describePlan(report.plan)}\n${describeMemoryPlan(report.plan.memory!)}\nwarning: ${warning}`);
  });

  it('is emitted before the first query and is what the run pays, stage by stage; progress seconds add up to the report', async () => {
    const truth = randomNetwork({ inputDim: 20, width1: 10, width2: 3, seed: 1 });
    const oracle = createOracle(networkBlackBox(truth));
    const events: { event: IdentifyProgress; queriesSoFar: number }[] = [];
    const { report } = await identify(oracle, {
      width1: 10,
      width2: 3,
      activation: tanh,
      seed: 1,
      threads: 1,
      onProgress: (event) => events.push({ event, queriesSoFar: oracle.counts().total }),
    });
    expect(events[0].event.event).toBe('plan');
    expect(events[0].queriesSoFar).toBe(0);
    const plan = events[0].event.plan!;
    expect(plan).toEqual(report.plan);
    // retries refit data already paid: the plan holds however many attempts run
    for (const stage of PAYING_STAGES) expect(plan.queries[stage]).toBe(report.queries[stage]);
    expect(plan.total).toBe(report.queries.total);
    expect(report.warnings.filter((w) => w.startsWith('the plan'))).toEqual([]);

    // one vocabulary: every event names a stage of STAGES, and each stage's 'end' seconds add up to report.seconds
    const ends = new Map<string, number>();
    for (const { event } of events.slice(1)) {
      expect(STAGES).toContain(event.stage);
      if (event.event === 'end') ends.set(event.stage, (ends.get(event.stage) ?? 0) + event.seconds!);
    }
    const { total, ...byStage } = report.seconds;
    expect(Object.fromEntries(ends)).toEqual(byStage);
    expect(total).toBeGreaterThanOrEqual(Math.max(...Object.values(byStage)));
    expect(Object.keys(byStage).sort()).toEqual(['attribution', 'completion', 'entangled', 'gradients', 'hessians', 'noise', 'range', 'rankOne', 'refine', 'shifts', 'subspace']);
  });
});
