/**
 * identify within a hard budget (maxQueries: the plan fits the stages into it, refuses below the
 * pipeline's floor) and method 'auto' (identifyAuto: the fit below the floor, the pipeline above it,
 * the fit after a failed pipeline on the answers already paid). Every run: the oracle's count never
 * exceeds the budget; a passed check means an exact network (no silent wrong answer).
 */
import { describe, expect, it } from 'vitest';
import { parameterCount, serializeNetwork, type Network } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, identifyAuto, OPTIONS, planWithinBudget, score } from '@nnid/pipeline';
import { resolveOptions } from '../src/options.ts';
import { memoOracle } from '../src/paid-data.ts';
import { studentFit } from '@nnid/student-fit';

const tanh = { layer1: 'tanh', layer2: 'tanh' } as const;
const exact = (truth: Network, net: Network) => score(truth, net, { points: 2000 }).function.gaussian.relativeL2 <= 1e-8;

describe('planWithinBudget', () => {
  const options = resolveOptions({ activation: tanh, seed: 1, width1: 10, width2: 3 }, 20);
  const at = { inputDim: 20, width1: 10, reducedDim: 10 };
  const P = 20 * 10 + 10 + 30 + 3;

  it('the default plan when it fits: not binding, the default counts', () => {
    const plan = planWithinBudget(options, 20 * P, at);
    expect(plan.binding).toBe(false);
    expect(plan.counts).toEqual({ gradientPoints: 14, hessianPoints: 26, shiftDataPoints: 200, refineDataPoints: 4 * P });
    expect(plan.total).toBeLessThanOrEqual(20 * P);
  });

  it('each stage floor: noise 45, (m0 + 2) gradients, m0 + m1 Hessians, 4 (m0 + 2 m1) shift points, P - shifts fresh points', () => {
    const plan = planWithinBudget(options, 8 * P, at);
    expect(plan.floor).toEqual({ noise: 45, gradients: 12 * 21, hessians: 13 * 66, shifts: 64, refine: P - 64, total: 45 + 252 + 858 + 64 + P - 64 });
    expect(plan.binding).toBe(true);
    expect(plan.total).toBeLessThanOrEqual(8 * P);
    // two more Hessians, the gradients and the shift points first, then fresh refinement points
    expect(plan.counts.hessianPoints).toBe(15);
    expect(plan.counts.gradientPoints).toBe(14);
    expect(plan.counts.shiftDataPoints).toBe(200);
    expect(plan.counts.refineDataPoints).toBe(8 * P - (45 + 14 * 21 + 15 * 66 + 200));
  });

  it('below the floor: refused in the house template, naming the floor', () => {
    expect(() => planWithinBudget(options, 5 * P, at)).toThrow(
      "invalid argument. `maxQueries` must be at least 1398 = 5.75 P, the floor of the paper's pipeline at (d, m0, m1) = (20, 10, 3): noise 45 (0.19 P), gradients 252 (1.04 P) (12 x 21), hessians 858 (3.53 P) (13 x 66), shifts 64 (0.26 P), refine 179 (0.74 P); below it use method 'fit' or 'auto'. Value: `1215`.",
    );
  });

  it('answers in hand lower the fresh refinement points, not the rest', () => {
    const plan = planWithinBudget(options, 20 * P, { ...at, paidFitPoints: 3 * P });
    expect(plan.counts.refineDataPoints).toBe(P);
  });
});

describe('identify with maxQueries', () => {
  it('below the floor with the widths given: refused before any query', async () => {
    const truth = randomNetwork({ inputDim: 20, width1: 10, width2: 3, seed: 1 });
    const oracle = createOracle(networkBlackBox(truth));
    await expect(identify(oracle, { width1: 10, width2: 3, activation: tanh, seed: 1, threads: 1, maxQueries: 1215 })).rejects.toThrow('`maxQueries` must be at least 1398');
    expect(oracle.counts().total).toBe(0);
  });

  it('(20, 10, 3) tanh at 8 P: the plan binds, the oracle never pays more, exact', async () => {
    const truth = randomNetwork({ inputDim: 20, width1: 10, width2: 3, seed: 2 });
    const B = 8 * parameterCount(truth);
    const oracle = createOracle(networkBlackBox(truth), { maxQueries: B });
    const result = await identify(oracle, { width1: 10, width2: 3, activation: tanh, seed: 2, threads: 2, maxQueries: B });
    expect(oracle.counts().paid).toBeLessThanOrEqual(B);
    expect(result.report.budget!.binding).toBe(true);
    expect(result.report.queries.total).toBe(result.report.budget!.total);
    expect(result.report.check.passed).toBe(true);
    expect(exact(truth, result.network)).toBe(true);
  });
});

