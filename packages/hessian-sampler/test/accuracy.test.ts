import { describe, expect, it } from 'vitest';
import { rowView } from '@nnid/core';
import { createOracle, networkBlackBox, networkGradient, networkHessian, randomNetwork } from '@nnid/oracle';
import { sampleGradients, sampleHessians, spherePoints, unpackHessian } from '@nnid/hessian-sampler';
import { packedIndex } from '../src/stencil.ts';
import { randomBasis } from '@nnid/testing';
import { exactHessian, project, worstRelativeError } from './helpers.ts';

const d = 20;
const cases = [
  ['tanh', 1],
  ['tanh', 2],
  ['tanh', 3],
  ['sigmoid', 1],
  ['sigmoid', 2],
  ['sigmoid', 3],
] as const;

function setup(activation: 'tanh' | 'sigmoid', seed: number) {
  const net = randomNetwork({ inputDim: d, width1: 10, width2: 5, activation, seed });
  const oracle = createOracle(networkBlackBox(net));
  const points = spherePoints(8, d, 1, 100 + seed);
  return { net, oracle, points };
}

describe('finite-difference Hessians agree with the analytic ones (d = 20, m0 = 10, m1 = 5)', () => {
  for (const [activation, seed] of cases) {
    it(`central scheme, step 1e-3: relative Frobenius error <= 1e-6 (${activation}, seed ${seed})`, async () => {
      const { net, oracle, points } = setup(activation, seed);
      const { hessianStack, queries } = await sampleHessians(oracle, points, { scheme: 'central', step: 1e-3, threads: 1 });
      expect(worstRelativeError(hessianStack, (p) => exactHessian(net, points, p))).toBeLessThan(1e-6);
      expect(queries).toBe(8 * (2 * d * d + 1));
      expect(oracle.counts().paid).toBe(queries);
    });

    it(`forward scheme, default step 5e-5: relative Frobenius error <= 1e-3 (${activation}, seed ${seed})`, async () => {
      const { net, oracle, points } = setup(activation, seed);
      const { hessianStack, queries, report } = await sampleHessians(oracle, points, { threads: 1 });
      expect(report.scheme).toBe('forward');
      expect(report.step).toBe(5e-5);
      expect(worstRelativeError(hessianStack, (p) => exactHessian(net, points, p))).toBeLessThan(1e-3);
      expect(queries).toBe((8 * (d + 1) * (d + 2)) / 2);
    });
  }

  it('the packed layout holds the upper triangle, off-diagonal times sqrt 2, and keeps Frobenius inner products', async () => {
    const { net, oracle, points } = setup('tanh', 4);
    const full = await sampleHessians(oracle, points, { scheme: 'central', threads: 1 });
    const packed = await sampleHessians(oracle, points, { scheme: 'central', threads: 1, layout: 'packed' });
    expect(packed.hessianStack.shape).toEqual([8, (d * (d + 1)) / 2]);
    expect(packed.report.packedOffDiagonalScale).toBe(Math.SQRT2);
    const P = packed.hessianStack.data;
    const F = full.hessianStack.data;
    const cols = (d * (d + 1)) / 2;
    expect(P[packedIndex(0, 0, d)]).toBe(F[0]);
    expect(P[packedIndex(2, 5, d)]).toBe(F[2 * d + 5] * Math.SQRT2);
    expect(packedIndex(0, 1, d)).toBe(1);
    expect(packedIndex(1, 1, d)).toBe(d);
    expect(packedIndex(d - 1, d - 1, d)).toBe(cols - 1);
    for (let p = 0; p < 8; p++) {
      const H = unpackHessian(packed.hessianStack, p).data;
      for (let k = 0; k < d * d; k++) expect(Math.abs(H[k] - F[p * d * d + k])).toBeLessThanOrEqual(1e-15 * Math.abs(F[p * d * d + k]) + 1e-300);
      for (let q = 0; q < 8; q++) {
        let fullDot = 0;
        let packedDot = 0;
        for (let k = 0; k < d * d; k++) fullDot += F[p * d * d + k] * F[q * d * d + k];
        for (let k = 0; k < cols; k++) packedDot += P[p * cols + k] * P[q * cols + k];
        expect(Math.abs(packedDot - fullDot)).toBeLessThan(1e-13 * Math.abs(fullDot) + 1e-16);
      }
    }
    expect(worstRelativeError(full.hessianStack, (p) => exactHessian(net, points, p))).toBeLessThan(1e-6);
  });

  for (const scheme of ['central', 'forward'] as const) {
    it(`with a basis U (d x 10), the ${scheme} r x r Hessians are U^T H U, from O(r^2) queries`, async () => {
      const { net, oracle, points } = setup('tanh', 5);
      const r = 10;
      const U = randomBasis(d, r, 9);
      const { hessianStack, queries, report } = await sampleHessians(oracle, points, { scheme, basis: U, threads: 1 });
      expect(hessianStack.shape).toEqual([8, r * r]);
      expect(report.reducedDim).toBe(r);
      expect(queries).toBe(8 * (scheme === 'central' ? 2 * r * r + 1 : ((r + 1) * (r + 2)) / 2));
      const err = worstRelativeError(hessianStack, (p) => project(exactHessian(net, points, p), U, d, r));
      expect(err).toBeLessThan(scheme === 'central' ? 1e-6 : 1e-3);
    });
  }

  it('the gradients of the Hessian stencil come free and are accurate (central ~1e-6)', async () => {
    const { net, oracle, points } = setup('tanh', 6);
    const { gradients, queries } = await sampleHessians(oracle, points, { scheme: 'central', threads: 1, gradients: true });
    expect(queries).toBe(8 * (2 * d * d + 1));
    const err = worstRelativeError(gradients!, (p) => networkGradient(net, rowView(points, p)));
    expect(err).toBeLessThan(1e-6);
  });
});

