/**
 * Attribution: which candidate rank-one directions are first-layer weights a_i and which are
 * entangled weights v_l. Entangled weights are dense combinations of the first-layer ones
 * (v_l = sum_i phi1'(theta_i) b_li a_i), so each is coherent with many candidates, while the
 * a_i are (nearly) orthonormal. Rule (DESIGN.md section 2, measured on the prototype): drop the
 * candidate most coherent with the rest, repeatedly, until a nearly orthonormal set remains;
 * that set is the first layer. The dropped ones, except those within `skipCos` of an accepted
 * first-layer weight, are the entangled weights, ordered by certificate. Option rule 'volume' drops the
 * orthonormal-rows assumption (exchangeForVolume); identify keeps the coherence rule (measured no better there).
 */
import {
  checkView,
  checkInteger,
  checkPositive,
  ErrorCodes,
  invalidArgument,
  matrix,
  NnidError,
  type Float64View,
  type ViewLike,
} from '@nnid/core';
import { complementBasis } from '@nnid/subspace';

export interface AttributionOptions {
  /** m0: size of the first-layer set. Default: inferred (the nearly orthonormal set that remains). */
  width1?: number;
  /** m1: number of entangled weights kept. Default: every dropped candidate not skipped. */
  width2?: number;
  /**
   * Certificates (Phi) of the candidates, one per row: order within groups and break ties
   * (default: all 1, candidate order).
   */
  certificates?: ArrayLike<number>;
  /**
   * The set counts as nearly orthonormal when every member's coherence (sum of squared cosines
   * with the other members) is at most this. Default 0.3: an entangled weight spread over the
   * members scores about 1 (less the share of its mass on first-layer weights not among the
   * candidates), a first-layer weight about 0 (plus its estimation error).
   */
  maxCoherence?: number;
  /** Dropped candidates within this |cos| of an accepted first-layer weight are skipped. Default 0.8. */
  skipCos?: number;
  /**
   * 'coherence' (default): the set the coherence rule leaves. 'volume': that set, filled up to width1
   * (when given) and exchanged toward the largest volume (see exchangeForVolume): no orthonormal-rows
   * assumption. Not identify's: on exact Hessians with the entangled terms frozen it keeps the rows the
   * coherence rule drops, on the real (moving) ones it measured no better (BENCHMARKS.md, issue 13).
   */
  rule?: 'coherence' | 'volume';
}

export interface AttributionReport {
  candidates: number;
  width1: number;
  width2: number;
  /** 'given' or 'inferred' for each width. */
  width1Source: 'given' | 'inferred';
  width2Source: 'given' | 'inferred';
  maxCoherence: number;
  skipCos: number;
  /** Candidate indices in the order they were dropped (by the coherence rule). */
  dropOrder: number[];
  rule: 'coherence' | 'volume';
  /** Rule 'volume': dropped candidates taken back to fill the first layer up to width1, in order. */
  filled: number[];
  /** Rule 'volume': exchanges [taken in, put out] toward the largest volume, in order. */
  exchanges: [number, number][];
  /** Candidate indices (rows of the input). */
  firstLayer: number[];
  entangled: number[];
  /** Dropped, within skipCos of a first-layer weight (index and its |cos|). */
  skipped: { index: number; cos: number }[];
  /** Dropped and neither entangled (beyond width2) nor skipped. */
  unused: number[];
  /** Coherence of each candidate with the final first-layer set (sum of cos^2, itself excluded). */
  coherence: number[];
  /** min coherence of the entangled group minus max coherence of the first-layer group (null if a group is empty). */
  margin: number | null;
  maxFirstLayerCoherence: number;
  minEntangledCoherence: number | null;
  /** width1 - first-layer weights found (when width1 is given), else 0. */
  missingFirstLayer: number;
  /** width2 - entangled weights found (when width2 is given), else 0. */
  missingEntangled: number;
}

export interface AttributionResult {
  /** m0' x n: rows are the first-layer weights (copies of candidate rows), m0' <= width1. */
  firstLayerWeights: Float64View;
  /** m1' x n: rows are the entangled weights. */
  entangledWeights: Float64View;
  firstLayer: number[];
  entangled: number[];
  /** As in the report; NaN when a group is empty. */
  margin: number;
  report: AttributionReport;
}

