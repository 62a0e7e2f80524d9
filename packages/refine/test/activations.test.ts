/**
 * Every activation of core's table flows through the refinement (residuals and Jacobian from
 * core's shared forward pass): from a network perturbed by 3% the fit recovers the truth.
 */
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, matrix, parameterCount, rng, type ActivationName, type Network } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { fitNetwork, layoutOf, packParameters, unpackParameters } from '@nnid/refine';
import { perturb } from './helpers.ts';

function largestParameterError(truth: Network, other: Network): number {
  const layout = layoutOf(truth);
  const a = packParameters(truth, layout);
  const b = packParameters(other, layout);
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

const PAIRS: [ActivationName, ActivationName][] = [
  ...ACTIVATIONS.filter((a) => a !== 'tanh' && a !== 'sigmoid').map((a): [ActivationName, ActivationName] => [a, a]),
  ['gelu', 'tanh'],
  ['arctan', 'silu'],
];

describe('fitNetwork on every activation', () => {
  for (const [layer1, layer2] of PAIRS) {
    it(`${layer1}/${layer2}: from a 3% perturbation back to the truth (residual 1e-12, parameters 1e-8)`, async () => {
      const truth = randomNetwork({ inputDim: 8, width1: 5, width2: 2, activation: { layer1, layer2 }, seed: 4 });
      const inputs = matrix(4 * parameterCount(truth), 8);
      rng(9).fillNormal(inputs.data);
      const values = evaluateNetwork(truth, inputs);
      const { network, report } = await fitNetwork(perturb(truth, 0.03, 2), { inputs, values });
      expect(report.relativeResidual).toBeLessThan(1e-12);
      expect(largestParameterError(truth, network)).toBeLessThan(1e-8);
    });
  }
});
