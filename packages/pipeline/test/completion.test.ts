import { describe, expect, it } from 'vitest';
import { activation, matrix, rng, type Float64View } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { estimateSubspace } from '@nnid/subspace';
import { createSolverPool, findRankOne } from '@nnid/rank1-solver';
import { attributeCandidates } from '@nnid/attribution';
import { completeFirstLayer, REOPEN_COHERENCE } from '../src/completion.ts';
import { ENTANGLED_PART_FACTOR, entangledPart } from '../src/entangled.ts';
import type { AttemptContext } from '../src/attempt.ts';
import { matchWeights } from '../src/score.ts';

/**
 * Hessians in W = span{a_i a_i^T, v_l v_l^T} (the model at x = 0, random coefficients) plus N(0, noise^2)
 * in every entry, in m0 reduced coordinates: A's rows orthonormal (a random rotation), v_l = A^T b_l normalized.
 */
function idealStack(m0: number, m1: number, count: number, seed: number, noise: number): { A: Float64View; stack: Float64View } {
  const stream = rng(seed);
  // random orthonormal rows by Gram-Schmidt
  const A = matrix(m0, m0);
  for (let i = 0; i < m0; i++) {
    const a = A.data.subarray(i * m0, (i + 1) * m0);
    stream.split(1, i).fillNormal(a);
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        let s = 0;
        for (let t = 0; t < m0; t++) s += a[t] * A.data[j * m0 + t];
        for (let t = 0; t < m0; t++) a[t] -= s * A.data[j * m0 + t];
      }
    }
    const n = Math.hypot(...a);
    for (let t = 0; t < m0; t++) a[t] /= n;
  }
  const V: Float64Array[] = [];
  for (let l = 0; l < m1; l++) {
    const b = new Float64Array(m0);
    stream.split(2, l).fillNormal(b);
    const v = new Float64Array(m0);
    for (let i = 0; i < m0; i++) for (let t = 0; t < m0; t++) v[t] += b[i] * A.data[i * m0 + t];
    const n = Math.hypot(...v);
    V.push(v.map((x) => x / n));
  }
  const packed = (m0 * (m0 + 1)) / 2;
  const stack = matrix(count, packed);
  const coefficients = new Float64Array(m0 + m1);
  for (let n = 0; n < count; n++) {
    stream.split(3, n).fillNormal(coefficients);
    const terms = [...Array.from({ length: m0 }, (_, i) => A.data.subarray(i * m0, (i + 1) * m0)), ...V];
    let col = 0;
    for (let a = 0; a < m0; a++) {
      for (let b = a; b < m0; b++) {
        let h = 0;
        terms.forEach((u, j) => (h += coefficients[j] * u[a] * u[b]));
        stack.data[n * packed + col++] = h * (a === b ? 1 : Math.SQRT2);
      }
    }
  }
  const e = new Float64Array(packed);
  for (let n = 0; n < count; n++) {
    stream.split(4, n).fillNormal(e);
    for (let t = 0; t < packed; t++) stack.data[n * packed + t] += noise * e[t];
  }
  return { A, stack };
}

/** A tanh network's exact Hessians at `count` points of the sphere of `radius`, in coordinates where A = I (d = m0, A orthonormal). */
function networkStack(m0: number, m1: number, count: number, radius: number, seed: number): { A: Float64View; stack: Float64View; v: Float64Array[] } {
  const net = randomNetwork({ inputDim: m0, width1: m0, width2: m1, activation: 'tanh', seed });
  const tanh = activation('tanh');
  const packed = (m0 * (m0 + 1)) / 2;
  const stack = matrix(count, packed);
  const x = new Float64Array(m0);
  const H = new Float64Array(m0 * m0);
  for (let n = 0; n < count; n++) {
    rng(seed).split(9, n).fillSphere(x, radius);
    const z = new Float64Array(m0);
    for (let i = 0; i < m0; i++) {
      z[i] = net.theta[i];
      for (let j = 0; j < m0; j++) z[i] += net.A.data[i * m0 + j] * x[j];
    }
    H.fill(0);
    for (let l = 0; l < m1; l++) {
      let s = net.tau[l];
      for (let i = 0; i < m0; i++) s += net.B.data[l * m0 + i] * tanh.value(z[i]);
      const v = new Float64Array(m0);
      for (let i = 0; i < m0; i++) {
        H[i * m0 + i] += tanh.d2(z[i]) * net.B.data[l * m0 + i] * tanh.d1(s);
        v[i] = tanh.d1(z[i]) * net.B.data[l * m0 + i];
      }
      for (let a = 0; a < m0; a++) for (let b = 0; b < m0; b++) H[a * m0 + b] += tanh.d2(s) * v[a] * v[b];
    }
    let col = 0;
    for (let a = 0; a < m0; a++) for (let b = a; b < m0; b++) stack.data[n * packed + col++] = H[a * m0 + b] * (a === b ? 1 : Math.SQRT2);
  }
  const A = matrix(m0, m0);
  for (let i = 0; i < m0; i++) A.data[i * m0 + i] = 1;
  // the entangled weights at x = 0 in the same coordinates: v_l = diag(phi1'(theta)) b_l, normalized
  const v = Array.from({ length: m1 }, (_, l) => {
    const w = Float64Array.from({ length: m0 }, (_, i) => tanh.d1(net.theta[i]) * net.B.data[l * m0 + i]);
    const n = Math.hypot(...w);
    return w.map((x) => x / n);
  });
  return { A, stack, v };
}