/**
 * Splits candidate unit vectors (rows of `candidates`, k x n) into first-layer and entangled
 * weights.
 *
 * @example
 * const { firstLayerWeights, entangledWeights, margin } = attributeCandidates(candidates, { width1: 10, width2: 3, certificates: phi });
 */
export function attributeCandidates(candidateRows: ViewLike, options: AttributionOptions = {}): AttributionResult {
  const candidates = checkView('candidates', candidateRows, { dims: 'one candidate per row' });
  if (options === null || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const [k, n] = candidates.shape;
  const width1 = options.width1 === undefined ? undefined : checkInteger('width1', options.width1, 1);
  const width2 = options.width2 === undefined ? undefined : checkInteger('width2', options.width2, 0);
  const maxCoherence = checkPositive('maxCoherence', options.maxCoherence ?? 0.3);
  const skipCos = checkPositive('skipCos', options.skipCos ?? 0.8);
  if (skipCos > 1) invalidArgument('skipCos', 'must be a number in (0, 1]', skipCos);
  const rule = options.rule ?? 'coherence';
  if (rule !== 'coherence' && rule !== 'volume') invalidArgument('rule', "must be 'coherence' or 'volume'", rule);
  let cert: Float64Array;
  if (options.certificates === undefined) {
    cert = new Float64Array(k).fill(1);
  } else {
    if (typeof options.certificates.length !== 'number' || options.certificates.length !== k) {
      invalidArgument('certificates', `must hold one number per candidate (${k})`, options.certificates.length);
    }
    cert = Float64Array.from(options.certificates);
    for (let j = 0; j < k; j++) if (!Number.isFinite(cert[j])) invalidArgument(`certificates[${j}]`, 'must be a finite number', cert[j]);
  }

  // unit rows
  const rows = new Float64Array(k * n);
  for (let j = 0; j < k; j++) {
    let norm = 0;
    for (let t = 0; t < n; t++) {
      const v = candidates.data[candidates.offset + j * candidates.strides[0] + t * candidates.strides[1]];
      rows[j * n + t] = v;
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    if (!(norm > 0) || !Number.isFinite(norm)) {
      throw new NnidError(ErrorCodes.numerical, `candidate ${j} is zero or not finite; attribution needs nonzero finite vectors`);
    }
    for (let t = 0; t < n; t++) rows[j * n + t] /= norm;
  }
  // C[j][l] = cos^2
  const c2 = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    for (let l = j + 1; l < k; l++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += rows[j * n + t] * rows[l * n + t];
      c2[j * k + l] = c2[l * k + j] = s * s;
    }
  }

  const alive = new Uint8Array(k).fill(1);
  let count = k;
  const dropOrder: number[] = [];
  const score = new Float64Array(k);
  for (;;) {
    let worst = -1;
    let maxScore = -Infinity;
    for (let j = 0; j < k; j++) {
      if (!alive[j]) continue;
      let s = 0;
      for (let l = 0; l < k; l++) if (alive[l] && l !== j) s += c2[j * k + l];
      score[j] = s;
      // ties: drop the one with the lower certificate, then the later index
      if (worst < 0 || s > maxScore || (s === maxScore && cert[j] <= cert[worst])) {
        worst = j;
        maxScore = s;
      }
    }
    if (count === 0) break;
    const tooMany = width1 !== undefined && count > width1;
    if (!tooMany && maxScore <= maxCoherence) break;
    alive[worst] = 0;
    count--;
    dropOrder.push(worst);
  }

  const byCert = (a: number, b: number) => cert[b] - cert[a] || a - b;
  let firstLayer: number[] = [];
  for (let j = 0; j < k; j++) if (alive[j]) firstLayer.push(j);
  let filled: number[] = [];
  let exchanges: [number, number][] = [];
  if (rule === 'volume') {
    ({ members: firstLayer, filled, exchanges } = exchangeForVolume(rows, n, c2, k, firstLayer, [...dropOrder].sort(byCert), width1 ?? firstLayer.length, skipCos));
  }
  firstLayer.sort(byCert);
  const inFirst = new Uint8Array(k);
  for (const i of firstLayer) inFirst[i] = 1;

  const coherence = new Array<number>(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (const i of firstLayer) if (i !== j) s += c2[j * k + i];
    coherence[j] = s;
  }
  const skipped: { index: number; cos: number }[] = [];
  const entangled: number[] = [];
  const unused: number[] = [];
  for (const j of Array.from({ length: k }, (_, j) => j).filter((j) => !inFirst[j]).sort(byCert)) {
    let best = 0;
    for (const i of firstLayer) best = Math.max(best, Math.sqrt(c2[j * k + i]));
    if (best >= skipCos) skipped.push({ index: j, cos: best });
    else if (width2 === undefined || entangled.length < width2) entangled.push(j);
    else unused.push(j);
  }

  let maxF = 0;
  for (const i of firstLayer) maxF = Math.max(maxF, coherence[i]);
  let minE = Infinity;
  for (const j of entangled) minE = Math.min(minE, coherence[j]);
  const margin = entangled.length > 0 && firstLayer.length > 0 ? minE - maxF : NaN;

  const pick = (idx: number[]): Float64View => {
    const out = matrix(idx.length, n);
    idx.forEach((j, r) => out.data.set(rows.subarray(j * n, (j + 1) * n), r * n));
    return out;
  };
  const report: AttributionReport = {
    candidates: k,
    width1: width1 ?? firstLayer.length,
    width2: width2 ?? entangled.length,
    width1Source: width1 === undefined ? 'inferred' : 'given',
    width2Source: width2 === undefined ? 'inferred' : 'given',
    maxCoherence,
    skipCos,
    dropOrder,
    rule,
    filled,
    exchanges,
    firstLayer,
    entangled,
    skipped,
    unused,
    coherence,
    margin: Number.isFinite(margin) ? margin : null,
    maxFirstLayerCoherence: maxF,
    minEntangledCoherence: entangled.length > 0 ? minE : null,
    missingFirstLayer: width1 === undefined ? 0 : width1 - firstLayer.length,
    missingEntangled: width2 === undefined ? 0 : width2 - entangled.length,
  };
  return { firstLayerWeights: pick(firstLayer), entangledWeights: pick(entangled), firstLayer, entangled, margin, report };
}

/** An exchange needs a coefficient above this (estimation error and rounding stay below it; each exchange grows the volume by it). */
const VOLUME_MARGIN = 1.05;
/**
 * A dropped candidate fills a missing row only with more than this much of its length outside the kept
 * rows' span. Below it the completion's search in the complement does as well (it finds a missing row at
 * |cos| = that length), and on real stacks such a candidate was mostly a second estimate of a kept row
 * (two candidates at |cos| 0.88-0.92 with one row): 0.5 kept every frozen-stack fill that 0.1 made.
 */
const FILL_RESIDUAL = 0.5;

/**
 * Rule 'volume': the first layer without the orthonormal-rows assumption. The coherence rule drops a true
 * a_i whenever the rows are coherent with each other (random rows in R^12 at m0 = 6: sum of cos^2 ~ 5/12
 * > 0.3) even when every a_i and v_l is among the candidates, and the completion then finds that row's
 * projection on the complement of the others. An entangled weight is a dense combination of the a_i
 * (v_l = sum_i c_li a_i); as unit vectors, when each |c_li| / |v_l| < 1 the a_i span the largest volume of
 * any m0 candidates, and a set holding v_l in place of a_j gives a_j a coefficient |v_l| / |c_lj| > 1 on
 * v_l. So: fill the set up to width1 with the dropped candidate farthest from its span (the missing a_j's
 * residual is longer than each v_l's, whose share of it is |c_lj| / |v_l|), then exchange a member for an
 * outside candidate while that candidate's coefficient on it exceeds VOLUME_MARGIN (maxvol; the volume
 * grows at each exchange, so the loop ends). A v_l dominated by one row of large norm (|cos| 0.87 with it)
 * breaks the premise: the set with v_l in place of that row is larger, and the rule keeps v_l.
 * Near-duplicates (|cos| >= skipCos with a member) neither fill nor exchange. Plain loops: the same bits
 * on every tier and thread count.
 */
function exchangeForVolume(
  rows: Float64Array,
  n: number,
  c2: Float64Array,
  k: number,
  start: number[],
  pool: number[],
  width1: number,
  skipCos: number,
): { members: number[]; filled: number[]; exchanges: [number, number][] } {
  const members = [...start];
  const filled: number[] = [];
  const exchanges: [number, number][] = [];
  const skip2 = skipCos * skipCos;
  const outside = () => pool.filter((j) => !members.includes(j) && members.every((i) => c2[j * k + i] < skip2));
  while (members.length < width1) {
    const residual = residualLengths(rows, n, members);
    let best = -1;
    let bestRes = FILL_RESIDUAL;
    for (const j of outside()) {
      const res = residual(j);
      if (res > bestRes) [best, bestRes] = [j, res];
    }
    if (best < 0) break;
    members.push(best);
    filled.push(best);
  }
  for (let round = 0; round < 4 * k && members.length > 0; round++) {
    const z = coefficients(rows, n, members);
    let inJ = -1;
    let outT = -1;
    let largest = VOLUME_MARGIN;
    for (const j of pool) {
      if (members.includes(j)) continue;
      const zj = z(j);
      for (let t = 0; t < members.length; t++) {
        if (Math.abs(zj[t]) <= largest) continue;
        // a near-duplicate of another member would not add volume of its own
        if (members.some((i, u) => u !== t && c2[j * k + i] >= skip2)) continue;
        [inJ, outT, largest] = [j, t, Math.abs(zj[t])];
      }
    }
    if (inJ < 0) break;
    exchanges.push([inJ, members[outT]]);
    members[outT] = inJ;
  }
  return { members, filled, exchanges };
}

/** Per candidate, the length of its unit row outside the span of the members' rows (|Q^T c|, Q the complement's basis). */
function residualLengths(rows: Float64Array, n: number, members: number[]): (j: number) => number {
  if (members.length === 0) return () => 1;
  const kept = matrix(members.length, n);
  members.forEach((i, r) => kept.data.set(rows.subarray(i * n, (i + 1) * n), r * n));
  const Q = complementBasis(kept);
  const c = Q.shape[1];
  return (j) => {
    let outside = 0;
    for (let col = 0; col < c; col++) {
      let dot = 0;
      for (let t = 0; t < n; t++) dot += Q.data[Q.offset + t * Q.strides[0] + col * Q.strides[1]] * rows[j * n + t];
      outside += dot * dot;
    }
    return Math.sqrt(outside);
  };
}

/**
 * The least-squares coefficients of a row on the members' rows: z solves G z = S c with G = S S^T (Gauss
 * elimination with partial pivoting on G, once; a singular G gives no coefficients, so no exchange).
 */
function coefficients(rows: Float64Array, n: number, members: number[]): (j: number) => Float64Array {
  const m = members.length;
  const dot = (a: number, b: number) => {
    let s = 0;
    for (let t = 0; t < n; t++) s += rows[a * n + t] * rows[b * n + t];
    return s;
  };
  const lu = new Float64Array(m * m);
  for (let p = 0; p < m; p++) for (let r = 0; r < m; r++) lu[p * m + r] = dot(members[p], members[r]);
  const perm = Array.from({ length: m }, (_, p) => p);
  let singular = false;
  for (let c = 0; c < m && !singular; c++) {
    let piv = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(lu[r * m + c]) > Math.abs(lu[piv * m + c])) piv = r;
    if (Math.abs(lu[piv * m + c]) < 1e-12) {
      singular = true;
      break;
    }
    if (piv !== c) {
      for (let t = 0; t < m; t++) [lu[c * m + t], lu[piv * m + t]] = [lu[piv * m + t], lu[c * m + t]];
      [perm[c], perm[piv]] = [perm[piv], perm[c]];
    }
    for (let r = c + 1; r < m; r++) {
      const f = (lu[r * m + c] /= lu[c * m + c]);
      for (let t = c + 1; t < m; t++) lu[r * m + t] -= f * lu[c * m + t];
    }
  }
  return (j) => {
    const z = new Float64Array(m);
    if (singular) return z;
    for (let p = 0; p < m; p++) z[p] = dot(members[perm[p]], j);
    for (let p = 0; p < m; p++) for (let t = 0; t < p; t++) z[p] -= lu[p * m + t] * z[t];
    for (let p = m - 1; p >= 0; p--) {
      for (let t = p + 1; t < m; t++) z[p] -= lu[p * m + t] * z[t];
      z[p] /= lu[p * m + p];
    }
    return z;
  };
}