describe('the memo oracle', () => {
  it('answers a row asked again from memory, unpaid', async () => {
    const truth = randomNetwork({ inputDim: 6, width1: 3, width2: 2, seed: 1 });
    const inner = createOracle(networkBlackBox(truth));
    const { oracle, hits } = memoOracle(inner);
    const X = { data: Float64Array.from({ length: 18 }, (_, i) => Math.sin(i)), offset: 0, shape: [3, 6], strides: [6, 1] };
    const first = await oracle.evaluate(X);
    const again = await oracle.evaluate({ ...X, data: X.data.slice(6), shape: [2, 6] });
    expect(Array.from(again)).toEqual(Array.from(first.slice(1)));
    expect(hits()).toBe(2);
    expect(oracle.counts()).toEqual({ total: 5, paid: 3, reused: 2 });
  });
});

describe("method 'auto'", () => {
  const cases = [
    { name: '(10, 6, 3) tanh, no budget', size: [10, 6, 3] as const, seed: 1, budget: null },
    { name: '(20, 10, 3) tanh, no budget', size: [20, 10, 3] as const, seed: 3, budget: null },
  ];
  for (const c of cases) {
    it(`${c.name}: the pipeline first, exact; the same bits on 1 and 2 threads`, async () => {
      const [d, m0, m1] = c.size;
      const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, seed: c.seed });
      const runOn = async (threads: number) => {
        const oracle = createOracle(networkBlackBox(truth));
        return { oracle, result: await identifyAuto(oracle, { width1: m0, width2: m1, activation: tanh, seed: c.seed, threads }) };
      };
      const two = await runOn(2);
      const one = await runOn(1);
      expect(two.result.report.method.tried[0].method).toBe('pipeline');
      expect(two.result.report.check.passed).toBe(true);
      expect(exact(truth, two.result.network)).toBe(true);
      expect(serializeNetwork(one.result.network)).toEqual(serializeNetwork(two.result.network));
      expect(one.result.report.method.chosen).toBe(two.result.report.method.chosen);
      expect(two.oracle.counts().paid).toBe(two.result.report.queries.paid);
    });
  }

  it('(10, 6, 3) tanh at 5 P, below the floor: the fit on all of it; the oracle never pays more; a passed check is exact', async () => {
    const truth = randomNetwork({ inputDim: 10, width1: 6, width2: 3, seed: 1 });
    const B = 5 * parameterCount(truth);
    const oracle = createOracle(networkBlackBox(truth), { maxQueries: B });
    const result = await identifyAuto(oracle, { width1: 6, width2: 3, activation: tanh, seed: 1, threads: 2, maxQueries: B });
    const [first] = result.report.method.tried;
    expect(first.method).toBe('fit');
    expect(first.why).toContain("below the pipeline's floor");
    expect(result.report.method.pipelineFloor!).toBeGreaterThan(B);
    expect(oracle.counts().paid).toBeLessThanOrEqual(B);
    expect(result.report.check.passed).toBe(exact(truth, result.network));
  });

  it('(16, 4, 2) tanh at 2.5 P, below the floor: the fit in range(A) coordinates, exact where the plain fit is not; the budget paid; the same bits on 1 and 2 threads', async () => {
    const truth = randomNetwork({ inputDim: 16, width1: 4, width2: 2, seed: 7 });
    const B = Math.floor(2.5 * parameterCount(truth));
    // the precondition: the plain fit (method 'fit', auto's 6 starts) on this budget is not exact
    const plainOracle = createOracle(networkBlackBox(truth), { maxQueries: B });
    const plain = await studentFit(plainOracle, { width1: 4, width2: 2, dataPoints: B, starts: 6, seed: 7, threads: 2 });
    expect(plain.report.check.passed).toBe(false);
    expect(exact(truth, plain.network)).toBe(false);
    const runOn = async (threads: number) => {
      const oracle = createOracle(networkBlackBox(truth), { maxQueries: B });
      return { oracle, result: await identifyAuto(oracle, { width1: 4, width2: 2, activation: tanh, seed: 7, threads, maxQueries: B }) };
    };
    const two = await runOn(2);
    const one = await runOn(1);
    expect(two.result.report.method.tried.map((t) => t.method)).toEqual(['fit']);
    expect(two.result.report.method.pipelineFloor!).toBeGreaterThan(B);
    expect(two.result.fit!.report.range!.reduced!.parameterCount).toBe(parameterCount(truth) - 4 * 12);
    expect(two.result.report.check.passed).toBe(true);
    expect(exact(truth, two.result.network)).toBe(true);
    expect(two.oracle.counts().paid).toBeLessThanOrEqual(B);
    expect(serializeNetwork(one.result.network)).toEqual(serializeNetwork(two.result.network));
  });

  it('(20, 10, 3) tanh at 2 P, below the floor: range(A) with the gradients as derivative equations, exact where the plain fit is not; the budget respected; the same bits on 1 and 2 threads', async () => {
    const truth = randomNetwork({ inputDim: 20, width1: 10, width2: 3, seed: 3 });
    const B = 2 * parameterCount(truth);
    // the precondition: the plain fit (auto's 6 starts; in range(A) with values only, 1.7 answers per unknown against 2.0) is not exact
    const plainOracle = createOracle(networkBlackBox(truth), { maxQueries: B });
    const plain = await studentFit(plainOracle, { width1: 10, width2: 3, dataPoints: B, starts: 6, seed: 3, threads: 2 });
    expect(plain.report.check.passed).toBe(false);
    expect(exact(truth, plain.network)).toBe(false);
    const runOn = async (threads: number) => {
      const oracle = createOracle(networkBlackBox(truth), { maxQueries: B });
      return { oracle, result: await identifyAuto(oracle, { width1: 10, width2: 3, activation: tanh, seed: 3, threads, maxQueries: B }) };
    };
    const two = await runOn(2);
    const one = await runOn(1);
    expect(two.result.report.method.tried.map((t) => t.method)).toEqual(['fit']);
    expect(two.result.fit!.report.range!.derivativeRows).toBe(12 * 10);
    expect(two.result.report.check.passed).toBe(true);
    expect(exact(truth, two.result.network)).toBe(true);
    expect(two.oracle.counts().paid).toBeLessThanOrEqual(B);
    expect(serializeNetwork(one.result.network)).toEqual(serializeNetwork(two.result.network));
  });

  it('widths not given: the pipeline alone, with its own retries (no fit can follow, so none is cut)', async () => {
    const truth = randomNetwork({ inputDim: 10, width1: 6, width2: 3, seed: 1 });
    const oracle = createOracle(networkBlackBox(truth));
    const result = await identifyAuto(oracle, { activation: tanh, seed: 1, threads: 2 });
    expect(result.report.method.tried.map((t) => t.method)).toEqual(['pipeline']);
    expect(result.report.method.tried[0].why).toContain('width1 or width2 not given');
    expect(result.report.pipeline!.options.retryFactors).toEqual(OPTIONS.retryFactors.default);
  });

  it('a failed pipeline continues with the fit on the answers already paid (from memory, not paid again), within the budget', async () => {
    // one attempt with a tiny W-hat (subspaceDimension 2) fails its check: the fit takes over
    const truth = randomNetwork({ inputDim: 10, width1: 6, width2: 3, seed: 2 });
    const B = 20 * parameterCount(truth);
    const oracle = createOracle(networkBlackBox(truth), { maxQueries: B });
    const result = await identifyAuto(oracle, { width1: 6, width2: 3, activation: tanh, seed: 2, threads: 2, maxQueries: B, subspaceDimension: 2, retryFactors: [], refineMaxIterations: 1, upperFitIterations: 0 });
    const [pipeline, fit] = result.report.method.tried;
    expect(pipeline.method).toBe('pipeline');
    expect(pipeline.passed).toBe(false);
    expect(fit.method).toBe('fit');
    // the answers the pipeline's refinement fitted handed over (not asked again), the rest fresh
    const inHand = result.pipeline!.refinementData!.values.length;
    expect(result.fit!.report.answersInHand).toBe(inHand);
    expect(fit.queries.paid).toBe(result.fit!.report.options.dataPoints - inHand);
    expect(oracle.counts().paid).toBeLessThanOrEqual(B);
    expect(result.report.queries.paid).toBe(oracle.counts().paid);
    expect(result.report.check.passed).toBe(exact(truth, result.network));
  });
});
