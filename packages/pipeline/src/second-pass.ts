/**
 * The second pass of the general model's first layer (issue 13): at a point x where every
 * second-layer unit sits at a zero of phi2'' (z2_l(x) = w2_l . phi1(W1 x + b1) + b2_l with
 * phi2''(z2_l) = 0), the entangled term beta_l(x) v_l v_l^T of the Hessian vanishes and
 *
 *   H(x) = sum_i alpha_i(x) a_i a_i^T    exactly, whatever phi1 is.
 *
 * So Hessians at a few such points span span{a_i a_i^T} alone, and the rank-one search there has
 * W1's directions as its only maximizers. The points come from an estimate of the network (a
 * refinement that ended near, not at, the truth): Gauss-Newton on the m1 equations from random
 * starts, min-norm steps in R^d. The Hessians are new queries (in range(A)'s coordinates); the
 * directions then start a new refinement.
 *
 * A softplus second layer has no such point (phi2'' > 0): there, and where a unit cannot reach a zero,
 * the pass takes Gaussian points (or where Gauss-Newton ends) and subtracts the estimate's entangled term.
 *
 * @example
 * const points = betaFreePoints(estimate, { count: 8, seed: 1 }); // count x d, or null
 */
import { activation, generalParameterCount, matrix, rng, serializeNetworkV2, type ActivationName, type Float64View, type GeneralNetwork, type Network } from '@nnid/core';
import { sampleHessians, stencilRows } from '@nnid/hessian-sampler';
import { fitGeneralNetwork } from '@nnid/refine';
import { refineGeneralStages, type RefineStagesOptions } from './refine-stages.ts';
import type { AttemptContext } from './attempt.ts';
import type { AttemptResult } from './attempt-refine.ts';
import { chooseAttempt } from './report.ts';
import { stageSeed } from './identify-geometry.ts';
import { addQueries, queriesBetween } from './stages.ts';
import { estimateSubspace } from '@nnid/subspace';
import { findRankOne } from '@nnid/rank1-solver';

/** The zeros of phi'' in [-8, 8] (bisection on a grid's sign changes), sorted by |t|. */
export function secondDerivativeZeros(name: ActivationName): number[] {
  const phi = activation(name);
  const zeros: number[] = [];
  const h = 1e-2;
  let a = -8;
  let fa = phi.d2(a);
  for (let b = a + h; b <= 8 + 1e-12; b += h) {
    const fb = phi.d2(b);
    if (fa === 0) zeros.push(a);
    else if (fa * fb < 0) {
      let lo = a;
      let hi = b;
      let flo = fa;
      for (let it = 0; it < 80; it++) {
        const mid = 0.5 * (lo + hi);
        const fm = phi.d2(mid);
        if (fm === 0) {
          lo = hi = mid;
          break;
        }
        if (fm * flo < 0) hi = mid;
        else {
          lo = mid;
          flo = fm;
        }
      }
      zeros.push(0.5 * (lo + hi));
    }
    a = b;
    fa = fb;
  }
  return zeros.sort((x, y) => Math.abs(x) - Math.abs(y));
}

export interface BetaFreeOptions {
  /** Points wanted. */
  count: number;
  seed: number;
  /** Points farther than this from 0 are refused (default 4 times the data's scale, sqrt(d)). */
  maxRadius?: number;
  /** Random starts tried per point wanted (default 20). */
  triesPerPoint?: number;
  /**
   * Accept where Gauss-Newton ends even when a unit cannot reach a zero (a bounded first layer:
   * w2_l . phi1 + b2_l may not cross it), and Gaussian points when phi2'' has no zero (softplus):
   * the caller subtracts the entangled term left with the estimate (subtractEntangled). Default false.
   */
  approximate?: boolean;
  /** Find POINT_POOL times the points wanted and keep those that cover every first-layer unit (default true). */
  choose?: boolean;
}

/**
 * Up to `count` points x in R^d where every second-layer unit of `net` sits at a zero of phi2''
 * (each unit's zero drawn among the zeros nearest 0), within maxRadius, as a count x d matrix; null
 * when phi2'' has no zero or fewer than two points were found.
 */
