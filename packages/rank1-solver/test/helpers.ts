import { matrix, rng, type Float64View } from '@nnid/core';

/** m orthonormal vectors in R^n (rows), Gram-Schmidt twice. */
export function orthonormalRows(m: number, n: number, seed: number): Float64Array[] {
  const s = rng(seed);
  const rows: Float64Array[] = [];
  for (let i = 0; i < m; i++) {
    const v = s.fillNormal(new Float64Array(n));
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
  }
  return rows;
}

/** Dense unit combinations sum_i c_li a_i with Gaussian c. */
export function denseCombinations(a: Float64Array[], m1: number, seed: number): Float64Array[] {
  const s = rng(seed);
  const n = a[0].length;
  const out: Float64Array[] = [];
  for (let l = 0; l < m1; l++) {
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

/** Best |cos| of `x` with any row of `view`. */
export function bestCos(view: Float64View, x: Float64Array): number {
  const [r, c] = view.shape;
  let best = 0;
  for (let i = 0; i < r; i++) {
    let s = 0;
    let nr = 0;
    for (let t = 0; t < c; t++) {
      const v = view.data[view.offset + i * view.strides[0] + t * view.strides[1]];
      s += v * x[t];
      nr += v * v;
    }
    best = Math.max(best, Math.abs(s) / Math.sqrt(nr));
  }
  return best;
}

export function bytes(v: Float64View): Buffer {
  return Buffer.from(v.data.buffer as ArrayBuffer, v.data.byteOffset, v.data.byteLength);
}
