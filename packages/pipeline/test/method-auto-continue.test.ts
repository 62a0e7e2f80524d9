/**
 * Method 'auto' as the default for real black boxes: the pipeline exactly as identify runs it
 * (activation 'auto', widths given or inferred), then, when its check fails, the general student
 * fit with the widths it found and the activation search's best-ranked pairs, on the answers its
 * refinement fitted, warm-started from its network. k = 1 (identifyAuto) and k = 3
 * (identifyAutoOutputs). A passed check is an exact network; the report names the path taken.
 */
import { describe, expect, it } from 'vitest';
import { generalParameterCount, serializeNetworkV2, type GeneralNetwork } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { DEAD_UNIT_REDRAWS } from '@nnid/student-fit';
import { HELD_OUT_POINTS, identify, identifyAuto, identifyAutoOutputs, rankedPairs, scoreGeneral, type ActivationSearchReport } from '@nnid/pipeline';

const exact = (truth: GeneralNetwork, net: GeneralNetwork) => scoreGeneral(truth, net, { points: 2000 }).function.gaussian.relativeL2 <= 1e-8;

describe("method 'auto' after the activation search", () => {
  it('deadUnitRedraws must be an integer in [0, 100]: refused before any query', async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 1, activation: 'tanh', seed: 1 });
    const oracle = createOracle(generalBlackBox(truth));
    await expect(identifyAuto(oracle, { model: 'general', width1: 4, width2: 2, activation: 'auto', seed: 1, deadUnitRedraws: -1 })).rejects.toThrow('invalid argument. `deadUnitRedraws` must be an integer in [0, 100]. Value: `-1`.');
    expect(oracle.counts().total).toBe(0);
  });

  it('k = 1, activation auto (the probe tanh/tanh fails: one refinement step): the fits take the search\'s ranked pairs and the widths; exact', async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 1, activation: 'tanh', seed: 1 });
    const oracle = createOracle(generalBlackBox(truth));
    const result = await identifyAuto(oracle, { model: 'general', width1: 4, width2: 2, activation: 'auto', seed: 1, threads: 2, retryFactors: [], refineMaxIterations: 1 });
    const [pipeline, ...fits] = result.report.method.tried;
    expect(pipeline.method).toBe('pipeline');
    expect(pipeline.why).toContain("activation 'auto'");
    expect(pipeline.passed).toBe(false);
    const search = result.pipeline!.report.activationSearch!;
    expect(search.chosen).toBeNull();
    // the fit follows a failed search: no second pass inside it (secondPassPairs 0)
    expect(search.secondPass).toEqual([]);
    expect(search.cpuSeconds.secondPass).toBe(0);
    // the fits: the search's pairs in its ranking, the widths given, the answers paid handed over
    const ranked = rankedPairs(search, result.pipeline!.networkGeneral!.activation, 2);
    expect(fits.length).toBeGreaterThanOrEqual(1);
    for (const [i, f] of fits.entries()) {
      expect(f.method).toBe('fit');
      expect(f.activation).toEqual(ranked[i].pair);
      expect(f.widths).toEqual({ width1: 4, width2: 2 });
      expect(f.why).toContain("the activation search's pair ranked");
    }
    expect(result.fit!.report.answersInHand).toBe(result.fit!.report.options.dataPoints);
    expect(result.fit!.report.warmStarts).toBe(1);
    // the full fits after a failed pipeline (the fit's 200 iterations) redraw dead units (student-fit's
    // deadUnitRedraws); a screen (40 iterations) and a refit's check (0) do not
    const o = result.fit!.report.options;
    expect(o.deadUnitRedraws).toBe(o.maxIterations === 200 ? DEAD_UNIT_REDRAWS : 0);
    expect(result.report.method.chosen).toBe('fit');
    expect(result.report.check.passed).toBe(true);
    expect(exact(truth, result.networkGeneral!)).toBe(true);
    // every point paid once
    expect(result.report.queries.paid).toBe(oracle.counts().paid);
    expect(result.report.queries.reused).toBe(0);
  });

  it('k = 3, the pair given: identifyOutputs fails (one refinement step), the fit on all k outputs of its answers is exact', async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 3, activation: 'tanh', seed: 1 });
    const box = { inputDim: 8, outputs: 3, identity: 'k3', evaluate: async (x: Parameters<typeof evaluateGeneral>[1]) => evaluateGeneral(truth, x) };
    const result = await identifyAutoOutputs(box, { width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 2, retryFactors: [], refineMaxIterations: 1 });
    const [pipeline, ...fits] = result.report.method.tried;
    expect(pipeline.method).toBe('pipeline');
    expect(pipeline.why).toContain('k = 3 outputs');
    expect(pipeline.passed).toBe(false);
    expect(fits.map((f) => [f.method, f.activation, f.widths])).toEqual([['fit', { layer1: 'tanh', layer2: 'tanh' }, { width1: 4, width2: 2 }]]);
    expect(fits[0].why).toContain('the activations given');
    expect(result.fit!.report.widths.outputs).toBe(3);
    expect(result.report.method.chosen).toBe('fit');
    expect(result.report.check.passed).toBe(true);
    expect(exact(truth, result.network)).toBe(true);
    expect(result.report.queries.numbersReceived).toBe(3 * result.report.queries.rows);
  });

  it('maxQueries: the fit pays what the pipeline left of it, never more; widths given, the pair given', async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 1, activation: 'tanh', seed: 2 });
    const hopeless = { subspaceDimension: 2, retryFactors: [], refineMaxIterations: 1, upperFitIterations: 0 };
    const B = 20 * generalParameterCount(truth);
    const oracle = createOracle(generalBlackBox(truth), { maxQueries: B });
    const result = await identifyAuto(oracle, { model: 'general', width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 1, maxQueries: B, pipelineAsIdentify: true, ...hopeless });
    const [pipeline, fit] = result.report.method.tried;
    expect(pipeline.passed).toBe(false);
    expect(fit.method).toBe('fit');
    expect(fit.activation).toEqual({ layer1: 'tanh', layer2: 'tanh' });
    expect(fit.why).toContain('the activations given');
    expect(fit.why).toContain('widths (4, 2) as given');
    expect(fit.queries.paid).toBeGreaterThan(0);
    expect(pipeline.queries.paid + fit.queries.paid).toBe(B);
    expect(oracle.counts().paid).toBe(B);
    if (result.report.check.passed) expect(exact(truth, result.networkGeneral!)).toBe(true);
  });

  it('the pipeline runs as identify alone: the same bits when it passes (no fit); the held-out check (widths inferred) adds its rows only', async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 1, activation: 'tanh', seed: 3 });
    const tanh = { layer1: 'tanh', layer2: 'tanh' } as const;
    const alone = await identify(createOracle(generalBlackBox(truth)), { model: 'general', activation: tanh, seed: 1, threads: 2 });
    const auto = await identifyAuto(createOracle(generalBlackBox(truth)), { model: 'general', activation: tanh, seed: 1, threads: 2 });
    expect(alone.report.check.passed).toBe(true);
    expect(auto.report.method.tried.map((t) => t.method)).toEqual(['pipeline']);
    expect(serializeNetworkV2(auto.networkGeneral!)).toEqual(serializeNetworkV2(alone.networkGeneral!));
    expect(auto.report.check.heldOut!.passed).toBe(true);
    expect(auto.report.queries.paid).toBe(alone.report.queries.paid + 3 * HELD_OUT_POINTS);
  });

  it('rankedPairs: full runs by their residual first, then the screened rest in the search order', () => {
    const c = (layer1: string, layer2: string, screen: number | null, full: number | null) => ({ layer1, layer2, screenResidual: screen, relativeResidual: full, passed: full === null ? null : false });
    const search = { candidates: [c('gelu', 'tanh', 1e-3, 5e-2), c('silu', 'tanh', 2e-3, 1e-2), c('tanh', 'tanh', 3e-3, null), c('arctan', 'tanh', 4e-3, null)] } as unknown as ActivationSearchReport;
    expect(rankedPairs(search, { layer1: 'gelu', layer2: 'tanh' }, 3).map((r) => `${r.pair.layer1}/${r.pair.layer2}`)).toEqual(['silu/tanh', 'gelu/tanh', 'tanh/tanh']);
    expect(rankedPairs(undefined, { layer1: 'tanh', layer2: 'silu' }, 2)).toEqual([{ pair: { layer1: 'tanh', layer2: 'silu' }, why: 'the activations given' }]);
  });
});
