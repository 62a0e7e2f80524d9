/**
 * The shared forward pass on the built-in activations and on a definition that exists only in
 * this test (adding an activation = one definition: evaluate, the input gradient and the
 * parameter Jacobian take it as they are).
 */
import { describe, expect, it } from 'vitest';
import {
  ACTIVATION_TABLE,
  firstLayerProducts,
  forwardRow,
  forwardRowScratch,
  inputGradient,
  outputSlopeSums,
  parameterJacobianRow,
  rng,
  type Activation,
  type UpperLayers,
} from '../src/index.ts';
import { expectDerivativesMatchDifferences, expectFusedPathMatches } from './activation-checks.ts';

/** The algebraic sigmoid t / sqrt(1 + t^2): smooth, odd, not one of ACTIVATIONS. */
const algebraicSigmoid: Activation = {
  name: 'algebraic_sigmoid',
  value: (t) => t / Math.sqrt(1 + t * t),
  d1: (t) => (1 + t * t) ** -1.5,
  d2: (t) => -3 * t * (1 + t * t) ** -2.5,
  d3: (t) => (12 * t * t - 3) * (1 + t * t) ** -3.5,
  valuesSlopes(t, at, n, values, slopes) {
    for (let i = 0; i < n; i++) {
      const u = t[at + i];
      const q = 1 + u * u;
      values[i] = u / Math.sqrt(q);
      if (slopes) slopes[i] = q ** -1.5;
    }
  },
};

/** A test-only table: the built-in rows and one more. */
const TEST_TABLE: Readonly<Record<string, Activation>> = { ...ACTIVATION_TABLE, algebraic_sigmoid: algebraicSigmoid };

interface Net {
  d: number;
  m0: number;
  m1: number;
  /** [A (m0 x d), theta, B (m1 x m0), tau]: refine's parameter order */
  p: Float64Array;
  phi1: Activation;
  phi2: Activation;
}

function randomNet(phi1: Activation, phi2: Activation, seed: number): Net {
  const d = 5;
  const m0 = 4;
  const m1 = 3;
  const p = new Float64Array(d * m0 + m0 + m0 * m1 + m1);
  rng(seed).fillNormal(p);
  for (let k = 0; k < p.length; k++) p[k] *= 0.7;
  return { d, m0, m1, p, phi1, phi2 };
}

function layersOf(net: Net, p: Float64Array, tauFirst: boolean): UpperLayers {
  const { d, m0, m1, phi1, phi2 } = net;
  return { phi1, phi2, width1: m0, width2: m1, theta: p, thetaAt: d * m0, B: p, bAt: d * m0 + m0, tau: p, tauAt: d * m0 + m0 + m0 * m1, tauFirst };
}

/** f(x) through the shared kernels. */
function f(net: Net, p: Float64Array, x: Float64Array, tauFirst = true): number {
  const u = new Float64Array(net.m0);
  firstLayerProducts(p, net.d, net.m0, x, 0, 1, 0, 1, u, 0);
  return forwardRow(layersOf(net, p, tauFirst), u, 0, forwardRowScratch(net.m0, net.m1), false);
}

/** f(x) written out from the definitions' scalar functions, independently of the kernels. */
function reference(net: Net, x: Float64Array): number {
  const { d, m0, m1, p, phi1, phi2 } = net;
  let out = 0;
  for (let l = 0; l < m1; l++) {
    let s = p[d * m0 + m0 + m0 * m1 + l];
    for (let i = 0; i < m0; i++) {
      let z = p[d * m0 + i];
      for (let j = 0; j < d; j++) z += p[i * d + j] * x[j];
      s += p[d * m0 + m0 + l * m0 + i] * phi1.value(z);
    }
    out += phi2.value(s);
  }
  return out;
}

const PAIRS: [string, string][] = [
  ['tanh', 'tanh'],
  ['sigmoid', 'tanh'],
  ['algebraic_sigmoid', 'algebraic_sigmoid'],
  ['tanh', 'algebraic_sigmoid'],
  ['gelu', 'silu'],
  ['softplus', 'arctan'],
  ['gelu_tanh', 'sigmoid'],
];

describe('a test-only activation definition', () => {
  it('is a checked definition: derivatives agree with finite differences, fused path bit for bit', () => {
    expectDerivativesMatchDifferences(algebraicSigmoid);
    expectFusedPathMatches(algebraicSigmoid);
  });
});

