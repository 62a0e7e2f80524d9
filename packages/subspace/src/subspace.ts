/**
 * The matrix space W-hat spanned by sampled Hessians: orthonormal basis (top right singular
 * vectors of the Hessian stack), its spectrum and dimension, and the geometry the rank-one
 * solver needs (distance of u u^T to W-hat, P_W(u u^T)).
 */
import {
  checkView,
  checkChoice,
  checkInteger,
  checkPositive,
  ErrorCodes,
  invalidArgument,
  matrix,
  NnidError,
  type Float64View,
  type ViewLike,
} from '@nnid/core';
import { svd } from '@nnid/linalg';
import { columnsOf, sideOf, unvec, vecOuter, type MatrixLayout } from './layout.ts';

/** An orthonormal (Frobenius) basis of a space of symmetric n x n matrices. */
export interface MatrixSubspace {
  /** k x cols, shared memory: row j is W_j vectorized in `layout`; rows are orthonormal. */
  readonly basis: Float64View;
  /** n: the matrices are n x n. */
  readonly side: number;
  readonly layout: MatrixLayout;
}

export type DimensionSource = 'given' | 'largest-relative-gap' | 'full-rank';

export interface SubspaceOptions {
  /** How the stack's rows store the Hessians (default 'full', the sampler's default). */
  layout?: MatrixLayout;
  /** dim W-hat: a number, or 'auto' (default): the largest relative gap sigma_k / sigma_{k+1}. */
  dimension?: number | 'auto';
  /** With 'auto': consider k <= maxDimension only (default: rank of the stack - 1). */
  maxDimension?: number;
}

export interface SubspaceReport {
  rows: number;
  columns: number;
  side: number;
  layout: MatrixLayout;
  dimension: number;
  dimensionSource: DimensionSource;
  /** sigma_k / sigma_{k+1} at the chosen k (null when k is the last). */
  gapAtDimension: number | null;
  /** Where the largest relative gap is, whatever was chosen. */
  largestGapAt: number | null;
  largestGap: number | null;
  /** All singular values of the stack, descending. */
  singularValues: number[];
  /** 1 - sum_{j<=k} sigma_j^2 / sum sigma^2: the stack's energy outside W-hat. */
  residualEnergy: number;
  seconds: number;
}

export interface SubspaceResult {
  subspace: MatrixSubspace;
  singularValues: Float64Array;
  dimension: number;
  dimensionSource: DimensionSource;
  report: SubspaceReport;
}

/** core's one view check (a Float64View or an ndarray, no copy), plus at least one column. */
function matrixArg(name: string, value: ViewLike, dims: string): Float64View {
  const v = checkView(name, value, { minRows: 1, dims });
  if (v.shape[1] < 1) invalidArgument(name, 'must have at least one row and one column', v.shape.join(' x '));
  return v;
}

/**
 * Largest relative gap sigma_k / sigma_{k+1} over 1 <= k <= kMax (sigma_{k+1} = 0 counts as an
 * infinite gap; the first such k wins).
 */
export function largestRelativeGap(values: ArrayLike<number>, kMax: number): { at: number; gap: number } | null {
  let best: { at: number; gap: number } | null = null;
  const top = values[0];
  for (let k = 1; k <= kMax && k < values.length; k++) {
    const next = values[k];
    // values at rounding level of the largest one are zero
    const gap = next <= top * 1e-15 ? Infinity : values[k - 1] / next;
    if (best === null || gap > best.gap) best = { at: k, gap };
    if (gap === Infinity) break;
  }
  return best;
}

/**
 * Estimates W-hat from a stack of vectorized Hessians (one per row): the span of the top
 * `dimension` right singular vectors.
 *
 * @example
 * const { subspace, singularValues, dimension } = estimateSubspace(hessianStack, { layout: 'packed', dimension: 20 });
 */
