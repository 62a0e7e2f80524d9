/**
 * The sampling radius of each first-layer activation (sampling.ts's SAMPLING rows): identify
 * (model 'general', activations known, widths given) on the generator's general networks
 * (orthonormal directions of W1, rows scaled 0.3-3, biases N(0, 0.25), C, c N(0, 1)), layer 2
 * tanh, for each radius; exact = relative L2 <= 1e-8 on 10^4 Gaussian points.
 *
 *   npx tsx packages/pipeline/bench/sampling-scales.ts [--activations gelu,silu] [--radii 0.5,1,2,3] [--seeds 1,2] [--size 10,6,3]
 */
import { parseArgs } from 'node:util';
import { matrix, rng, type ActivationName, type GeneralNetwork } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identify } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    activations: { type: 'string', default: 'softplus,gelu,gelu_tanh,silu,arctan' },
    layer2: { type: 'string', default: 'tanh' },
    radii: { type: 'string', default: '0.5,1,2,3,5' },
    seeds: { type: 'string', default: '1,2' },
    size: { type: 'string', default: '10,6,3' },
  },
});
const [d, m0, m1] = values.size!.split(',').map(Number);

function relativeL2(truth: GeneralNetwork, other: GeneralNetwork): number {
  const X = matrix(10_000, truth.inputDim);
  rng(123).fillNormal(X.data);
  const a = evaluateGeneral(truth, X).data;
  const b = evaluateGeneral(other, X).data;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += a[i] ** 2;
  }
  return Math.sqrt(num / den);
}

console.log('| layer1/layer2 | radius | seed | exact | relative L2 | attempts | queries / P | CPU s |');
console.log('|---|---|---|---|---|---|---|---|');
for (const layer1 of values.activations!.split(',') as ActivationName[]) {
  const layer2 = values.layer2 as ActivationName;
  for (const radius of values.radii!.split(',').map(Number)) {
    for (const seed of values.seeds!.split(',').map(Number)) {
      const truth = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, activation: { layer1, layer2 }, seed, directions: 'orthonormal' });
      const cpu = process.cpuUsage();
      const { networkGeneral, report } = await identify(createOracle(generalBlackBox(truth)), { width1: m0, width2: m1, activation: { layer1, layer2 }, seed: 1, threads: 1, model: 'general', radius });
      const used = process.cpuUsage(cpu);
      const err = networkGeneral ? relativeL2(truth, networkGeneral) : NaN;
      console.log(`| ${layer1}/${layer2} | ${radius} | ${seed} | ${err <= 1e-8 ? 'yes' : 'no'} | ${err.toExponential(1)} | ${report.attempts.length} | ${report.queries.multipleOfP.toFixed(1)} | ${((used.user + used.system) / 1e6).toFixed(1)} |`);
    }
  }
}
