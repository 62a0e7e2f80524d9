import { describe, expect, it } from 'vitest';
import { matrix, matrixFrom, type GeneralNetwork, type Network } from '@nnid/core';
import { randomGeneralNetwork, randomNetwork } from '@nnid/oracle';
import { hungarian, matchWeights, score, scoreGeneral } from '@nnid/pipeline';

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

/** The same function as `net` (tanh in both layers): units of both hidden layers permuted, unit 0 of each flipped. */
function permutedGeneral(net: GeneralNetwork): GeneralNetwork {
  const { width1: m0, width2: m1, inputDim: d, outputs: k } = net;
  const p0 = Array.from({ length: m0 }, (_, i) => (i + 2) % m0);
  const p1 = Array.from({ length: m1 }, (_, l) => (l + 1) % m1);
  const s0 = (i: number) => (i === 0 ? -1 : 1);
  const s1 = (l: number) => (l === 0 ? -1 : 1);
  const W1 = matrix(m0, d);
  const b1 = new Float64Array(m0);
  for (let i = 0; i < m0; i++) {
    for (let j = 0; j < d; j++) W1.data[i * d + j] = s0(p0[i]) * net.W1.data[p0[i] * d + j];
    b1[i] = s0(p0[i]) * net.b1[p0[i]];
  }
  const W2 = matrix(m1, m0);
  const b2 = new Float64Array(m1);
  for (let l = 0; l < m1; l++) {
    for (let i = 0; i < m0; i++) W2.data[l * m0 + i] = s1(p1[l]) * s0(p0[i]) * net.W2.data[p1[l] * m0 + p0[i]];
    b2[l] = s1(p1[l]) * net.b2[p1[l]];
  }
  const C = matrix(k, m1);
  for (let o = 0; o < k; o++) for (let l = 0; l < m1; l++) C.data[o * m1 + l] = s1(p1[l]) * net.C.data[o * m1 + p1[l]];
  return { ...net, W1, b1, W2, b2, C, c: Float64Array.from(net.c) };
}

describe('scoreGeneral (nnid.network/v2, k outputs)', () => {
  const truth = randomGeneralNetwork({ inputDim: 7, width1: 5, width2: 3, outputs: 3, activation: 'tanh', seed: 8 });

  it('a copy with both hidden layers permuted and sign-flipped scores as exact: directions, scales, W2 and C, every output', () => {
    const s = scoreGeneral(truth, permutedGeneral(truth), { points: 1000 });
    expect(s.firstLayer.minCos).toBeGreaterThan(1 - 1e-14);
    expect(s.firstLayerScales.maxRelativeError).toBeLessThan(1e-14);
    expect(s.firstLayerScales.truth).toHaveLength(5);
    expect(s.secondLayer!.minCos).toBeGreaterThan(1 - 1e-14);
    expect(s.secondLayerScales!.maxRelativeError).toBeLessThan(1e-14);
    expect(s.outputLayerRelativeError).toBeLessThan(1e-14);
    for (const e of [s.function.sphere, s.function.gaussian]) {
      expect(e.relativeL2).toBeLessThan(1e-14);
      expect(e.perOutput).toHaveLength(3);
      for (const o of e.perOutput) expect(o.relativeL2).toBeLessThan(1e-14);
    }
  });

  it('errors land where they are: a changed row of C shows in its output only, a rescaled row of W1 in the scales, not the directions', () => {
    const C = matrix(3, 3);
    C.data.set(truth.C.data);
    for (let l = 0; l < 3; l++) C.data[1 * 3 + l] *= 1.01;
    const s = scoreGeneral(truth, { ...truth, C }, { points: 1000 });
    expect(s.function.gaussian.perOutput[0].relativeL2).toBe(0);
    expect(s.function.gaussian.perOutput[2].relativeL2).toBe(0);
    expect(s.function.gaussian.perOutput[1].relativeL2).toBeCloseTo(0.01, 2);
    expect(s.function.gaussian.relativeL2).toBeGreaterThan(0);
    expect(s.function.gaussian.relativeL2).toBeLessThan(0.01);
    expect(s.outputLayerRelativeError).toBeGreaterThan(1e-3);

    const W1 = matrix(5, 7);
    W1.data.set(truth.W1.data);
    for (let j = 0; j < 7; j++) W1.data[2 * 7 + j] *= 1.2;
    const t = scoreGeneral(truth, { ...truth, W1 }, { points: 1000 });
    expect(t.firstLayer.minCos).toBeGreaterThan(1 - 1e-14);
    expect(t.firstLayerScales.maxRelativeError).toBeCloseTo(0.2, 12);
    expect(t.function.sphere.relativeL2).toBeGreaterThan(1e-4);
  });

  it('widths that differ: directions still matched (none left: |cos| 0), the second layer not compared', () => {
    const smaller = randomGeneralNetwork({ inputDim: 7, width1: 4, width2: 3, outputs: 3, activation: 'tanh', seed: 9 });
    const s = scoreGeneral(truth, smaller, { points: 200 });
    expect(s.firstLayer.cosines.filter((c) => c === 0)).toHaveLength(1);
    expect(s.firstLayerScales.maxRelativeError).toBe(Infinity);
    expect([s.secondLayer, s.secondLayerScales, s.outputLayerRelativeError]).toEqual([null, null, null]);
  });
});
