/** The stage contract (@nnid/testing) over estimateSubspace and estimateRange. */
import { matrix } from '@nnid/core';
import { describeStageContract, randomMatrix } from '@nnid/testing';
import { estimateRange, estimateSubspace } from '@nnid/subspace';

// 12 "Hessians" of side 5 in the packed layout (15 columns): the stage only needs a stack
describeStageContract({
  name: 'estimateSubspace',
  inputs: () => ({ hessianStack: randomMatrix(12, 15, 1) }),
  run: (input) => estimateSubspace(input.hessianStack, { layout: 'packed', dimension: 4 }),
  outputs: (r) => ({ basis: r.subspace.basis, singularValues: r.singularValues }),
  report: (r) => r.report,
  layouts: (input, relay) => ({ hessianStack: relay(input.hessianStack) as never }),
  ndarray: true,
  badArguments: (input) => [
    { call: () => estimateSubspace(matrix(3, 7), { layout: 'packed' }), message: "invalid argument. `hessianStack` must have n(n+1)/2 columns (layout 'packed'). Value: `7`." },
    { call: () => estimateSubspace(input.hessianStack, { layout: 'upper' as never }), message: "invalid argument. `layout` must be one of 'full', 'packed'. Value: `upper`." },
  ],
});

describeStageContract({
  name: 'estimateRange',
  inputs: () => ({ gradientStack: randomMatrix(10, 6, 2) }),
  run: (input) => estimateRange(input.gradientStack, { dimension: 3 }),
  outputs: (r) => ({ basis: r.basis, singularValues: r.singularValues }),
  report: (r) => r.report,
  layouts: (input, relay) => ({ gradientStack: relay(input.gradientStack) as never }),
  ndarray: true,
});
