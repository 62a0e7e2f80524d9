import { describe, expect, it } from 'vitest';
import { entangledWeights, matrix, rng, type Float64View } from '@nnid/core';
import { networkGradient, networkHessian, randomNetwork } from '@nnid/oracle';
import {
  deflate,
  distanceToSubspace,
  estimateRange,
  estimateSubspace,
  joinSubspaces,
  projectRankOne,
  rankOneSpan,
} from '@nnid/subspace';
import { vecOuter } from '../src/layout.ts';
import { rowsOf, stackRows } from '@nnid/testing';

const d = 8;
const net = randomNetwork({ inputDim: d, width1: 5, width2: 2, seed: 7 });
const V = entangledWeights(net);
const row = (M: Float64View, i: number) => M.data.subarray(i * M.shape[1], (i + 1) * M.shape[1]);

/** Hessians at small random points around 0 (x = eps z) and at 0 itself, vectorized. */
function stackAtZero(layout: 'full' | 'packed', count: number): Float64View {
  const cols = layout === 'full' ? d * d : (d * (d + 1)) / 2;
  const out = matrix(count, cols);
  for (let p = 0; p < count; p++) {
    const x = new Float64Array(d);
    if (p > 0) rng(3).split(p).fillSphere(x, 1e-9);
    const H = networkHessian(net, x).data;
    if (layout === 'full') out.data.set(H, p * cols);
    else {
      let idx = p * cols;
      for (let a = 0; a < d; a++) for (let b = a; b < d; b++) out.data[idx++] = H[a * d + b] * (a === b ? 1 : Math.SQRT2);
    }
  }
  return out;
}

describe('estimateSubspace', () => {
  it('the exact Hessian at 0 (analytic) lies in W = span{a_i a_i^T, v_l v_l^T}: distance < 1e-12', () => {
    for (const layout of ['full', 'packed'] as const) {
      const { subspace, singularValues, dimension, report } = estimateSubspace(stackAtZero(layout, 1), { layout, dimension: 1 });
      expect(dimension).toBe(1);
      expect(report.dimensionSource).toBe('given');
      expect(singularValues.length).toBe(1);
      // H(0) is a combination of the 7 rank-one matrices: W-hat = span{H(0)} lies in W, and
      // W = span{H(0)} + more. Check the converse direction: H(0) is in span{a a^T, v v^T}.
      const W = rankOneSpan(stackRows([...rowsOf(net.A), ...rowsOf(V)]), layout);
      const basisRow = Float64Array.from(row(subspace.basis, 0));
      let inW = 0;
      for (let j = 0; j < 7; j++) {
        let s = 0;
        for (let t = 0; t < basisRow.length; t++) s += W.basis.data[j * basisRow.length + t] * basisRow[t];
        inW += s * s;
      }
      expect(1 - inW).toBeLessThan(1e-12);
    }
  });

  it('on a stack spanning W exactly, finds dim W from the largest gap and contains every a_i, v_l (distance < 1e-12)', () => {
    // Hessians of W's generators with random coefficients: an exact W stack
    const gens = [...rowsOf(net.A), ...rowsOf(V)];
    const cols = (d * (d + 1)) / 2;
    const stack = matrix(20, cols);
    const tmp = new Float64Array(cols);
    for (let p = 0; p < 20; p++) {
      const s = rng(11).split(p);
      for (const g of gens) {
        vecOuter(g, d, 'packed', tmp, 0);
        const c = s.normal();
        for (let t = 0; t < cols; t++) stack.data[p * cols + t] += c * tmp[t];
      }
    }
    const { subspace, dimension, dimensionSource, report } = estimateSubspace(stack, { layout: 'packed' });
    expect(dimension).toBe(7);
    expect(dimensionSource).toBe('largest-relative-gap');
    expect(report.largestGapAt).toBe(7);
    expect(report.residualEnergy).toBeLessThan(1e-24);
    for (const g of gens) expect(distanceToSubspace(subspace, g)).toBeLessThan(1e-12);
    // a random unit vector is far from W-hat
    expect(distanceToSubspace(subspace, rng(5).fillSphere(new Float64Array(d)))).toBeGreaterThan(0.3);
    // basis rows are orthonormal
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 7; j++) {
        let s = 0;
        for (let t = 0; t < cols; t++) s += subspace.basis.data[i * cols + t] * subspace.basis.data[j * cols + t];
        expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-13);
      }
    }
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('projectRankOne gives P_W(u u^T): u u^T itself for u in the generators, Phi = 1 - distance^2', () => {
    const gens = [...rowsOf(net.A), ...rowsOf(V)];
    const W = rankOneSpan(stackRows(gens), 'full');
    const a0 = gens[0];
    const { projection, phi } = projectRankOne(W, a0);
    expect(Math.abs(phi - 1)).toBeLessThan(1e-12);
    for (let x = 0; x < d; x++) for (let y = 0; y < d; y++) expect(Math.abs(projection.data[x * d + y] - a0[x] * a0[y])).toBeLessThan(1e-12);
    const u = rng(2).fillSphere(new Float64Array(d));
    const dist = distanceToSubspace(W, u);
    expect(Math.abs(projectRankOne(W, u).phi - (1 - dist * dist))).toBeLessThan(1e-12);
  });
});

describe('rankOneSpan, joinSubspaces, deflate', () => {
  it('deflating span{a_i a_i^T} leaves the part orthogonal to it; joining restores W', () => {
    const a = rankOneSpan(net.A, 'packed');
    const v = rankOneSpan(V, 'packed');
    const joined = joinSubspaces(a, v);
    expect(joined.basis.shape[0]).toBe(7);
    const stack = stackAtZero('packed', 1);
    const rest = deflate(stack, a);
    // the rest is orthogonal to every a_i a_i^T
    for (let i = 0; i < 5; i++) {
      let s = 0;
      for (let t = 0; t < rest.shape[1]; t++) s += a.basis.data[i * rest.shape[1] + t] * rest.data[t];
      expect(Math.abs(s)).toBeLessThan(1e-14);
    }
    expect(() => joinSubspaces(a, a)).toThrow('`second`: row 5 is linearly dependent on the rows before it');
  });
});

