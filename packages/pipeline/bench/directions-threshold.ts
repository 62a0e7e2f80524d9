/**
 * Issue 13: how close W1's directions must be for the general refinement to reach the truth, per
 * first-layer activation. For each generator network (8, 4, 2), random directions: identify with
 * `refine: false` (the Hessian stages' directions, the shift fit's theta, B, tau), then the start's
 * rows moved toward the truth's, A_t = normalize((1 - t) A_found + t W1_true / |W1_true|) (the true
 * rows in the found rows' order and signs, bench/true-rows.ts; until session 10 they stayed in the
 * truth's order beside the start's theta and B), and refineGeneralStages run once (seed 5,
 * identify's defaults: 100 upper-fit and 200 LM iterations) on 6 P fresh Gaussian points: the
 * relative L2 reached (exact <= 1e-8) beside the start's min |cos|.
 *
 *   npx tsx packages/pipeline/bench/directions-threshold.ts [pair gelu/tanh] [seeds 1,2,3] [t 0,0.5,0.9,0.99,1] [refine seeds 5]
 */
import { matrix, type ActivationName } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identify, scoreGeneral, matchWeights } from '@nnid/pipeline';
import { refineGeneralStages } from '../src/refine-stages.ts';
import { freshPoints } from '../src/paid-data.ts';
import { trueRowsInFoundOrder } from './true-rows.ts';
const [pair = 'gelu/tanh', seedsArg = '1,2,3', tsArg = '0,0.5,0.9,0.99,1', refineSeedsArg = '5'] = process.argv.slice(2);
const [layer1, layer2] = pair.split('/') as ActivationName[];
for (const seed of seedsArg.split(',').map(Number)) {
  const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, activation: { layer1, layer2 }, seed });
  const before = await identify(createOracle(generalBlackBox(truth)), { width1: 4, width2: 2, activation: { layer1, layer2 }, seed: 1, threads: 1, model: 'general', refine: false });
  const nb = before.networkBeforeRefinement;
  const inputs = freshPoints(6 * 50, 8, 77);
  const values = Float64Array.from(evaluateGeneral(truth, inputs).data);
  const out: string[] = [];
  // the true rows in the found rows' order and signs: the start's theta, B, tau stay paired with their rows
  const { directions } = trueRowsInFoundOrder(truth, nb.A);
  for (const tt of tsArg.split(',').map(Number)) {
    const A = matrix(4, 8);
    for (let i = 0; i < 4; i++) {
      let nn = 0;
      for (let t = 0; t < 8; t++) {
        A.data[i * 8 + t] = (1 - tt) * nb.A.data[nb.A.offset + i * nb.A.strides[0] + t * nb.A.strides[1]] + tt * directions.data[i * 8 + t];
        nn += A.data[i * 8 + t] ** 2;
      }
      for (let t = 0; t < 8; t++) A.data[i * 8 + t] /= Math.sqrt(nn);
    }
    // the shift fit's (theta, B, tau) stay the pipeline's: the refinement's own starts refit them
    const errors: string[] = [];
    for (const refineSeed of refineSeedsArg.split(',').map(Number)) {
      const r = await refineGeneralStages({ ...nb, A }, { inputs, values }, { seed: refineSeed, upperFitIterations: 100, upperFitCostTolerance: 1e-4, maxIterations: 200, goodResidual: 1e-9, pruneUnits: false });
      errors.push(scoreGeneral(truth, r.network).function.gaussian.relativeL2.toExponential(1));
    }
    out.push(`t=${tt} (min|cos| ${matchWeights(truth.W1, A).minCos.toFixed(3)}): ${errors.join(' ')}`);
  }
  console.log(`${pair} seed ${seed}: found min|cos| ${matchWeights(truth.W1, nb.A).minCos.toFixed(3)}; ${out.join('; ')}`);
}
