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
  return matchRows(truth, recovered).score;
}

/** matchWeights with the assignment: true row i -> recovered row `match[i]` (-1: none left) with sign `sign[i]`. */
function matchRows(truth: Float64View, recovered: Float64View): { score: WeightScore; match: number[]; sign: number[] } {
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
  const match = new Array<number>(n).fill(-1);
  const signs = new Array<number>(n).fill(1);
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
      match[i] = j;
      signs[i] = sign;
      let dist = 0;
      for (let k = 0; k < t[i].length; k++) dist += (t[i][k] - sign * r[j][k]) ** 2;
      if (Math.sqrt(dist) <= 0.05) within++;
    }
  }
  return {
    score: {
      count: n,
      cosines,
      minCos: n ? Math.min(...cosines) : NaN,
      medianCos: median(cosines),
      shareCos999: n ? cosines.filter((c) => c >= 0.999).length / n : NaN,
      shareWithin005: n ? within / n : NaN,
    },
    match,
    sign: signs,
  };
}

function functionError(truth: Network, recovered: Network, points: Float64View): FunctionError {
  return errorBetween(evaluateNetwork(truth, points), evaluateNetwork(recovered, points));
}

/** Relative L2 and largest error of g against f (all outputs of all points together). */
/** Relative L2 (||f - g|| / ||f||) and max error of g against f (the held-out check's residual too). */
export function errorBetween(f: Float64Array, g: Float64Array): FunctionError {
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

export interface ScaleScore {
  /** Norms of the true rows, in the truth's order. */
  truth: number[];
  /** Norms of the recovered rows matched to them (NaN where none is left to match). */
  recovered: number[];
  /** max |recovered / truth - 1| over the matched rows (Infinity when one is unmatched). */
  maxRelativeError: number;
}

export interface GeneralFunctionError extends FunctionError {
  /** The same measures output by output: ||F_o - F_hat_o|| / ||F_o|| and max |F_o - F_hat_o|, o = 0..k-1. */
  perOutput: FunctionError[];
}

export interface GeneralScore {
  /** Directions of W1's rows, matched up to sign and permutation (|cos|). */
  firstLayer: WeightScore;
  /** Norms of W1's rows (each row's scale sits inside its activation: a parameter of its own), matched as firstLayer. */
  firstLayerScales: ScaleScore;
  /**
   * Directions of W2's rows once their columns are put in the truth's unit order and signs (by the
   * first layer's matching), matched up to sign and permutation; null when the widths differ.
   */
  secondLayer: WeightScore | null;
  /** Norms of W2's rows, matched as secondLayer; null when the widths differ. */
  secondLayerScales: ScaleScore | null;
  /** ||C' - C||_F / ||C||_F with C's columns in the truth's order and signs (by the second layer's matching); null when the widths differ. */
  outputLayerRelativeError: number | null;
  /** ||F - F_hat||_F / ||F||_F and max |F - F_hat| over the k outputs, and per output. */
  function: { points: number; sphere: GeneralFunctionError; gaussian: GeneralFunctionError };
}

function rowNorms(view: Float64View): number[] {
  const [r, c] = view.shape;
  const norms: number[] = [];
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += view.data[view.offset + i * view.strides[0] + j * view.strides[1]] ** 2;
    norms.push(Math.sqrt(s));
  }
  return norms;
}

function scaleScore(truth: Float64View, recovered: Float64View, match: number[]): ScaleScore {
  const t = rowNorms(truth);
  const r = rowNorms(recovered);
  const matched = match.map((j) => (j >= 0 ? r[j] : NaN));
  let maxRelativeError = 0;
  for (let i = 0; i < t.length; i++) maxRelativeError = Math.max(maxRelativeError, Number.isNaN(matched[i]) ? Infinity : Math.abs(matched[i] / t[i] - 1));
  return { truth: t, recovered: matched, maxRelativeError };
}

/** `view`'s columns in the truth's order and signs: column i of the result is sign[i] x column match[i]. */
function columnsMatched(view: Float64View, match: number[], sign: number[]): Float64View {
  const rows = view.shape[0];
  const out = matrix(rows, match.length);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < match.length; i++) out.data[r * match.length + i] = sign[i] * view.data[view.offset + r * view.strides[0] + match[i] * view.strides[1]];
  }
  return out;
}

function generalFunctionError(truth: GeneralNetwork, recovered: GeneralNetwork, points: Float64View): GeneralFunctionError {
  const f = evaluateGeneral(truth, points).data;
  const g = evaluateGeneral(recovered, points).data;
  const k = truth.outputs;
  const perOutput: FunctionError[] = [];
  for (let o = 0; o < k; o++) {
    const n = f.length / k;
    const fo = new Float64Array(n);
    const go = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      fo[p] = f[p * k + o];
      go[p] = g[p * k + o];
    }
    perOutput.push(errorBetween(fo, go));
  }
  return { ...errorBetween(f, g), perOutput };
}

/**
 * Scores a recovered general network (nnid.network/v2) against the truth: W1's row directions
 * matched by |cos| up to permutation and sign, and their norms (scales); W2's rows the same once
 * its columns follow the first layer's matching, and C's columns those of the second; the function
 * errors over all k outputs and per output on the same test points as `score`.
 *
 * @example
 * const s = scoreGeneral(truth, recovered);
 * s.firstLayer.minCos; s.firstLayerScales.maxRelativeError; s.function.gaussian.perOutput[2].relativeL2;
 */
export function scoreGeneral(truth: GeneralNetwork, recovered: GeneralNetwork, options: ScoreOptions = {}): GeneralScore {
  const points = checkInteger('points', options.points ?? 10_000);
  const seed = checkInteger('seed', options.seed ?? 20260101, 0);
  if (truth.inputDim !== recovered.inputDim) invalidArgument('recovered.inputDim', `must equal the truth's inputDim ${truth.inputDim}`, recovered.inputDim);
  if (truth.outputs !== recovered.outputs) invalidArgument('recovered.outputs', `must equal the truth's outputs ${truth.outputs}`, recovered.outputs);
  const first = matchRows(truth.W1, recovered.W1);
  const sameWidths = truth.width1 === recovered.width1 && truth.width2 === recovered.width2;
  let second: ReturnType<typeof matchRows> | null = null;
  let W2 = recovered.W2;
  let outputLayerRelativeError: number | null = null;
  if (sameWidths) {
    W2 = columnsMatched(recovered.W2, first.match, first.sign);
    second = matchRows(truth.W2, W2);
    const C = columnsMatched(recovered.C, second.match, second.sign);
    const T = truth.C;
    let num = 0;
    let den = 0;
    for (let o = 0; o < truth.outputs; o++) {
      for (let l = 0; l < truth.width2; l++) {
        const t = T.data[T.offset + o * T.strides[0] + l * T.strides[1]];
        num += (C.data[o * truth.width2 + l] - t) ** 2;
        den += t * t;
      }
    }
    outputLayerRelativeError = den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
  }
  return {
    firstLayer: first.score,
    firstLayerScales: scaleScore(truth.W1, recovered.W1, first.match),
    secondLayer: second ? second.score : null,
    secondLayerScales: second ? scaleScore(truth.W2, W2, second.match) : null,
    outputLayerRelativeError,
    function: {
      points,
      sphere: generalFunctionError(truth, recovered, testPoints('sphere', points, truth.inputDim, seed)),
      gaussian: generalFunctionError(truth, recovered, testPoints('gaussian', points, truth.inputDim, seed)),
    },
  };
}
