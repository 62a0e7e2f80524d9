/**
 * The checked public functions. Each validates its arguments once (house-style errors), turns
 * its views into dense operands, and calls the kernels of the tier in use (see tier.ts), which
 * trust them. Every result is a new dense row-major view.
 */
import { NumericalError, allocFloat64, checkChoice, checkInteger, checkPositive, invalidArgument } from '@nnid/core';
import type { Float64View } from '@nnid/core';
import { backend } from './tier.ts';
import { checkBoolean, checkMatrix, checkNonEmpty, checkOptions, checkSquare, shapeText } from './check.ts';
import { denseCopy, finiteCopy, fixSigns, operand, view } from './dense.ts';
import { choleskySubstitute } from './ts/cholesky.ts';

const EPS = 2.220446049250313e-16;

export interface MatmulOptions {
  /** Use a^T in place of a. */
  transA?: boolean;
  /** Use b^T in place of b. */
  transB?: boolean;
  /** Allocate the result in a SharedArrayBuffer (for worker threads). */
  shared?: boolean;
}

/**
 * The product op(a) op(b), where op transposes when `transA` / `transB` is set. Views of any
 * strides are accepted; row-major views (and transposes of row-major views) are read in place.
 *
 * @example
 * const g = matmul(x, x, { transA: true });   // X^T X
 */
export function matmul(a: Float64View, b: Float64View, options?: MatmulOptions): Float64View {
  checkMatrix('a', a);
  checkMatrix('b', b);
  const opts = checkOptions('options', options);
  const transA = checkBoolean('options.transA', opts.transA);
  const transB = checkBoolean('options.transB', opts.transB);
  const shared = checkBoolean('options.shared', opts.shared);
  const m = transA ? a.shape[1] : a.shape[0];
  const k = transA ? a.shape[0] : a.shape[1];
  const kb = transB ? b.shape[1] : b.shape[0];
  const n = transB ? b.shape[0] : b.shape[1];
  if (kb !== k) {
    invalidArgument(
      'b',
      `must have ${k} ${transB ? 'columns' : 'rows'} to match the ${transA ? 'rows' : 'columns'} of \`a\`${transB ? ' (transB is set)' : ''}`,
      shapeText(b),
    );
  }
  const c = allocFloat64(m * n, { shared });
  if (m > 0 && n > 0) {
    if (k === 0) return view(c, m, n);
    const oa = operand(a);
    const ob = operand(b);
    backend().gemm(transA !== oa.trans, transB !== ob.trans, m, n, k, oa.data, oa.ld, ob.data, ob.ld, c);
  }
  return view(c, m, n);
}

export interface GramOptions {
  /** 'columns' (default): X^T X, the inner products of the columns; 'rows': X X^T. */
  side?: 'columns' | 'rows';
}

/**
 * The Gram matrix of the columns (X^T X, p x p, the default) or of the rows (X X^T, n x n) of an
 * n x p matrix; exactly symmetric.
 *
 * @example
 * const small = gram(stack, { side: x.shape[0] < x.shape[1] ? 'rows' : 'columns' });
 */
export function gram(x: Float64View, options?: GramOptions): Float64View {
  checkMatrix('x', x);
  const opts = checkOptions('options', options);
  const side = opts.side === undefined ? 'columns' : checkChoice('options.side', opts.side, ['columns', 'rows'] as const);
  const [n, p] = x.shape;
  const size = side === 'columns' ? p : n;
  const out = new Float64Array(size * size);
  if (size > 0 && (side === 'columns' ? n : p) > 0) {
    const o = operand(x);
    // a transposed operand swaps the roles of rows and columns
    const columns = (side === 'columns') !== o.trans;
    const [sn, sp] = o.trans ? [p, n] : [n, p];
    backend().gram(columns, sn, sp, o.data, o.ld, out);
  }
  return view(out, size, size);
}

export interface EigenResult {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Column j is the unit eigenvector of values[j] (sign convention: largest |entry| positive). */
  vectors: Float64View;
}

