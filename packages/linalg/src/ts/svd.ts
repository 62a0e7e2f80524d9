/**
 * Thin SVD in plain TypeScript: Householder QR to a square triangular factor R, then one-sided
 * (Hestenes) Jacobi on the columns of R^T. One-sided Jacobi computes every singular value to
 * high relative accuracy; its cost, about 10 sweeps of 4 r^3 flops, suits the small and moderate
 * matrices it is used on (r up to a few hundred).
 */
import { NumericalError } from '@nnid/core';
import { applyHouseholderColumns, householderColumns } from './qr.ts';

const EPS = 2.220446049250313e-16;

/**
 * One-sided Jacobi on the r columns (rows of `wt`, each of length len; destroyed): on return,
 * rows of `wt` are mutually orthogonal, and `vt` (r x r, rows) holds the accumulated rotations
 * so that W_in V = W_out.
 */
function oneSidedJacobi(r: number, len: number, wt: Float64Array, vt: Float64Array): void {
  vt.fill(0, 0, r * r);
  for (let i = 0; i < r; i++) vt[i * r + i] = 1;
  const norms = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let t = 0; t < len; t++) s += wt[i * len + t] * wt[i * len + t];
    norms[i] = s;
  }
  const tol = EPS * Math.max(8, Math.sqrt(len));
  const maxSweeps = 80;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let i = 0; i < r - 1; i++) {
      const wi = i * len;
      for (let j = i + 1; j < r; j++) {
        const wj = j * len;
        const alpha = norms[i];
        const beta = norms[j];
        if (alpha === 0 || beta === 0) continue;
        let gamma = 0;
        for (let t = 0; t < len; t++) gamma += wt[wi + t] * wt[wj + t];
        if (Math.abs(gamma) <= tol * Math.sqrt(alpha) * Math.sqrt(beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const tn = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + tn * tn);
        const s = c * tn;
        let ni = 0;
        let nj = 0;
        for (let t = 0; t < len; t++) {
          const x = wt[wi + t];
          const y = wt[wj + t];
          const xn = c * x - s * y;
          const yn = s * x + c * y;
          wt[wi + t] = xn;
          wt[wj + t] = yn;
          ni += xn * xn;
          nj += yn * yn;
        }
        norms[i] = ni;
        norms[j] = nj;
        const vi = i * r;
        const vj = j * r;
        for (let t = 0; t < r; t++) {
          const x = vt[vi + t];
          const y = vt[vj + t];
          vt[vi + t] = c * x - s * y;
          vt[vj + t] = s * x + c * y;
        }
      }
    }
    if (!rotated) return;
  }
  throw new NumericalError(`svd: one-sided Jacobi did not converge in ${maxSweeps} sweeps.`);
}

/**
 * Completes the rows of `u` (r rows of length len) flagged in `missing` to an orthonormal set,
 * choosing unit vectors e_m with the largest residual against the rows already present.
 */
function completeOrthonormal(r: number, len: number, u: Float64Array, missing: boolean[]): void {
  const have: number[] = [];
  for (let i = 0; i < r; i++) if (!missing[i]) have.push(i);
  const x = new Float64Array(len);
  for (let i = 0; i < r; i++) {
    if (!missing[i]) continue;
    let best = -1;
    let bestNorm = -1;
    for (let m = 0; m < len; m++) {
      // residual norm^2 of e_m against the rows present = 1 - sum_h u_h[m]^2
      let s = 1;
      for (const h of have) s -= u[h * len + m] * u[h * len + m];
      if (s > bestNorm + 1e-12) {
        bestNorm = s;
        best = m;
      }
    }
    x.fill(0);
    x[best] = 1;
    for (let pass = 0; pass < 2; pass++) {
      for (const h of have) {
        let s = 0;
        for (let t = 0; t < len; t++) s += x[t] * u[h * len + t];
        for (let t = 0; t < len; t++) x[t] -= s * u[h * len + t];
      }
    }
    let nrm = 0;
    for (let t = 0; t < len; t++) nrm += x[t] * x[t];
    nrm = Math.sqrt(nrm);
    for (let t = 0; t < len; t++) u[i * len + t] = x[t] / nrm;
    have.push(i);
  }
}

/**
 * Thin SVD of the n x p matrix given column-major in `at` (p x n row-major; destroyed), n >= p.
 * Writes values (p, descending), left (n x p row-major), right (p x p row-major).
 */
function svdTall(n: number, p: number, at: Float64Array, values: Float64Array, left: Float64Array, right: Float64Array): void {
  const tau = new Float64Array(p);
  const rdiag = new Float64Array(p);
  householderColumns(n, p, at, tau, rdiag);
  // One-sided Jacobi on the columns of W = R^T (= the rows of R), the preconditioned form
  // (Drmac & Veselic): converges in fewer sweeps than Jacobi on R itself. W V = U S, so
  // R = V S U^T and A = Q R = (Q V) S U^T: left = Q V, right = U.
  const wt = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    wt[j * p + j] = rdiag[j];
    for (let i = j + 1; i < p; i++) wt[j * p + i] = at[i * n + j];
  }
  const vt = new Float64Array(p * p);
  oneSidedJacobi(p, p, wt, vt);
  const sig = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let t = 0; t < p; t++) s += wt[j * p + t] * wt[j * p + t];
    sig[j] = Math.sqrt(s);
  }
  const order = Array.from({ length: p }, (_, i) => i).sort((x, y) => sig[y] - sig[x] || x - y);
  const smax = sig[order[0]] ?? 0;
  // rows of ut: the normalized columns of W V (the right singular vectors of A)
  const ut = new Float64Array(p * p);
  const missing: boolean[] = [];
  for (let q = 0; q < p; q++) {
    const j = order[q];
    values[q] = sig[j];
    const tiny = sig[j] <= smax * EPS * p || sig[j] === 0;
    missing.push(tiny);
    if (!tiny) for (let t = 0; t < p; t++) ut[q * p + t] = wt[j * p + t] / sig[j];
  }
  if (missing.some((m) => m)) completeOrthonormal(p, p, ut, missing);
  for (let q = 0; q < p; q++) for (let t = 0; t < p; t++) right[t * p + q] = ut[q * p + t];
  // left = Q V: column q of left = Q applied to (row order[q] of vt, padded with zeros)
  const z = new Float64Array(p * n); // rows: the columns of left, before transposition
  for (let q = 0; q < p; q++) z.set(vt.subarray(order[q] * p, order[q] * p + p), q * n);
  applyHouseholderColumns(n, p, at, tau, z, p);
  for (let q = 0; q < p; q++) for (let i = 0; i < n; i++) left[i * p + q] = z[q * n + i];
}

/**
 * Thin SVD of the dense n x p row-major matrix `a` (not modified): values (r, descending),
 * left (n x r row-major), right (p x r row-major), r = min(n, p).
 */
export function svdKernel(n: number, p: number, a: Float64Array, values: Float64Array, left: Float64Array, right: Float64Array): void {
  const r = Math.min(n, p);
  if (r === 0) return;
  if (n >= p) {
    // column-major copy of A: rows of at are columns of A
    const at = new Float64Array(p * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) at[j * n + i] = a[i * p + j];
    svdTall(n, p, at, values, left, right);
  } else {
    // A^T is p x n (tall); its column-major copy is A row-major itself
    const at = a.slice(0, n * p);
    svdTall(p, n, at, values, right, left);
  }
}

