/**
 * Attribution: which candidate rank-one directions are first-layer weights a_i and which are
 * entangled weights v_l. Entangled weights are dense combinations of the first-layer ones
 * (v_l = sum_i phi1'(theta_i) b_li a_i), so each is coherent with many candidates, while the
 * a_i are (nearly) orthonormal. Rule (DESIGN.md section 2, measured on the prototype): drop the
 * candidate most coherent with the rest, repeatedly, until a nearly orthonormal set remains;
 * that set is the first layer. The dropped ones, except those within `skipCos` of an accepted
 * first-layer weight, are the entangled weights, ordered by certificate.
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
  /** Candidate indices in the order they were dropped. */
  dropOrder: number[];
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
  const firstLayer: number[] = [];
  for (let j = 0; j < k; j++) if (alive[j]) firstLayer.push(j);
  firstLayer.sort(byCert);

  const coherence = new Array<number>(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (const i of firstLayer) if (i !== j) s += c2[j * k + i];
    coherence[j] = s;
  }
  const skipped: { index: number; cos: number }[] = [];
  const entangled: number[] = [];
  const unused: number[] = [];
  for (const j of [...dropOrder].sort(byCert)) {
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
