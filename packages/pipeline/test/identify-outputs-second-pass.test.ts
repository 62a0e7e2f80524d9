/**
 * The activation search's second pass held back (secondPassPairs 0) with k > 1 outputs:
 * identifyOutputs hands it on as secondPassLater (the k outputs fitted again after it), and method
 * auto (identifyAutoOutputs) runs it after its fit failed, as identifyAuto does for k = 1. The
 * search is made to fail cheaply (six refinement iterations: it ends at ~2e-2, below the pass's
 * SECOND_PASS_FROM), and the fit by a CPU bound that lets none of its tries start; asserted: what ran, in which order, what it paid, and the same bits on
 * 1 and 2 threads, not the residual a path reached.
 */
import { describe, expect, it } from 'vitest';
import { matrixFrom, serializeNetworkV2, toDense, type Float64View } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { identifyAutoOutputs, identifyOutputs, scoreGeneral, type ActivationSearchReport, type IdentifyOutputsResult } from '@nnid/pipeline';
import { againSkipped, secondPassAfterFit, type Continuation, type PassResult } from '../src/method-auto.ts';
import { SECOND_PASS_PAIRS } from '../src/activation-auto.ts';

const truth = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, directions: 'orthonormal' });
/** The black box, counting the rows it answers. */
function box() {
  const asked = { rows: 0 };
  return { asked, source: { inputDim: 6, outputs: 2, identity: 'later-pass-k2', evaluate: async (x: Float64View) => ((asked.rows += x.shape[0]), evaluateGeneral(truth, x)) } };
}
const failing = { width1: 4, width2: 2, activation: 'auto' as const, seed: 1, refineMaxIterations: 6, upperFitIterations: 1, retryFactors: [], secondPassPairs: 0 };
const searchOf = (r: IdentifyOutputsResult) => (r.report.identify as { activationSearch?: ActivationSearchReport }).activationSearch!;

