import { afterAll, describe, expect, it } from 'vitest';
import { createSolverPool, findRankOne } from '@nnid/rank1-solver';
import { bestCos, bytes, denseCombinations, orthonormalRows, stackRows } from '@nnid/testing';
import { BATCH_FROM, BATCH_ROWS } from '../src/batch.ts';
import { rankOneSpan } from './helpers.ts';

// k p = 90 x 780 >= BATCH_FROM: the starts ascend in blocks, their products through linalg
const n = 39;
const a = orthonormalRows(30, n, 11);
const v = denseCombinations(a, 60, 12);
const basis = rankOneSpan([...a, ...v]);
const truth = stackRows([...a, ...v]);
const pool = createSolverPool({ threads: 2 });
afterAll(() => pool.close());

describe('findRankOne in blocks (k p >= BATCH_FROM)', () => {
  it('recovers the a_i to |cos| >= 1 - 1e-10 with certificates ~1', async () => {
    expect(basis.shape[0] * basis.shape[1]).toBeGreaterThanOrEqual(BATCH_FROM);
    const { candidates, certificates, report } = await findRankOne(basis, { seed: 2, threads: 1, starts: 4 * BATCH_ROWS + 5 });
    let found = 0;
    for (const x of a) if (bestCos(candidates, x) >= 1 - 1e-10) found++;
    expect(found).toBeGreaterThanOrEqual(20);
    for (let i = 0; i < candidates.shape[0]; i++) {
      const row = candidates.data.subarray(i * n, (i + 1) * n);
      expect(bestCos(truth, row)).toBeGreaterThanOrEqual(1 - 1e-10);
      expect(certificates[i]).toBeGreaterThan(1 - 1e-12);
    }
    expect(report.notConverged).toBe(0);
  });

  it('gives byte-identical candidates for 1 and 2 threads and any chunking', async () => {
    const starts = 3 * BATCH_ROWS + 7;
    const one = await findRankOne(basis, { seed: 5, threads: 1, starts });
    const two = await findRankOne(basis, { seed: 5, pool, starts });
    const twoSmall = await findRankOne(basis, { seed: 5, pool, starts, chunkSize: 1 });
    expect(two.report.mode).toBe('workers');
    expect(one.candidates.shape[0]).toBeGreaterThan(5);
    expect(bytes(two.candidates).equals(bytes(one.candidates))).toBe(true);
    expect(bytes(twoSmall.candidates).equals(bytes(one.candidates))).toBe(true);
    expect(Array.from(two.certificates)).toEqual(Array.from(one.certificates));
  });
});

