/**
 * range(A) from gradients: grad f(x) = sum_i c_i(x) a_i lies in the span of the a_i, so the
 * gradients at ~2 m0 random points span range(A); their top right singular vectors are an
 * orthonormal basis of it. Working in those m0 coordinates cuts the queries per Hessian from
 * O(d^2) to O(m0^2).
 */
import { checkInteger, checkPositive, checkView, invalidArgument, matrix, type Float64View, type ViewLike } from '@nnid/core';
import { svd } from '@nnid/linalg';
import { largestRelativeGap, type DimensionSource } from './subspace.ts';

export interface RangeOptions {
  /** dim range(A) (= m0): a number, or 'auto' (default): the largest relative gap if it is at least `gapThreshold`, else full rank. */
  dimension?: number | 'auto';
  /** Smallest sigma_k / sigma_{k+1} accepted as the edge of range(A) with 'auto' (default 1e3). */
  gapThreshold?: number;
  /**
   * With 'auto': the largest sigma_{k+1} that may lie beyond the edge (default none). Values the
   * gradients' error can explain are at most its spectral norm (Weyl); a gap whose next value is
   * above this bound is signal, not the edge, and is not taken (the largest gap among the others is).
   */
  tailBound?: number;
}

export interface RangeReport {
  gradients: number;
  inputDim: number;
  dimension: number;
  dimensionSource: DimensionSource;
  gapThreshold: number;
  /** tailBound as given (null: none). */
  tailBound: number | null;
  /** Where the largest relative gap is (with tailBound: the largest of those it allows), and the gap. */
  largestGapAt: number | null;
  largestGap: number | null;
  singularValues: number[];
  seconds: number;
}

export interface RangeResult {
  /** inputDim x m, orthonormal columns (shared memory): feeds the sampler's `basis`. */
  basis: Float64View;
  singularValues: Float64Array;
  dimension: number;
  dimensionSource: DimensionSource;
  report: RangeReport;
}

/** The largest relative gap sigma_k / sigma_{k+1} (k <= kMax) among those whose sigma_{k+1} is at most `bound`. */
function largestGapBelow(values: Float64Array, kMax: number, bound: number): { at: number; gap: number } | null {
  let best: { at: number; gap: number } | null = null;
  for (let k = 1; k <= kMax && k < values.length; k++) {
    if (values[k] > bound) continue;
    // values at rounding level of the largest one are zero (as largestRelativeGap)
    const gap = values[k] <= values[0] * 1e-15 ? Infinity : values[k - 1] / values[k];
    if (best === null || gap > best.gap) best = { at: k, gap };
  }
  return best;
}

/**
 * Estimates range(A) from a stack of gradients (one per row, inputDim columns).
 *
 * @example
 * const { basis, dimension } = estimateRange(gradientStack);   // basis: d x m0
 */
export function estimateRange(gradients: ViewLike, options: RangeOptions = {}): RangeResult {
  const started = performance.now();
  const gradientStack = checkView('gradientStack', gradients, { dims: 'one gradient per row' });
  if (options === null || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const [rows, d] = gradientStack.shape;
  checkInteger('gradientStack.shape[0]', rows);
  checkInteger('gradientStack.shape[1]', d);
  const gapThreshold = checkPositive('gapThreshold', options.gapThreshold ?? 1e3);
  const tailBound = options.tailBound === undefined ? null : checkPositive('tailBound', options.tailBound);
  const { values, right } = svd(gradientStack);
  const rank = values.length;
  const largest = tailBound === null ? largestRelativeGap(values, rank - 1) : largestGapBelow(values, rank - 1, tailBound);
  let dimension: number;
  let source: DimensionSource;
  if (options.dimension === undefined || options.dimension === 'auto') {
    if (largest !== null && largest.gap >= gapThreshold) {
      dimension = largest.at;
      source = 'largest-relative-gap';
    } else {
      dimension = rank;
      source = 'full-rank';
    }
  } else {
    dimension = checkInteger('dimension', options.dimension, 1, rank);
    source = 'given';
  }
  const basis = matrix(d, dimension, { shared: true });
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < dimension; j++) basis.data[i * dimension + j] = right.data[right.offset + i * right.strides[0] + j * right.strides[1]];
  }
  const report: RangeReport = {
    gradients: rows,
    inputDim: d,
    dimension,
    dimensionSource: source,
    gapThreshold,
    tailBound,
    largestGapAt: largest?.at ?? null,
    largestGap: largest === null || !Number.isFinite(largest.gap) ? null : largest.gap,
    singularValues: Array.from(values),
    seconds: (performance.now() - started) / 1000,
  };
  return { basis, singularValues: values, dimension, dimensionSource: source, report };
}
