import { describe, expect, it } from 'vitest';
import { matrix, matrixFrom, type Network } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { hungarian, matchWeights, score } from '@nnid/pipeline';

function permutedAndFlipped(net: Network): Network {
  // Permute the first-layer units and flip the sign of unit 0: same function for tanh.
  const { width1: m0, width2: m1, inputDim: d } = net;
  const perm = Array.from({ length: m0 }, (_, i) => (i + 3) % m0);
  const A = matrix(m0, d);
  const B = matrix(m1, m0);
  const theta = new Float64Array(m0);
  for (let i = 0; i < m0; i++) {
    const src = perm[i];
    const s = src === 0 ? -1 : 1;
    for (let j = 0; j < d; j++) A.data[i * d + j] = s * net.A.data[src * d + j];
    theta[i] = s * net.theta[src];
    for (let l = 0; l < m1; l++) B.data[l * m0 + i] = s * net.B.data[l * m0 + src];
  }
  return { ...net, A, B, theta };
}

describe('score', () => {
  it('a permuted, sign-flipped copy of a tanh network scores as exact', () => {
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 3, activation: 'tanh', seed: 4 });
    const s = score(truth, permutedAndFlipped(truth), { points: 2000 });
    expect(s.firstLayer.minCos).toBeGreaterThan(1 - 1e-14);
    expect(s.entangled.minCos).toBeGreaterThan(1 - 1e-14);
    expect(s.firstLayer.shareWithin005).toBe(1);
    expect(s.function.sphere.relativeL2).toBeLessThan(1e-14);
    expect(s.function.gaussian.relativeL2).toBeLessThan(1e-14);
  });

  it('a perturbed network has errors of the size of the perturbation', () => {
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 3, activation: 'sigmoid', seed: 5 });
    const tau = Float64Array.from(truth.tau, (t) => t + 1e-3);
    const s = score(truth, { ...truth, tau }, { points: 2000 });
    expect(s.firstLayer.minCos).toBe(1);
    expect(s.function.sphere.maxError).toBeGreaterThan(1e-4);
    expect(s.function.sphere.maxError).toBeLessThan(1e-3 * 3);
  });

  it('matches up to sign and permutation and reports the worst pair', () => {
    const truth = matrixFrom(Float64Array.from([1, 0, 0, 0, 1, 0]), 2, 3);
    const c = Math.cos(0.1);
    const sn = Math.sin(0.1);
    const rec = matrixFrom(Float64Array.from([0, -1, 0, c, 0, sn]), 2, 3);
    const m = matchWeights(truth, rec);
    expect(m.cosines[0]).toBeCloseTo(c, 15);
    expect(m.cosines[1]).toBe(1);
    expect(m.minCos).toBeCloseTo(c, 15);
  });

  it('hungarian ends and avoids non-finite costs (a NaN weight) instead of looping forever', () => {
    const cost = Float64Array.from([NaN, 0.5, 0.2, NaN, 0.9, 0.1]);
    expect(Array.from(hungarian(cost, 2, 3))).toEqual([1, 2]);
  });

  it('hungarian finds the optimal assignment where greedy does not', () => {
    // greedy takes (0,0)=1 then (1,1)=100; optimal is (0,1)+(1,0) = 2+2
    const cost = Float64Array.from([1, 2, 2, 100]);
    expect(Array.from(hungarian(cost, 2, 2))).toEqual([1, 0]);
  });
});
