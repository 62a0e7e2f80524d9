import { describe, expect, it } from 'vitest';
import { matrix, rng, type Network } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { fitNetwork } from '@nnid/refine';
import { fromRange, rowSpanBasis, toRange } from '../src/polish-range.ts';
import { score } from '../src/score.ts';

const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 2, activation: 'tanh', orthogonalityPerturbation: 0.3, seed: 3 });

function points(n: number, d: number, seed: number) {
  const X = matrix(n, d);
  const s = rng(seed);
  for (let i = 0; i < n; i++) s.split(i).fillNormal(X.data.subarray(i * d, (i + 1) * d));
  return X;
}

describe('polish-range: the refinement in the coordinates of range(A)', () => {
  it('U spans the rows of A with orthonormal columns; the network and data there give the same values; fromRange undoes toRange', () => {
    const U = rowSpanBasis(truth.A);
    expect(U.shape).toEqual([12, 6]);
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        let s = 0;
        for (let t = 0; t < 12; t++) s += U.data[t * 6 + i] * U.data[t * 6 + j];
        expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-14);
      }
    }
    const X = points(50, 12, 1);
    const y = evaluateNetwork(truth, X);
    const reduced = toRange(truth, U, { inputs: X, values: y });
    expect(reduced.network.inputDim).toBe(6);
    const yReduced = evaluateNetwork(reduced.network, reduced.data.inputs);
    for (let n = 0; n < 50; n++) expect(Math.abs(yReduced[n] - y[n])).toBeLessThan(1e-13);
    const back = fromRange(reduced.network, U);
    for (let k = 0; k < truth.A.data.length; k++) expect(Math.abs(back.A.data[k] - truth.A.data[k])).toBeLessThan(1e-14);
  });

  it('a fit in range coordinates from a 2% perturbation, lifted back, is the truth (relative L2 <= 1e-10)', async () => {
    const U = rowSpanBasis(truth.A);
    const X = points(400, 12, 2);
    const reduced = toRange(truth, U, { inputs: X, values: evaluateNetwork(truth, X) });
    const s = rng(7);
    const bump = (v: Float64Array) => v.map((x) => x + 0.02 * s.normal());
    const start: Network = {
      ...reduced.network,
      A: { ...reduced.network.A, data: bump(reduced.network.A.data) },
      theta: bump(reduced.network.theta),
      B: { ...reduced.network.B, data: bump(Float64Array.from(reduced.network.B.data)) },
      tau: bump(reduced.network.tau),
    };
    const fitted = await fitNetwork(start, reduced.data, { maxIterations: 100 });
    const lifted = fromRange(fitted.network, U);
    expect(lifted.inputDim).toBe(12);
    const err = score(truth, lifted, { points: 2000 }).function.gaussian.relativeL2;
    expect(err).toBeLessThan(1e-10);
  });

  it('refuses a basis of the wrong size in the house template', () => {
    const U = rowSpanBasis(truth.A);
    expect(() => fromRange(truth, U)).toThrow('invalid argument. `U` must have the network\'s inputDim = 12 columns. Value: `6`.');
    const X = points(5, 6, 3);
    expect(() => toRange({ ...truth, inputDim: 6 }, U, { inputs: X, values: new Float64Array(5) })).toThrow('invalid argument. `U` must have inputDim = 6 rows. Value: `12`.');
  });
});