/** A dense copy of the symmetric matrix `s`, symmetrized as (s + s^T)/2 after checking it is symmetric. */
function symmetricCopy(name: string, s: Float64View): Float64Array {
  checkMatrix(name, s);
  checkNonEmpty(name, s);
  const n = checkSquare(name, s);
  const a = finiteCopy(name, s);
  let big = 0;
  for (let t = 0; t < a.length; t++) big = Math.max(big, Math.abs(a[t]));
  const tol = 1e-8 * big;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const x = a[i * n + j];
      const y = a[j * n + i];
      if (Math.abs(x - y) > tol) {
        invalidArgument(name, `must be symmetric; entries (${i}, ${j}) and (${j}, ${i}) differ by more than 1e-8 of its largest entry`, `${x} vs ${y}`);
      }
      const mean = 0.5 * (x + y);
      a[i * n + j] = mean;
      a[j * n + i] = mean;
    }
  }
  return a;
}

/**
 * All eigenvalues (descending) and unit eigenvectors of a symmetric matrix. The input must be
 * symmetric to 1e-8 of its largest entry; it is symmetrized before use.
 *
 * @example
 * const { values, vectors } = symEig(gram(x));   // vectors: column j for values[j]
 */
export function symEig(s: Float64View): EigenResult {
  const a = symmetricCopy('s', s);
  const n = s.shape[0];
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  backend().symEig(n, a, values, vectors);
  fixSigns(vectors, n, n);
  return { values, vectors: view(vectors, n, n) };
}

/**
 * The k largest eigenvalues (descending) and their unit eigenvectors (n x k) of a symmetric
 * matrix. Cheaper than `symEig` when k is small: the TypeScript tier reduces to tridiagonal form
 * and finds only k vectors (inverse iteration), the native tier calls dsyevr with a range.
 *
 * @example
 * const { values, vectors } = symEigTop(g, 10);
 */
export function symEigTop(s: Float64View, k: number): EigenResult {
  const a = symmetricCopy('s', s);
  const n = s.shape[0];
  checkInteger('k', k, 1, n);
  const values = new Float64Array(k);
  const vectors = new Float64Array(n * k);
  backend().symEigTop(n, k, a, values, vectors);
  fixSigns(vectors, n, k);
  return { values, vectors: view(vectors, n, k) };
}

export interface SvdResult {
  /** Singular values, descending. */
  values: Float64Array;
  /** Left singular vectors as columns (n x r). */
  left: Float64View;
  /** Right singular vectors as columns (p x r). */
  right: Float64View;
}

/** Thin SVD of a dense n x p array (destroyed), with the sign convention applied. */
function svdDense(n: number, p: number, a: Float64Array): { values: Float64Array; left: Float64Array; right: Float64Array } {
  const r = Math.min(n, p);
  const values = new Float64Array(r);
  const left = new Float64Array(n * r);
  const right = new Float64Array(p * r);
  backend().svd(n, p, a, values, left, right);
  fixSigns(left, n, r, { data: right, rows: p });
  return { values, left, right };
}

/**
 * The thin SVD x = left diag(values) right^T, r = min(n, p) triplets, values descending.
 * Accurate (one-sided Jacobi in the TypeScript tier, dgesdd in the native one): for small and
 * moderate matrices where every digit matters. Sign convention: the largest |entry| of each left
 * vector is positive; the right vector is flipped with it.
 *
 * @example
 * const { values, left, right } = svd(x);
 */
export function svd(x: Float64View): SvdResult {
  checkMatrix('x', x);
  checkNonEmpty('x', x);
  const [n, p] = x.shape;
  const r = Math.min(n, p);
  const { values, left, right } = svdDense(n, p, finiteCopy('x', x));
  return { values, left: view(left, n, r), right: view(right, p, r) };
}

/**
 * The k largest singular triplets of an n x p matrix, through the eigenvectors of the Gram matrix
 * of its smaller side (p x p when p <= n, else n x n). The Gram route squares the condition
 * number, so the vectors of the other side are recomputed as x v (or x^T u) and refined by a thin
 * SVD of that n x k (p x k) matrix: values come out to the accuracy of x itself and both sets of
 * vectors are orthonormal. Suited to wide spectral gaps; use `svd` when every digit matters.
 *
 * @example
 * const { values, left } = topSingular(hessianStack, 50);   // left: n x 50
 */
