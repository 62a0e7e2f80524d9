/**
 * evaluateGeneral (n x k) against a direct evaluation written out here, toGeneral's exactness
 * on a v1 network, and the one-output BlackBox.
 */
import { describe, expect, it } from 'vitest';
import { activation, get2, matrix, rng, toGeneral, type GeneralNetwork } from '@nnid/core';
import { evaluateGeneral, evaluateNetwork, generalBlackBox, randomGeneralNetwork, randomNetwork } from '@nnid/oracle';

/** f(x) written out from the definition, in plain loops. */
function direct(net: GeneralNetwork, x: Float64Array): number[] {
  const phi1 = activation(net.activation.layer1);
  const phi2 = activation(net.activation.layer2);
  const h1 = Array.from({ length: net.width1 }, (_, i) => phi1.value(net.b1[i] + x.reduce((s, xj, j) => s + get2(net.W1, i, j) * xj, 0)));
  const h2 = Array.from({ length: net.width2 }, (_, l) => phi2.value(net.b2[l] + h1.reduce((s, g, i) => s + get2(net.W2, l, i) * g, 0)));
  return Array.from({ length: net.outputs }, (_, j) => net.c[j] + h2.reduce((s, h, l) => s + get2(net.C, j, l) * h, 0));
}

describe('evaluateGeneral', () => {
  for (const [k, act] of [[1, 'tanh'], [3, { layer1: 'gelu', layer2: 'silu' }], [10, { layer1: 'softplus', layer2: 'arctan' }]] as const) {
    it(`answers n x ${k} as the definition (${typeof act === 'string' ? act : `${act.layer1}/${act.layer2}`}, scales 0.3-3)`, () => {
      const net = randomGeneralNetwork({ inputDim: 7, width1: 5, width2: 4, outputs: k, activation: act, seed: 3 });
      const X = matrix(70, 7);
      rng(1).fillNormal(X.data);
      const F = evaluateGeneral(net, X);
      expect(F.shape).toEqual([70, k]);
      let worst = 0;
      for (let r = 0; r < 70; r++) {
        const want = direct(net, X.data.subarray(r * 7, r * 7 + 7));
        for (let j = 0; j < k; j++) worst = Math.max(worst, Math.abs(F.data[r * k + j] - want[j]) / Math.max(1, Math.abs(want[j])));
      }
      expect(worst).toBeLessThan(1e-13);
    });
  }

  it('on toGeneral(v1) answers exactly as the v1 network (same bits)', () => {
    const v1 = randomNetwork({ inputDim: 9, width1: 6, width2: 3, activation: 'sigmoid', seed: 2 });
    const X = matrix(100, 9);
    rng(4).fillNormal(X.data);
    const F = evaluateGeneral(toGeneral(v1), X);
    const f = evaluateNetwork(v1, X);
    // c = 0 and C = 1^T: sum_l 1 * h_l + 0 is the v1 sum, term by term
    expect(Array.from(F.data)).toEqual(Array.from(f));
  });

  it('the BlackBox of a one-output network answers its column; k > 1 is refused in one line', async () => {
    const net = randomGeneralNetwork({ inputDim: 4, width1: 3, width2: 2, seed: 1 });
    const box = generalBlackBox(net);
    const X = matrix(5, 4);
    rng(0).fillNormal(X.data);
    expect(Array.from(await box.evaluate(X))).toEqual(Array.from(evaluateGeneral(net, X).data));
    expect(box.identity).toMatch(/^nnid\.network2:d4-m3-m2-k1:[0-9a-f]{32}$/);
    expect(generalBlackBox(randomGeneralNetwork({ inputDim: 4, width1: 3, width2: 2, seed: 1 })).identity).toBe(box.identity);
    expect(() => generalBlackBox(randomGeneralNetwork({ inputDim: 4, width1: 3, width2: 2, outputs: 2 }))).toThrow(
      'invalid argument. `network.outputs` must be 1 for a BlackBox (one answer per row; evaluateGeneral answers all k). Value: `2`.',
    );
  });
});
