/**
 * Small helpers of identify(): moving weight vectors between the reduced coordinates of range(A)
 * and R^d, cosines, and the stage seeds.
 */
import { matrix, rng, type Float64View } from '@nnid/core';
import { fixSign } from '@nnid/rank1-solver';

/** A seed for stage `key` of a run, derived from the run's seed (independent streams). */
export function stageSeed(seed: number, key: number): number {
  return rng(seed).split(0x1de, key).nextUint32();
}

/** Rows y_i (m x r) mapped to R^d through U (d x r): rows U y_i, unit-normalized, sign fixed. */
export function liftRows(Y: Float64View, U: Float64View | null): Float64View {
  const [m, r] = Y.shape;
  const d = U ? U.shape[0] : r;
  const out = matrix(m, d);
  const row = new Float64Array(d);
  for (let i = 0; i < m; i++) {
    if (U) {
      row.fill(0);
      for (let a = 0; a < r; a++) {
        const y = Y.data[Y.offset + i * Y.strides[0] + a * Y.strides[1]];
        for (let t = 0; t < d; t++) row[t] += U.data[U.offset + t * U.strides[0] + a * U.strides[1]] * y;
      }
    } else {
      for (let t = 0; t < d; t++) row[t] = Y.data[Y.offset + i * Y.strides[0] + t * Y.strides[1]];
    }
    let norm = 0;
    for (let t = 0; t < d; t++) norm += row[t] * row[t];
    norm = Math.sqrt(norm);
    for (let t = 0; t < d; t++) row[t] /= norm;
    fixSign(row);
    out.data.set(row, i * d);
  }
  return out;
}

/** Rows of a and b stacked (same column count). */
export function stackRows(a: Float64View, b: Float64View): Float64View {
  const n = a.shape[1];
  const out = matrix(a.shape[0] + b.shape[0], n);
  let at = 0;
  for (const v of [a, b]) {
    for (let i = 0; i < v.shape[0]; i++) {
      for (let t = 0; t < n; t++) out.data[at * n + t] = v.data[v.offset + i * v.strides[0] + t * v.strides[1]];
      at++;
    }
  }
  return out;
}

/** The rows `idx` of a view, as a new dense view. */
export function pickRows(v: Float64View, idx: readonly number[]): Float64View {
  const n = v.shape[1];
  const out = matrix(idx.length, n);
  idx.forEach((i, r) => {
    for (let t = 0; t < n; t++) out.data[r * n + t] = v.data[v.offset + i * v.strides[0] + t * v.strides[1]];
  });
  return out;
}

/** Rows of `Y` (in the coordinates of Q's columns) mapped by Q: rows Q y_i. */
export function mapRows(Y: Float64View, Q: Float64View): Float64View {
  const [m, c] = Y.shape;
  const n = Q.shape[0];
  const out = matrix(m, n);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < n; t++) {
      let s = 0;
      for (let j = 0; j < c; j++) s += Q.data[Q.offset + t * Q.strides[0] + j * Q.strides[1]] * Y.data[Y.offset + i * Y.strides[0] + j * Y.strides[1]];
      out.data[i * n + t] = s;
    }
  }
  return out;
}

/** max |cos| between row i of `a` and any row of `b`. */
export function bestAbsCos(a: Float64View, i: number, b: Float64View): number {
  const n = a.shape[1];
  let best = 0;
  let na = 0;
  for (let t = 0; t < n; t++) na += a.data[a.offset + i * a.strides[0] + t * a.strides[1]] ** 2;
  for (let j = 0; j < b.shape[0]; j++) {
    let s = 0;
    let nb = 0;
    for (let t = 0; t < n; t++) {
      const y = b.data[b.offset + j * b.strides[0] + t * b.strides[1]];
      s += a.data[a.offset + i * a.strides[0] + t * a.strides[1]] * y;
      nb += y * y;
    }
    best = Math.max(best, Math.abs(s) / Math.sqrt(na * nb));
  }
  return best;
}

/** The rows of a view as plain arrays (for the JSON report only). */
export function rowsOf(v: Float64View): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < v.shape[0]; i++) {
    const row: number[] = [];
    for (let t = 0; t < v.shape[1]; t++) row.push(v.data[v.offset + i * v.strides[0] + t * v.strides[1]]);
    out.push(row);
  }
  return out;
}