export function estimateSubspace(stack: ViewLike, options: SubspaceOptions = {}): SubspaceResult {
  const started = performance.now();
  const hessianStack = matrixArg('hessianStack', stack, 'one vectorized Hessian per row');
  if (options === null || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const layout = checkChoice('layout', options.layout ?? 'full', ['full', 'packed'] as const);
  const [rows, cols] = hessianStack.shape;
  const n = sideOf(cols, layout, 'hessianStack');
  const { values, right } = svd(hessianStack);
  const rank = values.length;
  const gapMax = options.maxDimension === undefined ? rank - 1 : checkInteger('maxDimension', options.maxDimension, 1, rank);
  const largest = largestRelativeGap(values, Math.max(1, gapMax));
  let dimension: number;
  let source: DimensionSource;
  if (options.dimension === undefined || options.dimension === 'auto') {
    if (largest === null) {
      dimension = rank;
      source = 'full-rank';
    } else {
      dimension = largest.at;
      source = 'largest-relative-gap';
    }
  } else {
    dimension = checkInteger('dimension', options.dimension, 1, rank);
    source = 'given';
  }
  if (!(values[0] > 0)) throw new NnidError(ErrorCodes.numerical, 'the Hessian stack is zero: the black box looks linear (or constant) where it was sampled');
  const basis = matrix(dimension, cols, { shared: true });
  for (let j = 0; j < dimension; j++) {
    for (let c = 0; c < cols; c++) basis.data[j * cols + c] = right.data[right.offset + c * right.strides[0] + j * right.strides[1]];
  }
  let total = 0;
  let kept = 0;
  for (let j = 0; j < rank; j++) {
    total += values[j] * values[j];
    if (j < dimension) kept += values[j] * values[j];
  }
  const report: SubspaceReport = {
    rows,
    columns: cols,
    side: n,
    layout,
    dimension,
    dimensionSource: source,
    gapAtDimension: dimension < rank ? (values[dimension] > 0 ? values[dimension - 1] / values[dimension] : null) : null,
    largestGapAt: largest?.at ?? null,
    largestGap: largest === null || !Number.isFinite(largest.gap) ? null : largest.gap,
    singularValues: Array.from(values),
    residualEnergy: total > 0 ? Math.max(0, 1 - kept / total) : 0,
    seconds: (performance.now() - started) / 1000,
  };
  return { subspace: { basis, side: n, layout }, singularValues: values, dimension, dimensionSource: source, report };
}

function checkSubspace(space: MatrixSubspace): void {
  if (!space || typeof space !== 'object') invalidArgument('subspace', 'must be a MatrixSubspace ({ basis, side, layout })', space);
  matrixArg('subspace.basis', space.basis, 'one vectorized basis matrix per row');
  const n = sideOf(space.basis.shape[1], space.layout, 'subspace.basis');
  if (n !== space.side) invalidArgument('subspace.side', `must match the basis columns (n = ${n})`, space.side);
}

function readVector(name: string, u: ArrayLike<number>, n: number): Float64Array {
  if (!u || typeof u.length !== 'number') invalidArgument(name, `must be a vector of ${n} numbers`, u);
  if (u.length !== n) throw new NnidError(ErrorCodes.dimensionMismatch, `\`${name}\` has ${u.length} numbers, expected the matrix side n = ${n}`);
  const out = Float64Array.from(u);
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[i])) invalidArgument(`${name}[${i}]`, 'must be a finite number', out[i]);
  return out;
}

/** c_j = <W_j, u u^T>_F for the basis rows. */
function coefficients(space: MatrixSubspace, u: Float64Array): Float64Array {
  const { basis, side: n, layout } = space;
  const cols = basis.shape[1];
  const outer = new Float64Array(cols);
  vecOuter(u, n, layout, outer, 0);
  const k = basis.shape[0];
  const c = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const base = basis.offset + j * basis.strides[0];
    let s = 0;
    for (let t = 0; t < cols; t++) s += basis.data[base + t * basis.strides[1]] * outer[t];
    c[j] = s;
  }
  return c;
}

/**
 * The Frobenius distance of the rank-one matrix u u^T / |u|^2 to W-hat,
 * |u u^T - P_W(u u^T)|_F = sqrt(1 - Phi(u)) for unit u (computed from the residual itself).
 *
 * @example
 * distanceToSubspace(subspace, a1);   // ~1e-12 when a1 a1^T lies in W-hat
 */
