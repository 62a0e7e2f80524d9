/**
 * The refinement's fits in the coordinates of range(A). The pipeline's first-layer weights are
 * lifted from the r-dimensional reduced coordinates (identify-geometry.ts's liftRows), so the
 * rows of its A span range(A) as estimated from the gradients, and f(x) = g(A x) depends on x only
 * through U^T x (U: d x r, orthonormal columns spanning those rows). Fitted there, A has r columns
 * instead of d: the same LM iterations from the same start (measured: bench/start-quality.ts
 * --reduced), each cheaper by about (P_r / P)^2 on the dense normal equations. The lifted network
 * is exact up to the range estimate's error (relative L2 ~1e-8); a full fit of a few iterations
 * finishes it.
 */
import { invalidArgument, matrix, parameterCount, type Float64View, type Network } from '@nnid/core';
import { matmul } from '@nnid/linalg';

/** d x r basis with orthonormal columns of the span of A's rows (Gram-Schmidt, twice; rows within 1e-10 of the span so far add nothing). */
export function rowSpanBasis(A: Float64View): Float64View {
  const [m, d] = A.shape;
  const cols: Float64Array[] = [];
  const v = new Float64Array(d);
  for (let i = 0; i < m; i++) {
    let before = 0;
    for (let t = 0; t < d; t++) {
      v[t] = A.data[A.offset + i * A.strides[0] + t * A.strides[1]];
      before += v[t] * v[t];
    }
    for (let pass = 0; pass < 2; pass++) {
      for (const c of cols) {
        let dot = 0;
        for (let t = 0; t < d; t++) dot += c[t] * v[t];
        for (let t = 0; t < d; t++) v[t] -= dot * c[t];
      }
    }
    let n = 0;
    for (let t = 0; t < d; t++) n += v[t] * v[t];
    if (n > 1e-20 * before && n > 0) cols.push(v.map((x) => x / Math.sqrt(n)));
  }
  const r = cols.length;
  const U = matrix(d, r);
  cols.forEach((c, j) => {
    for (let t = 0; t < d; t++) U.data[t * r + j] = c[t];
  });
  return U;
}

/** `net` and `data` in the coordinates of U's columns: A U (m0 x r) and X U (n x r). */
export function toRange(net: Network, U: Float64View, data: { inputs: Float64View; values: Float64Array }): { network: Network; data: { inputs: Float64View; values: Float64Array } } {
  if (U.shape[0] !== net.inputDim) invalidArgument('U', `must have inputDim = ${net.inputDim} rows`, U.shape[0]);
  return {
    network: { ...net, inputDim: U.shape[1], A: matmul(net.A, U) },
    data: { inputs: matmul(data.inputs, U), values: data.values },
  };
}

/** A network fitted in U's coordinates back in R^d: A U^T. */
export function fromRange(net: Network, U: Float64View): Network {
  if (U.shape[1] !== net.inputDim) invalidArgument('U', `must have the network's inputDim = ${net.inputDim} columns`, U.shape[1]);
  return { ...net, inputDim: U.shape[0], A: matmul(net.A, U, { transB: true }) };
}

/**
 * When identify's refinement runs in range(A)'s coordinates by default ('auto'): the first layer
 * has r = rank(A) columns to fit instead of d, so the fit's parameters drop from P to
 * P - m0 (d - r). Taken where that is material and the refinement is the cost: d >= 2 r and
 * P >= 4,000 (e.g. (100, 50, 20): P 6,070 -> 3,570; (200, 100, 30): 23,130 -> 13,130;
 * (784, 128, 64): 108,736 -> 24,768): dense at (100, 50, 20), matrix-free at the two larger ones
 * (RANGE_PAST_DENSE, below). Left off below (measured: (30, 20, 8) sigmoid, d / r = 1.5,
 * seed 2 stalled at 1.4e-4 in range(A) where the fit in R^d was exact; (20, 10, 3), d / r = 2:
 * 0.84-1.8x the seconds), so the small networks keep their bits.
 */
export const RANGE_MIN_RATIO = 2;
export const RANGE_FROM_PARAMETERS = 4000;

/**
 * refine's 'auto' takes the dense solver while 8 (rows F + 3 F^2) bytes stay within this (refine's
 * DENSE_MEMORY_LIMIT, 4 GiB).
 */
const DENSE_LIMIT = 2 ** 32;

