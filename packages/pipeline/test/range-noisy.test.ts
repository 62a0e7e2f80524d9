/**
 * range(A)'s dimension from a noisy oracle (a float32 model's rounding): the gradients' spectrum gap
 * at m0 falls to tens there, so a noisy oracle takes gaps from NOISY_RANGE_GAP (sample-stages.ts), and
 * only where the values beyond the gap are at the finite differences' error level (RANGE_TAIL_FACTOR).
 */
import { expect, it } from 'vitest';
import { matrixFrom } from '@nnid/core';
import { createOracle, generalBlackBox, networkBlackBox, randomGeneralNetwork, randomNetwork } from '@nnid/oracle';
import { identify, scoreGeneral } from '@nnid/pipeline';
import { NOISY_RANGE_GAP } from '../src/sample-stages.ts';
import { gradientErrorLevel } from '../src/widths.ts';

it('m0 inferred on an oracle with additive noise of float32 size (1e-7): the true m0, not d', async () => {
  const truth = randomNetwork({ inputDim: 10, width1: 7, width2: 3, activation: 'tanh', shiftStd: 0.3, seed: 3 });
  const oracle = createOracle(networkBlackBox(truth, { noise: 1e-7, noiseSeed: 1 }));
  const r = await identify(oracle, { activation: { layer1: 'tanh', layer2: 'tanh' }, refine: false, seed: 1, threads: 1 });
  const report = r.report as unknown as { spectrum: { gradients: number[] } };
  const s = report.spectrum.gradients;
  expect(s[6] / s[7]).toBeGreaterThan(20); // the edge, above the noisy threshold
  expect(r.network.width1).toBe(7);
}, 120_000);

it('a signal gap is not the edge: (4, 4, 2) tanh answering in float32, widths inferred, gives (4, 2) and passes (the gap at D = 1 took m0 = 1)', async () => {
  // random directions at d = 4: the gradients' spectrum has a gap of ~30 at D = 1 in the function itself
  // (its second value ~50x the finite differences' error level), which NOISY_RANGE_GAP alone accepted
  const truth = randomGeneralNetwork({ inputDim: 4, width1: 4, width2: 2, activation: 'tanh', seed: 6 });
  const box = generalBlackBox(truth);
  const oracle = createOracle({ inputDim: 4, identity: `${box.identity}|float32`, evaluate: async (x) => Float64Array.from(box.evaluateSync(x), (v) => Math.fround(v)) });
  const r = await identify(oracle, { model: 'general', activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 1 });
  const range = r.report.stages.range!;
  const s = range.singularValues;
  expect(s[0] / s[1]).toBeGreaterThan(NOISY_RANGE_GAP); // the gap the old rule took
  expect(s[1]).toBeGreaterThan(10 * range.tailBound!); // its next value is signal: far above the error level
  expect(r.report.widths.width1).toBe(4);
  expect(r.report.widths.width2).toBe(2);
  expect(r.report.check.passed).toBe(true);
  expect(scoreGeneral(truth, r.networkGeneral!).function.sphere.relativeL2).toBeLessThan(1e-7);
}, 120_000);

it("a weak direction of A under float32's noise: the forward gradients completed to central differences find m0 = 6 of d = 13 (forward alone: 13), within maxQueries", async () => {
  // (13, 6, 3) tanh answering in float32: the forward differences' (h / 2) diag(H) lifts the
  // spectrum's tail above the 6th value's gap; the central completion (noisyRangeCentral) pays
  // g (d + 1) = 17 x 14 more rows and brings it down
  const truth = randomGeneralNetwork({ inputDim: 13, width1: 6, width2: 3, activation: 'tanh', seed: 3 });
  const box = generalBlackBox(truth);
  const float32 = () => createOracle({ inputDim: 13, identity: `${box.identity}|float32`, evaluate: async (x) => Float64Array.from(box.evaluateSync(x), (v) => Math.fround(v)) });
  const afterRange = async (noisyRangeCentral: boolean, maxQueries?: number) => {
    let plans = 0;
    let seen: { width1: number; gradients: number; paid: number } | null = null;
    const oracle = float32();
    await identify(oracle, {
      model: 'general',
      activation: { layer1: 'tanh', layer2: 'tanh' },
      seed: 1,
      threads: 1,
      noisyRangeCentral,
      ...(maxQueries !== undefined ? { maxQueries } : {}),
      onProgress: (e) => {
        if (e.event === 'plan' && ++plans === 2) {
          seen = { width1: e.plan!.widths.width1, gradients: e.plan!.queries.gradients, paid: oracle.counts().paid };
          throw new Error('stop');
        }
      },
    }).catch((e: Error) => {
      if (e.message !== 'stop') throw e;
    });
    return seen!;
  };
  // noise 45 rows, then g = d + 4 = 17 forward gradients of d + 1 rows, the completion as many again
  expect(await afterRange(false)).toEqual({ width1: 13, gradients: 17 * 14, paid: 45 + 17 * 14 });
  expect(await afterRange(true)).toEqual({ width1: 6, gradients: 17 * 14 + 17 * 14, paid: 45 + 2 * 17 * 14 });
  // within maxQueries: run only when the floor of m0 = d (2,663 rows with the forward gradients alone) still fits after it
  expect((await afterRange(true, 3000)).width1).toBe(6);
  expect(await afterRange(true, 2700)).toEqual({ width1: 13, gradients: 17 * 14, paid: 45 + 17 * 14 });
});

it('gradientErrorLevel: a forward stack off by (h / 2) diag(H) and the noise; null for the central scheme', () => {
  // f(x) = x^T x / 2 + b.x: gradient x + b, H = I; rows 0 (x = 0) and e_1, e_2 on the unit sphere
  const G = matrixFrom(Float64Array.of(1, 2, 2, 2, 1, 3), 3, 2);
  const level = gradientErrorLevel(G, { step: 1e-3, sigma: 0, radius: 1, scheme: 'forward' })!;
  expect(level).toBeCloseTo(Math.sqrt(3) * 5e-4, 12); // sqrt(g) (h / 2) |H| with |H| the gradients' change over the radius
  expect(gradientErrorLevel(G, { step: 1e-3, sigma: 1e-7, radius: 1, scheme: 'forward' })! - level).toBeCloseTo(Math.sqrt(3) * 2e-4, 12);
  expect(gradientErrorLevel(G, { step: 1e-3, sigma: 0, radius: 1, scheme: 'central' })).toBeNull();
});
