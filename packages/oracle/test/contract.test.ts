/** The stage contract (@nnid/testing) over the oracle: randomNetwork, and f(X) through createOracle. */
import { createOracle, evaluateNetwork, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { describeStageContract, networkArrays, randomMatrix } from '@nnid/testing';

const net = randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 5 });

describeStageContract({
  name: 'randomNetwork',
  inputs: () => ({ dims: Float64Array.of(6, 4, 2) }),
  run: (input, { seed }) => randomNetwork({ inputDim: input.dims[0], width1: input.dims[1], width2: input.dims[2], activation: { layer1: 'sigmoid', layer2: 'tanh' }, seed }),
  outputs: (network) => networkArrays(network),
  report: (network) => ({ activation: network.activation, inputDim: network.inputDim, width1: network.width1, width2: network.width2 }),
  badArguments: () => [
    { call: () => randomNetwork({ inputDim: 3, width1: 4, width2: 2 }), message: 'invalid argument. `width1` must be <= inputDim (3). Value: `4`.' },
    { call: () => randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: -1 }), message: 'invalid argument. `seed` must be a nonnegative integer. Value: `-1`.' },
  ],
});

describeStageContract({
  name: 'createOracle(networkBlackBox(net, { noise })).evaluate',
  inputs: () => ({ inputs: randomMatrix(9, 6, 1) }),
  run: async (input, { seed }) => {
    const oracle = createOracle(networkBlackBox(net, { noise: 1e-6, noiseSeed: seed }), { maxQueries: 100 });
    const values = await oracle.evaluate(input.inputs);
    return { values, exact: evaluateNetwork(net, input.inputs), counts: oracle.counts() };
  },
  outputs: (r) => ({ values: r.values, exact: r.exact }),
  report: (r) => r.counts,
  layouts: (input, relay) => ({ inputs: relay(input.inputs) as never }),
  ndarray: true,
  badArguments: () => [
    { call: () => createOracle(networkBlackBox(net), { maxQueries: -1 }), message: 'invalid argument. `maxQueries` must be a nonnegative integer. Value: `-1`.' },
  ],
});
