/**
 * Issue 13: the general refinement (refineGeneralStages, 3 seeds, identify's iteration limits, 6 P
 * fresh Gaussian points) from the true first-layer directions, with the pipeline's (theta, B, tau)
 * (the shift fit's, on the directions it found) against (theta, B, tau) with the truth's pattern
 * (theta = b1, B = W2 diag |w_i|, tau = b2): what the second layer's start costs once the directions
 * are right. Generator networks (8, 4, 2), random directions; relative L2 on 10^4 Gaussian points.
 *
 *   npx tsx packages/pipeline/bench/entangled-start.ts gelu/tanh 1
 */
import type { ActivationName } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identify, scoreGeneral } from '@nnid/pipeline';
import { refineGeneralStages } from '../src/refine-stages.ts';
import { freshPoints } from '../src/paid-data.ts';
import { trueRowsInFoundOrder } from './true-rows.ts';
const [pair = 'gelu/tanh', seedsArg = '1'] = process.argv.slice(2);
const [layer1, layer2] = pair.split('/') as ActivationName[];
for (const seed of seedsArg.split(',').map(Number)) {
  const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, activation: { layer1, layer2 }, seed });
  const before = await identify(createOracle(generalBlackBox(truth)), { width1: 4, width2: 2, activation: { layer1, layer2 }, seed: 1, threads: 1, model: 'general', refine: false });
  const nb = before.networkBeforeRefinement;
  const inputs = freshPoints(300, 8, 77);
  const values = Float64Array.from(evaluateGeneral(truth, inputs).data);
  // the true rows in the found rows' order (the start's theta, B, tau belong to its rows; until session 10 they stayed in the truth's order)
  const { directions: A, truthPattern } = trueRowsInFoundOrder(truth, nb.A);
  const errs: string[] = [];
  for (const variant of ['true A, pipeline B', 'true A, true-pattern B']) {
    const start = variant === 'true A, pipeline B' ? { ...nb, A } : { ...nb, ...truthPattern };
    const e: string[] = [];
    for (const rs of [1, 2, 3]) {
      const r = await refineGeneralStages(start, { inputs, values }, { seed: rs, upperFitIterations: 100, upperFitCostTolerance: 1e-4, maxIterations: 200, goodResidual: 1e-9, pruneUnits: false });
      e.push(scoreGeneral(truth, r.network).function.gaussian.relativeL2.toExponential(1));
    }
    errs.push(`${variant}: ${e.join(' ')}`);
  }
  console.log(`${pair} seed ${seed}: ${errs.join('; ')}`);
}
