/**
 * pruneDeadUnits: a unit whose outgoing weights are zero (or whose output is constant on the data)
 * is removed, its mean moved into the next bias, and the smaller network refitted to the same
 * function; live units are kept.
 */
import { describe, expect, it } from 'vitest';
import { matrix, rng, toDense, type GeneralNetwork } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { fitGeneralNetwork } from '@nnid/refine';
import { pruneDeadUnits, splitDirection, splitSecondLayerUnit } from '../src/prune.ts';

/** `net` with one more second-layer unit (random weights in, zero out) and one more first-layer unit (random in, zero out). */
function withDeadUnits(net: GeneralNetwork, seed: number): GeneralNetwork {
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = net;
  const s = rng(seed);
  const W1 = matrix(m0 + 1, d);
  W1.data.set(toDense(net.W1).data);
  s.split(1).fillNormal(W1.data.subarray(m0 * d));
  const W2 = matrix(m1 + 1, m0 + 1);
  const old = toDense(net.W2).data;
  for (let l = 0; l < m1; l++) for (let i = 0; i < m0; i++) W2.data[l * (m0 + 1) + i] = old[l * m0 + i];
  s.split(2).fillNormal(W2.data.subarray(m1 * (m0 + 1), (m1 + 1) * (m0 + 1)));
  const C = matrix(k, m1 + 1);
  const oldC = toDense(net.C).data;
  for (let o = 0; o < k; o++) for (let l = 0; l < m1; l++) C.data[o * (m1 + 1) + l] = oldC[o * m1 + l];
  return { ...net, width1: m0 + 1, width2: m1 + 1, W1, b1: Float64Array.from([...net.b1, 0.3]), W2, b2: Float64Array.from([...net.b2, -0.2]), C };
}

function data(net: GeneralNetwork, n: number, seed: number) {
  const inputs = matrix(n, net.inputDim);
  rng(seed).fillNormal(inputs.data);
  return { inputs, values: toDense(evaluateGeneral(net, inputs)).data };
}

describe('pruneDeadUnits', () => {
  for (const outputs of [1, 3]) {
    it(`k = ${outputs}: one dead unit per layer removed, the function kept (relative residual <= 1e-12)`, async () => {
      const truth = randomGeneralNetwork({ inputDim: 8, width1: 5, width2: 3, outputs, activation: 'tanh', seed: 4, directions: 'orthonormal' });
      const padded = withDeadUnits(truth, 9);
      const fit = data(padded, 400, 1);
      // the padded network is the same function
      const direct = data(truth, 400, 1);
      for (let i = 0; i < fit.values.length; i++) expect(Math.abs(fit.values[i] - direct.values[i])).toBeLessThan(1e-12);
      const { network, report } = await pruneDeadUnits(padded, fit);
      expect(report.removed).toEqual({ layer1: [5], layer2: [3] });
      expect(report.widthsAfter).toEqual([5, 3]);
      expect(network.width1).toBe(5);
      expect(network.width2).toBe(3);
      expect(report.refitResidual!).toBeLessThan(1e-12);
      // live units all add far more than the tolerance
      for (const u of report.contributions.filter((c) => !(c.layer === 1 && c.unit === 5) && !(c.layer === 2 && c.unit === 3))) expect(u.relative).toBeGreaterThan(1e-3);
      const fresh = data(truth, 500, 2);
      const y = toDense(evaluateGeneral(network, fresh.inputs)).data;
      let num = 0;
      let den = 0;
      for (let i = 0; i < y.length; i++) {
        num += (y[i] - fresh.values[i]) ** 2;
        den += fresh.values[i] ** 2;
      }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-10);
    });
  }

  it('k = 3: a duplicated second-layer unit (C split between the copies) and a duplicated first-layer unit merged back, the function kept', async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 3, activation: 'tanh', seed: 5, directions: 'orthonormal' });
    const { inputDim: d, width1: m0, width2: m1, outputs: k } = truth;
    // first-layer unit 0 twice (W2's column split 0.3 / 0.7), second-layer unit 1 twice (C's column split -0.4 / 1.4)
    const W1 = matrix(m0 + 1, d);
    W1.data.set(toDense(truth.W1).data);
    W1.data.set(toDense(truth.W1).data.subarray(0, d), m0 * d);
    const oldW2 = toDense(truth.W2).data;
    const W2 = matrix(m1 + 1, m0 + 1);
    for (const [l, from] of [[0, 0], [1, 1], [2, 1]] as const) {
      for (let i = 0; i < m0; i++) W2.data[l * (m0 + 1) + i] = oldW2[from * m0 + i];
      W2.data[l * (m0 + 1) + m0] = 0.7 * oldW2[from * m0];
      W2.data[l * (m0 + 1)] = 0.3 * oldW2[from * m0];
    }
    const oldC = toDense(truth.C).data;
    const C = matrix(k, m1 + 1);
    for (let o = 0; o < k; o++) {
      C.data[o * (m1 + 1)] = oldC[o * m1];
      C.data[o * (m1 + 1) + 1] = -0.4 * oldC[o * m1 + 1];
      C.data[o * (m1 + 1) + 2] = 1.4 * oldC[o * m1 + 1];
    }
    const padded: GeneralNetwork = { ...truth, width1: m0 + 1, width2: m1 + 1, W1, b1: Float64Array.from([...truth.b1, truth.b1[0]]), W2, b2: Float64Array.from([...truth.b2, truth.b2[1]]), C };
    const fit = data(padded, 400, 1);
    const direct = data(truth, 400, 1);
    for (let i = 0; i < fit.values.length; i++) expect(Math.abs(fit.values[i] - direct.values[i])).toBeLessThan(1e-12);
    const { network, report } = await pruneDeadUnits(padded, fit);
    // of each pair the copy with the smaller outgoing weights goes
    expect(report.duplicates).toEqual([{ layer: 2, unit: 1, of: 2 }, { layer: 1, unit: 0, of: 4 }]);
    expect(report.widthsAfter).toEqual([4, 2]);
    expect([network.width1, network.width2]).toEqual([4, 2]);
    expect(report.refitResidual!).toBeLessThan(1e-12);
    const fresh = data(truth, 500, 2);
    const y = toDense(evaluateGeneral(network, fresh.inputs)).data;
    let num = 0;
    let den = 0;
    for (let i = 0; i < y.length; i++) {
      num += (y[i] - fresh.values[i]) ** 2;
      den += fresh.values[i] ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(1e-10);
  });

  it('a network without dead units is returned as it is', async () => {
    const truth = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, activation: 'tanh', seed: 1, directions: 'orthonormal' });
    const { network, report } = await pruneDeadUnits(truth, data(truth, 200, 3));
    expect(network).toBe(truth);
    expect(report.refitResidual).toBeNull();
    expect(report.removed).toEqual({ layer1: [], layer2: [] });
  });
});

