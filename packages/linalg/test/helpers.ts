/** Shared helpers for the linalg tests: random matrices and invariant measures. */
import { rng } from '@nnid/core';
import type { Float64View } from '@nnid/core';

export function randomMatrix(rows: number, cols: number, seed: number): Float64View {
  const data = new Float64Array(rows * cols);
  rng(seed).fillNormal(data);
  return { data, offset: 0, shape: [rows, cols], strides: [cols, 1] };
}

/** The same matrix laid out column-major inside a larger buffer with an offset: strides [1, ld]. */
export function stridedCopy(x: Float64View, pad = 3): Float64View {
  const [r, c] = x.shape;
  const ld = r + pad;
  const data = new Float64Array(5 + ld * c).fill(Number.NaN);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[5 + i + j * ld] = at(x, i, j);
  return { data, offset: 5, shape: [r, c], strides: [1, ld] };
}

/** The same matrix with a column stride of 2 (neither row- nor column-major). */
export function gappedCopy(x: Float64View): Float64View {
  const [r, c] = x.shape;
  const data = new Float64Array(1 + r * c * 2).fill(Number.NaN);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[1 + i * 2 * c + 2 * j] = at(x, i, j);
  return { data, offset: 1, shape: [r, c], strides: [2 * c, 2] };
}

export function at(x: Float64View, i: number, j: number): number {
  return x.data[x.offset + i * x.strides[0] + j * x.strides[1]];
}

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

/** max |x - y| over all entries. */
export function maxDiff(x: Float64View, y: Float64View): number {
  let d = 0;
  for (let i = 0; i < x.shape[0]; i++) for (let j = 0; j < x.shape[1]; j++) d = Math.max(d, Math.abs(at(x, i, j) - at(y, i, j)));
  return d;
}

export function maxAbs(x: Float64View): number {
  let d = 0;
  for (let i = 0; i < x.shape[0]; i++) for (let j = 0; j < x.shape[1]; j++) d = Math.max(d, Math.abs(at(x, i, j)));
  return d;
}

/** max |U^T U - I| for the columns of u. */
export function orthonormalityError(u: Float64View): number {
  const g = naiveProduct(u, u, true, false);
  let d = 0;
  for (let i = 0; i < g.shape[0]; i++) for (let j = 0; j < g.shape[1]; j++) d = Math.max(d, Math.abs(at(g, i, j) - (i === j ? 1 : 0)));
  return d;
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
