/** The real scijs `ndarray` package against core's view functions: read in place, and back. */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { asView, checkView, get2, matrix, toDense, toNdarray, toRows, transposeView } from '@nnid/core';
import { gappedCopy, maxDiff, randomMatrix } from '@nnid/testing';

interface Ndarray {
  data: Float64Array;
  shape: number[];
  stride: number[];
  offset: number;
  get(...index: number[]): number;
  set(...indexAndValue: number[]): number;
  transpose(...axes: number[]): Ndarray;
  hi(...upper: number[]): Ndarray;
  lo(...lower: number[]): Ndarray;
  step(...steps: number[]): Ndarray;
}
const ndarray = createRequire(import.meta.url)('ndarray') as (data: Float64Array, shape?: number[], stride?: number[], offset?: number) => Ndarray;

describe('scijs ndarray round trips', () => {
  it('a view read as an ndarray and back: same memory, same elements', () => {
    const x = gappedCopy(randomMatrix(4, 5, 1));
    const t = toNdarray(x);
    const nd = ndarray(t.data, [...t.shape], [...t.stride], t.offset);
    expect(nd.data).toBe(x.data);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 5; j++) expect(nd.get(i, j)).toBe(get2(x, i, j));
    const back = checkView('x', nd, { rows: 4, cols: 5 });
    expect(back.data).toBe(x.data);
    expect(maxDiff(back, x)).toBe(0);
    nd.set(3, 4, 42);
    expect(get2(x, 3, 4)).toBe(42);
  });

  it("an ndarray's own transpose, slices and steps are read in place by core", () => {
    const m = randomMatrix(6, 7, 2);
    const nd = ndarray(m.data, [6, 7]);
    const sliced = nd.transpose(1, 0).lo(1, 2).hi(4, 3).step(2, -1);
    // rows 1, 3 of the transpose (columns 1, 3 of m); its columns 4, 3, 2 (rows 4, 3, 2 of m)
    const v = asView(sliced);
    expect(v.data).toBe(m.data);
    expect(v.shape).toEqual([2, 3]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expect(get2(v, i, j)).toBe(sliced.get(i, j));
    expect(toRows(sliced)).toEqual([
      [get2(m, 4, 1), get2(m, 3, 1), get2(m, 2, 1)],
      [get2(m, 4, 3), get2(m, 3, 3), get2(m, 2, 3)],
    ]);
    expect(checkView('x', sliced, { rows: 2, cols: 3 }).strides).toEqual(sliced.stride);
    expect(Array.from(toDense(transposeView(sliced)).data)).toEqual([get2(m, 4, 1), get2(m, 4, 3), get2(m, 3, 1), get2(m, 3, 3), get2(m, 2, 1), get2(m, 2, 3)]);
  });

  it('checkView refuses an ndarray over another array type, in the house template', () => {
    const plain = ndarray(new Float32Array(6) as unknown as Float64Array, [2, 3]);
    expect(() => checkView('points', plain)).toThrow(
      'invalid argument. `points` must be a 2-d Float64View or ndarray over a Float64Array. Value: `Float32Array data, shape 2 x 3`.',
    );
    expect(checkView('m', ndarray(matrix(2, 3).data, [2, 3])).shape).toEqual([2, 3]);
  });
});