export function distanceToSubspace(subspace: MatrixSubspace, u: ArrayLike<number>): number {
  checkSubspace(subspace);
  const x = readVector('u', u, subspace.side);
  let norm2 = 0;
  for (let i = 0; i < x.length; i++) norm2 += x[i] * x[i];
  if (!(norm2 > 0)) invalidArgument('u', 'must be nonzero', 0);
  for (let i = 0; i < x.length; i++) x[i] /= Math.sqrt(norm2);
  // the residual vec(u u^T) - sum_j c_j W_j itself, not sqrt(1 - Phi): full precision near 0
  const { basis, side: n, layout } = subspace;
  const cols = basis.shape[1];
  const res = new Float64Array(cols);
  vecOuter(x, n, layout, res, 0);
  const c = coefficients(subspace, x);
  for (let j = 0; j < c.length; j++) {
    const base = basis.offset + j * basis.strides[0];
    for (let t = 0; t < cols; t++) res[t] -= c[j] * basis.data[base + t * basis.strides[1]];
  }
  let s = 0;
  for (let t = 0; t < cols; t++) s += res[t] * res[t];
  return Math.sqrt(s);
}

export interface RankOneProjection {
  /** c_j = <W_j, u u^T>. */
  coefficients: Float64Array;
  /** P_W(u u^T) = sum_j c_j W_j as a dense n x n matrix. */
  projection: Float64View;
  /** Phi(u) = |P_W(u u^T)|_F^2 (for unit u, in [0, 1]). */
  phi: number;
}

/**
 * P_W(u u^T), the projection of the rank-one matrix onto W-hat (u is used as given, not normalized).
 *
 * @example
 * const { projection, phi } = projectRankOne(subspace, u);   // gradient of Phi: 4 P_W(u u^T) u
 */
export function projectRankOne(subspace: MatrixSubspace, u: ArrayLike<number>): RankOneProjection {
  checkSubspace(subspace);
  const x = readVector('u', u, subspace.side);
  const c = coefficients(subspace, x);
  const { basis, side: n, layout } = subspace;
  const cols = basis.shape[1];
  const vec = new Float64Array(cols);
  let phi = 0;
  for (let j = 0; j < c.length; j++) {
    phi += c[j] * c[j];
    const base = basis.offset + j * basis.strides[0];
    for (let t = 0; t < cols; t++) vec[t] += c[j] * basis.data[base + t * basis.strides[1]];
  }
  const projection = matrix(n, n);
  unvec(vec, 0, 1, n, layout, projection.data);
  return { coefficients: c, projection, phi };
}

/**
 * An orthonormal basis of span{x_i x_i^T} for the rows x_i of `vectors` (m x n), in `layout`.
 * Throws when the rank-one matrices are linearly dependent.
 *
 * @example
 * const firstLayerSpan = rankOneSpan(firstLayerWeights, 'packed');
 */
export function rankOneSpan(vectorRows: ViewLike, layout: MatrixLayout = 'packed'): MatrixSubspace {
  const vectors = matrixArg('vectors', vectorRows, 'one vector per row');
  checkChoice('layout', layout, ['full', 'packed'] as const);
  const [m, n] = vectors.shape;
  const cols = columnsOf(n, layout);
  const out = matrix(m, cols, { shared: true });
  const x = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    let norm = 0;
    for (let t = 0; t < n; t++) {
      x[t] = vectors.data[vectors.offset + i * vectors.strides[0] + t * vectors.strides[1]];
      norm += x[t] * x[t];
    }
    norm = Math.sqrt(norm);
    if (!(norm > 0) || !Number.isFinite(norm)) invalidArgument(`vectors[${i}]`, 'must be a nonzero finite vector', norm);
    for (let t = 0; t < n; t++) x[t] /= norm;
    vecOuter(x, n, layout, out.data, i * cols);
  }
  orthonormalizeRows(out.data, 0, m, cols, 'vectors');
  return { basis: out, side: n, layout };
}

