import { describe, expect, it } from 'vitest';
import { rng } from '@nnid/core';

describe('rng', () => {
  it('split streams depend only on (seed, key), not on draws from other streams', () => {
    const a = rng(5);
    const first = a.split(3).uniform();
    const b = rng(5);
    for (let i = 0; i < 100; i++) b.split(i + 10).normal();
    b.uniform();
    expect(b.split(3).uniform()).toBe(first);
    expect(rng(6).split(3).uniform()).not.toBe(first);
  });

  it('normal samples have mean ~0 and variance ~1', () => {
    const s = rng(1);
    const n = 200_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const x = s.normal();
      sum += x;
      sq += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.01);
  });

  it('sphere points have the requested radius', () => {
    const p = rng(2).fillSphere(new Float64Array(30), 2.5);
    expect(Math.hypot(...p)).toBeCloseTo(2.5, 12);
  });

  it('refuses an empty vector for a sphere point (it would never end)', () => {
    expect(() => rng(2).fillSphere(new Float64Array(0))).toThrow(
      'invalid argument. `out` must have length >= 1 (a point on the unit sphere of R^0 does not exist). Value: `0`.',
    );
  });

  it('rejects a bad seed with a message naming it', () => {
    expect(() => rng(-1)).toThrow('invalid argument. `seed` must be a nonnegative integer. Value: `-1`.');
  });
});
