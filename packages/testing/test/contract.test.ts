/** The contract's own checks catch what they are for (a check that cannot fail checks nothing). */
import { describe, expect, it } from 'vitest';
import { invalidArgument, matrix, transposeView } from '@nnid/core';
import { differingOutputs, HOUSE_TEMPLATE, typedArrays, withoutTimings } from '../src/contract.ts';
import { randomMatrix } from '@nnid/testing';

describe('the stage contract checks', () => {
  it('sees a one-ulp change, a changed length and a changed view, and nothing on equal outputs', () => {
    const x = randomMatrix(3, 4, 1);
    const y = { ...x, data: Float64Array.from(x.data) };
    expect(differingOutputs({ x, n: 1, list: [1, 2] }, { x: y, n: 1, list: [1, 2] })).toEqual([]);
    y.data[5] = y.data[5] + Math.abs(y.data[5]) * Number.EPSILON;
    expect(differingOutputs({ x, n: 1 }, { x: y, n: 1 })).toEqual(['x']);
    expect(differingOutputs({ list: [1, 2] }, { list: [1, 2, 3] })).toEqual(['list']);
    // a view is read through its strides: the transpose of the transpose is the same matrix
    expect(differingOutputs({ x }, { x: transposeView(transposeView(x)) })).toEqual([]);
    expect(differingOutputs({ x }, { x: transposeView(x) })).toEqual(['x']);
  });

  it('finds the typed arrays of an input through objects and arrays, once each', () => {
    const a = matrix(2, 2);
    const b = new Float64Array(3);
    const input = { a, nested: { list: [b, a.data], n: 3 }, oracle: new Map([['k', new Float64Array(1)]]) };
    const found = typedArrays(input);
    expect(found).toContain(a.data);
    expect(found).toContain(b);
    expect(found.length).toBe(2); // a.data once; a Map is not walked
  });

  it('drops timings, and only timings, from a report', () => {
    const report = { seconds: 1.5, queries: 10, stages: [{ name: 'sample', seconds: 0.2, wallSeconds: 3, fitMs: 4, points: 6 }] };
    expect(withoutTimings(report)).toEqual({ queries: 10, stages: [{ name: 'sample', points: 6 }] });
  });

  it('tells the house template from other messages', () => {
    let message = '';
    try {
      invalidArgument('nSamples', 'must be a positive integer', 0);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(HOUSE_TEMPLATE);
    expect('`points` has 13 columns, expected inputDim = 12').not.toMatch(HOUSE_TEMPLATE);
    expect('invalid argument: nSamples is bad').not.toMatch(HOUSE_TEMPLATE);
  });
});
