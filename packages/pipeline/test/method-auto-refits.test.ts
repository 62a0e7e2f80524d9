/**
 * Method auto's continuation when its full fits fail: the best full fits' networks refitted into
 * the search's pairs one layer away (refitFulls, FULL_REFIT_FROM). A gelu/gelu network, the
 * search's only pair handed on gelu/silu: its full fit lands close (one layer's activation wrong)
 * and fails; the refit into gelu/gelu from its network passes, and is exact. Without a search (the
 * activations given) there is no other pair, and nothing is refitted.
 */
import { describe, expect, it } from 'vitest';
import { generalParameterCount, matrixFrom, toDense, type GeneralNetwork } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { gaussianPoints } from '@nnid/student-fit';
import { scoreGeneral, type ActivationSearchReport } from '@nnid/pipeline';
import { continueAfterPipeline, FULL_REFIT_FROM, type Continuation } from '../src/method-auto.ts';

const truth = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs: 2, activation: { layer1: 'gelu', layer2: 'gelu' }, seed: 3, directions: 'random' });
const N = 5 * generalParameterCount(truth);
const inputs = matrixFrom(gaussianPoints(N, 6, 1), N, 6);
const answers = { inputs, values: toDense(evaluateGeneral(truth, inputs)).data };
const candidate = (layer1: 'gelu', layer2: 'gelu' | 'silu', relativeResidual: number | null) => ({ layer1, layer2, screenResidual: 1e-2, relativeResidual, passed: relativeResidual === null ? null : false });
const search: ActivationSearchReport = {
  probe: { layer1: 'tanh', layer2: 'tanh' },
  candidates: [candidate('gelu', 'silu', 1e-2), candidate('gelu', 'gelu', null)],
  equivalent: [],
  chosen: null,
  threshold: 1e-9,
  queries: { paid: 0, answered: 0 },
  seconds: 0,
  cpuSeconds: { probe: 0, screen: 0, shortRuns: 0, longRuns: 0, refits: 0, secondPass: 0 },
  secondPass: [],
};
const continuation = (withSearch: boolean): Continuation => ({
  source: { inputDim: 6, outputs: 2, identity: 'refits', evaluate: async () => { throw new Error('no query: the answers are in hand'); } },
  outputs: 2,
  general: true,
  // the pipeline's network: the truth's with gelu/silu (what a search that ranked gelu/silu first would hand on)
  network: { ...truth, activation: { layer1: 'gelu', layer2: 'silu' } } as GeneralNetwork,
  residual: 1e-2,
  search: withSearch ? search : undefined,
  answers,
  left: 0,
  threshold: 1e-9,
  given: { width1: true, width2: true },
  seed: 1,
  threads: 1,
  fitStarts: 0,
  fitDataFactor: 5,
  fitPairs: 1,
  warmStart: true,
  counts: () => ({ total: 0, paid: 0, reused: 0 }),
});

describe("method auto: the full fits' refits one layer away", () => {
  it('the gelu/silu full fit fails close; the refit into gelu/gelu from its network passes and is exact', async () => {
    expect(FULL_REFIT_FROM).toBe(2);
    const cont = await continueAfterPipeline(continuation(true));
    const [full, refit, ...rest] = cont.tried;
    expect([full.stage, full.activation, full.passed]).toEqual(['full', { layer1: 'gelu', layer2: 'silu' }, false]);
    expect(full.relativeResidual!).toBeGreaterThan(1e-9);
    expect([refit.stage, refit.activation, refit.widths, refit.passed]).toEqual(['full', { layer1: 'gelu', layer2: 'gelu' }, { width1: 4, width2: 2 }, true]);
    expect(refit.why).toContain(`the full fits' refit: refine's LM from the gelu/silu widths (4, 2) full fit's network (${full.relativeResidual!.toExponential(2)}) with gelu/gelu put in`);
    expect(rest).toEqual([]);
    expect(scoreGeneral(truth, cont.fit!.network as GeneralNetwork, { points: 2000 }).function.gaussian.relativeL2).toBeLessThanOrEqual(1e-8);
  });

  it('the activations given (no search): no pair to swap in, nothing refitted', async () => {
    const cont = await continueAfterPipeline(continuation(false));
    expect(cont.tried.map((t) => [t.stage, t.activation])).toEqual([['full', { layer1: 'gelu', layer2: 'silu' }]]);
    expect(cont.tried[0].passed).toBe(false);
  });
});
