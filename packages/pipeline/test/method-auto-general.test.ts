/**
 * Method 'auto' on the general model (f = C phi2(W2 phi1(W1 x + b1) + b2) + c, k = 1): the
 * pipeline first; when its check fails, the general student fit on the answers already paid
 * (handed over, not asked again), its first start the pipeline's refined network (the warm start). Every
 * path stays within maxQueries; a passed check is an exact network; the same bits on 1 and 2 threads.
 */
import { describe, expect, it } from 'vitest';
import { generalParameterCount, serializeNetworkV2, type GeneralNetwork } from '@nnid/core';
import { createOracle, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identifyAuto, scoreGeneral } from '@nnid/pipeline';

const tanh = { layer1: 'tanh', layer2: 'tanh' } as const;
const exact = (truth: GeneralNetwork, net: GeneralNetwork) => scoreGeneral(truth, net, { points: 2000 }).function.gaussian.relativeL2 <= 1e-8;
const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 1, activation: tanh, seed: 1 });
const P = generalParameterCount(truth);
// one attempt with a tiny W-hat and a one-step refinement: the pipeline's check fails
const hopeless = { subspaceDimension: 2, retryFactors: [], refineMaxIterations: 1, upperFitIterations: 0 };

describe("method 'auto', model 'general'", () => {
  it('a failed pipeline continues with the general fit on the answers paid, warm-started from its network; within the budget; exact; the same bits on 1 and 2 threads', async () => {
    const B = 20 * P;
    const runOn = async (threads: number) => {
      const oracle = createOracle(generalBlackBox(truth), { maxQueries: B });
      const result = await identifyAuto(oracle, { model: 'general', width1: 4, width2: 2, activation: tanh, seed: 1, threads, maxQueries: B, ...hopeless });
      return { oracle, result };
    };
    const { oracle, result } = await runOn(2);
    const [pipeline, fit] = result.report.method.tried;
    expect(result.report.model).toBe('general');
    expect(pipeline.method).toBe('pipeline');
    expect(pipeline.passed).toBe(false);
    expect(fit.method).toBe('fit');
    expect(fit.why).toContain("its first start the pipeline's refined network");
    expect(fit.warmStart!.fromResidual).toBe(pipeline.relativeResidual);
    expect(result.fit!.report.warmStarts).toBe(1);
    // the answers the pipeline's refinement fitted handed over, only the rest asked
    const inHand = result.pipeline!.refinementData!.values.length;
    expect(result.fit!.report.answersInHand).toBe(inHand);
    expect(fit.queries.paid).toBe(result.fit!.report.options.dataPoints - inHand);
    expect(oracle.counts().paid).toBeLessThanOrEqual(B);
    expect(result.report.queries.paid).toBe(oracle.counts().paid);
    expect(result.report.method.chosen).toBe('fit');
    expect(result.report.check.passed).toBe(true);
    expect(exact(truth, result.networkGeneral!)).toBe(true);
    const one = await runOn(1);
    expect(serializeNetworkV2(one.result.networkGeneral!)).toEqual(serializeNetworkV2(result.networkGeneral!));
    expect(one.result.report.queries).toEqual(result.report.queries);
  });

  it('below the pipeline floor: the general fit on all of the budget, never more', async () => {
    const B = 4 * P;
    const oracle = createOracle(generalBlackBox(truth), { maxQueries: B });
    const result = await identifyAuto(oracle, { model: 'general', width1: 4, width2: 2, activation: tanh, seed: 1, threads: 2, maxQueries: B });
    const [first] = result.report.method.tried;
    expect(first.method).toBe('fit');
    expect(first.why).toContain("below the pipeline's floor");
    expect(result.pipeline).toBeNull();
    expect(oracle.counts().paid).toBeLessThanOrEqual(B);
    expect(result.report.check.passed).toBe(exact(truth, result.networkGeneral!));
  });

  it('no budget: the pipeline first, the fit only after a failed check; exact', async () => {
    const oracle = createOracle(generalBlackBox(truth));
    const result = await identifyAuto(oracle, { model: 'general', width1: 4, width2: 2, activation: tanh, seed: 1, threads: 2 });
    const tried = result.report.method.tried;
    expect(tried[0].method).toBe('pipeline');
    expect(tried.length).toBe(tried[0].passed ? 1 : 2);
    expect(result.report.check.passed).toBe(true);
    expect(exact(truth, result.networkGeneral!)).toBe(true);
  });
});
