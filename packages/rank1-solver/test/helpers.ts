/** The rank-one solver's own fixture: an orthonormal basis of span{x x^T} (shared fixtures: @nnid/testing). */
import type { Float64View } from '@nnid/core';
import { appendOrthonormal, stackRows } from '@nnid/testing';

/** An orthonormal basis (rows, packed layout with sqrt 2 off-diagonal, or full) of span{x x^T}. */
export function rankOneSpan(vectors: Float64Array[], layout: 'packed' | 'full' = 'packed'): Float64View {
  const n = vectors[0].length;
  const p = layout === 'packed' ? (n * (n + 1)) / 2 : n * n;
  const rows: Float64Array[] = [];
  for (const x of vectors) {
    const w = new Float64Array(p);
    if (layout === 'packed') {
      let idx = 0;
      for (let a = 0; a < n; a++) for (let b = a; b < n; b++) w[idx++] = x[a] * x[b] * (a === b ? 1 : Math.SQRT2);
    } else {
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) w[a * n + b] = x[a] * x[b];
    }
    appendOrthonormal(rows, w);
  }
  return stackRows(rows);
}

