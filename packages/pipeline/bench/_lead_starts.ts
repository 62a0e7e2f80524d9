// Saves the paper pipeline's networks (before refinement) as starts for refine experiments.
import { writeFileSync, mkdirSync } from 'node:fs';
import { serializeNetwork } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify } from '@nnid/pipeline';
mkdirSync('/tmp/starts', { recursive: true });
for (const c of process.argv.slice(2)) {
  const [d, m0, m1, act, s, seed] = c.split(',');
  const activation = { layer1: act as 'tanh', layer2: act as 'tanh' };
  const truth = randomNetwork({ inputDim: +d, width1: +m0, width2: +m1, activation, shiftStd: +s, seed: +seed });
  const r = await identify(createOracle(networkBlackBox(truth)), { width1: +m0, width2: +m1, activation, seed: +seed, threads: 1, refine: false });
  writeFileSync(`/tmp/starts/${c}.json`, JSON.stringify({ truth: serializeNetwork(truth), start: serializeNetwork(r.networkBeforeRefinement) }));
  console.log('saved', c);
}
