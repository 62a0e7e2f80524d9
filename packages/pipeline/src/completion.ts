/**
 * The completion of the first layer (identify's stage 'completion'): the a_i the rank-one search
 * missed, found in the orthogonal complement of those it kept, round after round.
 */
import { matrix, type Float64View } from '@nnid/core';
import { complementBasis, estimateSubspace, restrictStack } from '@nnid/subspace';
import { findRankOne, type RankOneReport, type RankOneResult, type SolverPool } from '@nnid/rank1-solver';
import { attributeCandidates } from '@nnid/attribution';
import { mapRows, pickRows, stackRows, stageSeed } from './identify-geometry.ts';

/** One round of the search for missing a_i, in the orthogonal complement of every row found before it. */
export interface CompletionRound {
  complementDimension: number;
  subspaceDimension: number;
  /** Rows found by earlier rounds taken back into this round's complement (its complement was too small). */
  reopened: number;
  candidates: number;
  /** Rows this round added (beyond those it took back). */
  found: number;
  attributionMargin: number | null;
}

/** The search for missing a_i in the orthogonal complement of those accepted. */
export interface CompletionReport {
  missing: number;
  found: number;
  filledWithComplementBasis?: number;
  /** The first round's (later rounds: `rounds`). */
  complementDimension?: number;
  subspaceDimension?: number;
  candidates?: number;
  certificates?: number[];
  solver?: RankOneReport;
  attributionMargin?: number | null;
  /**
   * The first search's rows taken back into the first round (`reopenCoherence`): indices among its rows, each coherent
   * with the others beyond the bound (an entangled weight kept as a row, or a row beside one).
   */
  reopenedFirstSearch?: number[];
  /** Every round, the first included: each searches the complement of the rows found before it. */
  rounds?: CompletionRound[];
}

export interface CompletionOptions {
  /** m0: rows the first layer must have. */
  width1: number;
  /** The attempt's dimension of W-hat (each round's is scaled from it). */
  subspaceDimension: number;
  /** m1 (the entangled terms every restricted problem still holds). */
  width2: number;
  seed: number;
  solver: { pool: SolverPool } | { threads: number };
  /**
   * When set: before the first round, the first search's rows are split by attribution's coherence rule with this
   * bound (`maxCoherence`), and the rows it drops are taken back into the first round's complement (searched again
   * with the missing ones) instead of being kept. identify sets it (`REOPEN_COHERENCE`) from `SCALE_START_PARAMETERS`
   * parameters on, with the entangled part widened (`ENTANGLED_PART_FACTOR`): alone it made the fit in range(A) stall
   * at (100, 50, 20) (BENCHMARKS.md, ninth pass: the entangled stage then found 13 of 20 v_l), with it 3 J^T J (tenth pass).
   */
  reopenCoherence?: number;
}

/** Rounds of the completion at most: each runs only when the one before found rows and some are still missing. */
export const COMPLETION_ROUNDS = 4;

/**
 * The coherence bound under which the first search's rows stay kept when the completion reopens them
 * (`CompletionOptions.reopenCoherence`). With few of the m0 rows present an entangled weight v_l (a dense
 * combination of the a_i) has most of its mass on the missing rows, so its coherence with the present ones stays
 * under attribution's `maxCoherence` 0.3 and it is kept as a row: the completion then searches the complement of it
 * and never finds the true rows it displaces (issue 15, eighth pass: 2-3 of the first search's 19-20 rows at
 * (100, 50, 20) are v_l at |cos| 0.996-0.998). At (100, 50, 20) seeds 1-4 (19-20 rows present) those v_l score
 * 0.13-0.30 with the kept rows, the true a_i 0.007-0.13 (the larger ones only beside a kept v_l): 0.1, iterated,
 * takes back every v_l and no a_i there (seeds 1, 2 chose it; 3, 4 held out). At (50, 30, 10) it would take back a
 * true a_i (seed 2): identify sets it only from `SCALE_START_PARAMETERS` on (see `reopenCoherence`). BENCHMARKS.md,
 * ninth and tenth passes.
 */
export const REOPEN_COHERENCE = 0.1;

/**
 * Missing a_i: the problem restricted to the orthogonal complement of the accepted ones (Q^T H Q
 * keeps the rank-one structure), its own W-hat, solver and attribution. A round that finds some but
 * not all is followed by another in the complement of everything found so far: a smaller problem,
 * where the rows just found no longer crowd the span (at (200, 100, 30) the first search kept 41 of
 * 100 rows, the first round found 46 of the 59 missing, and filling the last 13 with a basis of
 * their span mixed them: each filled row at |cos| 0.46-0.70 with its true row, and the refinement
 * crawled). A complement of c dimensions restricts each Hessian to c (c + 1) / 2 numbers where W
 * still holds the m1 entangled terms beside the missing rows: with few rows left (2-5 beside m1 = 3-8)
 * the round's W-hat is all of it, every unit vector a maximizer, and the rows it gives are a basis
 * of their span in an arbitrary rotation, as the fill is (|cos| 0.39-0.89 on tanh networks' exact
 * Hessians). Such a round takes back the rows found last until its W-hat is at most half of its
 * space (`roomy`), and keeps its result only when it gained rows. Still short after the rounds, the
 * rest of an orthonormal basis (refinement's job then). The first search's rows are never taken
 * back: they are the whole problem's. Returns the completed first layer (reduced coordinates).
 */