export function betaFreePoints(net: GeneralNetwork, options: BetaFreeOptions): Float64View | null {
  const zeros = secondDerivativeZeros(net.activation.layer2);
  const { inputDim: d, width1: m0, width2: m1 } = net;
  // no zero to reach (softplus), or none reached: Gaussian points, the entangled term left to the caller's subtraction
  const gaussian = () => {
    const out = matrix(Math.max(2, options.count), d, { shared: true });
    rng(options.seed).split(32).fillNormal(out.data);
    return out;
  };
  if (zeros.length === 0) return options.approximate ? gaussian() : null;
  const phi1 = activation(net.activation.layer1);
  const W1 = (i: number, j: number) => net.W1.data[net.W1.offset + i * net.W1.strides[0] + j * net.W1.strides[1]];
  const W2 = (l: number, i: number) => net.W2.data[net.W2.offset + l * net.W2.strides[0] + i * net.W2.strides[1]];
  const maxRadius = options.maxRadius ?? 4 * Math.sqrt(d);
  const tries = options.triesPerPoint ?? 20;
  const stream = rng(options.seed).split(31);
  const found: Float64Array[] = [];
  const z1 = new Float64Array(m0);
  const g1 = new Float64Array(m0);
  const res = new Float64Array(m1);
  const J = new Float64Array(m1 * d);
  const near = zeros.filter((t) => Math.abs(t) <= Math.abs(zeros[0]) + 1e-9 || Math.abs(Math.abs(t) - Math.abs(zeros[0])) < 1e-6);
  // candidates: POINT_POOL times the points wanted, then the points chosen so that every unit's
  // alpha_i is large at one of them at least (a unit saturated at every point drops out of the span)
  const pool = options.choose === false ? options.count : POINT_POOL * options.count;
  for (let s = 0; s < tries * pool && found.length < pool; s++) {
    const draw = stream.split(s);
    const target = Array.from({ length: m1 }, () => near[Math.floor(draw.uniform() * near.length) % near.length]);
    const x = draw.fillNormal(new Float64Array(d));
    let ok = false;
    for (let it = 0; it < 60; it++) {
      for (let i = 0; i < m0; i++) {
        let z = net.b1[i];
        for (let j = 0; j < d; j++) z += W1(i, j) * x[j];
        z1[i] = z;
        g1[i] = phi1.d1(z);
      }
      let rn = 0;
      for (let l = 0; l < m1; l++) {
        let z = net.b2[l] - target[l];
        for (let i = 0; i < m0; i++) z += W2(l, i) * phi1.value(z1[i]);
        res[l] = z;
        rn += z * z;
        for (let j = 0; j < d; j++) {
          let acc = 0;
          for (let i = 0; i < m0; i++) acc += W2(l, i) * g1[i] * W1(i, j);
          J[l * d + j] = acc;
        }
      }
      if (Math.sqrt(rn) < 1e-12) {
        ok = true;
        break;
      }
      // min-norm step: dx = -J^T (J J^T)^{-1} res (m1 x m1 solve by Gaussian elimination)
      const M = new Float64Array(m1 * m1);
      for (let a = 0; a < m1; a++) for (let b = 0; b < m1; b++) {
        let acc = 0;
        for (let j = 0; j < d; j++) acc += J[a * d + j] * J[b * d + j];
        M[a * m1 + b] = acc + (a === b ? 1e-14 : 0);
      }
      const w = solveSmall(M, Float64Array.from(res), m1);
      if (!w) break;
      let stepNorm = 0;
      for (let j = 0; j < d; j++) {
        let acc = 0;
        for (let l = 0; l < m1; l++) acc += J[l * d + j] * w[l];
        stepNorm += acc * acc;
      }
      // damp long steps (a unit near saturation): at most the data's scale per iteration
      const damp = Math.min(1, Math.sqrt(d) / Math.max(Math.sqrt(stepNorm), 1e-300));
      for (let j = 0; j < d; j++) {
        let acc = 0;
        for (let l = 0; l < m1; l++) acc += J[l * d + j] * w[l];
        x[j] -= damp * acc;
      }
    }
    if ((!ok && !options.approximate) || !x.every(Number.isFinite) || Math.hypot(...x) > maxRadius) continue;
    // distinct points only
    if (found.some((p) => Math.hypot(...p.map((v, j) => v - x[j])) < 1e-3)) continue;
    found.push(x);
  }
  if (found.length < 2) return options.approximate ? gaussian() : null;
  const chosen = found.length > options.count ? coverUnits(net, found, options.count) : found;
  const out = matrix(chosen.length, d, { shared: true });
  chosen.forEach((p, n) => out.data.set(p, n * d));
  return out;
}

