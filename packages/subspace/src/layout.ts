/**
 * Vectorized symmetric matrices, as the sampler writes them: 'full' (n*n columns, row-major) or
 * 'packed' (n(n+1)/2 columns, upper triangle row by row, off-diagonal entries times sqrt 2, so
 * that Euclidean inner products of rows are Frobenius inner products of the matrices).
 */
import { invalidArgument } from '@nnid/core';

export type MatrixLayout = 'full' | 'packed';

/** The side n of the matrices stored in `cols` columns. */
export function sideOf(cols: number, layout: MatrixLayout, name: string): number {
  if (layout === 'full') {
    const n = Math.round(Math.sqrt(cols));
    if (n < 1 || n * n !== cols) invalidArgument(name, "must have n*n columns (layout 'full')", cols);
    return n;
  }
  const n = Math.round((Math.sqrt(8 * cols + 1) - 1) / 2);
  if (n < 1 || (n * (n + 1)) / 2 !== cols) invalidArgument(name, "must have n(n+1)/2 columns (layout 'packed')", cols);
  return n;
}

export function columnsOf(n: number, layout: MatrixLayout): number {
  return layout === 'full' ? n * n : (n * (n + 1)) / 2;
}

/** Writes vec(u u^T) (in `layout`) into out[at ..]. */
export function vecOuter(u: ArrayLike<number>, n: number, layout: MatrixLayout, out: Float64Array, at: number): void {
  if (layout === 'full') {
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) out[at + a * n + b] = u[a] * u[b];
    return;
  }
  let idx = at;
  for (let a = 0; a < n; a++) {
    out[idx++] = u[a] * u[a];
    const ua = Math.SQRT2 * u[a];
    for (let b = a + 1; b < n; b++) out[idx++] = ua * u[b];
  }
}

/** The dense n x n matrix (row-major) of a vectorized one starting at data[at], column stride cs. */
export function unvec(data: Float64Array, at: number, cs: number, n: number, layout: MatrixLayout, out: Float64Array): void {
  if (layout === 'full') {
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) out[a * n + b] = data[at + (a * n + b) * cs];
    return;
  }
  let idx = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      const raw = data[at + idx * cs];
      const v = a === b ? raw : raw / Math.SQRT2;
      out[a * n + b] = v;
      out[b * n + a] = v;
      idx++;
    }
  }
}