export async function completeFirstLayer(
  hessianStack: Float64View,
  firstLayer: Float64View,
  at: CompletionOptions,
): Promise<{ firstLayer: Float64View; report: CompletionReport }> {
  const m0 = at.width1;
  const r = firstLayer.shape[1];
  if (m0 - firstLayer.shape[0] <= 0) return { firstLayer, report: { missing: m0 - firstLayer.shape[0], found: 0 } };
  // the first search's rows coherent with the others beyond the bound go back into the first round's complement
  let reopenedFirstSearch: number[] | undefined;
  if (at.reopenCoherence !== undefined && firstLayer.shape[0] > 1) {
    const split = attributeCandidates(firstLayer, { maxCoherence: at.reopenCoherence });
    const keep = [...split.report.firstLayer].sort((a, b) => a - b);
    reopenedFirstSearch = Array.from({ length: firstLayer.shape[0] }, (_, i) => i).filter((i) => !keep.includes(i));
    if (reopenedFirstSearch.length > 0) firstLayer = pickRows(firstLayer, keep);
  }
  const missing = m0 - firstLayer.shape[0];
  // each round's W-hat dimension is the attempt's, scaled to its complement and the m1 entangled terms
  const dimensionAt = (c: number) => Math.max(1, Math.round((at.subspaceDimension / (m0 + at.width2)) * (c + at.width2)));
  let roomy = 1;
  while (dimensionAt(roomy) > (roomy * (roomy + 1)) / 4) roomy++;
  let rows = firstLayer;
  const rounds: CompletionRound[] = [];
  let firstSearch: RankOneResult | null = null;
  while (rounds.length < COMPLETION_ROUNDS && rows.shape[0] < m0) {
    // a later round whose complement is too small for its W-hat takes back the rows found last
    const reopened = rounds.length === 0 ? 0 : Math.min(rows.shape[0] - firstLayer.shape[0], Math.max(0, roomy - (r - rows.shape[0])));
    const kept = pickRows(rows, Array.from({ length: rows.shape[0] - reopened }, (_, i) => i));
    const Q = complementBasis(kept);
    const complementDimension = Q.shape[1];
    const restricted = restrictStack(hessianStack, Q, 'packed');
    const dimension = Math.min(dimensionAt(complementDimension), restricted.shape[0], restricted.shape[1]);
    const subspace = estimateSubspace(restricted, { layout: 'packed', dimension });
    // the first round's seed as before the rounds: a run whose first round completes the layer keeps its bits
    const seed = stageSeed(at.seed, rounds.length === 0 ? 1 : 10 + rounds.length);
    const search = await findRankOne(subspace.subspace.basis, { ...at.solver, starts: 10 * (complementDimension + at.width2), seed, threshold: 0 });
    const attribution = attributeCandidates(search.candidates, { width1: complementDimension, certificates: search.certificates });
    const found = mapRows(attribution.firstLayerWeights, Q);
    const take = Math.min(found.shape[0], m0 - kept.shape[0]);
    firstSearch ??= search;
    rounds.push({ complementDimension, subspaceDimension: dimension, reopened, candidates: search.candidates.shape[0], found: Math.max(0, take - reopened), attributionMargin: attribution.report.margin });
    // no more rows than were taken back: the round gained nothing, the rows stay as they were
    if (take <= reopened) break;
    rows = stackRows(kept, pickRows(found, Array.from({ length: take }, (_, i) => i)));
  }
  const filled = m0 - rows.shape[0];
  if (filled > 0) {
    const rest = complementBasis(rows);
    const extra = matrix(filled, r);
    for (let i = 0; i < filled; i++) for (let t = 0; t < r; t++) extra.data[i * r + t] = rest.data[t * rest.shape[1] + i];
    rows = stackRows(rows, extra);
  }
  const { complementDimension, subspaceDimension, candidates, attributionMargin } = rounds[0];
  return {
    firstLayer: rows,
    report: {
      missing,
      found: missing - filled,
      filledWithComplementBasis: filled,
      complementDimension,
      subspaceDimension,
      candidates,
      certificates: Array.from(firstSearch!.certificates).slice(0, missing),
      solver: firstSearch!.report,
      attributionMargin,
      ...(reopenedFirstSearch !== undefined ? { reopenedFirstSearch } : {}),
      rounds,
    },
  };
}