describe('estimateRange', () => {
  it('gradients of a network with m0 < d span range(A): dimension found by the gap, A inside', () => {
    const n = randomNetwork({ inputDim: 12, width1: 5, width2: 3, seed: 2 });
    const G = matrix(10, 12);
    for (let p = 0; p < 10; p++) G.data.set(networkGradient(n, rng(4).split(p).fillSphere(new Float64Array(12))), p * 12);
    const { basis, dimension, dimensionSource, report } = estimateRange(G);
    expect(dimension).toBe(5);
    expect(dimensionSource).toBe('largest-relative-gap');
    expect(report.singularValues[5] / report.singularValues[4]).toBeLessThan(1e-10);
    // every a_i is in span(basis): |U^T a_i| = 1
    for (let i = 0; i < 5; i++) {
      let s2 = 0;
      for (let j = 0; j < 5; j++) {
        let s = 0;
        for (let t = 0; t < 12; t++) s += basis.data[t * 5 + j] * n.A.data[i * 12 + t];
        s2 += s * s;
      }
      expect(Math.abs(s2 - 1)).toBeLessThan(1e-12);
    }
  });

  it('with m0 = d there is no gap: full rank', () => {
    const n = randomNetwork({ inputDim: 6, width1: 6, width2: 2, seed: 3 });
    const G = matrix(12, 6);
    for (let p = 0; p < 12; p++) G.data.set(networkGradient(n, rng(4).split(p).fillSphere(new Float64Array(6))), p * 6);
    const r = estimateRange(G);
    expect(r.dimension).toBe(6);
    expect(r.dimensionSource).toBe('full-rank');
    expect(estimateRange(G, { dimension: 3 }).basis.shape).toEqual([6, 3]);
  });

  it('tailBound: a gap whose next value is above the bound is not the edge; the largest of the others is, or full rank', () => {
    const diagonal = (values: number[]) => {
      const G = matrix(values.length, values.length);
      values.forEach((v, i) => (G.data[i * values.length + i] = v));
      return G;
    };
    // gaps 100 at D = 1, 50 at D = 2, 2 at D = 3
    const G = diagonal([100, 1, 0.02, 0.01]);
    expect(estimateRange(G, { gapThreshold: 20 }).dimension).toBe(1);
    expect(estimateRange(G, { gapThreshold: 20, tailBound: 2 }).dimension).toBe(1);
    const bounded = estimateRange(G, { gapThreshold: 20, tailBound: 0.1 });
    expect(bounded.dimension).toBe(2); // 1 > 0.1 is signal: the edge is the next gap
    expect(bounded.report).toMatchObject({ tailBound: 0.1, largestGapAt: 2, dimensionSource: 'largest-relative-gap' });
    expect(bounded.report.largestGap).toBeCloseTo(50, 10);
    // no allowed gap: full rank
    const full = estimateRange(diagonal([100, 1, 0.5, 0.4]), { gapThreshold: 20, tailBound: 0.1 });
    expect(full.dimension).toBe(4);
    expect(full.dimensionSource).toBe('full-rank');
    expect(estimateRange(G).report.tailBound).toBeNull();
    expect(() => estimateRange(G, { tailBound: 0 })).toThrow('invalid argument. `tailBound` must be');
  });

  it('names bad arguments', () => {
    expect(() => estimateRange(matrix(3, 4), { dimension: 5 })).toThrow('invalid argument. `dimension` must be an integer in [1, 3]. Value: `5`.');
    expect(() => estimateSubspace(matrix(3, 7), { layout: 'packed' })).toThrow("invalid argument. `hessianStack` must have n(n+1)/2 columns (layout 'packed'). Value: `7`.");
    expect(() => estimateSubspace(matrix(3, 6), { layout: 'packed' })).toThrow('the Hessian stack is zero');
  });
});


describe('complementBasis and restrictStack', () => {
  it('Q spans the complement; Q^T (x x^T) Q = (Q^T x)(Q^T x)^T in both layouts', async () => {
    const { complementBasis, restrictStack } = await import('@nnid/subspace');
    const F = matrix(3, d);
    for (let i = 0; i < 3; i++) rng(8).split(i).fillNormal(F.data.subarray(i * d, (i + 1) * d));
    const Q = complementBasis(F);
    expect(Q.shape).toEqual([d, d - 3]);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < d - 3; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += F.data[i * d + t] * Q.data[t * (d - 3) + j];
        expect(Math.abs(s)).toBeLessThan(1e-13);
      }
    }
    const x = rng(9).fillNormal(new Float64Array(d));
    const y = new Float64Array(d - 3);
    for (let j = 0; j < d - 3; j++) for (let t = 0; t < d; t++) y[j] += Q.data[t * (d - 3) + j] * x[t];
    for (const layout of ['packed', 'full'] as const) {
      const cols = layout === 'packed' ? (d * (d + 1)) / 2 : d * d;
      const H = matrix(1, cols);
      vecOuter(x, d, layout, H.data, 0);
      const R = restrictStack(H, Q, layout);
      const expected = new Float64Array(R.shape[1]);
      vecOuter(y, d - 3, layout, expected, 0);
      for (let t = 0; t < expected.length; t++) expect(Math.abs(R.data[t] - expected[t])).toBeLessThan(1e-12);
    }
  });
});
