import { describe, expect, it } from 'vitest';
import {
  asView,
  checkView,
  get2,
  matrix,
  rowView,
  set2,
  toDense,
  toNdarray,
  toRows,
  transposeView,
  type NdarrayLike,
} from '@nnid/core';

function thrown(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  throw new Error('did not throw');
}

/** A 3 x 4 matrix with entry (i, j) = 10 i + j, stored column-major after two padding numbers. */
function columnMajor(): NdarrayLike {
  const data = new Float64Array(2 + 12).fill(Number.NaN);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) data[2 + i + 3 * j] = 10 * i + j;
  return { data, shape: [3, 4], stride: [1, 3], offset: 2 };
}

describe('ndarray objects at the surface', () => {
  it('asView reads an ndarray in place: same data, strides from stride', () => {
    const nd = columnMajor();
    const v = asView(nd);
    expect(v.data).toBe(nd.data);
    expect([v.offset, v.shape, v.strides]).toEqual([2, [3, 4], [1, 3]]);
    const m = matrix(2, 2);
    expect(asView(m)).toBe(m);
  });

  it("core's view functions take an ndarray as they take a view", () => {
    const nd = columnMajor();
    expect(get2(nd, 2, 3)).toBe(23);
    set2(nd, 1, 1, -1);
    expect(nd.data[2 + 1 + 3]).toBe(-1);
    expect(toRows(nd)).toEqual([
      [0, 1, 2, 3],
      [10, -1, 12, 13],
      [20, 21, 22, 23],
    ]);
    expect(Array.from(toDense(nd).data)).toEqual([0, 1, 2, 3, 10, -1, 12, 13, 20, 21, 22, 23]);
    expect(Array.from(toDense(rowView(nd, 2)).data)).toEqual([20, 21, 22, 23]);
    expect(get2(transposeView(nd), 3, 2)).toBe(23);
  });

  it('toNdarray gives the fields of an ndarray over the same memory', () => {
    const m = matrix(2, 3);
    m.data.set([1, 2, 3, 4, 5, 6]);
    const t = toNdarray(transposeView(m));
    expect(t.data).toBe(m.data);
    expect([t.shape, t.stride, t.offset]).toEqual([[3, 2], [1, 3], 0]);
    expect(toRows(asView(t))).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
  });
});

describe('checkView', () => {
  it('returns a view over the same memory for views and ndarrays', () => {
    const m = matrix(3, 4);
    expect(checkView('x', m, { rows: 3, cols: 4 })).toBe(m);
    const nd = columnMajor();
    const v = checkView('x', nd, { cols: 4, minRows: 1 });
    expect(v.data).toBe(nd.data);
    expect(v.strides).toEqual([1, 3]);
    expect(checkView('v', { data: new Float64Array(3), shape: [3], stride: [1], offset: 0 }, { ndim: 1, rows: 3 }).shape).toEqual([3]);
  });

  it('names what is not a view, in the house template', () => {
    expect(thrown(() => checkView('points', [[1, 2]], { dims: 'count x inputDim' }))).toEqual({
      code: 'E_INVALID_ARGUMENT',
      message: 'invalid argument. `points` must be a 2-d Float64View or ndarray over a Float64Array (count x inputDim). Value: `an array`.',
    });
    expect(thrown(() => checkView('basis', undefined)).message).toBe(
      'invalid argument. `basis` must be a 2-d Float64View or ndarray over a Float64Array. Value: `undefined`.',
    );
    expect(thrown(() => checkView('basis', { data: [1, 2], shape: [1, 2], strides: [2, 1], offset: 0 })).message).toBe(
      'invalid argument. `basis` must be a 2-d Float64View or ndarray over a Float64Array. Value: `Array data, shape 1 x 2`.',
    );
    expect(thrown(() => checkView('basis', { data: new Float64Array(4), shape: [4], strides: [1], offset: 0 })).message).toBe(
      'invalid argument. `basis` must be a 2-d Float64View or ndarray over a Float64Array. Value: `Float64Array data, shape 4`.',
    );
  });

  it('refuses a view that reaches outside its data (either end)', () => {
    const data = new Float64Array(6);
    expect(thrown(() => checkView('x', { data, offset: 1, shape: [2, 3], strides: [3, 1] })).message).toBe(
      'invalid argument. `x` must lie inside its data (offset 1, strides [3, 1], 6 numbers). Value: `2 x 3`.',
    );
    expect(thrown(() => checkView('x', { data, offset: 2, shape: [2, 3], strides: [-3, 1] })).message).toBe(
      'invalid argument. `x` must lie inside its data (offset 2, strides [-3, 1], 6 numbers). Value: `2 x 3`.',
    );
    // a reversed view that stays inside is fine, and so is an empty one anywhere
    expect(checkView('x', { data, offset: 3, shape: [2, 3], strides: [-3, 1] }).offset).toBe(3);
    expect(checkView('x', { data, offset: 99, shape: [0, 3], strides: [3, 1] }).shape).toEqual([0, 3]);
  });

  it('wrong counts: rows and columns are E_DIMENSION_MISMATCH, too few rows E_INVALID_ARGUMENT', () => {
    expect(thrown(() => checkView('points', matrix(2, 13), { cols: 12, colsName: 'inputDim' }))).toEqual({
      code: 'E_DIMENSION_MISMATCH',
      message: 'invalid argument. `points` must have inputDim = 12 columns. Value: `13`.',
    });
    expect(thrown(() => checkView('Q', matrix(3, 2), { rows: 14, rowsName: 'the matrix side n' })).message).toBe(
      'invalid argument. `Q` must have the matrix side n = 14 rows. Value: `3`.',
    );
    expect(thrown(() => checkView('w', matrix(0, 2), { minRows: 1 }))).toEqual({
      code: 'E_INVALID_ARGUMENT',
      message: 'invalid argument. `w` must have at least one row. Value: `0 x 2`.',
    });
  });
});