describe('the second pass held back with k = 2 outputs', () => {
  it('identifyOutputs hands secondPassLater on: the pass runs once, its rows are paid once, and all k outputs of its data are the black box\'s', async () => {
    const { asked, source } = box();
    const result = await identifyOutputs(source, { ...failing, threads: 1 });
    expect(result.report.check.passed).toBe(false);
    expect(searchOf(result).secondPass).toEqual([]);
    const rows = asked.rows;
    const later = await result.secondPassLater!();
    const pass = searchOf(later).secondPass;
    expect(pass.length).toBeGreaterThanOrEqual(1);
    expect(pass.length).toBeLessThanOrEqual(SECOND_PASS_PAIRS);
    // the pass's rows, and no other, paid; counted in the result's rows and numbers received
    expect(asked.rows - rows).toBe(pass.reduce((t, r) => t + r.queries, 0));
    expect(later.report.queries.rows).toBe(asked.rows);
    expect(later.report.queries.numbersReceived).toBe(2 * asked.rows);
    expect(later.report.identify.check.relativeResidual!).toBeLessThanOrEqual(result.report.identify.check.relativeResidual!);
    // the k-output fit's data: every row's two answers, as the black box gives them
    const { inputs, values } = later.refinementData;
    expect(values).toEqual(toDense(evaluateGeneral(truth, inputs)).data);
    // the report returned before the pass is unchanged; a second call pays nothing
    expect(searchOf(result).secondPass).toEqual([]);
    const paid = asked.rows;
    await result.secondPassLater!();
    expect(asked.rows).toBe(paid);
  });

  it('identifyAutoOutputs: the fit failed, then the pass, then the fit again when the pass moved the network closer; every row paid once; the same bits on 1 and 2 threads', async () => {
    const run = async (threads: number) => {
      const { asked, source } = box();
      // continuationCpu: no fit try starts once its data are paid (the fit fails without a fit)
      const result = await identifyAutoOutputs(source, { ...failing, threads, fitPairs: 1, continuationCpu: 1e-9 });
      return { asked, result };
    };
    const { asked, result } = await run(2);
    const tried = result.report.method.tried;
    expect(tried[0].method).toBe('pipeline');
    expect(tried[0].passed).toBe(false);
    const passAt = tried.findIndex((t, i) => i > 0 && t.method === 'pipeline');
    expect(passAt).toBeGreaterThan(1);
    // before the pass: the fit's tries, none passing (skipped by the bound)
    expect(tried.slice(1, passAt).every((t) => t.method === 'fit' && !t.passed)).toBe(true);
    const pass = tried[passAt];
    expect(pass.why).toBe(`the fit failed: the activation search's second pass for its ${SECOND_PASS_PAIRS} closest pairs (left out before the fit), from their best networks`);
    const rows = searchOf(result.pipeline).secondPass.reduce((t, r) => t + r.queries, 0);
    expect(pass.queries.paid).toBe(rows);
    expect(rows).toBeGreaterThan(0);
    // after it: the fit again only from a network the pass moved below the pipeline's residual (no fit ran to a
    // network before it here: the bound), and only fits; else one try saying why it did not run
    const after = tried.slice(passAt + 1);
    if (pass.passed) expect(after).toEqual([]);
    else if (pass.relativeResidual! < tried[0].relativeResidual!) expect(after.length).toBeGreaterThan(0);
    else expect(after.map((t) => [t.why, t.relativeResidual, t.queries.paid])).toEqual([[againSkipped(pass.relativeResidual!, tried[0].relativeResidual!, Infinity), null, 0]]);
    expect(after.every((t) => t.method === 'fit')).toBe(true);
    // every row asked once, and counted
    expect(result.report.queries.rows).toBe(asked.rows);
    expect(tried.reduce((t, x) => t + x.queries.paid, 0)).toBe(asked.rows);
    // the pipeline's result is the pass's where it came closer; a passing pass is the answer, and exact
    expect(result.report.pipeline.check.relativeResidual).toBeLessThanOrEqual(tried[0].relativeResidual!);
    if (pass.passed) {
      expect(result.report.method.chosen).toBe('pipeline');
      expect(scoreGeneral(truth, result.network, { points: 2000 }).function.gaussian.relativeL2).toBeLessThanOrEqual(1e-8);
    }
    const one = await run(1);
    expect(one.result.report.method.tried.map((t) => [t.method, t.relativeResidual, t.queries.paid])).toEqual(tried.map((t) => [t.method, t.relativeResidual, t.queries.paid]));
    expect(serializeNetworkV2(one.result.network)).toEqual(serializeNetworkV2(result.network));
  });

  it('secondPassAfterFit: the fit again runs exactly when the pass moved the network below the pipeline and the first fit; else one try not run, saying why', async () => {
    // the continuation after the pass ends at once here (one answer in hand, no budget left: its own 'not run' try), so whether it was called shows
    const net = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs: 3, activation: { layer1: 'gelu', layer2: 'gelu' }, seed: 2, directions: 'random' });
    let rows = 0;
    const continuation: Continuation = {
      source: { inputDim: 6, outputs: 3, identity: 'fake', evaluate: async () => { throw new Error('no query'); } },
      outputs: 3, general: true, network: net, residual: 3.53e-2, search: undefined,
      answers: { inputs: matrixFrom(new Float64Array(6), 1, 6), values: new Float64Array(3) }, left: 0, threshold: 1e-10,
      given: { width1: true, width2: true }, seed: 1, threads: 1, fitStarts: 0, fitDataFactor: 5, fitPairs: 1, warmStart: true,
      counts: () => ({ total: rows, paid: rows, reused: 0 }),
    };
    const run = (residual: number, passed: boolean, fitBest: number) => {
      const moved: PassResult = { network: net, residual, passed, search: undefined, answers: null, evidence: undefined };
      return secondPassAfterFit(async () => ((rows += 1344), moved), (r) => r, continuation, continuation.answers, () => 0, fitBest);
    };
    const pass = (r: Awaited<ReturnType<typeof run>>) => r.tried.map((t) => [t.method, t.relativeResidual, t.passed, t.queries.paid]);
    // k = 3 gelu/gelu (10, 6, 3) seed 1's figures (session 11): the pass to 8.9e-3, the first fit's best 1.43e-3: not run
    const skipped = await run(8.9e-3, false, 1.43e-3);
    expect(pass(skipped)).toEqual([['pipeline', 8.9e-3, false, 1344], ['fit', null, false, 0]]);
    expect(skipped.tried[1].why).toBe(againSkipped(8.9e-3, 3.53e-2, 1.43e-3));
    expect(skipped.tried[1].why).toContain("the pass moved the network to 8.90e-3, not below the first fit's best 1.43e-3");
    expect(skipped.fit).toBeNull();
    // no closer than the pipeline (no fit ran to a network): not run either
    const above = await run(4e-2, false, Infinity);
    expect(above.tried[1].why).toBe(againSkipped(4e-2, 3.53e-2, Infinity));
    // below both: the continuation runs from the moved network (here its own 'not run' try: one answer is not more than P)
    const again = await run(1e-3, false, 1.43e-3);
    expect(again.tried.length).toBe(2);
    expect(again.tried[1].why).toMatch(/^not run: 1 answers x 3 outputs within the budget are not more than P = /);
    // the pass passed: nothing after it
    expect(pass(await run(1e-12, true, 1.43e-3))).toEqual([['pipeline', 1e-12, true, 1344]]);
  });

  it('againSkipped: the fit again runs only from a network moved below both the pipeline\'s residual and the first fit\'s best', () => {
    expect(againSkipped(1e-3, 3.53e-2, 1.43e-3)).toBeNull();
    expect(againSkipped(1e-3, 3.53e-2, Infinity)).toBeNull();
    expect(againSkipped(8.9e-3, 3.53e-2, 1.43e-3)).toBe("not run: the fit again after the search's second pass: the pass moved the network to 8.90e-3, not below the first fit's best 1.43e-3 (from no closer a start, the fit again ended where the first had)");
    expect(againSkipped(4e-2, 3.53e-2, Infinity)).toBe("not run: the fit again after the search's second pass: the pass moved the network to 4.00e-2, not below the pipeline's 3.53e-2 (from no closer a start, the fit again ended where the first had)");
    expect(againSkipped(1.43e-3, 3.53e-2, 1.43e-3)).not.toBeNull();
  });
});
