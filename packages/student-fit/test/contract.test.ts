/** The stage contract (@nnid/testing) over studentFit, on a small network (6, 3, 2). */
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { describeStageContract, networkArrays } from '@nnid/testing';
import { studentFit } from '@nnid/student-fit';

const truth = randomNetwork({ inputDim: 6, width1: 3, width2: 2, seed: 2 });

describeStageContract({
  name: 'studentFit',
  inputs: () => ({ oracle: createOracle(networkBlackBox(truth)), widths: Uint32Array.of(3, 2) }),
  run: (input, { seed, threads }) => studentFit(input.oracle, { width1: input.widths[0], width2: input.widths[1], starts: 2, maxIterations: 20, seed, threads }),
  outputs: (r) => networkArrays(r.network),
  report: (r) => r.report,
  threads: true,
  badArguments: (input) => [
    { call: () => studentFit(input.oracle, { width1: 3, width2: 2, starts: 0 }), message: 'invalid argument. `starts` must be an integer in [1, 100000]. Value: `0`.' },
  ],
});
