/**
 * The second pass of the general model's first layer (second-pass.ts): the zeros of phi'', points
 * where every second-layer unit sits at one (the Hessian there is sum_i alpha_i a_i a_i^T), and
 * W1's directions from Hessians at such points.
 */
import { describe, expect, it } from 'vitest';
import { activation, matrix, rng, type ActivationName, type GeneralNetwork } from '@nnid/core';
import { createOracle, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { sampleHessians } from '@nnid/hessian-sampler';
import { matchWeights } from '@nnid/pipeline';
import { betaFreePoints, directionsFromStack, secondDerivativeZeros, subtractEntangled } from '../src/second-pass.ts';

function secondLayerInputs(net: GeneralNetwork, x: Float64Array): number[] {
  const phi1 = activation(net.activation.layer1);
  const { inputDim: d, width1: m0, width2: m1 } = net;
  const g = Array.from({ length: m0 }, (_, i) => {
    let z = net.b1[i];
    for (let j = 0; j < d; j++) z += net.W1.data[i * d + j] * x[j];
    return phi1.value(z);
  });
  return Array.from({ length: m1 }, (_, l) => net.b2[l] + g.reduce((s, v, i) => s + net.W2.data[l * m0 + i] * v, 0));
}

describe('secondDerivativeZeros', () => {
  it("gives phi'''s zeros in [-8, 8], nearest 0 first; none for softplus", () => {
    expect(secondDerivativeZeros('tanh')).toHaveLength(1);
    expect(Math.abs(secondDerivativeZeros('tanh')[0])).toBeLessThan(1e-12);
    expect(Math.abs(secondDerivativeZeros('sigmoid')[0])).toBeLessThan(1e-12);
    const gelu = secondDerivativeZeros('gelu');
    expect(gelu).toHaveLength(2);
    for (const t of gelu) expect(Math.abs(Math.abs(t) - Math.SQRT2)).toBeLessThan(1e-12);
    for (const t of secondDerivativeZeros('silu')) expect(Math.abs(activation('silu').d2(t))).toBeLessThan(1e-14);
    expect(secondDerivativeZeros('softplus')).toEqual([]);
  });
});

describe('betaFreePoints', () => {
  for (const [layer1, layer2] of [
    ['gelu', 'tanh'],
    ['silu', 'gelu'],
  ] as [ActivationName, ActivationName][]) {
    it(`${layer1}/${layer2}: every second-layer unit at a zero of phi2''`, () => {
      const net = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, activation: { layer1, layer2 }, seed: 3 });
      const points = betaFreePoints(net, { count: 6, seed: 1 })!;
      expect(points.shape[0]).toBeGreaterThanOrEqual(2);
      const phi2 = activation(layer2);
      for (let n = 0; n < points.shape[0]; n++) {
        const x = points.data.subarray(n * 8, n * 8 + 8);
        for (const z of secondLayerInputs(net, x)) expect(Math.abs(phi2.d2(z))).toBeLessThan(1e-10);
      }
    });
  }
  it('a softplus second layer has none: null', () => {
    const net = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'softplus' }, seed: 1 });
    expect(betaFreePoints(net, { count: 6, seed: 1 })).toBeNull();
  });
});

describe('directionsFromStack', () => {
  it("gelu/tanh: W1's directions from the black box's Hessians at the truth's beta-free points, from rows off by |cos| ~0.9", async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, activation: { layer1: 'gelu', layer2: 'tanh' }, seed: 1 });
    const points = betaFreePoints(truth, { count: 6, seed: 2 })!;
    const { hessianStack } = await sampleHessians(createOracle(generalBlackBox(truth)), points, { layout: 'packed', scheme: 'central', threads: 1 });
    // the estimate: each true row plus noise of norm ~0.45 of its own
    const estimate = matrix(4, 8);
    const stream = rng(5);
    for (let i = 0; i < 4; i++) {
      const row = Array.from({ length: 8 }, (_, j) => truth.W1.data[i * 8 + j]);
      const n = Math.hypot(...row);
      for (let j = 0; j < 8; j++) estimate.data[i * 8 + j] = row[j] / n + 0.16 * stream.normal();
    }
    expect(matchWeights(truth.W1, estimate).minCos).toBeLessThan(0.97);
    const found = await directionsFromStack(hessianStack, estimate, { seed: 1, threads: 1 });
    expect(found.replaced).toBe(4);
    expect(matchWeights(truth.W1, found.directions).minCos).toBeGreaterThan(1 - 1e-6);
    // the same bits on 2 threads (the rank-one ascent in workers)
    const two = await directionsFromStack(hessianStack, estimate, { seed: 1, threads: 2 });
    expect(Array.from(two.directions.data)).toEqual(Array.from(found.directions.data));
  });
  it('softplus/sigmoid at Gaussian points: with the entangled term subtracted (the truth as the estimate), the directions again', async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, activation: { layer1: 'softplus', layer2: 'sigmoid' }, seed: 2 });
    const points = matrix(6, 8, { shared: true });
    rng(9).fillNormal(points.data);
    const { hessianStack } = await sampleHessians(createOracle(generalBlackBox(truth)), points, { layout: 'packed', scheme: 'central', threads: 1 });
    subtractEntangled(hessianStack, points, truth, null);
    const found = await directionsFromStack(hessianStack, truth.W1, { seed: 1, threads: 1 });
    expect(matchWeights(truth.W1, found.directions).minCos).toBeGreaterThan(1 - 1e-6);
  });
});