/** `net` with second-layer unit `of`'s copy: unit `unit`'s W2 row set at |cos| `cos` from unit `of`'s (same norm and bias). */
function nearDuplicate(net: GeneralNetwork, unit: number, of: number, cos: number, seed: number): GeneralNetwork {
  const m0 = net.width1;
  const W2 = matrix(net.width2, m0);
  W2.data.set(toDense(net.W2).data);
  const a = W2.data.slice(of * m0, (of + 1) * m0);
  const norm = Math.hypot(...a);
  const r = rng(seed).fillNormal(new Float64Array(m0));
  const dot = r.reduce((s, x, i) => s + (x * a[i]) / norm, 0);
  for (let i = 0; i < m0; i++) r[i] -= (dot * a[i]) / norm;
  const rn = Math.hypot(...r);
  for (let i = 0; i < m0; i++) W2.data[unit * m0 + i] = cos * a[i] + (Math.sqrt(1 - cos * cos) * norm * r[i]) / rn;
  const b2 = Float64Array.from(net.b2);
  b2[unit] = b2[of];
  return { ...net, W2, b2 };
}

describe('splitSecondLayerUnit', () => {
  it('m1 + 1 units, the outgoing weights halved, the function moved by O(epsilon^2)', () => {
    const net = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs: 3, activation: 'tanh', seed: 2 });
    const fit = data(net, 300, 3);
    for (const epsilon of [1e-2, 1e-4]) {
      const split = splitSecondLayerUnit(net, 1, epsilon, 7);
      expect([split.width1, split.width2]).toEqual([4, 3]);
      const C = toDense(split.C).data;
      const C0 = toDense(net.C).data;
      for (let o = 0; o < 3; o++) expect(C[o * 3 + 1] + C[o * 3 + 2]).toBeCloseTo(C0[o * 2 + 1], 14);
      const y = toDense(evaluateGeneral(split, fit.inputs)).data;
      let num = 0;
      let den = 0;
      for (let i = 0; i < y.length; i++) {
        num += (y[i] - fit.values[i]) ** 2;
        den += fit.values[i] ** 2;
      }
      const rel = Math.sqrt(num / den);
      expect(rel).toBeLessThan(10 * epsilon * epsilon);
      expect(rel).toBeGreaterThan(0);
    }
  });

  it('two near-duplicate second-layer units (|cos| 0.999) fitted as one are separated by a split and a refit', async () => {
    const base = randomGeneralNetwork({ inputDim: 10, width1: 6, width2: 3, activation: 'tanh', scales: [0.3, 3], seed: 1 });
    const truth = nearDuplicate(base, 2, 0, 0.999, 5);
    const fit = data(truth, 600, 2);
    // one unit standing for both: unit 2 dropped, its outgoing weight onto unit 0, refitted
    const C = toDense(truth.C).data;
    const merged: GeneralNetwork = { ...truth, width2: 2, W2: matrix(2, 6), b2: truth.b2.slice(0, 2), C: matrix(1, 2) };
    merged.W2.data.set(toDense(truth.W2).data.subarray(0, 12));
    merged.C.data.set([C[0] + C[2], C[1]]);
    const one = await fitGeneralNetwork(merged, fit, { maxIterations: 200 });
    expect(one.report.relativeResidual).toBeGreaterThan(1e-6);
    // an even split stays where it started (a saddle); a copy with a small share of either sign, from a few directions, separates them
    const even = await fitGeneralNetwork(splitSecondLayerUnit(one.network, 0, 1e-2, 1), fit, { maxIterations: 200 });
    expect(even.report.relativeResidual).toBeGreaterThan(1e-6);
    let best = Infinity;
    for (const sign of [1, -1]) {
      for (const share of [-0.1, 0.1]) {
        for (let unit = 0; unit < 2 && best > 1e-9; unit++) {
          const along = splitDirection(one.network, unit, fit).map((x) => sign * x);
          const split = await fitGeneralNetwork(splitSecondLayerUnit(one.network, unit, 1e-2, 0, share, along), fit, { maxIterations: 200 });
          best = Math.min(best, split.report.relativeResidual);
        }
      }
    }
    expect(best).toBeLessThan(1e-9);
  });
});
