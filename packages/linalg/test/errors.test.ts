/** Exact messages for bad arguments (the tier does not matter: checks happen before any kernel). */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@nnid/core';
import type { Float64View } from '@nnid/core';
import {
  choleskySolve,
  dot,
  frobeniusNorm,
  gram,
  lstsq,
  matmul,
  normalize,
  norm2,
  svd,
  symEig,
  symEigTop,
  topSingular,
  useTier,
} from '../src/index.ts';

function m(rows: number, cols: number, fill = 1): Float64View {
  return { data: new Float64Array(rows * cols).fill(fill), offset: 0, shape: [rows, cols], strides: [cols, 1] };
}

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidArgumentError);
    return (e as Error).message;
  }
  throw new Error('expected a throw');
}

describe('argument errors', () => {
  it('matmul: inner dimensions', () => {
    expect(message(() => matmul(m(2, 3), m(4, 2)))).toBe(
      'invalid argument. `b` must have 3 rows to match the columns of `a`. Value: `4 x 2`.',
    );
    expect(message(() => matmul(m(2, 3), m(4, 3), { transA: true, transB: true }))).toBe(
      'invalid argument. `b` must have 2 columns to match the rows of `a` (transB is set). Value: `4 x 3`.',
    );
  });
  it('matmul: not a 2-d view, out-of-bounds strides, bad options', () => {
    const vec: Float64View = { data: new Float64Array(3), offset: 0, shape: [3], strides: [1] };
    expect(message(() => matmul(vec, m(3, 1)))).toBe('invalid argument. `a` must be a 2-d Float64View. Value: `shape [3]`.');
    expect(message(() => matmul(new Float64Array(4) as unknown as Float64View, m(3, 1)))).toBe(
      'invalid argument. `a` must be a 2-d Float64View ({ data, offset, shape, strides }). Value: `an object of another kind`.',
    );
    const over: Float64View = { data: new Float64Array(6), offset: 1, shape: [2, 3], strides: [3, 1] };
    expect(message(() => matmul(over, m(3, 1)))).toBe(
      'invalid argument. `a` must address elements inside its data (length 6). Value: `offset 1, shape [2, 3], strides [3, 1]`.',
    );
    expect(message(() => matmul(m(2, 2), m(2, 2), { transA: 1 as unknown as boolean }))).toBe(
      'invalid argument. `options.transA` must be a boolean. Value: `1`.',
    );
  });
  it('gram: side', () => {
    expect(message(() => gram(m(2, 2), { side: 'diagonal' as 'rows' }))).toBe(
      "invalid argument. `options.side` must be one of 'columns', 'rows'. Value: `diagonal`.",
    );
  });
  it('symEig: square, symmetric, finite, non-empty', () => {
    expect(message(() => symEig(m(2, 3)))).toBe('invalid argument. `s` must be a square matrix. Value: `2 x 3`.');
    const asym = m(2, 2);
    asym.data[1] = 2;
    expect(message(() => symEig(asym))).toBe(
      'invalid argument. `s` must be symmetric; entries (1, 0) and (0, 1) differ by more than 1e-8 of its largest entry. Value: `1 vs 2`.',
    );
    const nan = m(2, 2);
    nan.data[3] = Number.NaN;
    expect(message(() => symEig(nan))).toBe('invalid argument. `s` must contain only finite numbers; entry (1, 1) is not. Value: `NaN`.');
    expect(message(() => symEig(m(0, 0)))).toBe('invalid argument. `s` must have at least one row and one column. Value: `0 x 0`.');
  });
  it('symEigTop and topSingular: k', () => {
    expect(message(() => symEigTop(m(3, 3), 4))).toBe('invalid argument. `k` must be an integer in [1, 3]. Value: `4`.');
    expect(message(() => topSingular(m(5, 2), 0))).toBe('invalid argument. `k` must be an integer in [1, 2]. Value: `0`.');
  });
  it('svd, lstsq, choleskySolve: shapes and options', () => {
    expect(message(() => svd(m(0, 3)))).toBe('invalid argument. `x` must have at least one row and one column. Value: `0 x 3`.');
    expect(message(() => lstsq(m(4, 2), m(3, 1)))).toBe('invalid argument. `b` must have 4 rows to match the rows of `a`. Value: `3 x 1`.');
    expect(message(() => lstsq(m(4, 2), m(4, 1), { rcond: -1 }))).toBe(
      'invalid argument. `options.rcond` must be a finite number >= 0. Value: `-1`.',
    );
    expect(message(() => choleskySolve(m(3, 2), m(3, 1)))).toBe('invalid argument. `a` must be a square matrix. Value: `3 x 2`.');
    expect(message(() => choleskySolve(m(3, 3), m(2, 1)))).toBe('invalid argument. `b` must have 3 rows to match `a`. Value: `2 x 1`.');
    expect(message(() => choleskySolve(m(3, 3), m(3, 1), { jitter: Number.NaN }))).toBe(
      'invalid argument. `options.jitter` must be a finite number >= 0. Value: `NaN`.',
    );
  });
  it('vector helpers', () => {
    expect(message(() => dot(new Float64Array(2), new Float64Array(3)))).toBe(
      'invalid argument. `b` must have the length of `a` (2). Value: `3`.',
    );
    expect(message(() => normalize(new Float64Array(3)))).toBe('invalid argument. `x` must have a finite nonzero norm. Value: `0`.');
  });
  it('useTier: unknown name', () => {
    expect(message(() => useTier('gpu' as 'native'))).toBe("invalid argument. `name` must be one of 'native', 'typescript'. Value: `gpu`.");
  });
});

describe('vector helpers', () => {
  it('dot, norm2 (no overflow), normalize, frobeniusNorm of strided views', () => {
    expect(dot(new Float64Array([1, 2, 3]), new Float64Array([4, -5, 6]))).toBe(12);
    expect(Math.abs(norm2(new Float64Array([3e200, 4e200])) / 5e200 - 1)).toBeLessThan(1e-15);
    expect(Array.from(normalize(new Float64Array([3, 4])))).toEqual([0.6, 0.8]);
    const x: Float64View = { data: new Float64Array([1, 99, 2, 99, 2, 99, 4, 99]), offset: 0, shape: [2, 2], strides: [4, 2] };
    expect(frobeniusNorm(x)).toBe(5);
    expect(frobeniusNorm({ data: new Float64Array([3, 0, 4]), offset: 0, shape: [2], strides: [2] })).toBe(5);
  });
});