/**
 * What 'auto' does where the fit in range(A) would not be dense (its normal equations past
 * DENSE_LIMIT: (200, 100, 30) and (784, 128, 64) on 3-4 P rows): 'matrix-free' (the default
 * since session 17), the fit in range(A) runs there with refine's matrix-free solver (its 'auto'
 * resolves to it), then the finish in R^d; 'skip' (before), the refinement runs in R^d, matrix-free.
 * Issue 15 item 1 (BENCHMARKS.md, "twelfth pass"). Where the fit in range(A) is dense nothing changes.
 */
export type RangePastDense = 'matrix-free' | 'skip';
export const RANGE_PAST_DENSE: RangePastDense = 'matrix-free';

/** The sizes rangeRefinementApplies reads: d, m0, P, and r = rank(A) (the columns of rowSpanBasis). */
export interface RangeShape {
  inputDim: number;
  width1: number;
  parameters: number;
  rank: number;
}

/** The parameters the fit in range(A) has: P - m0 (d - r). */
export function rangeParameters(shape: RangeShape): number {
  return shape.parameters - shape.width1 * (shape.inputDim - shape.rank);
}

/** Whether the fit in range(A) on `rows` rows would be dense (refine's 'auto': 8 (rows F + 3 F^2) <= DENSE_LIMIT). */
export function rangeFitIsDense(shape: RangeShape, rows: number): boolean {
  const inRange = rangeParameters(shape);
  return 8 * (rows * inRange + 3 * inRange * inRange) <= DENSE_LIMIT;
}

/**
 * rangeRefinementApplies' rule on the sizes alone (also the memory plan's, with r the plan's
 * reduced dimension): P >= RANGE_FROM_PARAMETERS, d >= RANGE_MIN_RATIO r and, given `rows`, the fit in
 * range(A) dense or `pastDense` 'matrix-free'.
 */
export function rangeRuleApplies(shape: RangeShape, rows?: number, pastDense: RangePastDense = RANGE_PAST_DENSE): boolean {
  if (shape.parameters < RANGE_FROM_PARAMETERS || shape.inputDim < RANGE_MIN_RATIO * shape.rank) return false;
  return rows === undefined || pastDense === 'matrix-free' || rangeFitIsDense(shape, rows);
}

/**
 * Whether the refinement of `start` runs in range(A)'s coordinates: `mode` true/false, or 'auto'
 * (the rule above; and, given the fit's `rows`, where the fit in range(A) would not be dense, as
 * `pastDense` says: RANGE_PAST_DENSE, 'matrix-free'. Session 2 measured one matrix-free LM iteration
 * only 1.1x cheaper in range(A) at (200, 100, 30) (130.8 against 143.4 CPU s) and left those sizes in
 * R^d; the full fit there then cost more CG products each iteration as it neared the minimum
 * (eleventh pass), where the fit in range(A) stops on the span's floor and the finish starts
 * undamped: twelfth pass.)
 */
export function rangeRefinementApplies(start: Network, mode: boolean | 'auto' = 'auto', rows?: number, pastDense: RangePastDense = RANGE_PAST_DENSE): boolean {
  if (mode !== 'auto') return mode;
  const { inputDim: d, width1: m0 } = start;
  const parameters = parameterCount(start);
  // rank(A) <= m0: skip the basis where even r = m0 fails the ratio
  if (!rangeRuleApplies({ inputDim: d, width1: m0, parameters, rank: Math.min(m0, d) })) return false;
  return rangeRuleApplies({ inputDim: d, width1: m0, parameters, rank: rowSpanBasis(start.A).shape[1] }, rows, pastDense);
}

/**
 * The fit in range(A) stops at its first accepted step that lowers the cost by less than this
 * fraction (refine's costSteps 1): there it sits on the floor the range estimate sets (the lifted
 * network's error, relative residual ~6e-7 at (100, 50, 20)), which only the finish in R^d lowers.
 * With the default rule (two such steps in a row) (100, 50, 20)'s fit took 6 more linearizations
 * (one J^T J of 3,570 columns each, ~35 CPU s) at 6.43e-7. A fit still converging lowers its cost
 * by far more: ~1% a step on that fit's slowest stretch (9.9e-3 -> 9.8e-3).
 */
export const RANGE_FLOOR_COST = 1e-4;

