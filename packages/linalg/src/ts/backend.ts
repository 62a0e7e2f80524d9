/** The TypeScript tier: plain kernels over Float64Array, always available. */
import type { Backend } from '../backend.ts';
import { gemmNT } from './gemm.ts';
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

export const typescriptBackend: Backend = {
  name: 'typescript',
  gemm(transA, transB, m, n, k, a, lda, b, ldb, c) {
    // kernel wants op(A) as m x k rows and op(B)^T as n x k rows
    const ap = transA ? pack(k, m, a, lda, true) : pack(m, k, a, lda, false);
    const bt = transB ? pack(n, k, b, ldb, false) : pack(k, n, b, ldb, true);
    gemmNT(m, n, k, ap, bt, c);
  },
  gram(columns, n, p, x, ldx, out) {
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
