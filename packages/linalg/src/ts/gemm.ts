/**
 * Dense GEMM kernels in plain TypeScript. Every kernel takes packed row-major operands laid out
 * so that its inner loop is a contiguous dot product: C[i][j] = sum_p A[i*k+p] * Bt[j*k+p].
 * The caller packs op(A) as m x k and op(B)^T as n x k (a copy of O(mk + nk), negligible next to
 * the O(mnk) product). The kernels trust their arguments.
 */

const KC = 256; // depth of one panel: 2 rows of A and 4 rows of Bt stay in L1
const NC = 96; // rows of Bt per block: 96 x 256 doubles = 192 KiB, fits L2

/**
 * C (m x n, row-major, overwritten) = A (m x k) * Bt^T (Bt: n x k). When `upper` is set (A and
 * Bt are the same matrix, m === n) only blocks touching j >= i are computed and C is mirrored.
 */
export function gemmNT(m: number, n: number, k: number, a: Float64Array, bt: Float64Array, c: Float64Array, upper = false): void {
  c.fill(0, 0, m * n);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const p1 = Math.min(k, p0 + KC);
    for (let j0 = 0; j0 < n; j0 += NC) {
      const j1 = Math.min(n, j0 + NC);
      const iEnd = upper ? Math.min(m, j1) : m;
      let i = 0;
      for (; i + 1 < iEnd; i += 2) {
        const a0 = i * k;
        const a1 = a0 + k;
        const c0 = i * n;
        const c1 = c0 + n;
        let j = upper ? Math.max(j0, i - (i % 4)) : j0;
        if (j < j0) j = j0;
        for (; j + 3 < j1; j += 4) {
          const b0 = j * k;
          const b1 = b0 + k;
          const b2 = b1 + k;
          const b3 = b2 + k;
          let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
          for (let p = p0; p < p1; p++) {
            const x0 = a[a0 + p];
            const x1 = a[a1 + p];
            const y0 = bt[b0 + p];
            const y1 = bt[b1 + p];
            const y2 = bt[b2 + p];
            const y3 = bt[b3 + p];
            s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
            s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          }
          c[c0 + j] += s00; c[c0 + j + 1] += s01; c[c0 + j + 2] += s02; c[c0 + j + 3] += s03;
          c[c1 + j] += s10; c[c1 + j + 1] += s11; c[c1 + j + 2] += s12; c[c1 + j + 3] += s13;
        }
        for (; j < j1; j++) {
          const b0 = j * k;
          let s0 = 0, s1 = 0;
          for (let p = p0; p < p1; p++) {
            const y = bt[b0 + p];
            s0 += a[a0 + p] * y;
            s1 += a[a1 + p] * y;
          }
          c[c0 + j] += s0;
          c[c1 + j] += s1;
        }
      }
      for (; i < iEnd; i++) {
        const a0 = i * k;
        const c0 = i * n;
        for (let j = upper ? Math.max(j0, i) : j0; j < j1; j++) {
          const b0 = j * k;
          let s = 0;
          for (let p = p0; p < p1; p++) s += a[a0 + p] * bt[b0 + p];
          c[c0 + j] += s;
        }
      }
    }
  }
  if (upper) {
    for (let i = 1; i < m; i++) for (let j = 0; j < i; j++) c[i * n + j] = c[j * n + i];
  }
}
