/**
 * A truth-free estimate of the oracle's noise level, in the manner of Moré and Wild's ECnoise
 * ("Estimating computational noise", SIAM J. Sci. Comput. 33, 2011).
 *
 * On each of a few lines x0 + k delta u (k = 0..K, x0 on a sphere, u a random unit direction) the
 * j-th differences of the answers are taken. For a smooth f plus independent noise of std sigma,
 * Delta^j f = (smooth part, O(delta^j)) + (noise part, variance C(2j, j) sigma^2); with delta
 * tiny the smooth part vanishes and gamma_j mean((Delta^j f)^2), gamma_j = (j!)^2 / (2j)!, is an
 * unbiased estimate of sigma^2. A noiseless oracle gives the rounding level of its answers
 * (~1e-16 |f|). Repeating a point is no use (a black box may answer a point the same way twice);
 * distinct points are all this needs.
 */
import { checkChoice, checkInteger, checkPositive, invalidArgument, matrix, rng, type Oracle } from '@nnid/core';
import { DEFAULT_GRADIENT_STEP, DEFAULT_STEP } from './sample.ts';
import type { Kind, Scheme } from './stencil.ts';

export interface NoiseOptions {
  /** Seed of the lines (default 0). */
  seed?: number;
  /** Lines (default 5). */
  points?: number;
  /** K: each line has K + 1 evaluations, differences up to order K are formed (default 8). */
  steps?: number;
  /** Order j of the differences the estimate is read from (default 4; 1 <= j <= K). */
  order?: number;
  /** Spacing delta along a line (default 1e-6). */
  delta?: number;
  /** Radius of the sphere the line origins x0 are drawn on (default 1). */
  radius?: number;
}

export interface NoiseReport {
  sigma: number;
  order: number;
  /** sigma-hat from differences of orders 1..K (order 1 and 2 carry the smooth part). */
  byOrder: number[];
  /** Root mean square of the answers (the scale the rounding level is relative to). */
  scale: number;
  /** sigma <= NOISELESS_LEVEL * max(1, scale): read as an exact oracle (double rounding). */
  exact: boolean;
  lines: number;
  evaluations: number;
  delta: number;
  radius: number;
  queries: number;
  seconds: number;
}

export interface NoiseResult {
  /** sigma-hat: estimated standard deviation of the oracle's additive noise. */
  sigma: number;
  queries: number;
  report: NoiseReport;
}

/** gamma_j = (j!)^2 / (2j)!: Var(Delta^j of iid noise) = sigma^2 / gamma_j. */
function gamma(j: number): number {
  let g = 1;
  for (let i = 1; i <= j; i++) g *= i / (j + i); // (j!)^2 / (2j)! = prod_{i=1..j} i / (j + i)
  return g;
}

/**
 * Estimates the std of the oracle's noise from `points * (steps + 1)` queries (default 45).
 *
 * @example
 * const { sigma, queries } = await estimateNoise(oracle, { seed: 1 });
 */
export async function estimateNoise(oracle: Oracle, options: NoiseOptions = {}): Promise<NoiseResult> {
  const started = performance.now();
  if (!oracle || typeof oracle.evaluate !== 'function' || typeof oracle.inputDim !== 'number') {
    invalidArgument('oracle', 'must be an Oracle (see createOracle)', oracle);
  }
  if (options === null || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const seed = checkInteger('seed', options.seed ?? 0, 0);
  const lines = checkInteger('points', options.points ?? 5, 1);
  const K = checkInteger('steps', options.steps ?? 8, 2);
  const order = checkInteger('order', options.order ?? 4, 1, K);
  const delta = checkPositive('delta', options.delta ?? 1e-6);
  const radius = checkPositive('radius', options.radius ?? 1);
  const d = oracle.inputDim;
  const n = lines * (K + 1);
  const X = matrix(n, d);
  const root = rng(seed);
  const x0 = new Float64Array(d);
  const u = new Float64Array(d);
  for (let l = 0; l < lines; l++) {
    const s = root.split(l);
    s.fillSphere(x0, radius);
    s.fillSphere(u, 1);
    for (let k = 0; k <= K; k++) {
      const row = (l * (K + 1) + k) * d;
      for (let t = 0; t < d; t++) X.data[row + t] = x0[t] + k * delta * u[t];
    }
  }
  const values = await oracle.evaluate(X);
  // difference tables, line by line; sums of squares per order
  const sums = new Float64Array(K + 1);
  const counts = new Float64Array(K + 1);
  const t = new Float64Array(K + 1);
  for (let l = 0; l < lines; l++) {
    t.set(values.subarray(l * (K + 1), (l + 1) * (K + 1)));
    for (let j = 1; j <= K; j++) {
      for (let k = 0; k + j <= K; k++) {
        t[k] = t[k + 1] - t[k];
        sums[j] += t[k] * t[k];
        counts[j]++;
      }
    }
  }
  const byOrder: number[] = [];
  for (let j = 1; j <= K; j++) byOrder.push(Math.sqrt((gamma(j) * sums[j]) / counts[j]));
  const sigma = byOrder[order - 1];
  let sq = 0;
  for (let i = 0; i < n; i++) sq += values[i] * values[i];
  const scale = Math.sqrt(sq / n);
  return {
    sigma,
    queries: n,
    report: { sigma, order, byOrder, scale, exact: sigma <= NOISELESS_LEVEL * Math.max(1, scale), lines, evaluations: K + 1, delta, radius, queries: n, seconds: (performance.now() - started) / 1000 },
  };
}

/**
 * Below this multiple of max(1, rms |f|) a noise estimate is double rounding (measured ~1e-16 on
 * exact oracles): the oracle is taken as exact.
 */
export const NOISELESS_LEVEL = 1e-13;

/**
 * Step h = max(default, c sigma^p) balancing truncation and noise error: forward gradients
 * (error ~ h |f''| + sigma / h) p = 1/2, central gradients and forward Hessians p = 1/3, central
 * Hessians p = 1/4. The constants c were measured on identify's noise grid (see README).
 */
export const NOISE_STEP: Readonly<Record<Kind, Readonly<Record<Scheme, { c: number; p: number }>>>> = {
  gradient: { forward: { c: 6, p: 1 / 2 }, central: { c: 3, p: 1 / 3 } },
  hessian: { forward: { c: 4, p: 1 / 3 }, central: { c: 4, p: 1 / 4 } },
};

/**
 * The finite-difference step for an oracle with noise of std `sigma`: the sampler's default when
 * sigma is 0 (or so small that the default is larger), else `scale` c sigma^p (NOISE_STEP's c, p).
 * `scale` (default 1) is the length over which f bends, relative to a tanh network with unit
 * weights (identify uses 4 for a sigmoid first layer: its weights act halved, and it was measured).
 *
 * @example
 * noiseAwareStep('hessian', 'forward', 1e-6); // 4e-2
 */
export function noiseAwareStep(kind: Kind, scheme: Scheme, sigma: number, scale = 1): number {
  checkChoice('kind', kind, ['gradient', 'hessian'] as const);
  checkChoice('scheme', scheme, ['forward', 'central'] as const);
  checkPositive('sigma', sigma, true);
  checkPositive('scale', scale);
  const base = kind === 'gradient' ? DEFAULT_GRADIENT_STEP[scheme] : DEFAULT_STEP[scheme];
  const { c, p } = NOISE_STEP[kind][scheme];
  return sigma === 0 ? base : Math.max(base, scale * c * sigma ** p);
}
