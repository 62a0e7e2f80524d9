import { describe, expect, it } from 'vitest';
import { matrix } from '@nnid/core';
import { denseCombinations, orthonormalRows, stackRows } from '@nnid/testing';
import { attributeCandidates } from '@nnid/attribution';
import { randomRowsCandidates } from './random-rows.ts';

const n = 12;
const a = orthonormalRows(10, n, 1);
const v = denseCombinations(a, 3, 2);
// shuffled: v0, a0..a4, v1, a5..a9, v2 (indices 0, 6, 12 are the entangled weights)
const order = [v[0], ...a.slice(0, 5), v[1], ...a.slice(5), v[2]];
const entangledIdx = [0, 6, 12];
const firstIdx = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11];

describe('attributeCandidates on exactly known candidates', () => {
  it('splits a_i from v_l with widths given, with a wide margin', () => {
    const cert = order.map((_, i) => 1 - i * 1e-3);
    const res = attributeCandidates(stackRows(order), { width1: 10, width2: 3, certificates: cert });
    expect([...res.firstLayer].sort((x, y) => x - y)).toEqual(firstIdx);
    expect(res.entangled).toEqual(entangledIdx); // ordered by certificate
    expect(res.margin).toBeGreaterThan(0.9);
    expect(res.report.maxFirstLayerCoherence).toBeLessThan(1e-28);
    expect(res.report.missingFirstLayer).toBe(0);
    expect(res.firstLayerWeights.shape).toEqual([10, n]);
    for (let t = 0; t < n; t++) expect(res.entangledWeights.data[t]).toBeCloseTo(v[0][t], 15);
    expect(JSON.parse(JSON.stringify(res.report))).toEqual(res.report);
  });

  it('infers both widths when they are not given', () => {
    const res = attributeCandidates(stackRows(order));
    expect(res.report.width1).toBe(10);
    expect(res.report.width2).toBe(3);
    expect(res.report.width1Source).toBe('inferred');
    expect([...res.firstLayer].sort((x, y) => x - y)).toEqual(firstIdx);
  });

  it('with two a_i missing: keeps the 8 present, reports 2 missing, still finds every v_l (one has half its mass on the missing two)', () => {
    const some = [v[0], ...a.slice(0, 4), v[1], ...a.slice(6), v[2]];
    const res = attributeCandidates(stackRows(some), { width1: 10, width2: 3 });
    expect(res.firstLayer.length).toBe(8);
    expect(res.report.missingFirstLayer).toBe(2);
    expect([...res.entangled].sort((x, y) => x - y)).toEqual([0, 5, 10]);
  });

  it('skips an entangled-looking candidate within |cos| 0.8 of an accepted a_i (a near-duplicate)', () => {
    const near = a[3].map((x, t) => 0.9 * x + 0.436 * a[7][t]);
    const res = attributeCandidates(stackRows([...order, near]), { width1: 10, width2: 3 });
    expect([...res.firstLayer].sort((x, y) => x - y)).toEqual(firstIdx);
    expect(res.entangled.sort((x, y) => x - y)).toEqual(entangledIdx);
    expect(res.report.skipped.map((s) => s.index)).toEqual([13]);
    expect(res.report.skipped[0].cos).toBeGreaterThan(0.8);
  });

  it('does not mutate its input', () => {
    const c = stackRows(order);
    const copy = Float64Array.from(c.data);
    attributeCandidates(c, { width1: 10 });
    expect(c.data).toEqual(copy);
  });

  it('names bad arguments', () => {
    expect(() => attributeCandidates(stackRows(order), { width1: 0 })).toThrow('invalid argument. `width1` must be a positive integer. Value: `0`.');
    expect(() => attributeCandidates(stackRows(order), { certificates: [1, 2] })).toThrow('invalid argument. `certificates` must hold one number per candidate (13). Value: `2`.');
    expect(() => attributeCandidates(stackRows(order), { skipCos: 2 })).toThrow('invalid argument. `skipCos` must be a number in (0, 1]. Value: `2`.');
    expect(() => attributeCandidates(matrix(2, 3))).toThrow('candidate 0 is zero or not finite');
  });
});

describe("attributeCandidates, rule 'volume' (rows not orthonormal)", () => {
  const sorted = (x: number[]) => [...x].sort((p, q) => p - q);

  it('keeps the row the coherence rule drops: fills it back by its residual (seed 10)', () => {
    const candidates = randomRowsCandidates(10);
    const coherence = attributeCandidates(candidates, { width1: 6, width2: 3 });
    expect(sorted(coherence.firstLayer)).toEqual([1, 2, 3, 4, 5]);
    expect(coherence.report.missingFirstLayer).toBe(1);
    const volume = attributeCandidates(candidates, { width1: 6, width2: 3, rule: 'volume' });
    expect(sorted(volume.firstLayer)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(volume.report.filled).toEqual([0]);
    expect(volume.report.exchanges).toEqual([]);
    expect(volume.report.missingFirstLayer).toBe(0);
    expect(sorted(volume.entangled)).toEqual([6, 7]); // v_8 within skipCos of a row (a near-duplicate)
    expect(volume.report.dropOrder).toEqual(coherence.report.dropOrder);
    expect(JSON.parse(JSON.stringify(volume.report))).toEqual(volume.report);
  });

  it('exchanges an entangled weight the coherence rule kept for the row it displaced (seed 12)', () => {
    const candidates = randomRowsCandidates(12);
    expect(sorted(attributeCandidates(candidates, { width1: 6, width2: 3 }).firstLayer)).toEqual([0, 2, 4, 5, 8]);
    const volume = attributeCandidates(candidates, { width1: 6, width2: 3, rule: 'volume' });
    expect(sorted(volume.firstLayer)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(volume.report.filled).toEqual([3]);
    expect(volume.report.exchanges).toEqual([[1, 8]]);
    // v_8 is mostly a_1 (|cos| >= skipCos): out of the first layer, it is skipped as a near-duplicate
    expect(sorted(volume.entangled)).toEqual([6, 7]);
    expect(volume.report.skipped.map((s) => s.index)).toEqual([8]);
  });

  it('leaves orthonormal rows as the coherence rule does', () => {
    const cert = order.map((_, i) => 1 - i * 1e-3);
    const coherence = attributeCandidates(stackRows(order), { width1: 10, width2: 3, certificates: cert });
    const volume = attributeCandidates(stackRows(order), { width1: 10, width2: 3, certificates: cert, rule: 'volume' });
    expect(volume.firstLayer).toEqual(coherence.firstLayer);
    expect(volume.entangled).toEqual(coherence.entangled);
    expect(volume.report.exchanges).toEqual([]);
  });

  it('names a bad rule', () => {
    expect(() => attributeCandidates(stackRows(order), { rule: 'best' as 'volume' })).toThrow("invalid argument. `rule` must be 'coherence' or 'volume'. Value: `best`.");
  });
});
