/**
 * The invariants every tier must satisfy. `typescript.test.ts` and `native.test.ts` run this
 * same suite after forcing their tier.
 */
import { describe, expect, it } from 'vitest';
import { matrix, transposeView } from '@nnid/core';
import type { Float64View } from '@nnid/core';
import {
  choleskyFactorization,
  choleskySolve,
  gram,
  lstsq,
  matmul,
  NotPositiveDefiniteError,
  orthonormalColumns,
  pinv,
  qr,
  svd,
  symEig,
  symEigTop,
  topSingular,
} from '../src/index.ts';
import {
  at,
  followsSignConvention,
  gappedCopy,
  maxAbs,
  maxDiff,
  naiveProduct,
  orthonormalityError,
  randomMatrix,
  rebuild,
  stridedCopy,
  symmetricWithSpectrum,
} from './helpers.ts';

function eigRebuild(values: Float64Array, vectors: Float64View): Float64View {
  return rebuild(vectors, values, vectors);
}

export function contract(): void {
  describe('matmul', () => {
    it('matches the naive product for every transpose combination and odd sizes', () => {
      const a = randomMatrix(37, 53, 1);
      const b = randomMatrix(53, 29, 2);
      const ref = naiveProduct(a, b);
      expect(maxDiff(matmul(a, b), ref)).toBeLessThan(1e-12);
      const at_ = gappedCopy(transposeView(a)); // 53 x 37, neither layout
      const bt = stridedCopy(transposeView(b)); // 29 x 53
      expect(maxDiff(matmul(at_, b, { transA: true }), ref)).toBeLessThan(1e-12);
      expect(maxDiff(matmul(a, bt, { transB: true }), ref)).toBeLessThan(1e-12);
      expect(maxDiff(matmul(at_, bt, { transA: true, transB: true }), ref)).toBeLessThan(1e-12);
    });
    it('reads strided and transposed views like dense ones', () => {
      const a = randomMatrix(20, 30, 3);
      const b = randomMatrix(30, 11, 4);
      const ref = matmul(a, b);
      expect(maxDiff(matmul(stridedCopy(a), gappedCopy(b)), ref)).toBeLessThan(1e-12);
      // a transposed view of a row-major matrix is read in place (strides [1, ld])
      const c = matmul(transposeView(transposeView(a)), stridedCopy(b));
      expect(maxDiff(c, ref)).toBeLessThan(1e-12);
    });
    it('returns a dense row-major result, shared when asked', () => {
      const c = matmul(randomMatrix(3, 4, 5), randomMatrix(4, 2, 6), { shared: true });
      expect(c.shape).toEqual([3, 2]);
      expect(c.strides).toEqual([2, 1]);
      expect(c.data.buffer instanceof SharedArrayBuffer).toBe(true);
    });
    it('reads inputs that live in a SharedArrayBuffer', () => {
      const a = randomMatrix(6, 5, 7);
      const shared = matrix(6, 5, { shared: true });
      shared.data.set(a.data);
      expect(maxDiff(matmul(shared, shared, { transA: true }), matmul(a, a, { transA: true }))).toBe(0);
      expect(maxDiff(symEig(gram(shared)).vectors, symEig(gram(a)).vectors)).toBe(0);
    });
    it('handles an empty inner dimension as zeros', () => {
      const c = matmul(randomMatrix(3, 0, 1), randomMatrix(0, 2, 1));
      expect(Array.from(c.data)).toEqual([0, 0, 0, 0, 0, 0]);
    });
  });

  describe('gram', () => {
    it('is X^T X for columns and X X^T for rows, exactly symmetric, from any layout', () => {
      const x = randomMatrix(41, 23, 7);
      const cols = gram(x);
      const rows = gram(x, { side: 'rows' });
      expect(cols.shape).toEqual([23, 23]);
      expect(rows.shape).toEqual([41, 41]);
      expect(maxDiff(cols, naiveProduct(x, x, true, false))).toBeLessThan(1e-12);
      expect(maxDiff(rows, naiveProduct(x, x, false, true))).toBeLessThan(1e-12);
      expect(maxDiff(cols, transposeView(cols))).toBe(0);
      expect(maxDiff(gram(stridedCopy(x)), cols)).toBeLessThan(1e-12);
      expect(maxDiff(gram(gappedCopy(x), { side: 'rows' }), rows)).toBeLessThan(1e-12);
    });
  });

  describe('symEig', () => {
    it('finds the eigenvalues of a matrix with a known spectrum, including a repeated one', () => {
      const spectrum = [5, 3, 3, 1, 0.5, -2, -2, -7];
      const s = symmetricWithSpectrum(spectrum, 11);
      const { values, vectors } = symEig(s);
      const sorted = [...spectrum].sort((x, y) => y - x);
      for (let i = 0; i < sorted.length; i++) expect(Math.abs(values[i] - sorted[i])).toBeLessThan(1e-12);
      expect(orthonormalityError(vectors)).toBeLessThan(1e-13);
      expect(maxDiff(eigRebuild(values, vectors), s)).toBeLessThan(1e-12);
      expect(followsSignConvention(vectors)).toBe(true);
    });
    it('diagonalizes a random 120 x 120 Gram matrix: S V = V diag(values)', () => {
      const s = gram(randomMatrix(80, 120, 12));
      const { values, vectors } = symEig(s);
      for (let i = 1; i < values.length; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
      const sv = matmul(s, vectors);
      let worst = 0;
      for (let i = 0; i < 120; i++) for (let j = 0; j < 120; j++) worst = Math.max(worst, Math.abs(at(sv, i, j) - values[j] * at(vectors, i, j)));
      expect(worst / values[0]).toBeLessThan(1e-12);
      expect(orthonormalityError(vectors)).toBeLessThan(1e-12);
      // rank 80: 40 eigenvalues are zero to rounding
      expect(Math.abs(values[119]) / values[0]).toBeLessThan(1e-12);
    });
    it('gives the eigenvalues of the tridiagonal (-1, 2, -1) matrix in closed form', () => {
      const n = 50;
      const data = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        data[i * n + i] = 2;
        if (i > 0) data[i * n + i - 1] = data[(i - 1) * n + i] = -1;
      }
      const { values } = symEig({ data, offset: 0, shape: [n, n], strides: [n, 1] });
      for (let j = 0; j < n; j++) {
        const exact = 2 - 2 * Math.cos(((n - j) * Math.PI) / (n + 1));
        expect(Math.abs(values[j] - exact)).toBeLessThan(1e-13);
      }
    });
    it('handles 1 x 1 and 2 x 2', () => {
      const one = symEig({ data: new Float64Array([-3]), offset: 0, shape: [1, 1], strides: [1, 1] });
      expect(Array.from(one.values)).toEqual([-3]);
      expect(Array.from(one.vectors.data)).toEqual([1]);
      const two = symEig({ data: new Float64Array([2, 1, 1, 2]), offset: 0, shape: [2, 2], strides: [2, 1] });
      expect(Math.abs(two.values[0] - 3)).toBeLessThan(1e-15);
      expect(Math.abs(two.values[1] - 1)).toBeLessThan(1e-15);
      // (1, 1)/sqrt2 and the tie rule: (0.707, 0.707) for 3; (1, -1)/sqrt2 flipped so the first entry is positive
      expect(at(two.vectors, 0, 0)).toBeGreaterThan(0);
      expect(at(two.vectors, 0, 1)).toBeGreaterThan(0);
      expect(at(two.vectors, 1, 1)).toBeLessThan(0);
    });
    it('gives the same results for strided and transposed views', () => {
      const s = symmetricWithSpectrum([4, 2, 1, -1, -3, 0.25], 13);
      const ref = symEig(s);
      for (const v of [stridedCopy(s), gappedCopy(s), transposeView(s)]) {
        const r = symEig(v);
        expect(maxDiff(r.vectors, ref.vectors)).toBeLessThan(1e-12);
      }
    });
  });

  describe('symEigTop', () => {
    it('agrees with symEig on the k largest pairs (small n: full path)', () => {
      const s = gram(randomMatrix(30, 40, 14));
      const full = symEig(s);
      const top = symEigTop(s, 5);
      for (let j = 0; j < 5; j++) expect(Math.abs(top.values[j] - full.values[j]) / full.values[0]).toBeLessThan(1e-13);
      let d = 0;
      for (let i = 0; i < 40; i++) for (let j = 0; j < 5; j++) d = Math.max(d, Math.abs(at(top.vectors, i, j) - at(full.vectors, i, j)));
      expect(d).toBeLessThan(1e-10);
    });
    it('agrees with symEig for a few pairs of a 200 x 200 matrix (inverse-iteration path), with a cluster', () => {
      const spectrum: number[] = [];
      for (let i = 0; i < 200; i++) spectrum.push(i < 3 ? 10 : i < 6 ? 10 - 1e-9 * i : Math.cos(i));
      const s = symmetricWithSpectrum(spectrum, 15);
      const top = symEigTop(s, 8);
      expect(top.vectors.shape).toEqual([200, 8]);
      expect(orthonormalityError(top.vectors)).toBeLessThan(1e-12);
      const sorted = [...spectrum].sort((x, y) => y - x);
      for (let j = 0; j < 8; j++) expect(Math.abs(top.values[j] - sorted[j])).toBeLessThan(1e-12);
      const sv = matmul(s, top.vectors);
      let worst = 0;
      for (let i = 0; i < 200; i++) for (let j = 0; j < 8; j++) worst = Math.max(worst, Math.abs(at(sv, i, j) - top.values[j] * at(top.vectors, i, j)));
      expect(worst).toBeLessThan(1e-11);
      expect(followsSignConvention(top.vectors)).toBe(true);
    });
    for (const [name, spectrum] of [
      ['identity plus rank 3 (a 197-fold eigenvalue inside the top 12)', [5, 4, 3, ...Array<number>(197).fill(1)]],
      ['ten eigenvalues within 1e-13', [...Array.from({ length: 10 }, (_, i) => 2 + 1e-14 * i), ...Array.from({ length: 190 }, (_, i) => Math.sin(i))]],
      ['a multiple of the identity', Array<number>(200).fill(3)],
      ['the zero matrix', Array<number>(200).fill(0)],
    ] as const) {
      it(`keeps the top 12 vectors orthonormal for degenerate spectra: ${name}`, () => {
        const s = symmetricWithSpectrum([...spectrum], 16);
        const top = symEigTop(s, 12);
        expect(orthonormalityError(top.vectors)).toBeLessThan(1e-12);
        const sv = matmul(s, top.vectors);
        let worst = 0;
        for (let i = 0; i < 200; i++) for (let j = 0; j < 12; j++) worst = Math.max(worst, Math.abs(at(sv, i, j) - top.values[j] * at(top.vectors, i, j)));
        expect(worst).toBeLessThan(1e-12);
      });
    }
  });

  describe('svd', () => {
    for (const [n, p] of [
      [30, 12],
      [12, 30],
      [17, 17],
    ] as const) {
      it(`rebuilds a ${n} x ${p} matrix with orthonormal factors`, () => {
        const x = randomMatrix(n, p, 20 + n);
        const { values, left, right } = svd(x);
        const r = Math.min(n, p);
        expect(values.length).toBe(r);
        expect(left.shape).toEqual([n, r]);
        expect(right.shape).toEqual([p, r]);
        expect(orthonormalityError(left)).toBeLessThan(1e-13);
        expect(orthonormalityError(right)).toBeLessThan(1e-13);
        expect(maxDiff(rebuild(left, values, right), x) / values[0]).toBeLessThan(1e-14);
        for (let i = 1; i < r; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
        expect(followsSignConvention(left)).toBe(true);
      });
    }
    it('resolves singular values of a graded matrix down to the rounding of its entries (1e-16 absolute)', () => {
      // x = U diag(1, 1e-3, ..., 1e-15) V^T from exact rotations
      const sigma = [1, 1e-3, 1e-6, 1e-9, 1e-12, 1e-15];
      const n = sigma.length;
      const u = symEig(symmetricWithSpectrum([6, 5, 4, 3, 2, 1], 31)).vectors;
      const v = symEig(symmetricWithSpectrum([6, 5, 4, 3, 2, 1], 32)).vectors;
      const x = rebuild(u, new Float64Array(sigma), v);
      const { values } = svd(x);
      for (let i = 0; i < 4; i++) expect(Math.abs(values[i] - sigma[i]) / sigma[i]).toBeLessThan(1e-5);
      expect(Math.abs(values[0] - 1)).toBeLessThan(1e-14);
      expect(values.length).toBe(n);
    });
    it('completes the left vectors of a rank-deficient matrix to an orthonormal set', () => {
      const a = randomMatrix(10, 2, 33);
      const b = randomMatrix(2, 6, 34);
      const x = matmul(a, b); // 10 x 6, rank 2
      const { values, left, right } = svd(x);
      expect(values[2] / values[0]).toBeLessThan(1e-14);
      expect(orthonormalityError(left)).toBeLessThan(1e-12);
      expect(orthonormalityError(right)).toBeLessThan(1e-12);
      expect(maxDiff(rebuild(left, values, right), x)).toBeLessThan(1e-12);
    });
    it('gives the same result for strided views', () => {
      const x = randomMatrix(9, 7, 35);
      const ref = svd(x);
      const s = svd(gappedCopy(x));
      expect(maxDiff(s.left, ref.left)).toBeLessThan(1e-12);
      expect(maxDiff(s.right, ref.right)).toBeLessThan(1e-12);
    });
  });

  describe('topSingular', () => {
    for (const [n, p] of [
      [60, 25],
      [25, 60],
    ] as const) {
      it(`matches svd on the top 6 triplets of a ${n} x ${p} matrix with a spectral gap`, () => {
        // a matrix with singular values 10..5 then a tail of 0.01 scale
        const low = matmul(randomMatrix(n, 6, 40), randomMatrix(6, p, 41));
        const x = low;
        const noise = randomMatrix(n, p, 42);
        for (let i = 0; i < x.data.length; i++) x.data[i] += 0.01 * noise.data[i];
        const ref = svd(x);
        const top = topSingular(x, 6);
        expect(top.left.shape).toEqual([n, 6]);
        expect(top.right.shape).toEqual([p, 6]);
        for (let j = 0; j < 6; j++) expect(Math.abs(top.values[j] - ref.values[j]) / ref.values[j]).toBeLessThan(1e-10);
        expect(orthonormalityError(top.left)).toBeLessThan(1e-13);
        expect(orthonormalityError(top.right)).toBeLessThan(1e-13);
        let d = 0;
        for (let i = 0; i < n; i++) for (let j = 0; j < 6; j++) d = Math.max(d, Math.abs(at(top.left, i, j) - at(ref.left, i, j)));
        expect(d).toBeLessThan(1e-8);
        expect(followsSignConvention(top.left)).toBe(true);
        // x v_j = sigma_j u_j
        const xv = matmul(x, top.right);
        let res = 0;
        for (let i = 0; i < n; i++) for (let j = 0; j < 6; j++) res = Math.max(res, Math.abs(at(xv, i, j) - top.values[j] * at(top.left, i, j)));
        expect(res / top.values[0]).toBeLessThan(1e-12);
      });
    }
  });

  describe('qr', () => {
    for (const [n, p] of [
      [20, 8],
      [8, 20],
      [10, 10],
    ] as const) {
      it(`factors a ${n} x ${p} matrix: q orthonormal, r upper triangular, q r = x`, () => {
        const x = randomMatrix(n, p, 50 + p);
        const { q, r } = qr(x);
        const k = Math.min(n, p);
        expect(q.shape).toEqual([n, k]);
        expect(r.shape).toEqual([k, p]);
        expect(orthonormalityError(q)).toBeLessThan(1e-14);
        for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) expect(at(r, i, j)).toBe(0);
        expect(maxDiff(matmul(q, r), x)).toBeLessThan(1e-13);
      });
    }
    it('orthonormalColumns spans the columns', () => {
      const x = randomMatrix(15, 4, 55);
      const q = orthonormalColumns(stridedCopy(x));
      expect(orthonormalityError(q)).toBeLessThan(1e-14);
      // projection of x onto span(q) is x
      const proj = matmul(q, matmul(q, x, { transA: true }));
      expect(maxDiff(proj, x)).toBeLessThan(1e-13);
    });
  });

  describe('lstsq', () => {
    it('solves an overdetermined consistent system exactly and reports residuals of an inconsistent one', () => {
      const a = randomMatrix(30, 5, 60);
      const xTrue = randomMatrix(5, 2, 61);
      const b = matmul(a, xTrue);
      const r = lstsq(a, b);
      expect(r.rank).toBe(5);
      expect(maxDiff(r.solution, xTrue)).toBeLessThan(1e-13);
      expect(Math.max(...r.residualNorm)).toBeLessThan(1e-12);
      const noisy = randomMatrix(30, 1, 62);
      const s = lstsq(a, noisy);
      // normal equations: a^T (a x - b) = 0
      const ax = matmul(a, s.solution);
      for (let i = 0; i < 30; i++) ax.data[i] -= noisy.data[i];
      expect(maxAbs(matmul(a, ax, { transA: true }))).toBeLessThan(1e-12);
      let rn = 0;
      for (let i = 0; i < 30; i++) rn += ax.data[i] * ax.data[i];
      expect(Math.abs(s.residualNorm[0] - Math.sqrt(rn))).toBeLessThan(1e-12);
    });
    it('returns the minimum-norm solution of a rank-deficient system', () => {
      // a = [c, c]: x1 + x2 is determined, the minimum-norm split is equal halves
      const c = randomMatrix(12, 1, 63);
      const a = matmul(c, { data: new Float64Array([1, 1]), offset: 0, shape: [1, 2], strides: [2, 1] });
      const b = matmul(c, { data: new Float64Array([4]), offset: 0, shape: [1, 1], strides: [1, 1] });
      const r = lstsq(a, b);
      expect(r.rank).toBe(1);
      expect(Math.abs(r.solution.data[0] - 2)).toBeLessThan(1e-13);
      expect(Math.abs(r.solution.data[1] - 2)).toBeLessThan(1e-13);
    });
  });

  describe('pinv', () => {
    it('satisfies the Penrose conditions A A+ A = A and A+ A A+ = A+', () => {
      const a = matmul(randomMatrix(9, 3, 70), randomMatrix(3, 7, 71)); // rank 3
      const ap = pinv(a);
      expect(ap.shape).toEqual([7, 9]);
      expect(maxDiff(matmul(matmul(a, ap), a), a)).toBeLessThan(1e-12);
      expect(maxDiff(matmul(matmul(ap, a), ap), ap)).toBeLessThan(1e-12);
    });
  });

  describe('choleskyFactorization', () => {
    it('solves with one factorization for right-hand sides given one after the other', () => {
      const a = gram(randomMatrix(260, 211, 86));
      const f = choleskyFactorization(a, { jitter: 0.5 });
      for (const seed of [87, 88]) {
        const b = randomMatrix(211, 1, seed);
        const x = f.solve(Float64Array.from(b.data));
        const shifted = matmul(a, { data: x, offset: 0, shape: [211, 1], strides: [1, 1] });
        for (let i = 0; i < 211; i++) shifted.data[i] += 0.5 * x[i];
        expect(maxDiff(shifted, b) / maxAbs(b)).toBeLessThan(1e-12);
      }
    });
    it('reads the lower triangle only', () => {
      const a = gram(randomMatrix(30, 12, 89));
      const lowerOnly = matrix(12, 12);
      for (let i = 0; i < 12; i++) for (let j = 0; j <= i; j++) lowerOnly.data[i * 12 + j] = a.data[i * 12 + j];
      const b = new Float64Array(12).fill(1);
      expect(choleskyFactorization(lowerOnly).solve(b)).toEqual(choleskyFactorization(a).solve(b));
    });
    it('names the pivot when the matrix is not positive definite, and checks b', () => {
      const a = { data: new Float64Array([4, 2, 0, 2, 1, 0, 0, 0, 1]), offset: 0, shape: [3, 3], strides: [3, 1] };
      expect(() => choleskyFactorization(a)).toThrow(
        'choleskyFactorization: `a` is not positive definite: pivot 1 (0-based) is not positive (jitter 0). Raise options.jitter or check the matrix.',
      );
      const f = choleskyFactorization(a, { jitter: 1 });
      expect(() => f.solve(new Float64Array(2))).toThrow('invalid argument. `b` must be a Float64Array of 3 values. Value: `2`.');
    });
  });

  describe('choleskySolve', () => {
    it('solves an SPD system with several right-hand sides', () => {
      const x = randomMatrix(40, 25, 80);
      const a = gram(x);
      const sol = randomMatrix(25, 3, 81);
      const b = matmul(a, sol);
      expect(maxDiff(choleskySolve(a, b), sol)).toBeLessThan(1e-10);
      expect(maxDiff(choleskySolve(stridedCopy(a), gappedCopy(b)), sol)).toBeLessThan(1e-10);
    });
    it('solves a 211 x 211 system (several panels of the blocked factorization) to a small residual', () => {
      const a = gram(randomMatrix(260, 211, 82));
      const sol = randomMatrix(211, 2, 83);
      const b = matmul(a, sol);
      const x = choleskySolve(a, b, { jitter: 0 });
      expect(maxDiff(matmul(a, x), b) / maxAbs(b)).toBeLessThan(1e-12);
      expect(maxDiff(x, sol)).toBeLessThan(1e-8);
    });
    it('finds a failing pivot beyond the first panel', () => {
      const a = gram(randomMatrix(260, 211, 84));
      a.data[150 * 211 + 150] = -1;
      let pivot = -1;
      try {
        choleskySolve(a, randomMatrix(211, 1, 85));
      } catch (e) {
        pivot = (e as NotPositiveDefiniteError).pivot;
      }
      expect(pivot).toBe(150);
    });
    it('adds the jitter to the diagonal', () => {
      const a = { data: new Float64Array([1, 0, 0, 0]), offset: 0, shape: [2, 2], strides: [2, 1] };
      const b = { data: new Float64Array([2, 3]), offset: 0, shape: [2, 1], strides: [1, 1] };
      const x = choleskySolve(a, b, { jitter: 1 });
      expect(Math.abs(x.data[0] - 1)).toBeLessThan(1e-15);
      expect(Math.abs(x.data[1] - 3)).toBeLessThan(1e-15);
    });
    it('names the pivot when the matrix is not positive definite', () => {
      const a = { data: new Float64Array([4, 2, 0, 2, 1, 0, 0, 0, 1]), offset: 0, shape: [3, 3], strides: [3, 1] };
      const b = { data: new Float64Array([1, 1, 1]), offset: 0, shape: [3, 1], strides: [1, 1] };
      let caught: unknown;
      try {
        choleskySolve(a, b);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(NotPositiveDefiniteError);
      expect((caught as NotPositiveDefiniteError).pivot).toBe(1);
      expect((caught as Error).message).toBe(
        'choleskySolve: `a` is not positive definite: pivot 1 (0-based) is not positive (jitter 0). Raise options.jitter or check the matrix.',
      );
      expect((caught as NotPositiveDefiniteError).code).toBe('E_NUMERICAL');
    });
  });
}
