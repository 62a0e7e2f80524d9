/**
 * range(A)'s dimension from a noisy oracle (a float32 model's rounding): the gradients' spectrum gap
 * at m0 falls to tens there, so a noisy oracle takes gaps from NOISY_RANGE_GAP (sample-stages.ts).
 */
import { expect, it } from 'vitest';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify } from '@nnid/pipeline';

it('m0 inferred on an oracle with additive noise of float32 size (1e-7): the true m0, not d', async () => {
  const truth = randomNetwork({ inputDim: 10, width1: 7, width2: 3, activation: 'tanh', shiftStd: 0.3, seed: 3 });
  const oracle = createOracle(networkBlackBox(truth, { noise: 1e-7, noiseSeed: 1 }));
  const r = await identify(oracle, { activation: { layer1: 'tanh', layer2: 'tanh' }, refine: false, seed: 1, threads: 1 });
  const report = r.report as unknown as { spectrum: { gradients: number[] } };
  const s = report.spectrum.gradients;
  expect(s[6] / s[7]).toBeGreaterThan(20); // the edge, above the noisy threshold
  expect(r.network.width1).toBe(7);
}, 120_000);