function trueRows(A: Float64View, count: number): Float64View {
  const rows = matrix(count, A.shape[1]);
  rows.data.set(A.data.subarray(0, count * A.shape[1]));
  return rows;
}

describe('completeFirstLayer', () => {
  it('finds the rows a short rank-one search (10 starts) missed (Hessians in W, 1e-6 noise): each true row at |cos| >= 0.999, none filled', async () => {
    const [m0, m1] = [20, 3];
    const k = Math.round(1.5 * (m0 + m1));
    const { A, stack } = idealStack(m0, m1, 2 * (m0 + m1), 7, 1e-6);
    const subspace = estimateSubspace(stack, { layout: 'packed', dimension: k });
    const search = await findRankOne(subspace.subspace.basis, { threads: 1, starts: 10, seed: 2 });
    const first = attributeCandidates(search.candidates, { width1: m0, certificates: search.certificates }).firstLayerWeights;
    expect(first.shape[0]).toBeLessThan(m0 - 4); // the search was made to miss rows
    const out = await completeFirstLayer(stack, first, { width1: m0, subspaceDimension: k, width2: m1, seed: 3, solver: { threads: 1 } });
    expect(out.firstLayer.shape).toEqual([m0, m0]);
    expect(out.report.filledWithComplementBasis).toBe(0);
    expect(Math.min(...matchWeights(A, out.firstLayer).cosines)).toBeGreaterThanOrEqual(0.999);
  });

  // a tanh network's exact Hessians on the unit sphere, 5 of 30 rows given: the first round finds 22
  // of the 25; the last 3, searched in a complement of 3 dimensions beside m1 = 3 entangled terms (a
  // W-hat that fills its 6 symmetric matrices), came out at |cos| 0.60-0.89 before later rounds took
  // rows back
  it('completes a first layer whose last rows crowd a small complement: every row at |cos| >= 0.9, the same bits on 1 and 2 threads', async () => {
    const [m0, m1] = [30, 3];
    const k = Math.round(1.5 * (m0 + m1));
    const { A, stack } = networkStack(m0, m1, k, 1, 7);
    const options = { width1: m0, subspaceDimension: k, width2: m1, seed: 3 };
    const one = await completeFirstLayer(stack, trueRows(A, 5), { ...options, solver: { threads: 1 } });
    expect(Math.min(...matchWeights(A, one.firstLayer).cosines)).toBeGreaterThanOrEqual(0.9);
    const pool = createSolverPool({ threads: 2 });
    try {
      const two = await completeFirstLayer(stack, trueRows(A, 5), { ...options, solver: { pool } });
      expect(Array.from(two.firstLayer.data)).toEqual(Array.from(one.firstLayer.data));
    } finally {
      await pool.close();
    }
  });

  // an entangled weight kept among the first search's rows (issue 15, ninth pass): the 10 a_i on which v_0 weighs most
  // given with v_0 itself, so its coherence with them is large while theirs with one another is 0
  it('reopenCoherence: an entangled weight kept as a row is taken back and the layer completed with true rows (|cos| >= 0.9, none near v_0); true rows alone: none taken back', async () => {
    const [m0, m1] = [30, 3];
    const k = Math.round(1.5 * (m0 + m1));
    const { A, stack, v } = networkStack(m0, m1, k, 1, 7);
    const heavy = Array.from({ length: m0 }, (_, i) => i).sort((a, b) => Math.abs(v[0][b]) - Math.abs(v[0][a]) || a - b).slice(0, 10);
    const given = matrix(11, m0);
    heavy.forEach((i, r) => (given.data[r * m0 + i] = 1));
    given.data.set(v[0], 10 * m0);
    const options = { width1: m0, subspaceDimension: k, width2: m1, seed: 3, solver: { threads: 1 }, reopenCoherence: REOPEN_COHERENCE };
    const out = await completeFirstLayer(stack, given, options);
    expect(out.report.reopenedFirstSearch).toEqual([10]);
    expect(out.firstLayer.shape).toEqual([m0, m0]);
    // with v_0 taken back: no row near it, every true row found (the last 2 share a filled span: 0.77, 0.88 on the native tier)
    expect(Math.min(...matchWeights(A, out.firstLayer).cosines)).toBeGreaterThanOrEqual(0.75);
    // with v_0 kept (no reopenCoherence): the true row it displaces is never found (|cos| 0.08 on the native tier)
    const kept = await completeFirstLayer(stack, given, { ...options, reopenCoherence: undefined });
    expect(Math.min(...matchWeights(A, kept.firstLayer).cosines)).toBeLessThan(0.5);
    let nearV = 0;
    for (let r = 0; r < m0; r++) {
      let c = 0;
      for (let t = 0; t < m0; t++) c += out.firstLayer.data[r * m0 + t] * v[0][t];
      nearV = Math.max(nearV, Math.abs(c) / Math.hypot(...out.firstLayer.data.subarray(r * m0, (r + 1) * m0)));
    }
    expect(nearV).toBeLessThan(0.9);
    // the same rows without v_0: none taken back, the given rows kept as they are
    const only = await completeFirstLayer(stack, pickFirst(given, 10), options);
    expect(only.report.reopenedFirstSearch).toEqual([]);
    expect(Array.from(only.firstLayer.data.subarray(0, 10 * m0))).toEqual(Array.from(given.data.subarray(0, 10 * m0)));
  });
});