/**
 * Gram-Schmidt (twice) of rows [from, to) of a dense row-major array against rows [0, to).
 * Throws when a row is (numerically) in the span of the previous ones.
 */
function orthonormalizeRows(data: Float64Array, from: number, to: number, cols: number, name: string): void {
  for (let i = from; i < to; i++) {
    const ri = i * cols;
    let before = 0;
    for (let t = 0; t < cols; t++) before += data[ri + t] * data[ri + t];
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        const rj = j * cols;
        let s = 0;
        for (let t = 0; t < cols; t++) s += data[rj + t] * data[ri + t];
        for (let t = 0; t < cols; t++) data[ri + t] -= s * data[rj + t];
      }
    }
    let norm = 0;
    for (let t = 0; t < cols; t++) norm += data[ri + t] * data[ri + t];
    norm = Math.sqrt(norm);
    if (!(norm > 1e-10 * Math.sqrt(before))) {
      throw new NnidError(ErrorCodes.numerical, `\`${name}\`: row ${i} is linearly dependent on the rows before it`);
    }
    for (let t = 0; t < cols; t++) data[ri + t] /= norm;
  }
}

/**
 * An orthonormal basis of the sum of two matrix spaces (same side and layout): the basis of
 * `first`, then the part of `second` orthogonal to it.
 *
 * @example
 * const joined = joinSubspaces(rankOneSpan(A), entangledPart);
 */
export function joinSubspaces(first: MatrixSubspace, second: MatrixSubspace): MatrixSubspace {
  checkSubspace(first);
  checkSubspace(second);
  if (first.side !== second.side || first.layout !== second.layout) {
    throw new NnidError(ErrorCodes.dimensionMismatch, `cannot join subspaces of ${first.side} x ${first.side} (${first.layout}) and ${second.side} x ${second.side} (${second.layout}) matrices`);
  }
  const k1 = first.basis.shape[0];
  const k2 = second.basis.shape[0];
  const cols = first.basis.shape[1];
  const out = matrix(k1 + k2, cols, { shared: true });
  for (const [src, at] of [[first.basis, 0], [second.basis, k1]] as const) {
    for (let j = 0; j < src.shape[0]; j++) {
      for (let t = 0; t < cols; t++) out.data[(at + j) * cols + t] = src.data[src.offset + j * src.strides[0] + t * src.strides[1]];
    }
  }
  orthonormalizeRows(out.data, 0, k1 + k2, cols, 'second');
  return { basis: out, side: first.side, layout: first.layout };
}

/**
 * The stack with its component in a matrix space removed: each row minus its projection onto
 * `space` (e.g. the span of the a_i a_i^T, to look at the entangled part alone).
 *
 * @example
 * const rest = deflate(hessianStack, rankOneSpan(firstLayerWeights, 'packed'));
 */
export function deflate(stack: ViewLike, space: MatrixSubspace): Float64View {
  const hessianStack = matrixArg('hessianStack', stack, 'one vectorized Hessian per row');
  checkSubspace(space);
  const [rows, cols] = hessianStack.shape;
  if (cols !== space.basis.shape[1]) {
    throw new NnidError(ErrorCodes.dimensionMismatch, `\`hessianStack\` has ${cols} columns, the subspace's basis ${space.basis.shape[1]}`);
  }
  const out = matrix(rows, cols, { shared: true });
  const B = space.basis;
  const k = B.shape[0];
  for (let i = 0; i < rows; i++) {
    const ri = i * cols;
    for (let t = 0; t < cols; t++) out.data[ri + t] = hessianStack.data[hessianStack.offset + i * hessianStack.strides[0] + t * hessianStack.strides[1]];
    for (let j = 0; j < k; j++) {
      const bj = B.offset + j * B.strides[0];
      let s = 0;
      for (let t = 0; t < cols; t++) s += B.data[bj + t * B.strides[1]] * out.data[ri + t];
      for (let t = 0; t < cols; t++) out.data[ri + t] -= s * B.data[bj + t * B.strides[1]];
    }
  }
  return out;
}