describe('sampleGradients', () => {
  it('central differences, 2d queries each, relative error <= 1e-8', async () => {
    const { net, oracle, points } = setup('sigmoid', 7);
    const { gradientStack, queries } = await sampleGradients(oracle, points, { threads: 1 });
    expect(queries).toBe(8 * 2 * d);
    expect(worstRelativeError(gradientStack, (p) => networkGradient(net, rowView(points, p)))).toBeLessThan(1e-8);
  });

  it('with a basis: U^T grad f, 2r queries each', async () => {
    const { net, oracle, points } = setup('tanh', 8);
    const U = randomBasis(d, 4, 3);
    const { gradientStack, queries } = await sampleGradients(oracle, points, { threads: 1, basis: U });
    expect(queries).toBe(8 * 2 * 4);
    const truth = (p: number) => {
      const g = networkGradient(net, rowView(points, p));
      return Float64Array.from({ length: 4 }, (_, i) => g.reduce((s, v, k) => s + v * U.data[k * 4 + i], 0));
    };
    expect(worstRelativeError(gradientStack, truth)).toBeLessThan(1e-8);
  });

  it('forward differences: d + 1 queries each', async () => {
    const { net, oracle, points } = setup('tanh', 9);
    const { gradientStack, queries } = await sampleGradients(oracle, points, { threads: 1, scheme: 'forward' });
    expect(queries).toBe(8 * (d + 1));
    expect(worstRelativeError(gradientStack, (p) => networkGradient(net, rowView(points, p)))).toBeLessThan(1e-6);
  });
});

describe('points', () => {
  it('sphere points have the radius, point i does not depend on the count, and live in shared memory', () => {
    const a = spherePoints(5, 7, 2, 1);
    const b = spherePoints(9, 7, 2, 1);
    expect(a.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (let i = 0; i < 5; i++) {
      expect(Math.hypot(...a.data.subarray(i * 7, i * 7 + 7))).toBeCloseTo(2, 13);
      expect(Array.from(a.data.subarray(i * 7, i * 7 + 7))).toEqual(Array.from(b.data.subarray(i * 7, i * 7 + 7)));
    }
  });

  it('a point description is drawn with the seed and written into the report', async () => {
    const { oracle } = setup('tanh', 1);
    const r = await sampleHessians(oracle, { count: 2, distribution: 'gaussian', std: 0.5 }, { seed: 4, threads: 1 });
    expect(r.report.pointSource).toEqual({ distribution: 'gaussian', std: 0.5, seed: 4 });
    expect(r.points.shape).toEqual([2, d]);
    expect(networkHessian).toBeTypeOf('function');
  });
});