/** Candidate points found per point wanted (betaFreePoints chooses among them). */
const POINT_POOL = 4;

/**
 * `count` of the points, chosen greedily: each next one maximizes the smallest, over the first-layer
 * units, of the summed |alpha_i(x)| |w1_i|^2 (alpha_i = phi1''(z1_i) sum_l C_l phi2'(z2_l) W2_li: unit
 * i's weight in the Hessian there) over the points chosen with it.
 */
function coverUnits(net: GeneralNetwork, points: Float64Array[], count: number): Float64Array[] {
  const { inputDim: d, width1: m0, width2: m1 } = net;
  const phi1 = activation(net.activation.layer1);
  const phi2 = activation(net.activation.layer2);
  const at = (v: Float64View, i: number, j: number) => v.data[v.offset + i * v.strides[0] + j * v.strides[1]];
  const weight = points.map((x) => {
    const z1 = Array.from({ length: m0 }, (_, i) => {
      let z = net.b1[i];
      for (let j = 0; j < d; j++) z += at(net.W1, i, j) * x[j];
      return z;
    });
    const slope = Array.from({ length: m1 }, (_, l) => {
      let z = net.b2[l];
      for (let i = 0; i < m0; i++) z += at(net.W2, l, i) * phi1.value(z1[i]);
      return at(net.C, 0, l) * phi2.d1(z);
    });
    return z1.map((z, i) => {
      let norm = 0;
      for (let j = 0; j < d; j++) norm += at(net.W1, i, j) ** 2;
      let u = 0;
      for (let l = 0; l < m1; l++) u += slope[l] * at(net.W2, l, i);
      return Math.abs(phi1.d2(z) * u) * norm;
    });
  });
  const chosen: number[] = [];
  const sums = new Float64Array(m0);
  while (chosen.length < count) {
    let best = -1;
    let bestScore = -1;
    for (let n = 0; n < points.length; n++) {
      if (chosen.includes(n)) continue;
      let score = Infinity;
      for (let i = 0; i < m0; i++) score = Math.min(score, sums[i] + weight[n][i]);
      if (score > bestScore) {
        bestScore = score;
        best = n;
      }
    }
    chosen.push(best);
    for (let i = 0; i < m0; i++) sums[i] += weight[best][i];
  }
  return chosen.map((n) => points[n]);
}

/**
 * Subtracts the estimate's entangled term sum_l beta_l(x) v_l(x) v_l(x)^T (beta_l = C_l phi2''(z2_l),
 * v_l = W1^T (phi1'(z1) * W2_l), in `basis`'s coordinates) from each packed Hessian of `stack`, in
 * place (k = 1: C's first row). At beta-free points it is 0; elsewhere what is left of it is of
 * the order of the estimate's error times beta.
 */
export function subtractEntangled(stack: Float64View, points: Float64View, net: GeneralNetwork, basis: Float64View | null): void {
  const { inputDim: d, width1: m0, width2: m1 } = net;
  const phi1 = activation(net.activation.layer1);
  const phi2 = activation(net.activation.layer2);
  const r = basis ? basis.shape[1] : d;
  const at = (v: Float64View, i: number, j: number) => v.data[v.offset + i * v.strides[0] + j * v.strides[1]];
  const z1 = new Float64Array(m0);
  const v = new Float64Array(d);
  const w = new Float64Array(r);
  for (let n = 0; n < points.shape[0]; n++) {
    for (let i = 0; i < m0; i++) {
      let z = net.b1[i];
      for (let j = 0; j < d; j++) z += at(net.W1, i, j) * at(points, n, j);
      z1[i] = z;
    }
    for (let l = 0; l < m1; l++) {
      let z2 = net.b2[l];
      for (let i = 0; i < m0; i++) z2 += at(net.W2, l, i) * phi1.value(z1[i]);
      const beta = at(net.C, 0, l) * phi2.d2(z2);
      v.fill(0);
      for (let i = 0; i < m0; i++) {
        const c = phi1.d1(z1[i]) * at(net.W2, l, i);
        for (let j = 0; j < d; j++) v[j] += c * at(net.W1, i, j);
      }
      for (let a = 0; a < r; a++) {
        if (!basis) w[a] = v[a];
        else {
          let acc = 0;
          for (let j = 0; j < d; j++) acc += at(basis, j, a) * v[j];
          w[a] = acc;
        }
      }
      // packed: upper triangle row by row, off-diagonal entries times sqrt 2
      let col = 0;
      for (let a = 0; a < r; a++) {
        for (let b = a; b < r; b++) {
          const entry = beta * w[a] * w[b] * (a === b ? 1 : Math.SQRT2);
          stack.data[stack.offset + n * stack.strides[0] + col * stack.strides[1]] -= entry;
          col++;
        }
      }
    }
  }
}

