import { describe, expect, it } from 'vitest';
import { toDense } from '@nnid/core';
import {
  bestCos,
  denseCombinations,
  gappedCopy,
  maxDiff,
  orthonormalityError,
  orthonormalRows,
  randomBasis,
  randomMatrix,
  rowsOf,
  stackRows,
  stridedCopy,
  transposedCopy,
} from '@nnid/testing';

describe('shared fixtures', () => {
  it('the layout copies hold the same matrix in other strides', () => {
    const x = randomMatrix(5, 3, 1);
    for (const copy of [stridedCopy(x), gappedCopy(x), transposedCopy(x)]) {
      expect(copy.data).not.toBe(x.data);
      expect(copy.strides).not.toEqual(x.strides);
      expect(maxDiff(copy, x)).toBe(0);
      expect(Array.from(toDense(copy).data)).toEqual(Array.from(x.data));
    }
  });

  it('orthonormal rows, their basis matrix and unit dense combinations', () => {
    const rows = orthonormalRows(4, 9, 2);
    const U = randomBasis(9, 4, 2);
    expect(orthonormalityError(U)).toBeLessThan(1e-15);
    expect(rowsOf(U).length).toBe(9);
    for (let i = 0; i < 4; i++) expect(bestCos(stackRows(rows), rows[i])).toBeCloseTo(1, 15);
    for (const v of denseCombinations(rows, 3, 3)) {
      expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-15);
      expect(bestCos(stackRows(rows), v)).toBeLessThan(0.99);
    }
  });
});