export function topSingular(x: Float64View, k: number): SvdResult {
  checkMatrix('x', x);
  checkNonEmpty('x', x);
  const [n, p] = x.shape;
  checkInteger('k', k, 1, Math.min(n, p));
  const xd = finiteCopy('x', x);
  const be = backend();
  const columns = p <= n;
  const size = columns ? p : n;
  const g = new Float64Array(size * size);
  be.gram(columns, n, p, xd, p, g);
  const values = new Float64Array(k);
  const basis = new Float64Array(size * k);
  be.symEigTop(size, k, g, values, basis);
  // other side: y = x v (n x k) or y = x^T u (p x k)
  const other = columns ? n : p;
  const y = new Float64Array(other * k);
  be.gemm(!columns, false, other, k, size, xd, p, basis, k, y);
  const r = svdDense(other, k, y); // y = U S W^T
  // this side's vectors rotate by W: basis W (size x k)
  const rotated = new Float64Array(size * k);
  be.gemm(false, false, size, k, k, basis, k, r.right, k, rotated);
  const otherView = view(r.left, other, k);
  const thisView = view(rotated, size, k);
  if (columns) {
    return { values: r.values, left: otherView, right: thisView };
  }
  // the left vectors were refined from the Gram side: apply the convention to them
  fixSigns(rotated, size, k, { data: r.left, rows: other });
  return { values: r.values, left: thisView, right: otherView };
}

export interface QrResult {
  /** n x r, orthonormal columns. */
  q: Float64View;
  /** r x p, upper triangular. */
  r: Float64View;
}

/**
 * Thin Householder QR: x = q r with q n x r orthonormal, r r x p upper triangular,
 * r = min(n, p). Diagonal signs of r follow LAPACK (dgeqrf): not forced positive.
 *
 * @example
 * const { q } = qr(x);
 */
export function qr(x: Float64View): QrResult {
  checkMatrix('x', x);
  checkNonEmpty('x', x);
  const [n, p] = x.shape;
  const r = Math.min(n, p);
  const q = new Float64Array(n * r);
  const rr = new Float64Array(r * p);
  backend().qr(n, p, finiteCopy('x', x), q, rr);
  return { q: view(q, n, r), r: view(rr, r, p) };
}

/**
 * An orthonormal basis of the column space of x when x has full column rank: the q of `qr(x)`
 * (n x min(n, p)).
 *
 * @example
 * const basis = orthonormalColumns(candidates);
 */
export function orthonormalColumns(x: Float64View): Float64View {
  return qr(x).q;
}

export interface LstsqOptions {
  /** Singular values at or below rcond * (largest) count as zero. Default max(n, p) * 2.2e-16. */
  rcond?: number;
}

export interface LstsqResult {
  /** p x k: the minimum-norm least-squares solution, one column per column of b. */
  solution: Float64View;
  /** |a x - b|_2 per column of b. */
  residualNorm: Float64Array;
  /** Number of singular values of a above rcond * (largest). */
  rank: number;
}

/**
 * Minimum-norm least squares min |a x - b|_2 for each column of b (a: n x p, b: n x k), through
 * the SVD of a (robust to rank deficiency; singular values at or below rcond times the largest
 * are dropped).
 *
 * @example
 * const { solution, rank } = lstsq(aHat, v);
 */
export function lstsq(a: Float64View, b: Float64View, options?: LstsqOptions): LstsqResult {
  checkMatrix('a', a);
  checkNonEmpty('a', a);
  checkMatrix('b', b);
  const [n, p] = a.shape;
  if (b.shape[0] !== n) invalidArgument('b', `must have ${n} rows to match the rows of \`a\``, shapeText(b));
  const opts = checkOptions('options', options);
  const rcond = opts.rcond === undefined ? Math.max(n, p) * EPS : checkPositive('options.rcond', opts.rcond, true);
  const k = b.shape[1];
  const bd = finiteCopy('b', b);
  const ad = finiteCopy('a', a);
  const keep = ad.slice();
  const s = svdDense(n, p, ad);
  const { inv, rank } = invertedValues(s.values, rcond);
  const r = s.values.length;
  // x = V diag(inv) U^T b
  const utb = new Float64Array(r * k);
  const be = backend();
  if (k > 0) be.gemm(true, false, r, k, n, s.left, r, bd, k, utb);
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) utb[i * k + j] *= inv[i];
  const x = new Float64Array(p * k);
  if (k > 0) be.gemm(false, false, p, k, r, s.right, r, utb, k, x);
  const residualNorm = new Float64Array(k);
  if (k > 0) {
    const ax = new Float64Array(n * k);
    be.gemm(false, false, n, k, p, keep, p, x, k, ax);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) {
      const d = ax[i * k + j] - bd[i * k + j];
      residualNorm[j] += d * d;
    }
    for (let j = 0; j < k; j++) residualNorm[j] = Math.sqrt(residualNorm[j]);
  }
  return { solution: view(x, p, k), residualNorm, rank };
}

