import { describe, expect, it } from 'vitest';
import { get2, matrix, matrixFrom, parseNetwork, rng, serializeNetwork, toRows, transposeView, type Network } from '@nnid/core';
import { evaluateNetwork, networkGradient, networkHessian, randomNetwork } from '@nnid/oracle';
import { GEMM_BLOCK_ROWS, GEMM_FROM } from '../src/evaluate.ts';

function naive(net: Network, x: number[]): number {
  const json = serializeNetwork(net);
  const phi = (name: string, t: number) => (name === 'tanh' ? Math.tanh(t) : 1 / (1 + Math.exp(-t)));
  const h = json.A.map((a, i) => phi(json.activation.layer1, a.reduce((s, v, j) => s + v * x[j], 0) + json.theta[i]));
  return json.B.reduce((f, b, l) => f + phi(json.activation.layer2, b.reduce((s, v, i) => s + v * h[i], 0) + json.tau[l]), 0);
}

function randomPoints(n: number, d: number, seed: number) {
  const X = matrix(n, d);
  rng(seed).fillNormal(X.data, 0, 0.7);
  return X;
}

describe('evaluateNetwork', () => {
  for (const act of ['tanh', 'sigmoid'] as const) {
    it(`matches the formula term by term (${act})`, () => {
      const net = randomNetwork({ inputDim: 12, width1: 7, width2: 3, activation: act, seed: 4 });
      const X = randomPoints(9, 12, 1);
      const f = evaluateNetwork(net, X);
      const rows = toRows(X);
      rows.forEach((x, r) => expect(Math.abs(f[r] - naive(net, x))).toBeLessThan(1e-14));
    });
  }

  it('reads any strides: a transposed view gives the same values', () => {
    const net = randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 2 });
    const X = randomPoints(5, 6, 3);
    const stored = matrix(6, 5);
    for (let r = 0; r < 5; r++) for (let j = 0; j < 6; j++) stored.data[j * 5 + r] = X.data[r * 6 + j];
    expect(Array.from(evaluateNetwork(net, transposeView(stored)))).toEqual(Array.from(evaluateNetwork(net, X)));
  });

  it('a batch gives bit for bit the values of its rows one at a time (the 4-row kernel adds in the same order)', () => {
    const net = randomNetwork({ inputDim: 9, width1: 6, width2: 3, activation: 'sigmoid', seed: 8 });
    const X = randomPoints(11, 9, 4);
    const batch = evaluateNetwork(net, X);
    for (let r = 0; r < 11; r++) expect(evaluateNetwork(net, matrixFrom(X.data.slice(r * 9, r * 9 + 9), 1, 9))[0]).toBe(batch[r]);
  });

  it('past GEMM_FROM (products through BLAS): a point gets the same bits in any batch, at any place, and matches the formula', () => {
    const net = randomNetwork({ inputDim: 100, width1: 50, width2: 5, seed: 3 });
    expect(100 * 50).toBeGreaterThanOrEqual(GEMM_FROM);
    const n = GEMM_BLOCK_ROWS + 13;
    const X = randomPoints(n, 100, 5);
    const batch = evaluateNetwork(net, X);
    const rows = toRows(X);
    for (let r = 0; r < n; r++) {
      expect(evaluateNetwork(net, matrixFrom(X.data.slice(r * 100, r * 100 + 100), 1, 100))[0]).toBe(batch[r]);
      expect(Math.abs(batch[r] - naive(net, rows[r]))).toBeLessThan(1e-13);
    }
    // the same rows shifted by 7 places in a larger batch, and a transposed view of them
    const shifted = matrix(n + 7, 100);
    shifted.data.set(X.data, 7 * 100);
    const again = evaluateNetwork(net, shifted);
    for (let r = 0; r < n; r++) expect(again[r + 7]).toBe(batch[r]);
    expect(Array.from(evaluateNetwork(net, transposeView(matrixFrom(Float64Array.from(toRows(transposeView(X)).flat()), 100, n))))).toEqual(Array.from(batch));
  });

  it('rejects a batch with the wrong number of columns', () => {
    const net = randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 2 });
    expect(() => evaluateNetwork(net, matrix(2, 5))).toThrow('invalid argument. `inputs` must have inputDim = 6 columns. Value: `5`.');
  });
});

describe('analytic derivatives', () => {
  for (const [act, seed] of [['tanh', 1], ['sigmoid', 2], ['tanh', 3]] as const) {
    it(`gradient and Hessian agree with central differences of f and of the gradient (${act}, seed ${seed})`, () => {
      const d = 10;
      const net = randomNetwork({ inputDim: d, width1: 6, width2: 3, activation: act, seed });
      const x = Array.from(rng(seed + 10).fillSphere(new Float64Array(d), 1));
      const g = networkGradient(net, x);
      const H = networkHessian(net, x);
      const h = 1e-5;
      for (let i = 0; i < d; i++) {
        const xp = x.slice();
        const xm = x.slice();
        xp[i] += h;
        xm[i] -= h;
        const fd = (evaluateNetwork(net, matrixFrom(Float64Array.from(xp), 1, d))[0] - evaluateNetwork(net, matrixFrom(Float64Array.from(xm), 1, d))[0]) / (2 * h);
        expect(Math.abs(fd - g[i])).toBeLessThan(1e-9);
        const gp = networkGradient(net, xp);
        const gm = networkGradient(net, xm);
        for (let j = 0; j < d; j++) {
          expect(Math.abs((gp[j] - gm[j]) / (2 * h) - get2(H, i, j))).toBeLessThan(1e-8);
          expect(get2(H, i, j)).toBe(get2(H, i, j));
        }
      }
    });
  }

  it('the Hessian is symmetric and lies in span{a_i a_i^T, v_l v_l^T} at 0 (rank <= m0 + m1 test via trace identity)', () => {
    const net = randomNetwork({ inputDim: 8, width1: 3, width2: 2, seed: 9 });
    const H = networkHessian(net, new Float64Array(8));
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) expect(get2(H, i, j)).toBeCloseTo(get2(H, j, i), 15);
    // H = A^T M A for some M: projecting off range(A^T) kills it.
    const A = toRows(net.A);
    const P = (i: number, j: number) => (i === j ? 1 : 0) - A.reduce((s, a) => s + a[i] * a[j], 0);
    let off = 0;
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) {
      let s = 0;
      for (let k = 0; k < 8; k++) s += P(i, k) * get2(H, k, j);
      off = Math.max(off, Math.abs(s));
    }
    expect(off).toBeLessThan(1e-14);
  });
});