/** Solves M w = b for a small dense M (n x n, row-major) by Gaussian elimination with partial pivoting; null when singular. */
function solveSmall(M: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const A = Float64Array.from(M);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r * n + c]) > Math.abs(A[p * n + c])) p = r;
    if (!(Math.abs(A[p * n + c]) > 1e-300)) return null;
    if (p !== c) {
      for (let j = 0; j < n; j++) [A[c * n + j], A[p * n + j]] = [A[p * n + j], A[c * n + j]];
      [b[c], b[p]] = [b[p], b[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = A[r * n + c] / A[c * n + c];
      for (let j = c; j < n; j++) A[r * n + j] -= f * A[c * n + j];
      b[r] -= f * b[c];
    }
  }
  const w = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let acc = b[r];
    for (let j = r + 1; j < n; j++) acc -= A[r * n + j] * w[j];
    w[r] = acc / A[r * n + r];
  }
  return w;
}

/**
 * W1's directions from Hessians at beta-free points (`stack`: one packed d x d Hessian per row):
 * the top-m0 singular subspace of the stack (span{a_i a_i^T} at such points) and the rank-one
 * ascent in it, started from the estimate's rows (`estimate`, m0 x d) and from random vectors.
 * Each estimate row takes the candidate nearest it (|cos| >= 0.8, each candidate once); a row with
 * none keeps its direction. Returns m0 x d unit rows and how many rows were replaced.
 */
export async function directionsFromStack(
  stack: Float64View,
  estimate: Float64View,
  options: { seed: number; threads: number },
): Promise<{ directions: Float64View; replaced: number; spectrum: number[] }> {
  const [m0, d] = estimate.shape;
  const rowOf = (v: Float64View, i: number) => {
    const u = new Float64Array(v.shape[1]);
    for (let j = 0; j < u.length; j++) u[j] = v.data[v.offset + i * v.strides[0] + j * v.strides[1]];
    const n = Math.hypot(...u);
    return u.map((x) => x / n);
  };
  const own = Array.from({ length: m0 }, (_, i) => rowOf(estimate, i));
  const out = matrix(m0, d);
  own.forEach((u, i) => out.data.set(u, i * d));
  const dimension = Math.min(m0, stack.shape[0]);
  const sub = estimateSubspace(stack, { layout: 'packed', dimension });
  const spectrum = sub.report.singularValues.slice(0, 2 * m0);
  const starts = matrix(m0, d);
  own.forEach((u, i) => starts.data.set(u, i * d));
  const fromOwn = await findRankOne(sub.subspace.basis, { layout: 'packed', startVectors: starts, seed: options.seed, threads: options.threads, threshold: 0, mergeCos: 0.999 });
  const random = await findRankOne(sub.subspace.basis, { layout: 'packed', starts: 10 * m0, seed: options.seed, threads: options.threads, threshold: 0.5 });
  const candidates = [fromOwn, random].flatMap((res) => Array.from({ length: res.candidates.shape[0] }, (_, c) => ({ u: rowOf(res.candidates, c), phi: res.certificates[c] })));
  const used = new Set<number>();
  let replaced = 0;
  for (let i = 0; i < m0; i++) {
    let best = -1;
    let bestCos = 0.8;
    candidates.forEach((c, q) => {
      if (used.has(q) || c.phi < 0.5) return;
      const cos = Math.abs(c.u.reduce((s, x, t) => s + x * own[i][t], 0));
      if (cos > bestCos) {
        bestCos = cos;
        best = q;
      }
    });
    if (best < 0) continue;
    // the same maximizer found from several starts: one row only
    candidates.forEach((c, q) => {
      if (Math.abs(c.u.reduce((s, x, t) => s + x * candidates[best].u[t], 0)) > 0.999) used.add(q);
    });
    const u = candidates[best].u;
    const sign = u.reduce((s, x, t) => s + x * own[i][t], 0) < 0 ? -1 : 1;
    for (let j = 0; j < d; j++) out.data[i * d + j] = sign * u[j];
    replaced++;
  }
  return { directions: out, replaced, spectrum };
}