// the entangled stage given the true first layer of a tanh network's exact Hessians on the sphere of radius 2
describe('entangledPart: partFactor', () => {
  it('ENTANGLED_PART_FACTOR: every v_l found at |cos| >= 0.99 (no candidate on a first-layer row), at least as near as the m1-dimensional part; the default is partFactor 1', async () => {
    const [m0, m1] = [30, 10];
    const { A, stack, v } = networkStack(m0, m1, 80, 2, 7);
    const V = matrix(m1, m0);
    v.forEach((w, l) => V.data.set(w, l * m0));
    const ctx = { hessianStack: stack, rangeBasis: null, reducedDim: m0, width1: m0, width2: m1, options: { threshold: 0.9 }, gradientAtZero: null } as unknown as AttemptContext;
    const at = {
      firstLayer: A,
      firstSearch: { candidates: matrix(0, m0), certificates: new Float64Array(0), hits: [], report: {} },
      attribution: { entangled: [], report: { skipped: [], unused: [] } },
      width2Given: m1,
      seed: 1,
      solver: { threads: 1 },
    } as unknown as Parameters<typeof entangledPart>[1];
    const wide = await entangledPart(ctx, { ...at, partFactor: ENTANGLED_PART_FACTOR });
    expect(wide.report.sources).toEqual(Array(m1).fill('deflated'));
    expect(wide.report.deflated?.dimension).toBe(m1);
    const near = matchWeights(V, wide.weights).cosines;
    expect(Math.min(...near)).toBeGreaterThanOrEqual(0.99);
    // no chosen v-hat_l on a first-layer row (A = I: every entry below 0.98 in size)
    expect(Math.max(...Array.from(wide.weights.data, Math.abs))).toBeLessThan(0.98);
    const narrow = await entangledPart(ctx, at);
    const one = await entangledPart(ctx, { ...at, partFactor: 1 });
    expect(Array.from(one.weights.data)).toEqual(Array.from(narrow.weights.data));
    expect(Math.min(...near)).toBeGreaterThanOrEqual(Math.min(...matchWeights(V, narrow.weights).cosines) - 1e-3);
  });
});

function pickFirst(v: Float64View, count: number): Float64View {
  const out = matrix(count, v.shape[1]);
  out.data.set(v.data.subarray(0, count * v.shape[1]));
  return out;
}
