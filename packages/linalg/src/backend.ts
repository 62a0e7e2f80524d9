/**
 * The contract between the checked public functions and a tier's kernels. Every operand is a
 * dense row-major Float64Array whose shape the caller has validated; kernels trust it.
 */
export type TierName = 'native' | 'typescript';

export interface Backend {
  readonly name: TierName;
  /**
   * c (m x n) = op(a) op(b). `a` is stored m x k (or k x m when transA), with row stride lda;
   * `b` is stored k x n (or n x k when transB), with row stride ldb.
   */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float64Array, lda: number, b: Float64Array, ldb: number, c: Float64Array): void;
  /** out = X^T X (p x p) when columns, X X^T (n x n) when rows; x is n x p with row stride ldx. */
  gram(columns: boolean, n: number, p: number, x: Float64Array, ldx: number, out: Float64Array): void;
  /** All eigenpairs, values descending, vectors as columns (n x n). `a` is destroyed. */
  symEig(n: number, a: Float64Array, values: Float64Array, vectors: Float64Array): void;
  /** The k largest eigenpairs, values descending, vectors as columns (n x k). `a` is destroyed. */
  symEigTop(n: number, k: number, a: Float64Array, values: Float64Array, vectors: Float64Array): void;
  /** Thin SVD, r = min(n, p): values (r, descending), left n x r, right p x r. `a` is destroyed. */
  svd(n: number, p: number, a: Float64Array, values: Float64Array, left: Float64Array, right: Float64Array): void;
  /** Thin Householder QR, r = min(n, p): q n x r, r r x p. `a` is destroyed. */
  qr(n: number, p: number, a: Float64Array, q: Float64Array, r: Float64Array): void;
  /**
   * Solves (A + jitter I) X = B for SPD A (n x n, destroyed); b (n x k) is overwritten with X.
   * Returns -1, or the 0-based index of the first pivot that is not positive.
   */
  choleskySolve(n: number, k: number, a: Float64Array, b: Float64Array, jitter: number): number;
}
