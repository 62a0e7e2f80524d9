/** The stage contract (@nnid/testing) over identify, on one small network (the d16-m8-m4 fingerprint case: 0.4 s). */
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { describeStageContract, networkArrays } from '@nnid/testing';
import { identify } from '@nnid/pipeline';

const truth = randomNetwork({ inputDim: 16, width1: 8, width2: 4, activation: { layer1: 'tanh', layer2: 'sigmoid' }, seed: 4 });
const activation = { layer1: 'tanh', layer2: 'sigmoid' } as const;

describeStageContract({
  name: 'identify',
  inputs: () => ({ oracle: createOracle(networkBlackBox(truth)), widths: Uint32Array.of(8, 4) }),
  run: (input, { seed, threads }) => identify(input.oracle, { width1: input.widths[0], width2: input.widths[1], activation, seed, threads }),
  outputs: (r) => networkArrays(r.network),
  report: (r) => r.report,
  threads: true,
  badArguments: (input) => [
    { call: () => identify(input.oracle, { activation, seed: -1 }), message: 'invalid argument. `seed` must be a nonnegative integer. Value: `-1`.' },
  ],
});
