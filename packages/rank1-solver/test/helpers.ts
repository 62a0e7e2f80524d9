/** The rank-one solver's own fixture: an orthonormal basis of span{x x^T} (shared fixtures: @nnid/testing). */
import { matrix, type Float64View } from '@nnid/core';

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
    for (let pass = 0; pass < 2; pass++) {
      for (const q of rows) {
        let dot = 0;
        for (let t = 0; t < p; t++) dot += q[t] * w[t];
        for (let t = 0; t < p; t++) w[t] -= dot * q[t];
      }
    }
    const norm = Math.hypot(...w);
    for (let t = 0; t < p; t++) w[t] /= norm;
    rows.push(w);
  }
  const out = matrix(rows.length, p);
  rows.forEach((w, j) => out.data.set(w, j * p));
  return out;
}

