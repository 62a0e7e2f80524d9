/**
 * method auto's shrink of a passing fit (shrinkPassing) under a float32 black box's noise: a first-layer
 * unit split into two near-copies (one the other's negation, tanh being odd) that differ at the
 * rounding's level is merged at SHRINK_TOLERANCES' larger tolerances (not at PRUNE_TOLERANCE's 1e-7),
 * the smaller network kept only because its refit passes the check and the held-out check; with m0
 * given the first layer is left as it is.
 */
import { describe, expect, it } from 'vitest';
import { matrixFrom, toDense, type Float64View, type GeneralNetwork } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { fitGeneralNetwork } from '@nnid/refine';
import { heldOutPoints, heldOutSet, scoreGeneral } from '@nnid/pipeline';
import { SHRINK_TOLERANCES, shrinkPassing } from '../src/method-auto.ts';

const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 1, activation: 'tanh', seed: 4 });
const float32 = (net: GeneralNetwork, x: Float64View) => Float64Array.from(toDense(evaluateGeneral(net, x)).data, (v) => Math.fround(v));
const threshold = 1e-6;

/** The truth with unit 0 of the first layer split: a fifth unit -(w_0, b_0 + 1e-3) carrying minus half its outgoing weights. */
function split(net: GeneralNetwork): GeneralNetwork {
  const { inputDim: d, width1: m0, width2: m1 } = net;
  const W1 = toDense(net.W1).data;
  const W2 = toDense(net.W2).data;
  const W1s = new Float64Array((m0 + 1) * d);
  W1s.set(W1);
  for (let j = 0; j < d; j++) W1s[m0 * d + j] = -W1[j];
  const b1 = Float64Array.from([...net.b1, -(net.b1[0] + 1e-3)]);
  const W2s = new Float64Array(m1 * (m0 + 1));
  for (let l = 0; l < m1; l++) {
    for (let i = 0; i < m0; i++) W2s[l * (m0 + 1) + i] = W2[l * m0 + i] * (i === 0 ? 0.5 : 1);
    W2s[l * (m0 + 1) + m0] = -0.5 * W2[l * m0];
  }
  return { ...net, width1: m0 + 1, W1: matrixFrom(W1s, m0 + 1, d), b1, W2: matrixFrom(W2s, m1, m0 + 1) };
}

describe('shrinkPassing under float32 noise', () => {
  it('a first-layer unit split into near-copies: merged (m0 5 -> 4), the smaller network passing the check and held out; m0 given: kept', async () => {
    const n = 600;
    const inputs = matrixFrom(heldOutPoints('gaussian', n, 8, 21), n, 8);
    const data = { inputs, values: float32(truth, inputs) };
    // the split network refitted on the float32 answers: it passes, its copies apart at the noise's level
    const fitted = (await fitGeneralNetwork(split(truth), data, { maxIterations: 200 })).network;
    const box = { inputDim: 8, evaluate: async (x: Float64View) => float32(truth, x) };
    const set = heldOutSet(box, { outputs: 1, seed: 2 });
    expect((await set.judge(fitted, threshold)).passed).toBe(true);
    expect(fitted.width1).toBe(5);
    expect(SHRINK_TOLERANCES[0]).toBe(1e-7);
    const shrunk = await shrinkPassing(fitted, data, threshold, { width1: true, heldOut: set });
    expect(shrunk).not.toBeNull();
    expect([shrunk!.network.width1, shrunk!.network.width2]).toEqual([4, 2]);
    expect(shrunk!.report.layer1).toEqual({ from: 5, to: 4 });
    expect(shrunk!.report.relativeResidual).toBeLessThanOrEqual(threshold);
    expect(set.verdict(shrunk!.network)!.passed).toBe(true);
    // the 4 first-layer rows are the truth's, within float32's noise
    const s = scoreGeneral(truth, shrunk!.network, { points: 2000 });
    expect(s.firstLayer.minCos).toBeGreaterThan(1 - 1e-6);
    expect(s.function.gaussian.relativeL2).toBeLessThan(1e-6);
    // m0 given: the first layer stays (the second has nothing to shed)
    const kept = await shrinkPassing(fitted, data, threshold, { width1: false, heldOut: set });
    expect(kept === null || kept.network.width1 === 5).toBe(true);
  });
});
