/** The TypeScript tier: plain kernels over Float64Array, always available. */
import type { Backend } from '../backend.ts';
import { gemmNT, gemmTNSmall, gemmWasm } from './gemm.ts';
import { symEigKernel, symEigTopKernel } from './symeig.ts';
import { svdKernel } from './svd.ts';
import { qrKernel } from './qr.ts';
import { choleskyFactor, choleskySubstitute } from './cholesky.ts';

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

/** Products of at least this many multiply-adds go to the WebAssembly kernel (below, the copies into its memory do not pay). */
const WASM_FROM = 16384;

export const typescriptBackend: Backend = {
  name: 'typescript',
  gemm(transA, transB, m, n, k, a, lda, b, ldb, c) {
    // op(A)(i, p) = a[i ars + p acs]; op(B)(p, j) = b[j brs + p bcs]
    if (m * n * k >= WASM_FROM && Math.min(m, n) >= 4) {
      const [ars, acs] = transA ? [1, lda] : [lda, 1];
      const [brs, bcs] = transB ? [ldb, 1] : [1, ldb];
      if (gemmWasm(m, n, k, a, ars, acs, b, brs, bcs, c)) return;
    }
    // kernel wants op(A) as m x k rows and op(B)^T as n x k rows
    const bt = transB ? pack(n, k, b, ldb, false) : pack(k, n, b, ldb, true);
    if (transA && n <= 4) {
      gemmTNSmall(m, n, k, a, lda, bt, c); // J^T r: no transposed copy of the tall A
      return;
    }
    const ap = transA ? pack(k, m, a, lda, true) : pack(m, k, a, lda, false);
    gemmNT(m, n, k, ap, bt, c);
  },
  gram(columns, n, p, x, ldx, out) {
    const size = columns ? p : n;
    const depth = columns ? n : p;
    if (size * size * depth >= 2 * WASM_FROM && size >= 4) {
      // op(A) = X^T (columns) or X (rows), op(B) = op(A)^T
      if (gemmWasm(size, size, depth, x, columns ? 1 : ldx, columns ? ldx : 1, x, 0, 0, out, true)) return;
    }
    if (columns) {
      const xt = pack(n, p, x, ldx, true); // p x n
      gemmNT(p, p, n, xt, xt, out, true);
    } else {
      const xr = pack(n, p, x, ldx, false);
      gemmNT(n, n, p, xr, xr, out, true);
    }
  },
  symEig(n, a, values, vectors) {
    symEigKernel(n, a, values, vectors);
  },
  symEigTop(n, k, a, values, vectors) {
    symEigTopKernel(n, k, a, values, vectors);
  },
  svd(n, p, a, values, left, right) {
    svdKernel(n, p, a, values, left, right);
  },
  qr(n, p, a, q, r) {
    qrKernel(n, p, pack(n, p, a, p, true), q, r);
  },
  choleskySolve(n, k, a, b, jitter) {
    const pivot = choleskyFactor(n, a, jitter);
    if (pivot >= 0) return pivot;
    const bt = pack(n, k, b, k, true);
    choleskySubstitute(n, a, k, bt);
    for (let c = 0; c < k; c++) for (let i = 0; i < n; i++) b[i * k + c] = bt[c * n + i];
    return -1;
  },
};
