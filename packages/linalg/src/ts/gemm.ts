/**
 * Dense GEMM kernels in plain TypeScript. Every kernel takes packed row-major operands laid out
 * so that its inner loop is a contiguous dot product: C[i][j] = sum_p A[i*k+p] * Bt[j*k+p].
 * The caller packs op(A) as m x k and op(B)^T as n x k (a copy of O(mk + nk), negligible next to
 * the O(mnk) product). The kernels trust their arguments.
 */

import { wasmKernel, type WasmKernel } from './wasm.ts';

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

/** Tiles of 4 columns per column block of the WebAssembly path (96 columns, as NC). */
const NT = NC / 4;

/**
 * Packs rows [0, 4 mp) of the rows x k operand (entry (i, p) at src[i rs + p cs]; rows past
 * `rows` are zeros) at f[dst..], panel by panel (KC terms): panel p0 at dst + 4 mp p0, its
 * micro-panel ig at + 4 ig kc, term t of row 4 ig + r at + 4 t + r.
 */
function packInterleaved(f: Float64Array, dst: number, rows: number, k: number, src: Float64Array, rs: number, cs: number): void {
  const mp = Math.ceil(rows / 4);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    const base = dst + 4 * mp * p0;
    if (cs === 1) {
      for (let i = 0; i < rows; i++) {
        const s = i * rs + p0;
        const d = base + (i >> 2) * 4 * kc + (i & 3);
        for (let t = 0; t < kc; t++) f[d + 4 * t] = src[s + t];
      }
    } else {
      for (let t = 0; t < kc; t++) {
        const s = (p0 + t) * cs;
        for (let i = 0; i < rows; i++) f[base + (i >> 2) * 4 * kc + 4 * t + (i & 3)] = src[s + i * rs];
      }
    }
    for (let i = rows; i < 4 * mp; i++) {
      const d = base + (i >> 2) * 4 * kc + (i & 3);
      for (let t = 0; t < kc; t++) f[d + 4 * t] = 0;
    }
  }
}

/**
 * The 4 x 4 tile of the rows x cols matrix at f[c..] (row stride ld) whose corner is (i, j) and
 * that is cut by the matrix's edge: copied into a scratch tile, updated there, copied back, so
 * that each entry sees exactly the operations of a full tile.
 */
function edgeTile(w: WasmKernel, ap: number, bp: number, kc: number, c: number, ld: number, i: number, j: number, rows: number, cols: number, subtract: number, scratch: number): void {
  const f = w.f64;
  const ri = Math.min(4, rows - i);
  const rj = Math.min(4, cols - j);
  f.fill(0, scratch, scratch + 16);
  for (let r = 0; r < ri; r++) for (let q = 0; q < rj; q++) f[scratch + 4 * r + q] = f[c + (i + r) * ld + j + q];
  w.tiles(8 * ap, 8 * bp, kc, 8 * scratch, 4, 1, subtract);
  for (let r = 0; r < ri; r++) for (let q = 0; q < rj; q++) f[c + (i + r) * ld + j + q] = f[scratch + 4 * r + q];
}

/**
 * The WebAssembly path of every product: C (m x n, row-major, overwritten) = op(A) op(B), with
 * op(A)(i, p) = a[i ars + p acs] and op(B)(p, j) = b[j brs + p bcs]; `upper` as in gemmNT (b is
 * then ignored: op(B) = op(A)^T). The same sums in the same order as gemmNT: for every entry,
 * panels of KC terms from 0, each summed in order from 0 and then added to C. Returns false
 * (and leaves c alone) when WebAssembly is unavailable or the operands do not fit its memory.
 */
