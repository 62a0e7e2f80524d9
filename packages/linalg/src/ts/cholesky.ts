/**
 * Cholesky factorization and SPD solves in plain TypeScript (row-major, lower triangle,
 * dot-product (Cholesky–Banachiewicz) form: every inner loop is a contiguous dot product of two
 * rows of L).
 */

import { trailingUpdate } from './gemm.ts';
import { wasmKernel, type WasmKernel } from './wasm.ts';

const NB = 96; // panel width of the blocked factorization
/** From this order on, the factorization runs in WebAssembly memory with the SIMD tile kernel. */
const WASM_FROM = 64;

/**
 * Overwrites the lower triangle of the n x n row-major `a` with L (A + jitter I = L L^T).
 * Returns -1 on success, else the 0-based index of the first pivot that is not positive.
 * Right-looking blocked form: factor a panel of NB columns with dot products of rows, then
 * subtract its outer product from the trailing lower triangle with a 2 x 4 register-tiled kernel
 * (about 90% of the n^3/3 flops).
 */
export function choleskyFactor(n: number, a: Float64Array, jitter: number): number {
  if (n >= WASM_FROM) {
    const w = wasmKernel();
    if (w !== null && (n * n + 4 * Math.ceil(n / 4) * NB + 16) * 8 <= 2 ** 31) return choleskyFactorWasm(n, a, jitter, w);
  }
  if (jitter !== 0) for (let i = 0; i < n; i++) a[i * n + i] += jitter;
  const panel = new Float64Array(n * NB);
  for (let j0 = 0; j0 < n; j0 += NB) {
    const jb = Math.min(NB, n - j0);
    // diagonal block and the panel below it, column by column (rows are contiguous)
    const pivot = factorPanel(n, a, j0, jb);
    if (pivot >= 0) return pivot;
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

/** One panel of NB columns from j0: the columns factored by dot products of rows; the pivot that fails, or -1. */
function factorPanel(n: number, a: Float64Array, j0: number, jb: number): number {
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
  return -1;
}

/**
 * choleskyFactor in WebAssembly memory: each panel (rows j0.., NB columns) packed in 4-row
 * micro-panels, its columns computed by the SIMD `column` kernel (rows of the diagonal micro-panel
 * here), then the trailing update by the `tiles` kernel on the same packed panel. Every entry gets
 * the operations of choleskyFactor in the same order, so the same bits.
 */
function choleskyFactorWasm(n: number, a: Float64Array, jitter: number, w: WasmKernel): number {
  const work = n * n;
  const f = w.reserve(n * n + 4 * Math.ceil(n / 4) * NB + 16);
  f.set(a.subarray(0, n * n));
  if (jitter !== 0) for (let i = 0; i < n; i++) f[i * n + i] += jitter;
  let pivot = -1;
  for (let j0 = 0; j0 < n && pivot < 0; j0 += NB) {
    const jb = Math.min(NB, n - j0);
    const rows = n - j0;
    const mp = Math.ceil(rows / 4);
    packPanel(f, work, rows, jb, j0 * n + j0, n);
    // P(i, t) = f[work + (i >> 2) 4 jb + 4 t + (i & 3)]: row j0 + i, column j0 + t
    for (let tj = 0; tj < jb; tj++) {
      const gj = tj >> 2;
      const rowJ = work + gj * 4 * jb + (tj & 3);
      let s = f[rowJ + 4 * tj];
      for (let t = 0; t < tj; t++) s -= f[rowJ + 4 * t] * f[rowJ + 4 * t];
      if (!(s > 0)) {
        pivot = j0 + tj;
        break;
      }
      const ljj = Math.sqrt(s);
      f[rowJ + 4 * tj] = ljj;
      const inv = 1 / ljj;
      for (let i = tj + 1; i < Math.min(rows, 4 * gj + 4); i++) {
        const rowI = work + gj * 4 * jb + (i & 3);
        let x = f[rowI + 4 * tj];
        for (let t = 0; t < tj; t++) x -= f[rowI + 4 * t] * f[rowJ + 4 * t];
        f[rowI + 4 * tj] = x * inv;
      }
      if (gj + 1 < mp) w.column(8 * (work + (gj + 1) * 4 * jb), mp - gj - 1, jb, tj, 8 * rowJ, inv);
    }
    unpackPanel(f, work, rows, jb, j0 * n + j0, n);
    if (pivot < 0 && j0 + jb < n) trailingUpdate(w, n, j0, jb, work + (jb / 4) * 4 * jb);
  }
  a.set(f.subarray(0, n * n));
  w.release();
  return pivot;
}

/** Rows x jb of f from `at` (row stride ld) into 4-row micro-panels at f[work..] (rows past `rows`: zeros). */
function packPanel(f: Float64Array, work: number, rows: number, jb: number, at: number, ld: number): void {
  const mp = Math.ceil(rows / 4);
  for (let i = 0; i < 4 * mp; i++) {
    const d = work + (i >> 2) * 4 * jb + (i & 3);
    if (i < rows) for (let t = 0; t < jb; t++) f[d + 4 * t] = f[at + i * ld + t];
    else for (let t = 0; t < jb; t++) f[d + 4 * t] = 0;
  }
}

function unpackPanel(f: Float64Array, work: number, rows: number, jb: number, at: number, ld: number): void {
  for (let i = 0; i < rows; i++) {
    const d = work + (i >> 2) * 4 * jb + (i & 3);
    for (let t = 0; t < jb; t++) f[at + i * ld + t] = f[d + 4 * t];
  }
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