describe('the shared forward pass', () => {
  for (const [n1, n2] of PAIRS) {
    const net = randomNet(TEST_TABLE[n1], TEST_TABLE[n2], n1.length * 7 + n2.length);
    const x = new Float64Array(net.d);
    rng(11).fillNormal(x);

    it(`${n1}/${n2}: evaluates f (either order of tau), strided batches give the same numbers`, () => {
      const ref = reference(net, x);
      expect(Math.abs(f(net, net.p, x, true) - ref)).toBeLessThan(1e-14);
      expect(Math.abs(f(net, net.p, x, false) - ref)).toBeLessThan(1e-14);
      // 6 rows, the batch transposed (colStride 6): four-row blocks and single rows agree
      const rows = 6;
      const X = new Float64Array(rows * net.d);
      rng(3).fillNormal(X);
      const XT = new Float64Array(rows * net.d);
      for (let r = 0; r < rows; r++) for (let j = 0; j < net.d; j++) XT[j * rows + r] = X[r * net.d + j];
      const U = new Float64Array(rows * net.m0);
      const UT = new Float64Array(rows * net.m0);
      firstLayerProducts(net.p, net.d, net.m0, X, 0, rows, net.d, 1, U, 0);
      firstLayerProducts(net.p, net.d, net.m0, XT, 0, rows, 1, rows, UT, 0);
      expect(Array.from(UT)).toEqual(Array.from(U));
      for (let r = 0; r < rows; r++) {
        const v = forwardRow(layersOf(net, net.p, true), U, r * net.m0, forwardRowScratch(net.m0, net.m1), true);
        expect(Math.abs(v - reference(net, X.subarray(r * net.d, (r + 1) * net.d)))).toBeLessThan(1e-14);
      }
    });

    it(`${n1}/${n2}: the input gradient agrees with central differences`, () => {
      const layers = layersOf(net, net.p, true);
      const u = new Float64Array(net.m0);
      firstLayerProducts(net.p, net.d, net.m0, x, 0, 1, 0, 1, u, 0);
      const row = forwardRowScratch(net.m0, net.m1);
      forwardRow(layers, u, 0, row, true);
      const c = new Float64Array(net.m0);
      outputSlopeSums(layers, row, c);
      const grad = new Float64Array(net.d);
      inputGradient(layers, row, c, net.p, net.d, grad);
      const h = 1e-5;
      for (let j = 0; j < net.d; j++) {
        const xp = Float64Array.from(x);
        const xm = Float64Array.from(x);
        xp[j] += h;
        xm[j] -= h;
        expect(Math.abs((f(net, net.p, xp) - f(net, net.p, xm)) / (2 * h) - grad[j])).toBeLessThan(1e-8);
      }
    });

    it(`${n1}/${n2}: the parameter Jacobian (all of p, and theta-B-tau, and B-tau alone) agrees with central differences`, () => {
      const { d, m0, m1, p } = net;
      const P = p.length;
      const layers = layersOf(net, p, true);
      const u = new Float64Array(m0);
      firstLayerProducts(p, d, m0, x, 0, 1, 0, 1, u, 0);
      const row = forwardRowScratch(m0, m1);
      forwardRow(layers, u, 0, row, true);
      const c = new Float64Array(m0);
      outputSlopeSums(layers, row, c);
      const J = new Float64Array(P);
      parameterJacobianRow(layers, row, c, x, 0, d, J, 0);
      const h = 1e-6;
      for (let k = 0; k < P; k++) {
        const pp = Float64Array.from(p);
        const pm = Float64Array.from(p);
        pp[k] += h;
        pm[k] -= h;
        expect(Math.abs((f(net, pp, x) - f(net, pm, x)) / (2 * h) - J[k])).toBeLessThan(1e-7);
      }
      // the shorter layouts are the tails of the full one
      const upper = new Float64Array(m0 + m0 * m1 + m1);
      parameterJacobianRow(layers, row, c, null, 0, 0, upper, 0);
      expect(Array.from(upper)).toEqual(Array.from(J.subarray(d * m0)));
      const bTau = new Float64Array(m0 * m1 + m1);
      parameterJacobianRow(layers, row, null, null, 0, 0, bTau, 0);
      expect(Array.from(bTau)).toEqual(Array.from(J.subarray(d * m0 + m0)));
    });
  }
});
