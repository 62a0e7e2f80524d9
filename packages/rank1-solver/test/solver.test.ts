import { afterAll, describe, expect, it } from 'vitest';
import { matrix, toDense } from '@nnid/core';
import { createSolverPool, findRankOne } from '@nnid/rank1-solver';
import { bestCos, bytes, denseCombinations, orthonormalRows } from '@nnid/testing';
import { rankOneSpan } from './helpers.ts';

// W = span{a_i a_i^T, v_l v_l^T} exactly, n = 14, m0 = 9, m1 = 4
const n = 14;
const a = orthonormalRows(9, n, 1);
const v = denseCombinations(a, 4, 2);
const basis = rankOneSpan([...a, ...v]);
const pool = createSolverPool({ threads: 2 });
afterAll(() => pool.close());

describe('findRankOne on an exactly known W', () => {
  it('recovers every a_i and v_l to |cos| >= 1 - 1e-10, with certificates ~1 and nothing else', async () => {
    const { candidates, certificates, report } = await findRankOne(basis, { seed: 3, threads: 1 });
    expect(candidates.shape).toEqual([13, n]);
    for (const x of [...a, ...v]) expect(bestCos(candidates, x)).toBeGreaterThanOrEqual(1 - 1e-10);
    for (const phi of certificates) expect(phi).toBeGreaterThan(1 - 1e-12);
    expect(report.starts).toBe(130);
    expect(report.notConverged).toBe(0);
    expect(report.accepted).toBe(130);
    expect(report.hits.reduce((s, h) => s + h, 0)).toBe(130);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    // sign convention: the largest |entry| of each candidate is positive; unit norm
    for (let i = 0; i < candidates.shape[0]; i++) {
      const row = candidates.data.subarray(i * n, (i + 1) * n);
      let at = 0;
      for (let t = 1; t < n; t++) if (Math.abs(row[t]) > Math.abs(row[at])) at = t;
      expect(row[at]).toBeGreaterThan(0);
      expect(Math.abs(Math.hypot(...row) - 1)).toBeLessThan(1e-14);
    }
    // ordered by certificate
    for (let i = 1; i < certificates.length; i++) expect(certificates[i]).toBeLessThanOrEqual(certificates[i - 1]);
  });

  it('gives byte-identical candidates for 1 and 2 threads and any chunking', async () => {
    const one = await findRankOne(basis, { seed: 5, threads: 1, starts: 60 });
    const two = await findRankOne(basis, { seed: 5, pool, starts: 60 });
    const twoSmall = await findRankOne(basis, { seed: 5, pool, starts: 60, chunkSize: 1 });
    expect(two.report.mode).toBe('workers');
    expect(bytes(two.candidates).equals(bytes(one.candidates))).toBe(true);
    expect(bytes(twoSmall.candidates).equals(bytes(one.candidates))).toBe(true);
    expect(Array.from(two.certificates)).toEqual(Array.from(one.certificates));
    expect(two.hits).toEqual(one.hits);
  });

  it('reads the full layout as the packed one', async () => {
    const full = rankOneSpan([...a, ...v], 'full');
    const f = await findRankOne(full, { layout: 'full', seed: 3, threads: 1, starts: 40 });
    const p = await findRankOne(basis, { seed: 3, threads: 1, starts: 40 });
    expect(f.candidates.shape).toEqual(p.candidates.shape);
    // Phi ties at 1 up to rounding may order them differently: compare as sets
    for (let i = 0; i < f.candidates.shape[0]; i++) {
      expect(bestCos(p.candidates, f.candidates.data.subarray(i * n, (i + 1) * n))).toBeGreaterThan(1 - 1e-12);
    }
  });

  it('restrictTo searches only the given subspace: finds the a_i missing from an accepted set', async () => {
    // complement of a_0..a_5 in R^n: the remaining a_6..a_8 are the only rank-one elements there
    const known = a.slice(0, 6);
    const rest = orthonormalRows(n, n, 9); // a random basis, projected and re-orthonormalized below
    const Qcols: Float64Array[] = [];
    for (const x of rest) {
      const w = Float64Array.from(x);
      for (let pass = 0; pass < 2; pass++) {
        for (const u of [...known, ...Qcols]) {
          let dot = 0;
          for (let t = 0; t < n; t++) dot += u[t] * w[t];
          for (let t = 0; t < n; t++) w[t] -= dot * u[t];
        }
      }
      const norm = Math.hypot(...w);
      if (norm < 1e-6) continue;
      for (let t = 0; t < n; t++) w[t] /= norm;
      Qcols.push(w);
      if (Qcols.length === n - known.length) break;
    }
    const Q = matrix(n, Qcols.length);
    Qcols.forEach((c, j) => c.forEach((x, t) => (Q.data[t * Qcols.length + j] = x)));
    const { candidates, certificates, report } = await findRankOne(basis, { restrictTo: Q, seed: 2, threads: 1, starts: 40 });
    expect(report.searchDimension).toBe(n - 6);
    expect(report.restricted).toBe(true);
    expect(candidates.shape[0]).toBe(3);
    for (const x of a.slice(6)) expect(bestCos(candidates, x)).toBeGreaterThanOrEqual(1 - 1e-10);
    for (const phi of certificates) expect(phi).toBeGreaterThan(1 - 1e-12);
    // every candidate is orthogonal to the known ones
    for (const x of known) expect(bestCos(candidates, x)).toBeLessThan(1e-12);
  });

  it('polishes given start vectors', async () => {
    const starts = matrix(2, n);
    for (let t = 0; t < n; t++) {
      starts.data[t] = v[1][t] + 0.05 * a[0][t];
      starts.data[n + t] = a[3][t] - 0.1 * a[4][t];
    }
    const before = toDense(starts);
    const { candidates, report } = await findRankOne(basis, { startVectors: starts, threads: 1 });
    expect(report.startSource).toBe('given');
    expect(bestCos(candidates, v[1])).toBeGreaterThanOrEqual(1 - 1e-10);
    expect(bestCos(candidates, a[3])).toBeGreaterThanOrEqual(1 - 1e-10);
    expect(bytes(starts).equals(bytes(before))).toBe(true); // inputs not mutated
  });

  it('keeps only maximizers that pass the a-posteriori check', async () => {
    const { candidates, report } = await findRankOne(basis, { threshold: 1.5, threads: 1, starts: 10 });
    expect(candidates.shape[0]).toBe(0);
    expect(report.accepted).toBe(0);
    expect(report.bestRejectedPhi).toBeGreaterThan(0.99);
  });
});

describe('findRankOne input checks', () => {
  it('names the bad argument and its value', async () => {
    await expect(findRankOne(matrix(2, 7))).rejects.toThrow("invalid argument. `basis` must have n(n+1)/2 columns (layout 'packed'). Value: `7`.");
    await expect(findRankOne(matrix(2, 6))).rejects.toThrow('invalid argument. `basis` must have orthonormal rows (max |W W^T - I| = 1.00e+0). Value: `2 x 6`.');
    await expect(findRankOne(basis, { starts: 0 })).rejects.toThrow('invalid argument. `starts` must be a positive integer. Value: `0`.');
    await expect(findRankOne(basis, { mergeCos: 1 })).rejects.toThrow('invalid argument. `mergeCos` must be a number in (0, 1). Value: `1`.');
    await expect(findRankOne(basis, { layout: 'dense' as 'full' })).rejects.toThrow("invalid argument. `layout` must be one of 'full', 'packed'. Value: `dense`.");
    await expect(findRankOne(basis, { restrictTo: matrix(3, 2) })).rejects.toThrow('invalid argument. `restrictTo` must have the matrix side n = 14 rows. Value: `3`.');
  });
});