function invertedValues(values: Float64Array, rcond: number): { inv: Float64Array; rank: number } {
  const cut = rcond * (values[0] ?? 0);
  const inv = new Float64Array(values.length);
  let rank = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] > cut && values[i] > 0) {
      inv[i] = 1 / values[i];
      rank++;
    }
  }
  return { inv, rank };
}

/**
 * The Moore–Penrose pseudo-inverse (p x n) of an n x p matrix, from its SVD; singular values at
 * or below rcond times the largest (default max(n, p) * 2.2e-16) count as zero.
 *
 * @example
 * const aPlus = pinv(aHat);
 */
export function pinv(a: Float64View, rcond?: number): Float64View {
  checkMatrix('a', a);
  checkNonEmpty('a', a);
  const [n, p] = a.shape;
  const rc = rcond === undefined ? Math.max(n, p) * EPS : checkPositive('rcond', rcond, true);
  const s = svdDense(n, p, finiteCopy('a', a));
  const r = s.values.length;
  const { inv } = invertedValues(s.values, rc);
  // pinv = V diag(inv) U^T: scale the columns of V, then multiply by U^T
  const vs = s.right;
  for (let i = 0; i < p; i++) for (let j = 0; j < r; j++) vs[i * r + j] *= inv[j];
  const out = new Float64Array(p * n);
  backend().gemm(false, true, p, n, r, vs, r, s.left, r, out);
  return view(out, p, n);
}

export interface CholeskyOptions {
  /** Added to the diagonal before factoring (a ridge for nearly singular normal equations). Default 0. */
  jitter?: number;
}

/** Cholesky found a pivot that is not positive: the matrix (plus jitter) is not positive definite. */
export class NotPositiveDefiniteError extends NumericalError {
  /** 0-based index of the first pivot that is not positive. */
  readonly pivot: number;
  constructor(pivot: number, jitter: number, routine = 'choleskySolve') {
    super(
      `${routine}: \`a\` is not positive definite: pivot ${pivot} (0-based) is not positive (jitter ${jitter}). ` +
        'Raise options.jitter or check the matrix.',
    );
    this.pivot = pivot;
  }
}

/**
 * Solves (a + jitter I) x = b for symmetric positive definite a (n x n; its lower triangle is
 * read) and b (n x k) by Cholesky; throws `NotPositiveDefiniteError` (a NumericalError) naming
 * the first pivot that is not positive.
 *
 * @example
 * const step = choleskySolve(jtj, jtr, { jitter: mu });
 */
export function choleskySolve(a: Float64View, b: Float64View, options?: CholeskyOptions): Float64View {
  checkMatrix('a', a);
  checkNonEmpty('a', a);
  const n = checkSquare('a', a);
  checkMatrix('b', b);
  if (b.shape[0] !== n) invalidArgument('b', `must have ${n} rows to match \`a\``, shapeText(b));
  const opts = checkOptions('options', options);
  const jitter = opts.jitter === undefined ? 0 : checkPositive('options.jitter', opts.jitter, true);
  const k = b.shape[1];
  const ad = finiteCopy('a', a);
  // both tiers read the lower triangle only
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) ad[i * n + j] = ad[j * n + i];
  const x = finiteCopy('b', b);
  const pivot = backend().choleskySolve(n, k, ad, x, jitter);
  if (pivot >= 0) throw new NotPositiveDefiniteError(pivot, jitter);
  return view(x, n, k);
}

