/** The stage contract (@nnid/testing) over attributeCandidates. */
import { describeStageContract, denseCombinations, orthonormalRows, stackRows } from '@nnid/testing';
import { attributeCandidates } from '@nnid/attribution';

// 6 first-layer weights and 2 entangled ones in R^8, shuffled
const a = orthonormalRows(6, 8, 1);
const v = denseCombinations(a, 2, 2);
const order = [v[0], ...a.slice(0, 3), v[1], ...a.slice(3)];

describeStageContract({
  name: 'attributeCandidates',
  inputs: () => ({ candidates: stackRows(order), certificates: order.map((_, i) => 1 - i * 1e-3) }),
  run: (input) => attributeCandidates(input.candidates, { width1: 6, width2: 2, certificates: input.certificates }),
  outputs: (r) => ({ firstLayerWeights: r.firstLayerWeights, entangledWeights: r.entangledWeights, firstLayer: r.firstLayer, entangled: r.entangled, margin: r.margin }),
  report: (r) => r.report,
  layouts: (input, relay) => ({ ...input, candidates: relay(input.candidates) as never }),
  ndarray: true,
  badArguments: (input) => [
    { call: () => attributeCandidates(input.candidates, { width1: 0 }), message: 'invalid argument. `width1` must be a positive integer. Value: `0`.' },
    { call: () => attributeCandidates(input.candidates, { certificates: [1, 2] }), message: 'invalid argument. `certificates` must hold one number per candidate (8). Value: `2`.' },
  ],
});