/**
 * Passes at most (each: new Hessians at the best network's beta-free points, then a re-refinement),
 * while the check fails. A pass that gains nothing can still be followed by one that passes (other
 * points, other random second layers: softplus/softplus (8, 4, 2) seed 2, 5.9e-3 then exact).
 */
export const SECOND_PASSES = 3;
/**
 * The second pass's fit from the new directions runs LONG_FIT_FACTOR times the refinement's
 * iterations, without the stall rule, on networks of at most LONG_FIT_PARAMETERS weights and
 * biases (sigmoid/sigmoid (8, 4, 2) seed 7: stalled at 3.9e-6 with the rule, exact without).
 */
export const LONG_FIT_FACTOR = 5;
export const LONG_FIT_PARAMETERS = 1000;
/** Random second layers of the re-refinement after its ranked full fits (refineGeneralStages' extraFullFits). */
export const SECOND_PASS_EXTRA_FITS = 8;

export interface SecondPassReport {
  /** Per pass: points (each one Hessian's queries), rows of W1 replaced, the relative residual after its re-refinement. */
  passes: { points: number; replaced: number; residual: number }[];
  /** Why it stopped: 'passed', 'no points', 'passes done' (SECOND_PASSES). */
  stopped: 'passed' | 'no points' | 'passes done';
}

/** The rows of `net`'s W1 in the coordinates of `basis` (d x r, orthonormal columns), or as they are when null. */
function reducedRows(W1: Float64View, basis: Float64View | null): Float64View {
  if (!basis) return W1;
  const [m0, d] = W1.shape;
  const r = basis.shape[1];
  const out = matrix(m0, r);
  for (let i = 0; i < m0; i++) for (let a = 0; a < r; a++) {
    let acc = 0;
    for (let j = 0; j < d; j++) acc += W1.data[W1.offset + i * W1.strides[0] + j * W1.strides[1]] * basis.data[basis.offset + j * basis.strides[0] + a * basis.strides[1]];
    out.data[i * r + a] = acc;
  }
  return out;
}

/** `net` with W1's row directions set to `directions` (m0 x d unit rows, row i for row i), their norms kept. */
export function withDirections(net: GeneralNetwork, directions: Float64View): GeneralNetwork {
  const { width1: m0, inputDim: d } = net;
  const W1 = matrix(m0, d);
  for (let i = 0; i < m0; i++) {
    let n = 0;
    for (let j = 0; j < d; j++) n += net.W1.data[net.W1.offset + i * net.W1.strides[0] + j * net.W1.strides[1]] ** 2;
    n = Math.sqrt(n);
    for (let j = 0; j < d; j++) W1.data[i * d + j] = n * directions.data[directions.offset + i * directions.strides[0] + j * directions.strides[1]];
  }
  return { ...net, W1 };
}

/** Unit rows in `basis`'s coordinates lifted to R^d (unit rows again). */
function lift(rows: Float64View, basis: Float64View | null): Float64View {
  if (!basis) return rows;
  const [m0, r] = rows.shape;
  const d = basis.shape[0];
  const out = matrix(m0, d);
  for (let i = 0; i < m0; i++) {
    let n = 0;
    for (let j = 0; j < d; j++) {
      let v = 0;
      for (let a = 0; a < r; a++) v += basis.data[basis.offset + j * basis.strides[0] + a * basis.strides[1]] * rows.data[rows.offset + i * rows.strides[0] + a * rows.strides[1]];
      out.data[i * d + j] = v;
      n += v * v;
    }
    for (let j = 0; j < d; j++) out.data[i * d + j] /= Math.sqrt(n);
  }
  return out;
}

