/**
 * The measures of DESIGN.md section 5: weights matched up to sign and permutation (Hungarian
 * assignment on |cos|), and function errors on fresh points from the unit sphere and N(0, I_d).
 *
 * @example
 * const s = score(truth, recovered, { points: 10_000, seed: 1 });
 * s.firstLayer.minCos; s.function.sphere.relativeL2;
 */
import {
  checkInteger,
  entangledWeights,
  invalidArgument,
  matrix,
  rng,
  type Float64View,
  type GeneralNetwork,
  type Network,
} from '@nnid/core';
import { evaluateGeneral, evaluateNetwork } from '@nnid/oracle';
import { hungarian } from './hungarian.ts';

export interface WeightScore {
  /** Number of true vectors. */
  count: number;
  /** |cos| of each true vector with its matched recovered one (0 where none is left to match). */
  cosines: number[];
  minCos: number;
  medianCos: number;
  /** Share of true vectors with |cos| >= 0.999. */
  shareCos999: number;
  /** Share of true vectors with |w - w_hat| <= 0.05 for unit-normalized w_hat, sign fixed. */
  shareWithin005: number;
}

export interface FunctionError {
  /** sqrt(sum (f - f_hat)^2 / sum f^2) over the points. */
  relativeL2: number;
  /** max |f - f_hat| over the points. */
  maxError: number;
}

export interface Score {
  firstLayer: WeightScore;
  entangled: WeightScore;
  function: { points: number; sphere: FunctionError; gaussian: FunctionError };
}

export interface ScoreOptions {
  /** Points per distribution (default 10 000). */
  points?: number;
  /** Seed of the test points (default 20260101). */
  seed?: number;
}

function rowsUnit(view: Float64View): Float64Array[] {
  const [r, c] = view.shape;
  const rows: Float64Array[] = [];
  for (let i = 0; i < r; i++) {
    const row = new Float64Array(c);
    let norm = 0;
    for (let j = 0; j < c; j++) {
      row[j] = view.data[view.offset + i * view.strides[0] + j * view.strides[1]];
      norm += row[j] * row[j];
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let j = 0; j < c; j++) row[j] /= norm;
    rows.push(row);
  }
  return rows;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Matches true to recovered vectors (rows) up to sign and permutation. */
export function matchWeights(truth: Float64View, recovered: Float64View): WeightScore {
  if (truth.shape[1] !== recovered.shape[1]) {
    invalidArgument('recovered', `must have ${truth.shape[1]} columns like the truth`, recovered.shape);
  }
  const t = rowsUnit(truth);
  const r = rowsUnit(recovered);
  const n = t.length;
  const m = r.length;
  const cosMatrix = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let c = 0;
      for (let k = 0; k < t[i].length; k++) c += t[i][k] * r[j][k];
      cosMatrix[i * m + j] = c;
    }
  }
  const cosines = new Array<number>(n).fill(0);
  let within = 0;
  if (m > 0) {
    // Assign the side with fewer vectors to the other.
    const rowsAreTruth = n <= m;
    const rows = rowsAreTruth ? n : m;
    const cols = rowsAreTruth ? m : n;
    const cost = new Float64Array(rows * cols);
    for (let a = 0; a < rows; a++) {
      for (let b = 0; b < cols; b++) {
        const c = rowsAreTruth ? cosMatrix[a * m + b] : cosMatrix[b * m + a];
        cost[a * cols + b] = 1 - Math.abs(c);
      }
    }
    const assignment = hungarian(cost, rows, cols);
    for (let a = 0; a < rows; a++) {
      const i = rowsAreTruth ? a : assignment[a];
      const j = rowsAreTruth ? assignment[a] : a;
      const c = cosMatrix[i * m + j];
      cosines[i] = Math.min(1, Math.abs(c));
      const sign = c < 0 ? -1 : 1;
      let dist = 0;
      for (let k = 0; k < t[i].length; k++) dist += (t[i][k] - sign * r[j][k]) ** 2;
      if (Math.sqrt(dist) <= 0.05) within++;
    }
  }
  return {
    count: n,
    cosines,
    minCos: n ? Math.min(...cosines) : NaN,
    medianCos: median(cosines),
    shareCos999: n ? cosines.filter((c) => c >= 0.999).length / n : NaN,
    shareWithin005: n ? within / n : NaN,
  };
}

