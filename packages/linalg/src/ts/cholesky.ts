/**
 * Cholesky factorization and SPD solves in plain TypeScript (row-major, lower triangle,
 * dot-product (Cholesky–Banachiewicz) form: every inner loop is a contiguous dot product of two
 * rows of L).
 */

/**
 * Overwrites the lower triangle of the n x n row-major `a` with L (A + jitter I = L L^T).
 * Returns -1 on success, else the 0-based index of the first pivot that is not positive.
 */
export function choleskyFactor(n: number, a: Float64Array, jitter: number): number {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    // row j of L: L[j][i] for i < j, then the pivot
    for (let i = 0; i < j; i++) {
      const ri = i * n;
      let s = a[rj + i];
      let t = 0;
      for (; t + 3 < i; t += 4) {
        s -= a[rj + t] * a[ri + t] + a[rj + t + 1] * a[ri + t + 1] + a[rj + t + 2] * a[ri + t + 2] + a[rj + t + 3] * a[ri + t + 3];
      }
      for (; t < i; t++) s -= a[rj + t] * a[ri + t];
      a[rj + i] = s / a[ri + i];
    }
    let s = a[rj + j] + jitter;
    for (let t = 0; t < j; t++) s -= a[rj + t] * a[rj + t];
    if (!(s > 0)) return j;
    a[rj + j] = Math.sqrt(s);
  }
  return -1;
}

/**
 * Solves L L^T X = B in place for the k right-hand sides given as ROWS of `bt` (k x n
 * row-major), with L from `choleskyFactor`.
 */
export function choleskySubstitute(n: number, l: Float64Array, k: number, bt: Float64Array): void {
  for (let c = 0; c < k; c++) {
    const x = c * n;
    // L y = b
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      let s = bt[x + i];
      for (let t = 0; t < i; t++) s -= l[ri + t] * bt[x + t];
      bt[x + i] = s / l[ri + i];
    }
    // L^T x = y, by columns of L^T = rows of L
    for (let i = n - 1; i >= 0; i--) {
      const ri = i * n;
      const xi = bt[x + i] / l[ri + i];
      bt[x + i] = xi;
      for (let t = 0; t < i; t++) bt[x + t] -= xi * l[ri + t];
    }
  }
}
