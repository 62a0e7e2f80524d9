/** The stage contract (@nnid/testing) over sampleHessians and sampleGradients. */
import { matrix } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { describeStageContract, randomBasis } from '@nnid/testing';
import { sampleGradients, sampleHessians, spherePoints } from '@nnid/hessian-sampler';

const d = 5;
const net = randomNetwork({ inputDim: d, width1: 3, width2: 2, seed: 3 });
const inputs = () => ({ oracle: createOracle(networkBlackBox(net, { noise: 1e-9, noiseSeed: 4 })), points: spherePoints(6, d, 1, 2), basis: randomBasis(d, 3, 5) });

describeStageContract({
  name: 'sampleHessians',
  inputs,
  run: (input, { seed, threads }) => sampleHessians(input.oracle, input.points, { seed, threads, layout: 'packed', gradients: true, basis: input.basis, chunkSize: 2 }),
  outputs: (r) => ({ hessianStack: r.hessianStack, gradients: r.gradients!, queries: r.queries }),
  report: (r) => r.report,
  threads: true,
  layouts: (input, relay) => ({ ...input, points: relay(input.points) as never, basis: relay(input.basis) as never }),
  badArguments: (input) => [
    { call: () => sampleHessians(input.oracle, input.points, { step: 0 }), message: 'invalid argument. `step` must be a finite number > 0. Value: `0`.' },
    { call: () => sampleHessians(input.oracle, matrix(2, d + 1)), message: 'invalid argument. `points` must have inputDim = 5 columns. Value: `6`.' },
    { call: () => sampleHessians(input.oracle, input.points, { basis: matrix(4, 2) }), message: 'invalid argument. `basis` must have inputDim = 5 rows. Value: `4`.' },
  ],
});

describeStageContract({
  name: 'sampleGradients (points drawn from the seed)',
  inputs,
  run: (input, { seed, threads }) => sampleGradients(input.oracle, { count: 5, distribution: 'gaussian' }, { seed, threads, chunkSize: 2 }),
  outputs: (r) => ({ gradientStack: r.gradientStack, points: r.points }),
  report: (r) => r.report,
  threads: true,
});
