/**
 * Helpers of the linalg tests: reference products, rebuilt factorizations, matrices of a known
 * spectrum. The random matrices, layout copies and measures shared with other packages' tests
 * come from @nnid/testing.
 */
import type { Float64View } from '@nnid/core';
import { at, randomMatrix } from '@nnid/testing';

export { at, gappedCopy, maxAbs, maxDiff, orthonormalityError, randomMatrix, stridedCopy } from '@nnid/testing';

/** Naive reference product op(a) op(b). */
export function naiveProduct(a: Float64View, b: Float64View, transA = false, transB = false): Float64View {
  const m = transA ? a.shape[1] : a.shape[0];
  const k = transA ? a.shape[0] : a.shape[1];
  const n = transB ? b.shape[0] : b.shape[1];
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? at(a, p, i) : at(a, i, p)) * (transB ? at(b, j, p) : at(b, p, j));
      out[i * n + j] = s;
    }
  }
  return { data: out, offset: 0, shape: [m, n], strides: [n, 1] };
}

/** left diag(values) right^T. */
export function rebuild(left: Float64View, values: Float64Array, right: Float64View): Float64View {
  const n = left.shape[0];
  const p = right.shape[0];
  const r = values.length;
  const out = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) {
    let s = 0;
    for (let t = 0; t < r; t++) s += at(left, i, t) * values[t] * at(right, j, t);
    out[i * p + j] = s;
  }
  return { data: out, offset: 0, shape: [n, p], strides: [p, 1] };
}

/** A symmetric matrix Q diag(values) Q^T with a random orthogonal Q. */
export function symmetricWithSpectrum(values: number[], seed: number): Float64View {
  const n = values.length;
  const g = randomMatrix(n, n, seed);
  // Gram–Schmidt on the columns of g
  const q = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = at(g, i, j);
    for (let pass = 0; pass < 2; pass++) {
      for (let h = 0; h < j; h++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += col[i] * q[i * n + h];
        for (let i = 0; i < n; i++) col[i] -= s * q[i * n + h];
      }
    }
    let nrm = 0;
    for (let i = 0; i < n; i++) nrm += col[i] * col[i];
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < n; i++) q[i * n + j] = col[i] / nrm;
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    let s = 0;
    for (let t = 0; t < n; t++) s += q[i * n + t] * values[t] * q[j * n + t];
    out[i * n + j] = s;
    out[j * n + i] = s;
  }
  return { data: out, offset: 0, shape: [n, n], strides: [n, 1] };
}

/** True when, in every column, the first entry of largest magnitude (within 1e-9) is positive. */
export function followsSignConvention(v: Float64View): boolean {
  for (let j = 0; j < v.shape[1]; j++) {
    let big = 0;
    for (let i = 0; i < v.shape[0]; i++) big = Math.max(big, Math.abs(at(v, i, j)));
    for (let i = 0; i < v.shape[0]; i++) {
      if (Math.abs(at(v, i, j)) >= big * (1 - 1e-9)) {
        if (at(v, i, j) < 0) return false;
        break;
      }
    }
  }
  return true;
}
