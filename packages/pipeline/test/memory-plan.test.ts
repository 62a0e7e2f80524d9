import { describe, expect, it } from 'vitest';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, type IdentifyProgress } from '@nnid/pipeline';
import { resolveOptions } from '../src/options.ts';
import { planQueries } from '../src/plan.ts';
import { describeMemoryPlan, memoryRefusal, planMemory } from '../src/memory-plan.ts';

const act = { layer1: 'tanh', layer2: 'tanh' } as const;
const GiB = 1024 ** 3;

describe('the memory plan', () => {
  it('at (784, 128, 64) the dense refinement needs hundreds of GiB: refused on 12 GiB, the matrix-free one with a smaller N named', () => {
    const resolved = { ...resolveOptions({ activation: act, seed: 1, width1: 128, width2: 64, threads: 2 }, 784), solver: 'normal-equations' };
    const plan = planQueries(resolved, { inputDim: 784 });
    const memory = planMemory(resolved, plan, { bytes: 12 * GiB, source: 'maxMemory' });
    expect(memory.peakStage).toBe('refine');
    expect(memory.refineSolver).toBe('normal-equations');
    // J alone: 4 P x P numbers, P = 108,736
    expect(memory.peakBytes).toBeGreaterThan(8 * 4 * 108736 ** 2);
    expect(memory.fits).toBe(false);
    const others = memory.stages.filter((s) => s.stage !== 'refine');
    for (const s of others) expect(s.bytes).toBeLessThan(2 * GiB);
    const message = memoryRefusal(memory, plan);
    expect(message).toMatch(/^identify: the plan needs \d+\.\d GiB at its peak \(refine: J \d+ x 108736 and J\^T J 108736 x 108736 \(dense\)\), more than the 12\.0 GiB of maxMemory at \(784, 128, 64\), P = 108736\. What would fit: /);
    expect(message).toMatch(/What would fit: solver: 'matrix-free' with refineDataPoints <= \d+ \(\d\.\d\d P; the plan has \d+\); refine: false; more memory \(maxMemory >= \d+\.\d GiB, or a larger machine\)\.$/);
    expect(describeMemoryPlan(memory)).toContain('memory: peak ');
  });

  it('the matrix-free solver brings the moonshot under 12 GiB with fewer refinement points, not with 4 P', () => {
    // the solver as identify's option names it (refine's 'matrix-free')
    const resolved = { ...resolveOptions({ activation: act, seed: 1, width1: 128, width2: 64, threads: 2 }, 784), solver: 'matrix-free' };
    const plan = planQueries(resolved, { inputDim: 784 });
    const full = planMemory(resolved, plan, { bytes: 12 * GiB, source: 'maxMemory' });
    expect(full.refineSolver).toBe('matrix-free');
    const half = planMemory(resolved, { ...plan, queries: { ...plan.queries, refine: plan.parameterCount } }, { bytes: 12 * GiB, source: 'maxMemory' });
    expect(half.peakBytes).toBeLessThan(full.peakBytes);
    expect(half.fits).toBe(true);
  });

  it("without a solver option the plan counts refine's 'auto': dense at (100, 50, 20) on 3.31 P rows, matrix-free at (200, 100, 30) (3 P) and (784, 128, 64)", () => {
    const solverAt = (d: number, m0: number, m1: number) => {
      const resolved = resolveOptions({ activation: act, seed: 1, width1: m0, width2: m1, threads: 2 }, d);
      return planMemory(resolved, planQueries(resolved, { inputDim: d }), { bytes: 23 * GiB, source: 'maxMemory' });
    };
    expect(solverAt(100, 50, 20).refineSolver).toBe('normal-equations');
    const mid = solverAt(200, 100, 30);
    expect(mid.refineSolver).toBe('matrix-free');
    expect(mid.fits).toBe(true);
    // its fit of (theta, B, tau) first is dense (3,130 parameters on 3 P fresh + 640 shift rows: 1.75 GB for J) and holds the refinement's peak
    const refine = mid.stages.find((s) => s.stage === 'refine')!;
    expect(refine.what).toBe('the fit of (theta, B, tau) first: J 70030 x 3130 and J^T J (dense)');
    expect(refine.bytes).toBeGreaterThan(8 * 70030 * 3130);
    const moon = solverAt(784, 128, 64);
    expect(moon.refineSolver).toBe('matrix-free');
    expect(moon.peakBytes).toBeLessThan(16 * GiB);
  });

  it('the refinement in range(A) is counted where identify runs it: at (200, 100, 30) its data X U beside X in the (theta, B, tau) fit, and its matrix-free fit (13,130 parameters) under the finish in R^d', () => {
    const planAt = (upperFitIterations: number) => {
      const resolved = { ...resolveOptions({ activation: act, seed: 1, width1: 100, width2: 30, threads: 2 }, 200), upperFitIterations };
      const plan = planQueries(resolved, { inputDim: 200 });
      return { plan, memory: planMemory(resolved, plan, { bytes: 23 * GiB, source: 'maxMemory' }) };
    };
    const { plan, memory } = planAt(100);
    const N = plan.queries.refine + plan.queries.shifts;
    const Fu = 100 + 30 * 101;
    const refine = memory.stages.find((s) => s.stage === 'refine')!;
    // X (N x 200) and X U (N x 100), J of the (theta, B, tau) fit and its J^T J
    expect(refine.bytes).toBeGreaterThan(8 * (N * (200 + 100 + Fu) + 3 * Fu * Fu));
    expect(refine.bytes).toBeLessThan(8 * (N * (200 + 100 + Fu) + 3 * Fu * Fu) + GiB);
    // without the (theta, B, tau) fit the finish in R^d (matrix-free) holds the peak: the fit in range(A) has fewer inputs
    const bare = planAt(0).memory.stages.find((s) => s.stage === 'refine')!;
    expect(bare.what).toBe(`${N} points' activations and products (matrix-free)`);
  });

  it("the moonshot with identify's defaults on 12 GiB: refused at the refinement (matrix-free on 4 P rows), and the refineDataPoints the refusal names fits", () => {
    const resolved = resolveOptions({ activation: act, seed: 1, width1: 128, width2: 64, threads: 2 }, 784);
    const plan = planQueries(resolved, { inputDim: 784 });
    const limit = { bytes: 12 * GiB, source: 'maxMemory' as const };
    const memory = planMemory(resolved, plan, limit);
    expect(memory.refineSolver).toBe('matrix-free');
    expect(memory.peakStage).toBe('refine');
    expect(memory.fits).toBe(false);
    for (const s of memory.stages) if (s.stage !== 'refine') expect(s.bytes).toBeLessThan(GiB);
    const named = /refineDataPoints <= (\d+) \((\d\.\d\d) P; the plan has (\d+)\)/.exec(memoryRefusal(memory, plan));
    expect(named).not.toBeNull();
    const N = Number(named![1]);
    expect(N).toBeLessThan(plan.queries.refine);
    expect(N).toBeGreaterThan(3 * plan.parameterCount);
    expect(planMemory(resolved, { ...plan, queries: { ...plan.queries, refine: N } }, limit).fits).toBe(true);
    expect(planMemory(resolved, { ...plan, queries: { ...plan.queries, refine: N + 1000 } }, limit).fits).toBe(false);
  });

  it('identify refuses a plan over maxMemory before the first query, and prints the memory with the plan', async () => {
    const truth = randomNetwork({ inputDim: 20, width1: 10, width2: 3, seed: 1 });
    const oracle = createOracle(networkBlackBox(truth));
    await expect(identify(oracle, { activation: act, seed: 1, width1: 10, width2: 3, threads: 1, maxMemory: 1e6 })).rejects.toThrow(
      /^identify: the plan needs 0\.\d\d GiB at its peak \(\w+: .*\), more than the 0\.00 GiB of maxMemory at \(20, 10, 3\), P = 243\. What would fit: .*more memory \(maxMemory >= 0\.\d\d GiB, or a larger machine\)\.$/,
    );
    expect(oracle.counts().total).toBe(0);
    await expect(identify(oracle, { activation: act, seed: 1, maxMemory: -1 })).rejects.toThrow('invalid argument. `maxMemory` must be');
    const events: IdentifyProgress[] = [];
    await identify(oracle, { activation: act, seed: 1, width1: 10, width2: 3, threads: 1, refine: false, onProgress: (e) => events.push(e) });
    const plan = events.find((e) => e.event === 'plan')!;
    expect(plan.message).toMatch(/\nmemory: peak \d\.\d\d GiB at \w+ \(limit [\d.]+ GiB, os\.totalmem\): gradients /);
    expect(plan.plan!.memory!.fits).toBe(true);
  });
});
