/**
 * The entangled part of an attempt: deflate span{a_i a_i^T} from the Hessians, re-estimate the
 * entangled part (dimension m1), search the joined space W' = span{a_i a_i^T} + entangled part.
 * There the a-hat_i a-hat_i^T are exact rank-one elements (Phi = 1): every other local maximizer
 * is an entangled weight, whatever its coherence with the a-hat_i (the |cos| 0.8 rule of the
 * first search is not needed). With m1 given and too few found: the first search's other
 * maximizers, then grad f(0) (a positive combination of the v_l), then random dense combinations.
 */
import { ErrorCodes, matrix, NnidError, rng, type Float64View } from '@nnid/core';
import { deflate, estimateSubspace, joinSubspaces, rankOneSpan, type MatrixSubspace } from '@nnid/subspace';
import { findRankOne, type RankOneReport, type RankOneResult, type SolverPool } from '@nnid/rank1-solver';
import type { AttributionResult } from '@nnid/attribution';
import { bestAbsCos, stageSeed } from './identify-geometry.ts';
import type { AttemptContext } from './attempt.ts';

export type EntangledSource =
  | 'deflated'
  | 'first-search'
  | 'deflated-below-threshold'
  | 'first-search-other'
  | 'gradient-at-zero'
  | 'random'
  | 'first-layer-unit';

export interface EntangledReport {
  sources: EntangledSource[];
  certificates: (number | null)[];
  /** The search in the joined space (null: the entangled part could not be estimated or joined). */
  deflated: { dimension: number; partDimension: number; candidates: number; certificates: number[]; solver: RankOneReport; spectrum: number[] } | null;
}

interface Candidate {
  vector: Float64Array;
  phi: number;
  source: EntangledSource;
}

/** Below this |cos| with an accepted a-hat_i (and 0.95 with a chosen v-hat_l) a candidate is a new entangled weight. */
const FIRST_LAYER_COS = 0.98;
const ENTANGLED_COS = 0.95;

/**
 * The deflated part's dimension at scale, as a multiple of m1 (`partFactor`). The deflated stack's spectrum has no gap
 * at m1 (each v_l moves with x): at (100, 50, 20) its top m1 singular subspace held 7 of the 20 v_l at
 * Phi 0.35-0.54 only and the search never reached them (13 of 20 found on seed 1, 16 on seed 2, the first layer's v_l
 * taken back); with 3 m1 every v_l but one is at Phi >= 0.78 and 19 of 20 are found on seeds 1 and 2. BENCHMARKS.md,
 * tenth pass.
 */
export const ENTANGLED_PART_FACTOR = 3;

