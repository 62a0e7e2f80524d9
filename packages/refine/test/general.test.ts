/**
 * The general network (C phi2(W2 phi1(W1 x + b1) + b2) + c): the fit of every weight and bias
 * through core's forward pass, k = 1 and k = 3, rows of any scale (0.3-3), biases and an output
 * layer; from a 3% perturbation it recovers the function exactly.
 */
import { describe, expect, it } from 'vitest';
import { generalParameterCount, matrix, rng, type ActivationName, type GeneralNetwork } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { fitGeneralNetwork, fitOutputLayer, generalLayoutOf, packGeneral, unpackGeneral } from '@nnid/refine';

function perturbGeneral(net: GeneralNetwork, eps: number, seed: number): GeneralNetwork {
  const layout = generalLayoutOf(net);
  const p = packGeneral(net, layout);
  const s = rng(seed);
  for (let k = 0; k < p.length; k++) p[k] += eps * s.normal();
  return unpackGeneral(p, layout);
}

function gaussian(n: number, d: number, seed: number) {
  const X = matrix(n, d);
  rng(seed).fillNormal(X.data);
  return X;
}

/** ||F - F_hat||_F / ||F||_F on 2000 Gaussian points. */
function relativeL2(truth: GeneralNetwork, other: GeneralNetwork): number {
  const X = gaussian(2000, truth.inputDim, 77);
  const a = evaluateGeneral(truth, X).data;
  const b = evaluateGeneral(other, X).data;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += a[i] ** 2;
  }
  return Math.sqrt(num / den);
}

const CASES: { act: ActivationName | { layer1: ActivationName; layer2: ActivationName }; outputs: number; seed: number }[] = [
  { act: 'tanh', outputs: 1, seed: 1 },
  { act: 'sigmoid', outputs: 1, seed: 2 },
  { act: { layer1: 'tanh', layer2: 'sigmoid' }, outputs: 1, seed: 3 },
  { act: 'tanh', outputs: 3, seed: 4 },
  { act: { layer1: 'sigmoid', layer2: 'tanh' }, outputs: 3, seed: 5 },
];

describe('fitGeneralNetwork', () => {
  for (const { act, outputs, seed } of CASES) {
    const name = typeof act === 'string' ? act : `${act.layer1}/${act.layer2}`;
    it(`${name}, k = ${outputs}: from a 3% perturbation the fit is exact (relative L2 <= 1e-10)`, async () => {
      const truth = randomGeneralNetwork({ inputDim: 8, width1: 5, width2: 3, outputs, activation: act, seed });
      // 6 P points: at 3 P the sigmoid case (a unit with output weight -0.04) crawls to 8e-6 in 1000 iterations
      const inputs = gaussian(6 * generalParameterCount(truth), 8, seed + 100);
      const values = evaluateGeneral(truth, inputs);
      const start = perturbGeneral(truth, 0.03, seed + 200);
      expect(relativeL2(truth, start)).toBeGreaterThan(1e-3);
      const { network, report } = await fitGeneralNetwork(start, { inputs, values });
      expect(report.relativeResidual).toBeLessThan(1e-12);
      expect(report.dataPoints).toBe(inputs.shape[0]);
      expect(relativeL2(truth, network)).toBeLessThan(1e-10);
    });
  }

  it('fitOutputLayer solves (C, c) exactly when the hidden layers are the truth', () => {
    const truth = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 3, outputs: 3, seed: 9 });
    const inputs = gaussian(100, 6, 3);
    const values = evaluateGeneral(truth, inputs).data;
    const wrongOutput = { ...truth, C: matrix(3, 3), c: new Float64Array(3) };
    const fitted = fitOutputLayer(wrongOutput, { inputs, values });
    expect(relativeL2(truth, fitted)).toBeLessThan(1e-12);
  });

  it('with W1 fixed at the truth, the rest is fitted and W1 is untouched', async () => {
    const truth = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, activation: 'sigmoid', seed: 12 });
    const inputs = gaussian(150, 6, 4);
    const values = evaluateGeneral(truth, inputs).data;
    const start = { ...perturbGeneral(truth, 0.03, 5), W1: truth.W1 };
    const { network } = await fitGeneralNetwork(start, { inputs, values }, { fix: 'first-layer-weights' });
    expect(Array.from(network.W1.data)).toEqual(Array.from(truth.W1.data));
    expect(relativeL2(truth, network)).toBeLessThan(1e-10);
  });

  it("with W1's directions fixed, their norms are fitted with the rest (start: unit rows)", async () => {
    const truth = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 13 });
    const inputs = gaussian(200, 6, 6);
    const values = evaluateGeneral(truth, inputs).data;
    const perturbed = perturbGeneral(truth, 0.03, 7);
    const W1 = matrix(4, 6);
    for (let i = 0; i < 4; i++) {
      const row = truth.W1.data.subarray(i * 6, (i + 1) * 6);
      const norm = Math.hypot(...row);
      for (let j = 0; j < 6; j++) W1.data[i * 6 + j] = row[j] / norm;
    }
    const { network, report } = await fitGeneralNetwork({ ...perturbed, W1 }, { inputs, values }, { fix: 'first-layer-directions' });
    expect(report.relativeResidual).toBeLessThan(1e-12);
    expect(relativeL2(truth, network)).toBeLessThan(1e-10);
    for (let i = 0; i < 4; i++) {
      const a = Array.from(network.W1.data.subarray(i * 6, (i + 1) * 6));
      const na = Math.hypot(...a);
      let cos = 0;
      for (let j = 0; j < 6; j++) cos += (a[j] / na) * W1.data[i * 6 + j];
      expect(Math.abs(cos - 1)).toBeLessThan(1e-14);
    }
  });

  it('says what is wrong with its data', async () => {
    const net = randomGeneralNetwork({ inputDim: 4, width1: 3, width2: 2, outputs: 2, seed: 1 });
    const inputs = gaussian(10, 4, 1);
    await expect(fitGeneralNetwork(net, { inputs, values: new Float64Array(10) })).rejects.toThrow(
      'invalid argument. `data.values` must hold n k = 20 numbers (2 per row of data.inputs). Value: `10`.',
    );
    await expect(fitGeneralNetwork(net, { inputs: gaussian(10, 5, 1), values: new Float64Array(20) })).rejects.toThrow(
      'invalid argument. `data.inputs` must have inputDim = 4 columns. Value: `5`.',
    );
  });
});