function functionError(truth: Network, recovered: Network, points: Float64View): FunctionError {
  return errorBetween(evaluateNetwork(truth, points), evaluateNetwork(recovered, points));
}

/** Relative L2 and largest error of g against f (all outputs of all points together). */
function errorBetween(f: Float64Array, g: Float64Array): FunctionError {
  let num = 0;
  let den = 0;
  let maxError = 0;
  for (let i = 0; i < f.length; i++) {
    const e = f[i] - g[i];
    num += e * e;
    den += f[i] * f[i];
    maxError = Math.max(maxError, Math.abs(e));
  }
  return { relativeL2: den > 0 ? Math.sqrt(num / den) : Math.sqrt(num), maxError };
}

/** Test points for the function errors: `n` points from the unit sphere or N(0, I_d). */
export function testPoints(kind: 'sphere' | 'gaussian', n: number, inputDim: number, seed: number): Float64View {
  const out = matrix(n, inputDim);
  const root = rng(seed).split(kind === 'sphere' ? 1 : 2);
  for (let i = 0; i < n; i++) {
    const row = out.data.subarray(i * inputDim, (i + 1) * inputDim);
    const s = root.split(i);
    if (kind === 'sphere') s.fillSphere(row, 1);
    else s.fillNormal(row);
  }
  return out;
}

/** Scores a recovered network against the truth (DESIGN.md section 5). */
export function score(truth: Network, recovered: Network, options: ScoreOptions = {}): Score {
  const points = checkInteger('points', options.points ?? 10_000);
  const seed = checkInteger('seed', options.seed ?? 20260101, 0);
  if (truth.inputDim !== recovered.inputDim) {
    invalidArgument('recovered.inputDim', `must equal the truth's inputDim ${truth.inputDim}`, recovered.inputDim);
  }
  return {
    firstLayer: matchWeights(truth.A, recovered.A),
    entangled: matchWeights(entangledWeights(truth), entangledWeights(recovered)),
    function: {
      points,
      sphere: functionError(truth, recovered, testPoints('sphere', points, truth.inputDim, seed)),
      gaussian: functionError(truth, recovered, testPoints('gaussian', points, truth.inputDim, seed)),
    },
  };
}

export interface GeneralScore {
  /** Directions of W1's rows, matched up to sign and permutation (|cos|). */
  firstLayer: WeightScore;
  /** ||F - F_hat||_F / ||F||_F and max |F - F_hat| over the k outputs. */
  function: { points: number; sphere: FunctionError; gaussian: FunctionError };
}

function generalFunctionError(truth: GeneralNetwork, recovered: GeneralNetwork, points: Float64View): FunctionError {
  return errorBetween(evaluateGeneral(truth, points).data, evaluateGeneral(recovered, points).data);
}

/**
 * Scores a recovered general network (nnid.network/v2) against the truth: W1's row directions
 * matched by |cos| (their norms are parameters of the fit, compared through the function), and
 * the function errors over all k outputs on the same test points as `score`.
 */
export function scoreGeneral(truth: GeneralNetwork, recovered: GeneralNetwork, options: ScoreOptions = {}): GeneralScore {
  const points = checkInteger('points', options.points ?? 10_000);
  const seed = checkInteger('seed', options.seed ?? 20260101, 0);
  if (truth.inputDim !== recovered.inputDim) invalidArgument('recovered.inputDim', `must equal the truth's inputDim ${truth.inputDim}`, recovered.inputDim);
  if (truth.outputs !== recovered.outputs) invalidArgument('recovered.outputs', `must equal the truth's outputs ${truth.outputs}`, recovered.outputs);
  return {
    firstLayer: matchWeights(truth.W1, recovered.W1),
    function: {
      points,
      sphere: generalFunctionError(truth, recovered, testPoints('sphere', points, truth.inputDim, seed)),
      gaussian: generalFunctionError(truth, recovered, testPoints('gaussian', points, truth.inputDim, seed)),
    },
  };
}