/** The entangled weights in reduced coordinates (unit rows) and where each came from. */
export async function entangledPart(
  ctx: AttemptContext,
  at: {
    firstLayer: Float64View;
    firstSearch: RankOneResult;
    attribution: AttributionResult;
    width2Given: number | undefined;
    seed: number;
    solver: { pool: SolverPool } | { threads: number };
    /**
     * The deflated part's dimension as a multiple of the entangled count (default 1; identify: ENTANGLED_PART_FACTOR
     * from SCALE_START_PARAMETERS parameters on).
     */
    partFactor?: number;
  },
): Promise<{ weights: Float64View; report: EntangledReport }> {
  const { hessianStack, rangeBasis: U, reducedDim: r, width1: m0, options } = ctx;
  const m1 = at.width2Given ?? ctx.width2;
  const { firstLayer, firstSearch, attribution, width2Given } = at;
  const spanA = rankOneSpan(firstLayer, 'packed');
  const rest = deflate(hessianStack, spanA);
  const entangledCount = Math.max(1, width2Given ?? attribution.entangled.length);
  const dimension = Math.min(entangledCount, rest.shape[0], rest.shape[1] - spanA.basis.shape[0]);
  const pool: Candidate[] = [];
  const rowOf = (M: Float64View, j: number) => Float64Array.from(M.data.subarray(M.offset + j * M.strides[0], M.offset + j * M.strides[0] + r));
  const fromFirstSearch = (i: number, source: EntangledSource): Candidate => ({ vector: rowOf(firstSearch.candidates, i), phi: firstSearch.certificates[i], source });
  let deflated: EntangledReport['deflated'] = null;
  if (dimension >= 1) {
    // a wider entangled part (partFactor): the v_l whose terms are weak in the deflated stack are in it too
    const partDimension = Math.min(Math.round(dimension * (at.partFactor ?? 1)), rest.shape[0], rest.shape[1] - spanA.basis.shape[0]);
    const part = estimateSubspace(rest, { layout: 'packed', dimension: partDimension });
    let joined: MatrixSubspace | null = null;
    try {
      joined = joinSubspaces(spanA, part.subspace);
    } catch {
      joined = null;
    }
    if (joined) {
      const search = await findRankOne(joined.basis, { ...at.solver, starts: 10 * (m0 + m1), seed: stageSeed(at.seed, 2), threshold: 0 });
      const below: number[] = [];
      for (let j = 0; j < search.candidates.shape[0]; j++) {
        if (bestAbsCos(search.candidates, j, firstLayer) >= 0.999) continue;
        if (search.certificates[j] >= options.threshold) pool.push({ vector: rowOf(search.candidates, j), phi: search.certificates[j], source: 'deflated' });
        else below.push(j);
      }
      for (const i of attribution.entangled) pool.push(fromFirstSearch(i, 'first-search'));
      for (const j of below) pool.push({ vector: rowOf(search.candidates, j), phi: search.certificates[j], source: 'deflated-below-threshold' });
      deflated = {
        dimension,
        partDimension,
        candidates: search.candidates.shape[0],
        certificates: Array.from(search.certificates),
        solver: search.report,
        spectrum: part.report.singularValues.slice(0, Math.min(part.report.singularValues.length, 3 * dimension)),
      };
    }
  }
  if (deflated === null) for (const i of attribution.entangled) pool.push(fromFirstSearch(i, 'first-search'));
  if (width2Given !== undefined) {
    const other = [...attribution.report.skipped.map((x) => x.index), ...attribution.report.unused].sort((a, b) => firstSearch.certificates[b] - firstSearch.certificates[a]);
    for (const i of other) pool.push(fromFirstSearch(i, 'first-search-other'));
    if (ctx.gradientAtZero) {
      const y = new Float64Array(r);
      for (let a = 0; a < r; a++) {
        let acc = 0;
        for (let t = 0; t < ctx.gradientAtZero.length; t++) acc += (U ? U.data[U.offset + t * U.strides[0] + a * U.strides[1]] : t === a ? 1 : 0) * ctx.gradientAtZero[t];
        y[a] = acc;
      }
      pool.push({ vector: y, phi: NaN, source: 'gradient-at-zero' });
    }
    const stream = rng(at.seed).split(7);
    for (let l = 0; l < width2Given; l++) pool.push({ vector: stream.split(l).fillNormal(new Float64Array(r)), phi: NaN, source: 'random' });
  }
  const chosen: Candidate[] = [];
  const unit = (v: Float64Array) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const cosWith = (u: Float64Array, list: Float64Array[]) => list.reduce((m, w) => Math.max(m, Math.abs(u.reduce((s, x, t) => s + x * w[t], 0))), 0);
  const firstLayerRows = Array.from({ length: firstLayer.shape[0] }, (_, i) => unit(rowOf(firstLayer, i)));
  const leading = deflated && pool.some((x) => x.source === 'deflated') ? 'deflated' : 'first-search';
  // inferred: at most m0 (m1 <= m0, the paper's and the general form's; the deflated pool can hold more
  // candidates above the threshold in a small reduced space: 15 for m0 = 4 on a softplus k = 3 model)
  const wanted = width2Given ?? Math.min(pool.filter((c) => c.source === leading).length, Math.max(1, m0));
  for (const c of pool) {
    if (chosen.length >= wanted) break;
    const u = unit(c.vector);
    if (!u.every(Number.isFinite)) continue;
    if (cosWith(u, firstLayerRows) >= FIRST_LAYER_COS || cosWith(u, chosen.map((x) => x.vector)) >= ENTANGLED_COS) continue;
    chosen.push({ ...c, vector: u });
  }
  // one first-layer unit: every v_l = A G_0 b_l / |A G_0 b_l| is +-a_1 (the filter above refuses them all)
  if (m0 === 1) while (chosen.length < Math.max(1, wanted)) chosen.push({ vector: firstLayerRows[0], phi: NaN, source: 'first-layer-unit' });
  if (chosen.length === 0) {
    throw new NnidError(ErrorCodes.numerical, 'identify: no entangled weight passed the a-posteriori check; lower `threshold` or give `width2`');
  }
  const weights = matrix(chosen.length, r);
  chosen.forEach((c, l) => weights.data.set(c.vector, l * r));
  return {
    weights,
    report: {
      sources: chosen.map((c) => c.source),
      certificates: chosen.map((c) => (Number.isFinite(c.phi) ? c.phi : null)),
      deflated,
    },
  };
}
