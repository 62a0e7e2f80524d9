/** The stage contract (@nnid/testing) over recoverShifts. */
import { entangledWeights, matrix, toDense } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { describeStageContract, networkArrays } from '@nnid/testing';
import { recoverShifts } from '@nnid/shift-recovery';

const net = randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 4 });
const activation = { layer1: 'tanh', layer2: 'tanh' } as const;

describeStageContract({
  name: 'recoverShifts',
  inputs: () => ({ oracle: createOracle(networkBlackBox(net)), firstLayerWeights: toDense(net.A), entangledWeights: entangledWeights(net) }),
  run: (input, { seed }) => recoverShifts(input.oracle, input.firstLayerWeights, input.entangledWeights, { activation, seed, dataPoints: 60 }),
  outputs: (r) => ({ ...networkArrays(r.network), lambda: r.lambda, inputs: r.data.inputs, values: r.data.values }),
  report: (r) => r.report,
  layouts: (input, relay) => ({ ...input, firstLayerWeights: relay(input.firstLayerWeights) as never, entangledWeights: relay(input.entangledWeights) as never }),
  badArguments: (input) => [
    { call: () => recoverShifts(input.oracle, input.firstLayerWeights, input.entangledWeights, { activation, seed: -1 }), message: 'invalid argument. `seed` must be a nonnegative integer. Value: `-1`.' },
    { call: () => recoverShifts(input.oracle, matrix(0, 6), input.entangledWeights, { activation, seed: 1 }), message: 'invalid argument. `firstLayerWeights` must have at least one row. Value: `0 x 6`.' },
  ],
});
