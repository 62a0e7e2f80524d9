/**
 * Householder QR in plain TypeScript, on a column-major work copy (columns are contiguous rows of
 * `at`, so every reflector application is a contiguous dot product and axpy). Reflectors follow
 * LAPACK's dlarfg convention (beta = -sign(alpha) |x|), so R matches dgeqrf's R.
 */

/**
 * Factors the n x p matrix whose columns are the rows of `at` (p x n row-major, destroyed):
 * reflector j is left in at[j, j..n) with its leading 1 explicit; returns tau (r = min(n, p))
 * and writes R's diagonal into `rdiag`.
 */
export function householderColumns(n: number, p: number, at: Float64Array, tau: Float64Array, rdiag: Float64Array): void {
  const r = Math.min(n, p);
  for (let k = 0; k < r; k++) {
    const c0 = k * n + k;
    const m = n - k;
    const alpha = at[c0];
    let scale = 0;
    for (let i = 1; i < m; i++) scale = Math.max(scale, Math.abs(at[c0 + i]));
    if (scale === 0) {
      tau[k] = 0;
      rdiag[k] = alpha;
      at[c0] = 1;
      continue;
    }
    let ss = 0;
    for (let i = 1; i < m; i++) {
      const t = at[c0 + i] / scale;
      ss += t * t;
    }
    const xnorm = scale * Math.sqrt(ss);
    const big = Math.max(Math.abs(alpha), xnorm);
    const small = Math.min(Math.abs(alpha), xnorm);
    const norm = big * Math.sqrt(1 + (small / big) * (small / big));
    const beta = alpha >= 0 ? -norm : norm;
    const t = (beta - alpha) / beta;
    const inv = 1 / (alpha - beta);
    at[c0] = 1;
    for (let i = 1; i < m; i++) at[c0 + i] *= inv;
    tau[k] = t;
    rdiag[k] = beta;
    // apply H_k to the remaining columns
    for (let j = k + 1; j < p; j++) {
      const cj = j * n + k;
      let s = 0;
      for (let i = 0; i < m; i++) s += at[c0 + i] * at[cj + i];
      s *= t;
      if (s === 0) continue;
      for (let i = 0; i < m; i++) at[cj + i] -= s * at[c0 + i];
    }
  }
}

/**
 * Thin Householder QR of the n x p matrix given column-major in `at` (p x n row-major,
 * destroyed). Writes q (n x r row-major) and r (r x p row-major upper triangular), r = min(n, p).
 */
export function qrKernel(n: number, p: number, at: Float64Array, q: Float64Array, rOut: Float64Array): void {
  const r = Math.min(n, p);
  const tau = new Float64Array(r);
  const rdiag = new Float64Array(r);
  householderColumns(n, p, at, tau, rdiag);
  rOut.fill(0, 0, r * p);
  for (let i = 0; i < r; i++) {
    rOut[i * p + i] = rdiag[i];
    for (let j = i + 1; j < p; j++) rOut[i * p + j] = at[j * n + i];
  }
  const qt = formQt(n, r, at, tau);
  for (let j = 0; j < r; j++) for (let i = 0; i < n; i++) q[i * r + j] = qt[j * n + i];
}

/** Columns of Q = H_0 ... H_{r-1} [I_r; 0] as rows of an r x n row-major array. */
export function formQt(n: number, r: number, at: Float64Array, tau: Float64Array): Float64Array {
  const qt = new Float64Array(r * n);
  for (let j = 0; j < r; j++) qt[j * n + j] = 1;
  applyHouseholderColumns(n, r, at, tau, qt, r);
  return qt;
}

/**
 * Applies Q = H_0 ... H_{r-1} (reflectors in the rows of `at`, n long, from
 * `householderColumns`) to each of the `count` rows of `z` (n long each): row <- Q row. Reflectors
 * are applied last to first; four rows at a time share each reflector load.
 */
export function applyHouseholderColumns(n: number, r: number, at: Float64Array, tau: Float64Array, z: Float64Array, count: number): void {
  let q = 0;
  for (; q + 3 < count; q += 4) {
    const z0 = q * n;
    const z1 = z0 + n;
    const z2 = z1 + n;
    const z3 = z2 + n;
    for (let k = r - 1; k >= 0; k--) {
      const t = tau[k];
      if (t === 0) continue;
      const v0 = k * n + k;
      const m = n - k;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < m; i++) {
        const v = at[v0 + i];
        s0 += v * z[z0 + k + i];
        s1 += v * z[z1 + k + i];
        s2 += v * z[z2 + k + i];
        s3 += v * z[z3 + k + i];
      }
      s0 *= t; s1 *= t; s2 *= t; s3 *= t;
      for (let i = 0; i < m; i++) {
        const v = at[v0 + i];
        z[z0 + k + i] -= s0 * v;
        z[z1 + k + i] -= s1 * v;
        z[z2 + k + i] -= s2 * v;
        z[z3 + k + i] -= s3 * v;
      }
    }
  }
  for (; q < count; q++) {
    const z0 = q * n;
    for (let k = r - 1; k >= 0; k--) {
      const t = tau[k];
      if (t === 0) continue;
      const v0 = k * n + k;
      const m = n - k;
      let s = 0;
      for (let i = 0; i < m; i++) s += at[v0 + i] * z[z0 + k + i];
      s *= t;
      for (let i = 0; i < m; i++) z[z0 + k + i] -= s * at[v0 + i];
    }
  }
}