export interface SecondPassInput {
  /** The best refined general network so far (its check failed). */
  network: GeneralNetwork;
  residual: number;
  /** The network the pipeline's stages gave (paper form), whose shifts the re-refinement's ranked starts use. */
  start: Network;
  data: { inputs: Float64View; values: Float64Array };
  /** The Hessians: through this callback (new queries), at the given points (n x d), packed, in `basis`'s coordinates. */
  hessiansAt: (points: Float64View) => Promise<Float64View>;
  basis: Float64View | null;
  goodResidual: number;
  seed: number;
  threads: number;
  refine: Pick<RefineStagesOptions, 'upperFitIterations' | 'upperFitCostTolerance' | 'maxIterations'>;
}

/**
 * The second pass (see the file's comment): while the best network fails `goodResidual`, up to
 * SECOND_PASSES times: m0 + 2 beta-free points of it (span{a_i a_i^T} needs m0), their Hessians (new queries), W1's directions
 * from them (directionsFromStack, started from the network's rows), then two re-refinements on the
 * same data: the network with those directions (directions fit, full fit), and refineGeneralStages
 * from the pipeline's network with those directions (plus SECOND_PASS_EXTRA_FITS random second
 * layers). The smallest residual is kept. No query but the Hessians'.
 */
export async function secondPass(input: SecondPassInput): Promise<{ network: GeneralNetwork; residual: number; report: SecondPassReport }> {
  let { network, residual } = input;
  const passes: SecondPassReport['passes'] = [];
  const m0 = network.width1;
  for (let pass = 0; pass < SECOND_PASSES; pass++) {
    if (residual <= input.goodResidual) return { network, residual, report: { passes, stopped: 'passed' } };
    const points = betaFreePoints(network, { count: m0 + 2, seed: input.seed + pass }) ?? betaFreePoints(network, { count: m0 + 2, seed: input.seed + pass, approximate: true });
    if (!points) return { network, residual, report: { passes, stopped: 'no points' } };
    const stack = await input.hessiansAt(points);
    subtractEntangled(stack, points, network, input.basis);
    const found = await directionsFromStack(stack, reducedRows(network.W1, input.basis), { seed: input.seed + pass, threads: input.threads });
    const directions = lift(found.directions, input.basis);
    const upper = await fitGeneralNetwork(withDirections(network, directions), input.data, {
      fix: 'first-layer-directions',
      maxIterations: Math.max(1, input.refine.upperFitIterations),
      costTolerance: input.refine.upperFitCostTolerance,
      innerSteps: 0,
    });
    // near the truth a fit can crawl (sigmoid/sigmoid: units nearly linear on the data): on small networks, longer and without the stall rule
    const long = generalParameterCount(network) <= LONG_FIT_PARAMETERS;
    const kept = await fitGeneralNetwork(upper.network, input.data, long ? { maxIterations: LONG_FIT_FACTOR * input.refine.maxIterations, stallWindow: 0 } : { maxIterations: input.refine.maxIterations });
    let bestNet = kept.network;
    let bestResidual = kept.report.relativeResidual;
    if (bestResidual > input.goodResidual) {
      const stages = await refineGeneralStages({ ...input.start, A: directions }, input.data, {
        ...input.refine,
        seed: input.seed + pass,
        goodResidual: input.goodResidual,
        pruneUnits: false,
        extraFullFits: SECOND_PASS_EXTRA_FITS,
      });
      if (stages.refine.relativeResidual < bestResidual) {
        bestNet = stages.network;
        bestResidual = stages.refine.relativeResidual;
      }
    }
    passes.push({ points: points.shape[0], replaced: found.replaced, residual: bestResidual });
    if (bestResidual < residual) {
      network = bestNet;
      residual = bestResidual;
    }
  }
  return { network, residual, report: { passes, stopped: residual <= input.goodResidual ? 'passed' : 'passes done' } };
}

/** The second pass runs when the best attempt's residual is at most this (a network near the truth: its beta-free points are near the truth's). */
export const SECOND_PASS_FROM = 5e-2;

/** The most queries the second pass pays: SECOND_PASSES passes of m0 + 2 Hessians, each `stencilRows` rows in `dim` coordinates (range(A)'s, or d). */
export function secondPassQueries(width1: number, scheme: 'forward' | 'central', dim: number): number {
  return SECOND_PASSES * (width1 + 2) * stencilRows('hessian', scheme, dim);
}