/**
 * lambda at the start of the finish in R^d (refine's initialDamping; its fits start at 1e-3) when
 * the fit in range(A) ended within FINISH_NEAR of the data. The finish then starts on the span's
 * floor, where the Gauss-Newton step is nearly exact and the problem well conditioned: damped at
 * 1e-3 (and Nielsen's 10x fall a step) each linearization lowered the residual ~1e3-fold only,
 * (100, 50, 20): 6.43e-7, 5.55e-10, 4.18e-14, 4.65e-16 in 3 J^T J of 6,070 columns (71.9 CPU s);
 * at 1e-9 the first step and its inner steps reached 4.65e-16 with one (27.7 CPU s), the same
 * network to 2e-15; seed 2 (held out): 88.6 -> 32.4 CPU s (BENCHMARKS.md, "seventh pass").
 */
export const FINISH_DAMPING = 1e-9;
/**
 * The finish starts at FINISH_DAMPING when the fit in range(A) ended at a relative residual at most
 * this (the span's floor: 6.4e-7 at (100, 50, 20)); above it (a fit stopped far from the data:
 * its plateau, its cap) the finish starts damped as every fit does.
 */
export const FINISH_NEAR = 1e-4;

/**
 * The fit in range(A) also stops at its first accepted step ending at a relative residual at most
 * FINISH_NEAR whose last move (its last inner step, else the step) lowered the relative residual
 * by less than RANGE_FLOOR_RATIO = 0.5 (refine's floor option, @nnid/optimize's FloorRule): there
 * it sits on the span's floor, or its inner steps are held back by its damping (~2e-3 there), and
 * the finish in R^d, started undamped (FINISH_DAMPING), does the rest in one linearization.
 * (100, 50, 20): the fit stopped at 2.17e-5 (seed 1: its last inner move x0.72) and 8.01e-7
 * (seed 2, held out: x0.72), 8 J^T J of 3,570 columns instead of 11 and 10; the finish took one
 * J^T J from either and reached the same network (BENCHMARKS.md, "eighth pass").
 */
export const RANGE_FLOOR_RATIO = 0.5;
export const RANGE_FLOOR_RULE = { below: FINISH_NEAR, factor: RANGE_FLOOR_RATIO } as const;

/** refine's options of the finish in R^d after a fit in range(A) that ended at `relativeResidual` (FINISH_NEAR, FINISH_DAMPING). */
export function finishOptions(relativeResidual: number): { initialDamping?: number } {
  return relativeResidual <= FINISH_NEAR ? { initialDamping: FINISH_DAMPING } : {};
}

/** What the refinement in range(A) did before its finish in R^d. */
export interface RangeRefinementReport {
  /** r: the columns of U (the dimension of the span of the start's rows). */
  dimension: number;
  /** Parameters fitted in range(A) / in R^d. */
  parameters: { range: number; full: number };
  /** The fit in range(A)'s last LM: iterations and relative residual (lifted: the same function on the data). */
  iterations: number;
  relativeResidual: number;
  /** Its step strategy (@nnid/optimize's name: 'normal-equations', or 'matrix-free-cg' where the dense one does not fit: RANGE_PAST_DENSE). */
  strategy: string;
}

/**
 * Runs `fit` (the refinement's stages) on `start` and `data` in the coordinates of the span of
 * start's rows, lifts the result back (A U^T) and finishes with `finish` in R^d (a full fit on the
 * same data, given refine's options from finishOptions: one linearization when the range estimate
 * is good, the refinement's full budget otherwise). No query.
 */
export async function refineInRange<T extends { network: Network; refine: { iterations: number; relativeResidual: number; strategy: string } }>(
  start: Network,
  data: { inputs: Float64View; values: Float64Array },
  fit: (start: Network, data: { inputs: Float64View; values: Float64Array }) => Promise<T>,
  finish: (lifted: Network, options: { initialDamping?: number }) => Promise<{ network: Network; report: T['refine'] }>,
): Promise<T & { range: RangeRefinementReport }> {
  const U = rowSpanBasis(start.A);
  const reduced = toRange(start, U, data);
  const inRange = await fit(reduced.network, reduced.data);
  const lifted = fromRange(inRange.network, U);
  const done = await finish(lifted, finishOptions(inRange.refine.relativeResidual));
  const { width1: m0, inputDim: d } = start;
  const P = parameterCount(start);
  return {
    ...inRange,
    network: done.network,
    refine: done.report,
    range: {
      dimension: U.shape[1],
      parameters: { range: P - m0 * (d - U.shape[1]), full: P },
      iterations: inRange.refine.iterations,
      relativeResidual: inRange.refine.relativeResidual,
      strategy: inRange.refine.strategy,
    },
  };
}
