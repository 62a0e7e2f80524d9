/**
 * Both tiers on the same inputs: results must agree to rounding, including the sign of every
 * returned vector (the sign convention is applied identically to both).
 */
import { describe, expect, it } from 'vitest';
import type { Float64View } from '@nnid/core';
import {
  choleskySolve,
  gram,
  lstsq,
  matmul,
  nativeAvailable,
  pinv,
  qr,
  svd,
  symEig,
  symEigTop,
  tier,
  topSingular,
  useTier,
} from '../src/index.ts';
import { maxDiff, randomMatrix, stridedCopy } from './helpers.ts';

function both<T>(f: () => T): [T, T] {
  useTier('typescript');
  const ts = f();
  useTier('native');
  const nat = f();
  return [ts, nat];
}

function maxDiffArray(x: Float64Array, y: Float64Array): number {
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

if (!nativeAvailable()) {
  console.warn('linalg: the native tier is not built: tier comparison SKIPPED.');
}

describe.skipIf(!nativeAvailable())('typescript and native tiers agree', () => {
  it('chooses native by default when it is built (unless NNID_LINALG=typescript)', () => {
    if (process.env.NNID_LINALG !== 'typescript') expect(tier()).toBe('native');
  });
  it('matmul and gram', () => {
    const a = randomMatrix(70, 45, 1);
    const b = randomMatrix(45, 33, 2);
    const [m1, m2] = both(() => matmul(stridedCopy(a), b));
    expect(maxDiff(m1, m2)).toBeLessThan(1e-12);
    const [g1, g2] = both(() => gram(a, { side: 'rows' }));
    expect(maxDiff(g1, g2)).toBeLessThan(1e-12);
  });
  it('symEig and symEigTop: values and signed vectors', () => {
    const s = gram(randomMatrix(150, 90, 3));
    const [e1, e2] = both(() => symEig(s));
    expect(maxDiffArray(e1.values, e2.values) / e1.values[0]).toBeLessThan(1e-13);
    expect(maxDiff(e1.vectors, e2.vectors)).toBeLessThan(1e-9);
    const s2 = gram(randomMatrix(300, 260, 4));
    const [t1, t2] = both(() => symEigTop(s2, 12));
    expect(maxDiffArray(t1.values, t2.values) / t1.values[0]).toBeLessThan(1e-13);
    expect(maxDiff(t1.vectors, t2.vectors)).toBeLessThan(1e-9);
  });
  it('svd, topSingular, qr', () => {
    const x = randomMatrix(40, 25, 5);
    const [s1, s2] = both(() => svd(x));
    expect(maxDiffArray(s1.values, s2.values)).toBeLessThan(1e-12);
    expect(maxDiff(s1.left, s2.left)).toBeLessThan(1e-10);
    expect(maxDiff(s1.right, s2.right)).toBeLessThan(1e-10);
    const [u1, u2] = both(() => topSingular(x, 5));
    expect(maxDiffArray(u1.values, u2.values)).toBeLessThan(1e-12);
    expect(maxDiff(u1.left, u2.left)).toBeLessThan(1e-10);
    const xt: Float64View = { data: x.data, offset: 0, shape: [25, 40], strides: [1, 25] };
    const [w1, w2] = both(() => topSingular(xt, 5));
    expect(maxDiff(w1.right, w2.right)).toBeLessThan(1e-10);
    const [q1, q2] = both(() => qr(x));
    expect(maxDiff(q1.q, q2.q)).toBeLessThan(1e-12);
    expect(maxDiff(q1.r, q2.r)).toBeLessThan(1e-12);
  });
  it('lstsq, pinv, choleskySolve (including the failing pivot)', () => {
    const a = randomMatrix(30, 8, 6);
    const b = randomMatrix(30, 2, 7);
    const [l1, l2] = both(() => lstsq(a, b));
    expect(maxDiff(l1.solution, l2.solution)).toBeLessThan(1e-12);
    expect(l1.rank).toBe(l2.rank);
    const [p1, p2] = both(() => pinv(a));
    expect(maxDiff(p1, p2)).toBeLessThan(1e-12);
    const g = gram(randomMatrix(50, 20, 8));
    const rhs = randomMatrix(20, 3, 9);
    const [c1, c2] = both(() => choleskySolve(g, rhs, { jitter: 1e-3 }));
    expect(maxDiff(c1, c2)).toBeLessThan(1e-10);
    const indefinite = gram(randomMatrix(50, 20, 10));
    indefinite.data[7 * 20 + 7] = -1;
    const [m1, m2] = both(() => {
      try {
        choleskySolve(indefinite, rhs);
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(m1).toBe(m2);
    expect(m1).toContain('pivot 7 (0-based)');
  });
});
