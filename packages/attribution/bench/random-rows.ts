/**
 * The attribution's rules on exact candidates of (12, 6, 3) tanh networks with random (non-orthonormal)
 * rows of norms 0.3-3 (the test's generator): per rule, on how many seeds the first layer is exactly
 * the true rows. Never fails on a figure.
 *
 *   npx tsx packages/attribution/bench/random-rows.ts [--seeds 1-30]
 */
import { parseArgs } from 'node:util';
import { attributeCandidates } from '@nnid/attribution';
import { randomRowsCandidates } from '../test/random-rows.ts';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '1-30' } } });
const [s0, s1] = values.seeds!.split('-').map(Number);
const exact = { coherence: 0, volume: 0 };
for (let seed = s0; seed <= (s1 ?? s0); seed++) {
  const candidates = randomRowsCandidates(seed);
  for (const rule of ['coherence', 'volume'] as const) {
    const { firstLayer } = attributeCandidates(candidates, { width1: 6, width2: 3, rule });
    if ([...firstLayer].sort((p, q) => p - q).join(',') === '0,1,2,3,4,5') exact[rule]++;
  }
}
console.log(`seeds ${s0}-${s1 ?? s0}: first layer exactly the true rows, coherence ${exact.coherence}, volume ${exact.volume}`);