/**
 * The second pass of a run that ended without it (the activation search's runs): from `from` (the
 * run's network, or a refit of it with another pair; its residual on the run's data) when its
 * check failed at most SECOND_PASS_FROM, with at most `queriesLeft` new queries; the attempt it
 * makes (see secondPassAttempt) and the run's lines about it.
 */
export type DeferredSecondPass = (from: { network: GeneralNetwork; residual: number }, queriesLeft: number) => Promise<{ attempt: AttemptResult | null; warnings: string[] }>;

/**
 * identify's model 'general' after its attempts: when refining and the best attempt (or `from`,
 * a network near it) failed the check at a residual at most SECOND_PASS_FROM, the second pass from
 * its network (a softplus second layer too: Gaussian points, the entangled term subtracted); its
 * Hessians are queried with the Hessian stage's scheme and step and counted under 'hessians'. When
 * its most queries (secondPassQueries) exceed `queriesLeft` (what maxQueries leaves), it is skipped
 * with a warning saying so. Returns the attempt it makes (the best attempt with the second pass's
 * network and residual, its report saying so), or null.
 */
export async function secondPassAttempt(
  ctx: AttemptContext,
  attempts: readonly AttemptResult[],
  threshold: number,
  sampling: { step: number; queriesLeft: number; from?: { network: GeneralNetwork; residual: number } },
  warnings: string[],
): Promise<AttemptResult | null> {
  const { options, oracle, run } = ctx;
  if (!options.refine || options.model !== 'general' || attempts.length === 0 || ctx.fitData === null) return null;
  const chosen = attempts[chooseAttempt(attempts)];
  const from = sampling.from;
  // from another network (a refit with another pair): the stages' start takes its activations
  const best: AttemptResult = from
    ? { ...chosen, networkGeneral: from.network, networkBeforeRefinement: { ...chosen.networkBeforeRefinement, activation: from.network.activation }, report: { ...chosen.report, refinedResidual: from.residual } }
    : chosen;
  const residual = best.report.refinedResidual;
  if (!best.networkGeneral || residual === null || residual <= threshold || residual > SECOND_PASS_FROM) return null;
  const most = secondPassQueries(best.networkGeneral.width1, options.scheme, ctx.rangeBasis ? ctx.reducedDim : oracle.inputDim);
  if (most > sampling.queriesLeft) {
    warnings.push(`second pass skipped: it pays up to ${most} queries, maxQueries leaves ${Math.max(0, sampling.queriesLeft)}`);
    return null;
  }
  const started = performance.now();
  const hessiansAt = async (points: Float64View) => {
    const before = oracle.counts();
    const sampled = await sampleHessians(oracle, points, { scheme: options.scheme, step: sampling.step, layout: 'packed', threads: options.threads, ...(ctx.rangeBasis ? { basis: ctx.rangeBasis } : {}) });
    // the stages are sealed after the attempts: the queries are added to the Hessian stage's here
    run.queries.hessians = addQueries(run.queries.hessians, queriesBetween(oracle.counts(), before));
    return sampled.hessianStack;
  };
  const result = await secondPass({
    network: best.networkGeneral,
    residual,
    start: best.networkBeforeRefinement,
    data: ctx.fitData,
    hessiansAt,
    basis: ctx.rangeBasis,
    goodResidual: threshold,
    seed: stageSeed(options.seed, 0x5ec),
    threads: options.threads,
    refine: { upperFitIterations: options.upperFitIterations, upperFitCostTolerance: 1e-4, maxIterations: options.refineMaxIterations },
  });
  const passes = result.report.passes.map((p) => `${p.points} points, ${p.replaced} of ${best.networkGeneral!.width1} rows replaced, ${p.residual.toExponential(2)}`).join('; ');
  if (!(result.residual <= threshold)) warnings.push(`second pass from the best attempt's ${residual.toExponential(2)} did not pass (${result.report.stopped}${passes ? `: ${passes}` : ''})`);
  if (!(result.residual < residual)) return null;
  return {
    ...best,
    networkGeneral: result.network,
    report: {
      ...best.report,
      reason: `second pass (W1's directions from Hessians at beta-free points) after the best attempt's residual ${residual.toExponential(2)}: ${passes}`,
      refinedResidual: result.residual,
      networkGeneralAfterRefinement: serializeNetworkV2(result.network),
      seconds: (performance.now() - started) / 1000,
    },
  };
}
