/** The stage contract (@nnid/testing) over refineNetwork and fitNetwork. */
import { matrix, rng, toDense, type Network } from '@nnid/core';
import { createOracle, evaluateNetwork, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { describeStageContract, networkArrays } from '@nnid/testing';
import { fitNetwork, refineNetwork } from '@nnid/refine';

const truth = randomNetwork({ inputDim: 5, width1: 3, width2: 2, seed: 8 });

/** The truth with every parameter moved by 0.05 N(0, 1) (fresh arrays). */
function start(): Network {
  const s = rng(9);
  const move = (x: Float64Array) => x.map((v) => v + 0.05 * s.normal());
  const A = toDense(truth.A);
  const B = toDense(truth.B);
  return { ...truth, A: { ...A, data: move(A.data) }, theta: move(truth.theta), B: { ...B, data: move(B.data) }, tau: move(truth.tau) };
}

function data() {
  const inputs = matrix(60, 5);
  rng(10).fillNormal(inputs.data);
  return { inputs, values: evaluateNetwork(truth, inputs) };
}

describeStageContract({
  name: 'refineNetwork',
  inputs: () => ({ oracle: createOracle(networkBlackBox(truth)), initial: start() }),
  run: (input, { seed, threads }) => refineNetwork(input.oracle, input.initial, { seed, threads, rowBlocks: 2, dataPoints: 50, maxIterations: 8 }),
  outputs: (r) => ({ ...networkArrays(r.network), inputs: r.data.inputs, values: r.data.values }),
  report: (r) => r.report,
  threads: true,
  badArguments: (input) => [
    { call: () => refineNetwork(input.oracle, input.initial, { seed: -1 }), message: 'invalid argument. `seed` must be a nonnegative integer. Value: `-1`.' },
    { call: () => refineNetwork(input.oracle, input.initial, { seed: 1, dataPoints: -1 }), message: 'invalid argument. `dataPoints` must be a nonnegative integer. Value: `-1`.' },
  ],
});

describeStageContract({
  name: 'fitNetwork',
  inputs: () => ({ initial: start(), data: data() }),
  run: (input, { threads }) => fitNetwork(input.initial, input.data, { threads, rowBlocks: 2, maxIterations: 8 }),
  outputs: (r) => networkArrays(r.network),
  report: (r) => r.report,
  threads: true,
  layouts: (input, relay) => ({ ...input, data: { ...input.data, inputs: relay(input.data.inputs) as never } }),
  ndarray: true,
});
