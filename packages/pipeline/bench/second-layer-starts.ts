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
 * 'directions' or 'signs' (fitGeneralSigns first: each row's sign chosen by the fit; then each start's figure is followed by
 * the rows left with a sign other than the truth's after it, and the first fit's residual). Sizes: d,m0,m1 (default 8,4,2).
 * 'flips' last: after the directions fit, refine's flipRowsByRefit (30-iteration refits), and the rows still wrong after it.
 *
 *   npx tsx packages/pipeline/bench/second-layer-starts.ts [pair gelu/tanh] [seeds 1] [starts 20] [mode unit] [true|true-signs|found] [directions|signs] [8,4,2] [flips]
 */
import { generalParameterCount, matrix, rng, toGeneral, type ActivationName, type Float64View } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identify, scoreGeneral } from '@nnid/pipeline';
import { fitGeneralNetwork, fitGeneralSigns, fitOutputLayer, flipRowsByRefit } from '@nnid/refine';
import { freshPoints } from '../src/paid-data.ts';
import { trueRowsInFoundOrder } from './true-rows.ts';
const [pair = 'gelu/tanh', seedsArg = '1', startsArg = '20', mode = 'unit', which = 'true', first = 'directions', size = '8,4,2', flips = ''] = process.argv.slice(2);
const [d, m0, m1] = size.split(',').map(Number);
const [layer1, layer2] = pair.split('/') as ActivationName[];
for (const seed of seedsArg.split(',').map(Number)) {
  const truth = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, activation: { layer1, layer2 }, seed });
  const before = await identify(createOracle(generalBlackBox(truth)), { width1: m0, width2: m1, activation: { layer1, layer2 }, seed: 1, threads: 1, model: 'general', refine: false });
  const nb = before.networkBeforeRefinement;
  const inputs = freshPoints(Math.max(300, 6 * generalParameterCount(truth)), d, 77);
  const values = Float64Array.from(evaluateGeneral(truth, inputs).data);
  // the true rows in the found rows' order and signs: the pipeline's theta ('unit') stays paired with its rows
  const A = which === 'found' ? nb.A : which === 'true-signs' ? trueRowsInFoundOrder(truth, nb.A).truthPattern.A : trueRowsInFoundOrder(truth, nb.A).directions;
  // rows whose sign is not the truth's: the best-matched true row, in the row's own sign, is not the truth's row itself
  const wrongRows = (W1: Float64View) => {
    const { directions, truthPattern } = trueRowsInFoundOrder(truth, W1);
    let wrong = 0;
    for (let i = 0; i < m0; i++) if (directions.data[i * d] * truthPattern.A.data[i * d] < 0) wrong++;
    return wrong;
  };
  const stream = rng(99).split(seed);
  let hits = 0;
  const res: string[] = [];
  for (let s = 0; s < Number(startsArg); s++) {
    const draw = stream.split(s);
    const W1 = matrix(m0, d);
    const W2 = matrix(m1, m0);
    const b1 = new Float64Array(m0);
    for (let i = 0; i < m0; i++) {
      const sc = mode === 'scaled' ? (draw.uniform() < 0.5 ? -1 : 1) * Math.exp(0.8 * draw.normal()) : 1;
      for (let t = 0; t < d; t++) W1.data[i * d + t] = sc * A.data[A.offset + i * A.strides[0] + t * A.strides[1]];
      b1[i] = mode === 'unit' ? nb.theta[i] : mode === 'scaled' ? 0.5 * draw.normal() : 0;
    }
    for (let l = 0; l < m1; l++) draw.split(l).fillSphere(W2.data.subarray(l * m0, l * m0 + m0), mode === 'scaled' ? 2 : 1);
    const start = fitOutputLayer({ ...toGeneral(nb), W1, W2, b1, b2: new Float64Array(m1) }, { inputs, values });
    // 'signs': fitGeneralSigns (each row's sign chosen by the fit) before the directions fit
    let note = '';
    let signed = start;
    if (first === 'signs') {
      const fitted = await fitGeneralSigns(start, { inputs, values }, { maxIterations: 100, costTolerance: 1e-4, innerSteps: 0 });
      signed = fitted.network;
      // a row's sign is the truth's when its best-matched true row, in its own sign, is the truth's row itself
      note = `[${wrongRows(signed.W1)} wrong, ${fitted.report.relativeResidual.toExponential(0)}]`;
    }
    const a = await fitGeneralNetwork(signed, { inputs, values }, { fix: 'first-layer-directions', maxIterations: 100, costTolerance: 1e-4, innerSteps: 0 });
    let upper = a.network;
    if (flips === 'flips') {
      const flipped = await flipRowsByRefit(a.network, a.report.relativeResidual, { inputs, values }, { maxIterations: 30, costTolerance: 1e-4, innerSteps: 0 });
      upper = flipped.network;
      note += `{${wrongRows(upper.W1)} wrong after the flips}`;
    }
    const b = await fitGeneralNetwork(upper, { inputs, values }, { maxIterations: 200 });
    const e = scoreGeneral(truth, b.network).function.gaussian.relativeL2;
    if (e <= 1e-8) hits++;
    res.push(e.toExponential(0) + note);
  }
  console.log(`${pair} seed ${seed}, ${which} directions, mode ${mode}, first fit ${first}: ${hits}/${startsArg} exact (${res.join(' ')})`);
}
