/** The stage contract (@nnid/testing) over findRankOne. */
import { matrix, type ViewLike } from '@nnid/core';
import { denseCombinations, describeStageContract, orthonormalRows } from '@nnid/testing';
import { findRankOne } from '@nnid/rank1-solver';
import { rankOneSpan } from './helpers.ts';

// W = span{a_i a_i^T, v_l v_l^T} exactly, n = 6, m0 = 4, m1 = 2 (packed layout)
const a = orthonormalRows(4, 6, 1);
const basis = rankOneSpan([...a, ...denseCombinations(a, 2, 2)]);

describeStageContract({
  name: 'findRankOne',
  inputs: (): { basis: ViewLike } => ({ basis: rankOneSpan([...a, ...denseCombinations(a, 2, 2)]) }),
  run: (input, { seed, threads }) => findRankOne(input.basis, { seed, threads, starts: 24 }),
  outputs: (r) => ({ candidates: r.candidates, certificates: r.certificates, hits: r.hits }),
  report: (r) => r.report,
  threads: true,
  layouts: (input, relay) => ({ basis: relay(input.basis) }),
  badArguments: () => [
    { call: () => findRankOne(basis, { starts: 0 }), message: 'invalid argument. `starts` must be a positive integer. Value: `0`.' },
    { call: () => findRankOne(basis, { restrictTo: matrix(3, 2) }), message: 'invalid argument. `restrictTo` must have the matrix side n = 6 rows. Value: `3`.' },
    { call: () => findRankOne({ data: [1, 2], shape: [1, 2], strides: [2, 1], offset: 0 } as never), message: 'invalid argument. `basis` must be a 2-d Float64View or ndarray over a Float64Array (one vectorized symmetric matrix per row). Value: `Array data, shape 1 x 2`.' },
  ],
});
