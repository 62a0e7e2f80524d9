/**
 * The TypeScript tier's kernels as they were at f33741c, before the blocked WebAssembly kernels:
 * the reference the new kernels must match bit for bit (kernels.test.ts).
 */

const KC = 256; // depth of one panel: 2 rows of A and 4 rows of Bt stay in L1
const NC = 96; // rows of Bt per block: 96 x 256 doubles = 192 KiB, fits L2

/**
 * C (m x n, row-major, overwritten) = A (m x k) * Bt^T (Bt: n x k). When `upper` is set (A and
 * Bt are the same matrix, m === n) only blocks touching j >= i are computed and C is mirrored.
 */
export function gemmNTReference(m: number, n: number, k: number, a: Float64Array, bt: Float64Array, c: Float64Array, upper = false): void {
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

const NB_REF = 96; // panel width of the blocked factorization

/**
 * Overwrites the lower triangle of the n x n row-major `a` with L (A + jitter I = L L^T).
 * Returns -1 on success, else the 0-based index of the first pivot that is not positive.
 * Right-looking blocked form: factor a panel of NB_REF columns with dot products of rows, then
 * subtract its outer product from the trailing lower triangle with a 2 x 4 register-tiled kernel
 * (about 90% of the n^3/3 flops).
 */
export function choleskyFactorReference(n: number, a: Float64Array, jitter: number): number {
  if (jitter !== 0) for (let i = 0; i < n; i++) a[i * n + i] += jitter;
  const panel = new Float64Array(n * NB_REF);
  for (let j0 = 0; j0 < n; j0 += NB_REF) {
    const jb = Math.min(NB_REF, n - j0);
    // diagonal block and the panel below it, column by column (rows are contiguous)
    for (let j = j0; j < j0 + jb; j++) {
      const rj = j * n;
      let s = a[rj + j];
      for (let t = j0; t < j; t++) s -= a[rj + t] * a[rj + t];
      if (!(s > 0)) return j;
      const ljj = Math.sqrt(s);
      a[rj + j] = ljj;
      const inv = 1 / ljj;
      for (let i = j + 1; i < n; i++) {
        const ri = i * n;
        let x = a[ri + j];
        for (let t = j0; t < j; t++) x -= a[ri + t] * a[rj + t];
        a[ri + j] = x * inv;
      }
    }
    const r0 = j0 + jb;
    const m = n - r0;
    if (m === 0) break;
    // pack the panel rows below the block: panel[i][t] = L[r0 + i][j0 + t]
    for (let i = 0; i < m; i++) panel.set(a.subarray((r0 + i) * n + j0, (r0 + i) * n + j0 + jb), i * jb);
    // trailing lower triangle: A[r0+i][r0+j] -= panel_i . panel_j for j <= i
    let i = 0;
    for (; i + 1 < m; i += 2) {
      const p0 = i * jb;
      const p1 = p0 + jb;
      const c0 = (r0 + i) * n + r0;
      const c1 = c0 + n;
      let j = 0;
      // quads may reach one or two entries above the diagonal: those lie in the unused upper triangle
      for (; j + 3 <= i + 1; j += 4) {
        const b0 = j * jb;
        const b1 = b0 + jb;
        const b2 = b1 + jb;
        const b3 = b2 + jb;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        for (let t = 0; t < jb; t++) {
          const x0 = panel[p0 + t];
          const x1 = panel[p1 + t];
          const y0 = panel[b0 + t];
          const y1 = panel[b1 + t];
          const y2 = panel[b2 + t];
          const y3 = panel[b3 + t];
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3;
          s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
        }
        a[c0 + j] -= s00; a[c0 + j + 1] -= s01; a[c0 + j + 2] -= s02; a[c0 + j + 3] -= s03;
        a[c1 + j] -= s10; a[c1 + j + 1] -= s11; a[c1 + j + 2] -= s12; a[c1 + j + 3] -= s13;
      }
      for (; j <= i + 1; j++) {
        const b0 = j * jb;
        let s0 = 0, s1 = 0;
        for (let t = 0; t < jb; t++) {
          const y = panel[b0 + t];
          s0 += panel[p0 + t] * y;
          s1 += panel[p1 + t] * y;
        }
        if (j <= i) a[c0 + j] -= s0;
        a[c1 + j] -= s1;
      }
    }
    if (i < m) {
      const p0 = i * jb;
      const c0 = (r0 + i) * n + r0;
      for (let j = 0; j <= i; j++) {
        const b0 = j * jb;
        let s = 0;
        for (let t = 0; t < jb; t++) s += panel[p0 + t] * panel[b0 + t];
        a[c0 + j] -= s;
      }
    }
  }
  return -1;
}

/**
 * Solves L L^T X = B in place for the k right-hand sides given as ROWS of `bt` (k x n
 * row-major), with L from `choleskyFactor`.
 */
export function choleskySubstituteReference(n: number, l: Float64Array, k: number, bt: Float64Array): void {
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

/** Copies the rows x cols matrix stored with row stride ld, transposed when `transpose`, into a dense array. */
function pack(rows: number, cols: number, src: Float64Array, ld: number, transpose: boolean): Float64Array {
  if (!transpose) {
    if (ld === cols) return src.length === rows * cols ? src : src.subarray(0, rows * cols);
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) out.set(src.subarray(i * ld, i * ld + cols), i * cols);
    return out;
  }
  // out (cols x rows) = src^T
  const out = new Float64Array(rows * cols);
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = src[i * ld + j];
    }
  }
  return out;
}

/** The TypeScript tier's gemm at f33741c: c = op(a) op(b) (the Backend contract). */
export function gemmReference(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float64Array, lda: number, b: Float64Array, ldb: number, c: Float64Array): void {
  const ap = transA ? pack(k, m, a, lda, true) : pack(m, k, a, lda, false);
  const bt = transB ? pack(n, k, b, ldb, false) : pack(k, n, b, ldb, true);
  gemmNTReference(m, n, k, ap, bt, c);
}

/** The TypeScript tier's gram at f33741c. */
export function gramReference(columns: boolean, n: number, p: number, x: Float64Array, ldx: number, out: Float64Array): void {
  if (columns) {
    const xt = pack(n, p, x, ldx, true);
    gemmNTReference(p, p, n, xt, xt, out, true);
  } else {
    const xr = pack(n, p, x, ldx, false);
    gemmNTReference(n, n, p, xr, xr, out, true);
  }
}
