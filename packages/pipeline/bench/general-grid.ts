/**
 * identify with model 'general' on the generator's general networks (k = 1, rows scaled 0.3-3,
 * biases N(0, 0.25), C, c N(0, 1)), widths given: exact rate (relative L2 <= 1e-8 on 10^4
 * Gaussian points), queries per P (P counts every weight and bias), seconds.
 *
 *   npx tsx packages/pipeline/bench/general-grid.ts [--seeds 5] [--sizes 10,6,3;20,10,3] [--directions orthonormal,random]
 */
import { parseArgs } from 'node:util';
import type { ActivationName } from '@nnid/core';
import { createOracle, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identify, scoreGeneral } from '@nnid/pipeline';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '5' }, sizes: { type: 'string', default: '10,6,3;20,10,3' }, directions: { type: 'string', default: 'orthonormal,random' }, pairs: { type: 'string', default: 'tanh/tanh,tanh/sigmoid,sigmoid/tanh,sigmoid/sigmoid' }, threads: { type: 'string', default: '2' } } });
const seeds = Number(values.seeds);
console.log('| directions | (d, m0, m1) | activations | exact | median queries / P | median s |');
console.log('|---|---|---|---|---|---|');
for (const directions of values.directions!.split(',') as ('orthonormal' | 'random')[]) {
  for (const size of values.sizes!.split(';')) {
    const [d, m0, m1] = size.split(',').map(Number);
    for (const pair of values.pairs!.split(',')) {
      const [layer1, layer2] = pair.split('/') as ActivationName[];
      let exact = 0;
      const qs: number[] = [];
      const secs: number[] = [];
      for (let seed = 1; seed <= seeds; seed++) {
        const truth = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, activation: { layer1, layer2 }, seed, directions });
        const r = await identify(createOracle(generalBlackBox(truth)), { width1: m0, width2: m1, activation: { layer1, layer2 }, seed: 1, threads: Number(values.threads), model: 'general' });
        const err = scoreGeneral(truth, r.networkGeneral!).function.gaussian.relativeL2;
        if (err <= 1e-8) exact++;
        qs.push(r.report.queries.multipleOfP);
        secs.push(r.report.seconds.total);
      }
      const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
      console.log(`| ${directions} | (${d}, ${m0}, ${m1}) | ${pair} | ${exact}/${seeds} | ${med(qs).toFixed(1)} | ${med(secs).toFixed(1)} |`);
    }
  }
}
