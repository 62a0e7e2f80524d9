/**
 * Fixtures and measures the packages' tests share: seeded random matrices, orthonormal sets,
 * the same matrix in other memory layouts, and invariant measures (max differences, U^T U - I).
 * Everything is a pure function of its arguments and a seed.
 */
import { matrix, rng, type Float64View, type Network } from '@nnid/core';

/** A rows x cols row-major matrix of N(0, 1) entries drawn from `seed`. */
export function randomMatrix(rows: number, cols: number, seed: number): Float64View {
  const out = matrix(rows, cols);
  rng(seed).fillNormal(out.data);
  return out;
}

/** Element (i, j) of a 2-d view. */
export function at(x: Float64View, i: number, j: number): number {
  return x.data[x.offset + i * x.strides[0] + j * x.strides[1]];
}

/** The same matrix laid out column-major inside a larger NaN-filled buffer with an offset: strides [1, ld]. */
export function stridedCopy(x: Float64View, pad = 3): Float64View {
  const [r, c] = x.shape;
  const ld = r + pad;
  const data = new Float64Array(5 + ld * c).fill(Number.NaN);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[5 + i + j * ld] = at(x, i, j);
  return { data, offset: 5, shape: [r, c], strides: [1, ld] };
}

/** The same matrix with a column stride of 2 and an offset (neither row- nor column-major). */
export function gappedCopy(x: Float64View): Float64View {
  const [r, c] = x.shape;
  const data = new Float64Array(1 + r * c * 2).fill(Number.NaN);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[1 + i * 2 * c + 2 * j] = at(x, i, j);
  return { data, offset: 1, shape: [r, c], strides: [2 * c, 2] };
}

/** The same matrix as the transpose view of its dense transpose: strides [1, rows], no padding. */
export function transposedCopy(x: Float64View): Float64View {
  const [r, c] = x.shape;
  const data = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = at(x, i, j);
  return { data, offset: 0, shape: [r, c], strides: [1, r] };
}

/** max |x - y| over all entries of two 2-d views of one shape. */
export function maxDiff(x: Float64View, y: Float64View): number {
  let d = 0;
  for (let i = 0; i < x.shape[0]; i++) for (let j = 0; j < x.shape[1]; j++) d = Math.max(d, Math.abs(at(x, i, j) - at(y, i, j)));
  return d;
}

/** max |x_i - y_i| over two arrays of one length. */
export function maxDiffArrays(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

/** ||x - y|| / ||y|| (2-norms) over two arrays of one length: a recovered function's values x against the truth's y. */
export function relativeL2Arrays(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < y.length; i++) {
    num += (x[i] - y[i]) ** 2;
    den += y[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** max |x| over all entries of a 2-d view. */
export function maxAbs(x: Float64View): number {
  let d = 0;
  for (let i = 0; i < x.shape[0]; i++) for (let j = 0; j < x.shape[1]; j++) d = Math.max(d, Math.abs(at(x, i, j)));
  return d;
}

/** max |U^T U - I| for the columns of u. */
export function orthonormalityError(u: Float64View): number {
  const [n, k] = u.shape;
  let d = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += at(u, i, a) * at(u, i, b);
      d = Math.max(d, Math.abs(s - (a === b ? 1 : 0)));
    }
  }
  return d;
}

/** Orthogonalizes `v` against the orthonormal `rows` (Gram-Schmidt twice), normalizes it in place and appends it. */
export function appendOrthonormal(rows: Float64Array[], v: Float64Array): Float64Array {
  const n = v.length;
  for (let pass = 0; pass < 2; pass++) {
    for (const u of rows) {
      let dot = 0;
      for (let t = 0; t < n; t++) dot += u[t] * v[t];
      for (let t = 0; t < n; t++) v[t] -= dot * u[t];
    }
  }
  const norm = Math.hypot(...v);
  for (let t = 0; t < n; t++) v[t] /= norm;
  rows.push(v);
  return v;
}

/** m orthonormal vectors in R^n from `seed` (Gaussian draws, Gram-Schmidt twice). */
export function orthonormalRows(m: number, n: number, seed: number): Float64Array[] {
  const s = rng(seed);
  const rows: Float64Array[] = [];
  for (let i = 0; i < m; i++) appendOrthonormal(rows, s.fillNormal(new Float64Array(n)));
  return rows;
}

/** A d x r row-major matrix whose columns are `orthonormalRows(r, d, seed)`. */
export function randomBasis(d: number, r: number, seed: number): Float64View {
  const cols = orthonormalRows(r, d, seed);
  const U = matrix(d, r);
  for (let i = 0; i < r; i++) for (let k = 0; k < d; k++) U.data[k * r + i] = cols[i][k];
  return U;
}

/** `count` unit vectors sum_i c_i a_i with Gaussian c from `seed` (dense combinations, like the v_l). */
export function denseCombinations(a: Float64Array[], count: number, seed: number): Float64Array[] {
  const s = rng(seed);
  const n = a[0].length;
  const out: Float64Array[] = [];
  for (let l = 0; l < count; l++) {
    const v = new Float64Array(n);
    for (const ai of a) {
      const c = s.normal();
      for (let t = 0; t < n; t++) v[t] += c * ai[t];
    }
    const norm = Math.hypot(...v);
    for (let t = 0; t < n; t++) v[t] /= norm;
    out.push(v);
  }
  return out;
}

/** The vectors as the rows of a new row-major matrix. */
export function stackRows(list: ArrayLike<number>[]): Float64View {
  const cols = list[0].length;
  const out = matrix(list.length, cols);
  list.forEach((x, i) => out.data.set(x, i * cols));
  return out;
}

/** The rows of a 2-d view as new arrays. */
export function rowsOf(x: Float64View): Float64Array[] {
  return Array.from({ length: x.shape[0] }, (_, i) => Float64Array.from({ length: x.shape[1] }, (_, j) => at(x, i, j)));
}

/** Best |cos| of `x` with any row of `view`. */
export function bestCos(view: Float64View, x: ArrayLike<number>): number {
  const [r, c] = view.shape;
  let best = 0;
  for (let i = 0; i < r; i++) {
    let s = 0;
    let nr = 0;
    for (let t = 0; t < c; t++) {
      const v = at(view, i, t);
      s += v * x[t];
      nr += v * v;
    }
    best = Math.max(best, Math.abs(s) / Math.sqrt(nr));
  }
  return best;
}

/** The bytes of a view's whole data array (compare with `.equals` for bit identity). */
export function bytes(v: Float64View | Float64Array): Buffer {
  const data = v instanceof Float64Array ? v : v.data;
  return Buffer.from(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
}

/** A network's parameters by name (A, theta, B, tau), e.g. as a stage's outputs. */
export function networkArrays(net: Network): { A: Float64View; theta: Float64Array; B: Float64View; tau: Float64Array } {
  return { A: net.A, theta: net.theta, B: net.B, tau: net.tau };
}
