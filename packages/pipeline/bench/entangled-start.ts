/**
 * Issue 13: the general refinement (refineGeneralStages, 3 seeds, identify's iteration limits, 6 P
 * fresh Gaussian points) from the true first-layer directions, with the pipeline's (theta, B, tau)
 * (the shift fit's, on the directions it found) against (theta, B, tau) with the truth's pattern
 * (theta = b1, B = W2 diag |w_i|, tau = b2): what the second layer's start costs once the directions
 * are right. Generator networks (8, 4, 2), random directions; relative L2 on 10^4 Gaussian points.
 *
 *   npx tsx packages/pipeline/bench/entangled-start.ts gelu/tanh 1
 */
import { matrix, type ActivationName } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identify, scoreGeneral } from '@nnid/pipeline';
import { refineGeneralStages } from '../src/refine-stages.ts';
import { freshPoints } from '../src/paid-data.ts';
const [pair = 'gelu/tanh', seedsArg = '1'] = process.argv.slice(2);
const [layer1, layer2] = pair.split('/') as ActivationName[];
for (const seed of seedsArg.split(',').map(Number)) {
  const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, activation: { layer1, layer2 }, seed });
  const before = await identify(createOracle(generalBlackBox(truth)), { width1: 4, width2: 2, activation: { layer1, layer2 }, seed: 1, threads: 1, model: 'general', refine: false });
  const nb = before.networkBeforeRefinement;
  const inputs = freshPoints(300, 8, 77);
  const values = Float64Array.from(evaluateGeneral(truth, inputs).data);
  const A = matrix(4, 8), B = matrix(2, 4);
  const theta = new Float64Array(4), tau = new Float64Array(2);
  for (let i = 0; i < 4; i++) {
    let n = 0; for (let t = 0; t < 8; t++) n += truth.W1.data[i * 8 + t] ** 2; n = Math.sqrt(n);
    for (let t = 0; t < 8; t++) A.data[i * 8 + t] = truth.W1.data[i * 8 + t] / n;
    theta[i] = truth.b1[i];
    for (let l = 0; l < 2; l++) B.data[l * 4 + i] = truth.W2.data[l * 4 + i] * n;
  }
  for (let l = 0; l < 2; l++) tau[l] = truth.b2[l];
  const errs: string[] = [];
  for (const variant of ['true A, pipeline B', 'true A, true-pattern B']) {
    const start = variant === 'true A, pipeline B' ? { ...nb, A } : { ...nb, A, B, theta, tau };
    const e: string[] = [];
    for (const rs of [1, 2, 3]) {
      const r = await refineGeneralStages(start, { inputs, values }, { seed: rs, upperFitIterations: 100, upperFitCostTolerance: 1e-4, maxIterations: 200, goodResidual: 1e-9, pruneUnits: false });
      e.push(scoreGeneral(truth, r.network).function.gaussian.relativeL2.toExponential(1));
    }
    errs.push(`${variant}: ${e.join(' ')}`);
  }
  console.log(`${pair} seed ${seed}: ${errs.join('; ')}`);
}
