/**
 * The data the second-layer benches (second-layer-start.ts, -hessians.ts, -gradients.ts) fit on: 4 P fresh points,
 * half on the unit sphere, half Gaussian (score's testPoints, seed 900 + the network's seed), and the oracle's answers.
 */
import { matrix, parameterCount, type Float64View, type Network, type Oracle } from '@nnid/core';
import { testPoints } from '@nnid/pipeline';

export async function fourPData(oracle: Oracle, network: Network, seed: number): Promise<{ inputs: Float64View; values: Float64Array }> {
  const P = parameterCount(network);
  const d = network.inputDim;
  const inputs = matrix(4 * P, d);
  inputs.data.set(testPoints('sphere', 2 * P, d, 900 + seed).data, 0);
  inputs.data.set(testPoints('gaussian', 2 * P, d, 900 + seed).data, 2 * P * d);
  return { inputs, values: await oracle.evaluate(inputs) };
}
