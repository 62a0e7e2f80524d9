/**
 * Issue 13: where identify --model general loses a non-tanh first layer, stage by stage (pair and
 * widths given, no search). Per generator network (random directions, k = 1):
 *   identify    identify's defaults: relative L2 on 10^4 Gaussian points, min |cos| of its W1's rows
 *   dirs        the Hessian stages' directions (identify `refine: false`): min |cos| to W1's rows
 *   v           the entangled weights of that start (A^T G0 b_l) against the truth's (W1^T diag(phi1'(b1)) W2_l): min |cos|
 *   trueA       refineGeneralStages (identify's settings, seed 1) on identify's own data from the true
 *               directions, in the start's row order and signs (true-rows.ts), with the start's (theta, B, tau)
 *   trueAB      the same from the truth in the paper's form (its signs, theta = b1, B = W2 diag |w1_i|, tau = b2)
 * A failure is the directions' when trueA is exact, the second layer's start when only trueAB is, the
 * refinement's basin when neither is.
 *
 * CPU s: the process's for the whole row (identify twice and both refinements). Never fails on a figure.
 *
 *   npx tsx packages/pipeline/bench/stage-diagnosis.ts [--sizes '8,4,2;10,6,3'] [--pairs gelu/tanh,...] [--seeds 1-3] [--threads 2] [--no-stages]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { entangledWeights, type ActivationName, type Network } from '@nnid/core';
import { createOracle, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identify, matchWeights, scoreGeneral } from '@nnid/pipeline';
import { refineGeneralStages } from '../src/refine-stages.ts';
import { generalEntangled, trueRowsInFoundOrder } from './true-rows.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '8,4,2' },
    pairs: { type: 'string', default: 'gelu/tanh,silu/tanh,softplus/softplus,gelu/gelu,silu/silu' },
    seeds: { type: 'string', default: '1-3' },
    threads: { type: 'string', default: '2' },
    'no-stages': { type: 'boolean', default: false },
  },
});
const [s0, s1] = values.seeds!.split('-').map(Number);
const threads = Number(values.threads);

console.log('| (d, m0, m1) | pair | seed | identify (min \\|cos\\| W1) | dirs min \\|cos\\| | v min \\|cos\\| | trueA | trueAB | stage | CPU s | load |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const size of values.sizes!.split(';')) {
  const [d, m0, m1] = size.split(',').map(Number);
  for (const pair of values.pairs!.split(',')) {
    const [layer1, layer2] = pair.split('/') as ActivationName[];
    for (let seed = s0; seed <= (s1 ?? s0); seed++) {
      const cpu0 = process.cpuUsage();
      const truth = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, activation: { layer1, layer2 }, seed });
      const common = { width1: m0, width2: m1, activation: { layer1, layer2 }, seed: 1, threads, model: 'general' as const };
      const full = await identify(createOracle(generalBlackBox(truth)), common);
      const err = scoreGeneral(truth, full.networkGeneral!).function.gaussian.relativeL2;
      const fullCos = matchWeights(truth.W1, full.networkGeneral!.W1).minCos;
      const exact = (e: number) => (e <= 1e-8 ? 'exact' : e.toExponential(1));
      let cells = ['-', '-', '-', '-'];
      let stage = err <= 1e-8 ? 'passes' : '?';
      if (!values['no-stages']) {
        const before = await identify(createOracle(generalBlackBox(truth)), { ...common, refine: false });
        const nb: Network = before.networkBeforeRefinement;
        const data = full.refinementData!;
        const { directions: A, truthPattern } = trueRowsInFoundOrder(truth, nb.A);
        const settings = { seed: 1, upperFitIterations: 100, upperFitCostTolerance: 1e-4, maxIterations: 200, goodResidual: 1e-9, pruneUnits: false };
        const trueA = await refineGeneralStages({ ...nb, A }, data, settings);
        const trueAB = await refineGeneralStages({ ...nb, ...truthPattern }, data, settings);
        const eA = scoreGeneral(truth, trueA.network).function.gaussian.relativeL2;
        const eAB = scoreGeneral(truth, trueAB.network).function.gaussian.relativeL2;
        cells = [matchWeights(truth.W1, nb.A).minCos.toFixed(3), matchWeights(generalEntangled(truth), entangledWeights(nb)).minCos.toFixed(3), exact(eA), exact(eAB)];
        if (err > 1e-8) stage = eA <= 1e-8 ? 'directions' : eAB <= 1e-8 ? 'second layer start' : 'basin';
      }
      const cpu = process.cpuUsage(cpu0);
      console.log(`| (${d}, ${m0}, ${m1}) | ${pair} | ${seed} | ${exact(err)} (${fullCos.toFixed(3)}) | ${cells.join(' | ')} | ${stage} | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} | ${loadavg()[0].toFixed(1)} |`);
    }
  }
}