export function gemmWasm(
  m: number, n: number, k: number,
  a: Float64Array, ars: number, acs: number,
  b: Float64Array, brs: number, bcs: number,
  c: Float64Array, upper = false,
): boolean {
  const w = wasmKernel();
  if (w === null) return false;
  const mp = Math.ceil(m / 4);
  const np = Math.ceil(n / 4);
  // one panel of KC terms of each operand at a time: C, then A's panel, then B's, then scratch
  const offC = 0;
  const offA = m * n;
  const offB = offA + 4 * mp * Math.min(k, KC);
  const scratch = upper ? offB : offB + 4 * np * Math.min(k, KC);
  const total = scratch + 16;
  if (total * 8 > 2 ** 31) return false;
  const f = w.reserve(total);
  const bPanel = upper ? offA : offB;
  f.fill(0, offC, offC + m * n);
  const fullCols = n % 4 === 0 ? np : np - 1;
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    packInterleaved(f, offA, m, kc, a.subarray(p0 * acs), ars, acs);
    if (!upper) packInterleaved(f, offB, n, kc, b.subarray(p0 * bcs), brs, bcs);
    const aPanel = offA;
    for (let jb0 = 0; jb0 < np; jb0 += NT) {
      const jb1 = Math.min(np, jb0 + NT);
      for (let ig = 0; ig < mp; ig++) {
        const jStart = upper ? Math.max(jb0, ig) : jb0;
        if (jStart >= jb1) continue;
        const ap = aPanel + 4 * ig * kc;
        const i = 4 * ig;
        let jg = jStart;
        if (i + 4 <= m) {
          const jEnd = Math.min(jb1, fullCols);
          if (jEnd > jStart) {
            w.tiles(8 * ap, 8 * (bPanel + 4 * jStart * kc), kc, 8 * (offC + i * n + 4 * jStart), n, jEnd - jStart, 0);
            jg = jEnd;
          }
        }
        for (; jg < jb1; jg++) edgeTile(w, ap, bPanel + 4 * jg * kc, kc, offC, n, i, 4 * jg, m, n, 0, scratch);
      }
    }
  }
  c.set(w.f64.subarray(offC, offC + m * n));
  w.release();
  if (upper) {
    for (let i = 1; i < m; i++) for (let j = 0; j < i; j++) c[i * n + j] = c[j * n + i];
  }
  return true;
}

/**
 * C (m x n, overwritten) = A^T B for A stored k x m (row stride lda) and small n, B^T packed n x k:
 * row by row of A (no transposed copy of A), each entry summed over panels of KC terms in order,
 * as gemmNT does (the same bits). Meant for J^T r: n = 1, A tall.
 */
export function gemmTNSmall(m: number, n: number, k: number, a: Float64Array, lda: number, bt: Float64Array, c: Float64Array): void {
  c.fill(0, 0, m * n);
  const s = new Float64Array(m);
  for (let j = 0; j < n; j++) {
    const b0 = j * k;
    for (let p0 = 0; p0 < k; p0 += KC) {
      const p1 = Math.min(k, p0 + KC);
      s.fill(0);
      let p = p0;
      // four rows of A per pass over s; the terms still come in order: (((s + t0) + t1) + t2) + t3
      for (; p + 3 < p1; p += 4) {
        const y0 = bt[b0 + p];
        const y1 = bt[b0 + p + 1];
        const y2 = bt[b0 + p + 2];
        const y3 = bt[b0 + p + 3];
        const r0 = p * lda;
        const r1 = r0 + lda;
        const r2 = r1 + lda;
        const r3 = r2 + lda;
        for (let i = 0; i < m; i++) s[i] = s[i] + a[r0 + i] * y0 + a[r1 + i] * y1 + a[r2 + i] * y2 + a[r3 + i] * y3;
      }
      for (; p < p1; p++) {
        const y = bt[b0 + p];
        const row = p * lda;
        for (let i = 0; i < m; i++) s[i] += a[row + i] * y;
      }
      for (let i = 0; i < m; i++) c[i * n + j] += s[i];
    }
  }
}

/**
 * The trailing update of a right-looking Cholesky step on the n x n matrix at f[0..] (the kernel's
 * memory): A[r0 + i][r0 + j] -= sum_t L[r0 + i][j0 + t] L[r0 + j][j0 + t] over the panel's jb
 * columns (t in order from 0), for every j <= i (r0 = j0 + jb); tiles on the diagonal also
 * update a few entries above it, which the factorization never reads. `packed`: the panel's rows
 * r0.. in 4-row micro-panels of jb terms (zeros past row n), followed by 16 doubles of scratch.
 */
export function trailingUpdate(w: WasmKernel, n: number, j0: number, jb: number, packed: number): void {
  const r0 = j0 + jb;
  const m = n - r0;
  const mp = Math.ceil(m / 4);
  const scratch = packed + 4 * mp * jb;
  const c = r0 * n + r0;
  for (let ig = 0; ig < mp; ig++) {
    const i = 4 * ig;
    const ap = packed + 4 * ig * jb;
    if (i + 4 <= m) {
      w.tiles(8 * ap, 8 * packed, jb, 8 * (c + i * n), n, ig + 1, 1);
    } else {
      for (let jg = 0; jg <= ig; jg++) edgeTile(w, ap, packed + 4 * jg * jb, jb, c, n, i, 4 * jg, m, m, 1, scratch);
    }
  }
}