describe('randomNetwork', () => {
  it('A has orthonormal rows, B unit-norm rows, and the file form parses back to the same numbers', () => {
    const net = randomNetwork({ inputDim: 20, width1: 10, width2: 5, seed: 7 });
    const A = toRows(net.A);
    for (let i = 0; i < 10; i++) {
      for (let k = 0; k < 10; k++) {
        const dot = A[i].reduce((s, v, j) => s + v * A[k][j], 0);
        expect(Math.abs(dot - (i === k ? 1 : 0))).toBeLessThan(1e-14);
      }
    }
    for (const b of toRows(net.B)) expect(Math.abs(Math.hypot(...b) - 1)).toBeLessThan(1e-14);
    const again = parseNetwork(JSON.parse(JSON.stringify(serializeNetwork(net))));
    expect(serializeNetwork(again)).toEqual(serializeNetwork(net));
  });

  it('the same seed gives the same network, another seed another one', () => {
    const o = { inputDim: 9, width1: 5, width2: 2, seed: 3 };
    expect(serializeNetwork(randomNetwork(o))).toEqual(serializeNetwork(randomNetwork(o)));
    expect(serializeNetwork(randomNetwork({ ...o, seed: 4 })).A).not.toEqual(serializeNetwork(randomNetwork(o)).A);
  });

  it('shifts have the requested spread (default 0.3)', () => {
    const shifts: number[] = [];
    for (let seed = 0; seed < 40; seed++) {
      const net = randomNetwork({ inputDim: 20, width1: 20, width2: 20, seed });
      shifts.push(...net.theta, ...net.tau);
    }
    const sd = Math.sqrt(shifts.reduce((s, v) => s + v * v, 0) / shifts.length);
    expect(sd).toBeGreaterThan(0.28);
    expect(sd).toBeLessThan(0.32);
    const net = randomNetwork({ inputDim: 20, width1: 20, width2: 20, seed: 1 });
    const wide = randomNetwork({ inputDim: 20, width1: 20, width2: 20, seed: 1, shiftStd: 1 });
    expect(wide.theta[5] / net.theta[5]).toBeCloseTo(1 / 0.3, 12);
  });

  it('a perturbation keeps unit rows but breaks orthogonality (|a_i . a_k| of order eps sqrt(2))', () => {
    const net = randomNetwork({ inputDim: 30, width1: 10, width2: 4, seed: 5, orthogonalityPerturbation: 0.03 });
    const A = toRows(net.A);
    let maxDot = 0;
    for (let i = 0; i < 10; i++) {
      expect(Math.abs(Math.hypot(...A[i]) - 1)).toBeLessThan(1e-14);
      for (let k = 0; k < i; k++) maxDot = Math.max(maxDot, Math.abs(A[i].reduce((s, v, j) => s + v * A[k][j], 0)));
    }
    expect(maxDot).toBeGreaterThan(0.01);
    expect(maxDot).toBeLessThan(0.15);
  });

  it('one activation per layer', () => {
    const net = randomNetwork({ inputDim: 3, width1: 2, width2: 1, activation: { layer1: 'tanh', layer2: 'sigmoid' } });
    expect(net.activation).toEqual({ layer1: 'tanh', layer2: 'sigmoid' });
  });

  it('rejects bad sizes with the house-style messages', () => {
    expect(() => randomNetwork({ inputDim: 10, width1: 11, width2: 2 })).toThrow('invalid argument. `width1` must be <= inputDim (10). Value: `11`.');
    expect(() => randomNetwork({ inputDim: 10, width1: 5, width2: 6 })).toThrow('invalid argument. `width2` must be <= width1 (5). Value: `6`.');
    expect(() => randomNetwork({ inputDim: 0, width1: 5, width2: 6 })).toThrow('invalid argument. `inputDim` must be a positive integer. Value: `0`.');
    expect(() => randomNetwork({ inputDim: 10, width1: 2.5, width2: 1 })).toThrow('invalid argument. `width1` must be a positive integer. Value: `2.5`.');
    expect(() => randomNetwork({ inputDim: 10, width1: 5, width2: 1, activation: 'relu' as never })).toThrow(
      "invalid argument. `activation` must be one of 'tanh', 'sigmoid', 'softplus', 'gelu', 'gelu_tanh', 'silu', 'arctan'. Value: `relu`.",
    );
    expect(() => randomNetwork({ inputDim: 10, width1: 5, width2: 1, shiftStd: -1 })).toThrow('invalid argument. `shiftStd` must be a finite number >= 0. Value: `-1`.');
  });
});
