/**
 * Issue 13 / issue 14 item 4 (the start of the second layer): from given W1 directions (the truth's,
 * or the Hessian stages' with `found`), how many random second layers reach the truth, each run
 * through the directions fit (100 iterations) and the full fit (200), on 300 fresh Gaussian points.
 * Modes: 'unit' (W1 rows of norm 1, b1 = the pipeline's theta, W2 rows on the unit sphere: what
 * refineGeneralStages' random starts are), 'scaled' (row norms and signs drawn log-normally, b1 and
 * W2 random), 'b1zero' ('unit' with b1 = 0: the second pass's extra starts). Generator networks
 * (8, 4, 2), random directions; exact = relative L2 <= 1e-8 on 10^4 Gaussian points.
 *
 * Directions 'true' (the truth's rows with the found rows' signs), 'true-signs' (and the truth's signs), 'found'; first fit
 * 'directions' or 'signs' (fitGeneralSigns first: each row's sign chosen by the fit).
 *
 *   npx tsx packages/pipeline/bench/second-layer-starts.ts [pair gelu/tanh] [seeds 1] [starts 20] [mode unit] [true|true-signs|found] [directions|signs]
 */
import { matrix, rng, toGeneral, type ActivationName } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identify, scoreGeneral } from '@nnid/pipeline';
import { fitGeneralNetwork, fitGeneralSigns, fitOutputLayer } from '@nnid/refine';
import { freshPoints } from '../src/paid-data.ts';
import { trueRowsInFoundOrder } from './true-rows.ts';
const [pair = 'gelu/tanh', seedsArg = '1', startsArg = '20', mode = 'unit', which = 'true', first = 'directions'] = process.argv.slice(2);
const [layer1, layer2] = pair.split('/') as ActivationName[];
for (const seed of seedsArg.split(',').map(Number)) {
  const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, activation: { layer1, layer2 }, seed });
  const before = await identify(createOracle(generalBlackBox(truth)), { width1: 4, width2: 2, activation: { layer1, layer2 }, seed: 1, threads: 1, model: 'general', refine: false });
  const nb = before.networkBeforeRefinement;
  const inputs = freshPoints(300, 8, 77);
  const values = Float64Array.from(evaluateGeneral(truth, inputs).data);
  // the true rows in the found rows' order and signs: the pipeline's theta ('unit') stays paired with its rows
  const A = which === 'found' ? nb.A : which === 'true-signs' ? trueRowsInFoundOrder(truth, nb.A).truthPattern.A : trueRowsInFoundOrder(truth, nb.A).directions;
  const stream = rng(99).split(seed);
  let hits = 0;
  const res: string[] = [];
  for (let s = 0; s < Number(startsArg); s++) {
    const draw = stream.split(s);
    const W1 = matrix(4, 8);
    const W2 = matrix(2, 4);
    const b1 = new Float64Array(4);
    for (let i = 0; i < 4; i++) {
      const sc = mode === 'scaled' ? (draw.uniform() < 0.5 ? -1 : 1) * Math.exp(0.8 * draw.normal()) : 1;
      for (let t = 0; t < 8; t++) W1.data[i * 8 + t] = sc * A.data[A.offset + i * A.strides[0] + t * A.strides[1]];
      b1[i] = mode === 'unit' ? nb.theta[i] : mode === 'scaled' ? 0.5 * draw.normal() : 0;
    }
    for (let l = 0; l < 2; l++) draw.split(l).fillSphere(W2.data.subarray(l * 4, l * 4 + 4), mode === 'scaled' ? 2 : 1);
    const start = fitOutputLayer({ ...toGeneral(nb), W1, W2, b1, b2: new Float64Array(2) }, { inputs, values });
    // 'signs': fitGeneralSigns (each row's sign chosen by the fit) before the directions fit
    const signed = first === 'signs' ? (await fitGeneralSigns(start, { inputs, values }, { maxIterations: 100, costTolerance: 1e-4, innerSteps: 0 })).network : start;
    const a = await fitGeneralNetwork(signed, { inputs, values }, { fix: 'first-layer-directions', maxIterations: 100, costTolerance: 1e-4, innerSteps: 0 });
    const b = await fitGeneralNetwork(a.network, { inputs, values }, { maxIterations: 200 });
    const e = scoreGeneral(truth, b.network).function.gaussian.relativeL2;
    if (e <= 1e-8) hits++;
    res.push(e.toExponential(0));
  }
  console.log(`${pair} seed ${seed}, ${which} directions, mode ${mode}, first fit ${first}: ${hits}/${startsArg} exact (${res.join(' ')})`);
}