/** A Cholesky factorization a + jitter I = L L^T, kept to solve for several right-hand sides. */
export interface CholeskyFactorization {
  readonly n: number;
  /** x with (a + jitter I) x = b, for b of n values (not modified). */
  solve(b: Float64Array): Float64Array;
}

/**
 * Factors symmetric positive definite a (n x n; only its lower triangle is read) once, for
 * solves with several right-hand sides that are not all known at once (e.g. a Newton step, then
 * a correction with the same matrix). Throws `NotPositiveDefiniteError` like choleskySolve.
 *
 * @example
 * const f = choleskyFactorization(jtj, { jitter: mu });
 * const step = f.solve(minusGradient);
 */
export function choleskyFactorization(a: Float64View, options?: CholeskyOptions): CholeskyFactorization {
  checkMatrix('a', a);
  checkNonEmpty('a', a);
  const n = checkSquare('a', a);
  const opts = checkOptions('options', options);
  const jitter = opts.jitter === undefined ? 0 : checkPositive('options.jitter', opts.jitter, true);
  const l = finiteCopy('a', a);
  // no right-hand side: both tiers leave L in the row-major lower triangle
  const pivot = backend().choleskySolve(n, 0, l, new Float64Array(0), jitter);
  if (pivot >= 0) throw new NotPositiveDefiniteError(pivot, jitter, 'choleskyFactorization');
  return {
    n,
    solve(b) {
      if (!(b instanceof Float64Array) || b.length !== n) invalidArgument('b', `must be a Float64Array of ${n} values`, b instanceof Float64Array ? b.length : typeof b);
      const x = Float64Array.from(b);
      choleskySubstitute(n, l, 1, x);
      return x;
    },
  };
}

/**
 * The Frobenius norm of a view of any rank (1-d or 2-d), scaled against overflow.
 *
 * @example
 * const rel = frobeniusNorm(residual) / frobeniusNorm(target);
 */
export function frobeniusNorm(x: Float64View): number {
  if (typeof x !== 'object' || x === null || !(x.data instanceof Float64Array) || !Array.isArray(x.shape)) {
    invalidArgument('x', 'must be a Float64View', typeof x);
  }
  if (x.shape.length === 1) {
    let big = 0;
    for (let i = 0; i < x.shape[0]; i++) big = Math.max(big, Math.abs(x.data[x.offset + i * x.strides[0]]));
    if (big === 0 || !Number.isFinite(big)) return big;
    let s = 0;
    for (let i = 0; i < x.shape[0]; i++) {
      const t = x.data[x.offset + i * x.strides[0]] / big;
      s += t * t;
    }
    return big * Math.sqrt(s);
  }
  checkMatrix('x', x);
  return norm2(denseCopy(x));
}

/** Sum of a[i] b[i]. @example dot(u, v) */
export function dot(a: Float64Array, b: Float64Array): number {
  if (!(a instanceof Float64Array)) invalidArgument('a', 'must be a Float64Array', typeof a);
  if (!(b instanceof Float64Array)) invalidArgument('b', 'must be a Float64Array', typeof b);
  if (a.length !== b.length) invalidArgument('b', `must have the length of \`a\` (${a.length})`, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** The Euclidean norm, scaled against overflow and underflow. @example norm2(v) */
export function norm2(x: Float64Array): number {
  if (!(x instanceof Float64Array)) invalidArgument('x', 'must be a Float64Array', typeof x);
  let big = 0;
  for (let i = 0; i < x.length; i++) big = Math.max(big, Math.abs(x[i]));
  if (big === 0 || !Number.isFinite(big)) return Number.isNaN(big) ? NaN : big;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const t = x[i] / big;
    s += t * t;
  }
  return big * Math.sqrt(s);
}

/**
 * A new unit vector x / |x|; throws for a zero (or non-finite) vector.
 *
 * @example
 * const u = normalize(v);
 */
export function normalize(x: Float64Array): Float64Array {
  const nrm = norm2(x);
  if (!(nrm > 0) || !Number.isFinite(nrm)) invalidArgument('x', 'must have a finite nonzero norm', nrm);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] / nrm;
  return out;
}
