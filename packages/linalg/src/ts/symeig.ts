/**
 * Symmetric eigensolver in plain TypeScript: Householder tridiagonalization (full storage,
 * row-major, contiguous inner loops) followed by the implicit QL algorithm with Wilkinson-like
 * shifts (EISPACK tql2), or, for a few eigenpairs, QL on the values only plus inverse iteration
 * on the tridiagonal matrix. Eigenvectors are kept as ROWS while rotated, so every update is a
 * contiguous loop; they are transposed into columns at the very end.
 */
import { NumericalError } from '@nnid/core';

const EPS = 2.220446049250313e-16;

function safeHypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

export interface Tridiagonal {
  /** Diagonal (n). */
  d: Float64Array;
  /** e[i] couples i and i+1; e[n-1] = 0. */
  e: Float64Array;
  /** Householder scalars; reflector k is stored in row k of the work matrix, columns k+1.. (leading 1 explicit). */
  tau: Float64Array;
}

/**
 * Forms the reflector H_k that zeroes a[k, k+2..n) against a[k, k+1] (LAPACK dlarfg convention:
 * beta = -sign(alpha) |x|, v = x / (alpha - beta), v_0 = 1), stores v in a[k, k+1..n), records
 * d[k], e[k] = beta and returns tau_k (0 when nothing is to be zeroed).
 */
function reflect(n: number, k: number, a: Float64Array, d: Float64Array, e: Float64Array, tau: Float64Array): number {
  const row = k * n;
  d[k] = a[row + k];
  const m = n - k - 1;
  const x0 = row + k + 1;
  const alpha = a[x0];
  let scale = 0;
  for (let i = 1; i < m; i++) scale = Math.max(scale, Math.abs(a[x0 + i]));
  if (scale === 0) {
    tau[k] = 0;
    e[k] = alpha;
    return 0;
  }
  let ss = 0;
  for (let i = 1; i < m; i++) {
    const t = a[x0 + i] / scale;
    ss += t * t;
  }
  const norm = safeHypot(alpha, scale * Math.sqrt(ss));
  const beta = alpha >= 0 ? -norm : norm;
  const t = (beta - alpha) / beta;
  const inv = 1 / (alpha - beta);
  a[x0] = 1;
  for (let i = 1; i < m; i++) a[x0 + i] *= inv;
  tau[k] = t;
  e[k] = beta;
  return t;
}

/** p (m) = t * B v for the m x m block B at a[c0.., c0..] (lower triangle read) and v at a[v0..]. */
function lowerSymv(n: number, a: Float64Array, c0: number, m: number, v0: number, t: number, p: Float64Array): void {
  p.fill(0, 0, m);
  for (let i = 0; i < m; i++) {
    const bi = (c0 + i) * n + c0;
    const vi = a[v0 + i];
    let s = 0;
    for (let j = 0; j < i; j++) {
      const b = a[bi + j];
      s += b * a[v0 + j];
      p[j] += b * vi;
    }
    p[i] += s + a[bi + i] * vi;
  }
  for (let i = 0; i < m; i++) p[i] *= t;
}

/**
 * Reduces the symmetric n x n matrix `a` (row-major; its LOWER triangle is read, the whole
 * array is destroyed) to tridiagonal form Q^T A Q = T with Q = H_0 H_1 ... H_{n-3},
 * H_k = I - tau_k v_k v_k^T; v_k is kept in the free upper part of row k.
 * Step k: w = p - (tau/2)(p.v) v with p = tau B v, then B <- B - v w^T - w v^T on the lower
 * triangle. The product p' = tau' B' v' of step k+1 needs only B's first column updated (it
 * yields v'), so it is fused into the update pass of step k: each row is read once per step.
 * (Same operations in the same order as the unfused form: the results are identical.)
 */
export function tridiagonalize(n: number, a: Float64Array): Tridiagonal {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const tau = new Float64Array(n);
  const p = new Float64Array(n);
  const w = new Float64Array(n);
  if (n >= 3) {
    for (let i = 0; i < n - 1; i++) a[1 + i] = a[(1 + i) * n];
    const t = reflect(n, 0, a, d, e, tau);
    if (t !== 0) lowerSymv(n, a, 1, n - 1, 1, t, p);
  }
  for (let k = 0; k < n - 2; k++) {
    const m = n - k - 1;
    const c0 = k + 1;
    const x0 = k * n + c0; // v_k
    const t = tau[k];
    if (t !== 0) {
      let pv = 0;
      for (let i = 0; i < m; i++) pv += p[i] * a[x0 + i];
      const half = 0.5 * t * pv;
      for (let i = 0; i < m; i++) w[i] = p[i] - half * a[x0 + i];
      const w0 = w[0];
      const v0 = a[x0];
      for (let i = 0; i < m; i++) a[(c0 + i) * n + c0] -= a[x0 + i] * w0 + w[i] * v0;
    } else {
      w.fill(0, 0, m);
    }
    let tn = 0;
    const y0 = c0 * n + c0 + 1; // v_{k+1}
    if (k + 1 <= n - 3) {
      for (let i = 0; i < m - 1; i++) a[y0 + i] = a[(c0 + 1 + i) * n + c0];
      tn = reflect(n, k + 1, a, d, e, tau);
    }
    if (t === 0 && tn === 0) continue;
    if (tn !== 0) p.fill(0, 0, m - 1);
    for (let i = 1; i < m; i++) {
      const bi = (c0 + i) * n + c0;
      const vi = a[x0 + i];
      const wi = w[i];
      if (tn !== 0) {
        const ui = a[y0 + i - 1];
        let s = 0;
        for (let j = 1; j < i; j++) {
          const b = a[bi + j] - (vi * w[j] + wi * a[x0 + j]);
          a[bi + j] = b;
          s += b * a[y0 + j - 1];
          p[j - 1] += b * ui;
        }
        const b = a[bi + i] - (vi * w[i] + wi * a[x0 + i]);
        a[bi + i] = b;
        p[i - 1] += s + b * ui;
      } else {
        for (let j = 1; j <= i; j++) a[bi + j] -= vi * w[j] + wi * a[x0 + j];
      }
    }
    if (tn !== 0) for (let i = 0; i < m - 1; i++) p[i] *= tn;
  }
  if (n >= 2) {
    d[n - 2] = a[(n - 2) * n + n - 2];
    e[n - 2] = a[(n - 1) * n + n - 2];
  }
  if (n >= 1) d[n - 1] = a[n * n - 1];
  e[n - 1] = 0;
  return { d, e, tau };
}

/**
 * Implicit QL on the tridiagonal (d, e) (both overwritten; d receives the eigenvalues,
 * unsorted). When `zt` is given (n x n row-major), row i is rotated with row i+1 along with the
 * columns of the implicit eigenvector matrix, so rows of zt end as eigenvectors.
 */
export function tridiagonalQL(n: number, d: Float64Array, e: Float64Array, zt: Float64Array | null): void {
  let f = 0;
  let tst1 = 0;
  const maxIter = 60;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= EPS * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > maxIter) {
          throw new NumericalError(`symEig: the QL iteration did not converge for eigenvalue ${l} after ${maxIter} sweeps.`);
        }
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = safeHypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = safeHypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (zt !== null) {
            const ri = i * n;
            const rj = ri + n;
            for (let k = 0; k < n; k++) {
              const hk = zt[rj + k];
              const zk = zt[ri + k];
              zt[rj + k] = s * zk + c * hk;
              zt[ri + k] = c * zk - s * hk;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
}

/**
 * Applies Q = H_0 ... H_{n-3} (stored in `a` by `tridiagonalize`) to each of the `count` rows of
 * `zt` (length n each): row <- Q row. Four rows at a time share each reflector load.
 */
export function applyQ(n: number, a: Float64Array, tau: Float64Array, zt: Float64Array, count: number): void {
  let r = 0;
  for (; r + 3 < count; r += 4) {
    const z0 = r * n;
    const z1 = z0 + n;
    const z2 = z1 + n;
    const z3 = z2 + n;
    for (let k = n - 3; k >= 0; k--) {
      const t = tau[k];
      if (t === 0) continue;
      const v0 = k * n + k + 1;
      const o = k + 1;
      const m = n - o;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < m; j++) {
        const v = a[v0 + j];
        s0 += v * zt[z0 + o + j];
        s1 += v * zt[z1 + o + j];
        s2 += v * zt[z2 + o + j];
        s3 += v * zt[z3 + o + j];
      }
      s0 *= t; s1 *= t; s2 *= t; s3 *= t;
      for (let j = 0; j < m; j++) {
        const v = a[v0 + j];
        zt[z0 + o + j] -= s0 * v;
        zt[z1 + o + j] -= s1 * v;
        zt[z2 + o + j] -= s2 * v;
        zt[z3 + o + j] -= s3 * v;
      }
    }
  }
  for (; r < count; r++) {
    const z0 = r * n;
    for (let k = n - 3; k >= 0; k--) {
      const t = tau[k];
      if (t === 0) continue;
      const v0 = k * n + k + 1;
      const o = z0 + k + 1;
      const m = n - k - 1;
      let s = 0;
      for (let j = 0; j < m; j++) s += a[v0 + j] * zt[o + j];
      s *= t;
      for (let j = 0; j < m; j++) zt[o + j] -= s * a[v0 + j];
    }
  }
}

/** Indices of `values` sorted by decreasing value (stable). */
function descendingOrder(values: Float64Array): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((x, y) => values[y] - values[x] || x - y);
  return idx;
}

/**
 * All eigenpairs of the symmetric n x n matrix `a` (row-major; destroyed). Writes the values in
 * descending order and the vectors as COLUMNS of `vectors` (n x n row-major).
 */
export function symEigKernel(n: number, a: Float64Array, values: Float64Array, vectors: Float64Array): void {
  if (n === 0) return;
  const { d, e, tau } = tridiagonalize(n, a);
  const zt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) zt[i * n + i] = 1;
  tridiagonalQL(n, d, e, zt);
  const order = descendingOrder(d);
  // Back-transform only the rows in their final order.
  const sorted = new Float64Array(n * n);
  for (let j = 0; j < n; j++) sorted.set(zt.subarray(order[j] * n, order[j] * n + n), j * n);
  applyQ(n, a, tau, sorted, n);
  for (let j = 0; j < n; j++) {
    values[j] = d[order[j]];
    const src = j * n;
    for (let i = 0; i < n; i++) vectors[i * n + j] = sorted[src + i];
  }
}

/**
 * Inverse iteration for eigenvectors of the unreduced-or-not tridiagonal (d, e) at the given
 * eigenvalues (all in one block [lo, hi)), with Gram–Schmidt against earlier vectors of the same
 * cluster (as LAPACK dstein does). Writes unit vectors of length n into rows of `out`.
 */
function inverseIteration(
  n: number,
  d: Float64Array,
  e: Float64Array,
  lo: number,
  hi: number,
  lambdas: number[],
  out: Float64Array,
  rows: number[],
  tnorm: number,
): void {
  const len = hi - lo;
  // LU with partial pivoting of T - lambda I (tridiagonal -> upper band of width 3).
  const u0 = new Float64Array(len);
  const u1 = new Float64Array(len);
  const u2 = new Float64Array(len);
  const mult = new Float64Array(len);
  const piv = new Uint8Array(len);
  const x = new Float64Array(len);
  const clusterGap = 1e-3 * tnorm;
  const pert = Math.max(EPS * tnorm, Number.MIN_VALUE * 1e10);
  let clusterStart = 0;
  // Deterministic pseudo-random start vector (a fixed LCG: results do not depend on any RNG state).
  let seed = 12345;
  const nextRand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296 - 0.5;
  };
  for (let q = 0; q < lambdas.length; q++) {
    if (q > 0 && Math.abs(lambdas[q] - lambdas[q - 1]) > clusterGap) clusterStart = q;
    // Perturb coincident values apart so each gets its own vector.
    let lambda = lambdas[q];
    if (q > clusterStart && Math.abs(lambda - lambdas[q - 1]) < 10 * pert * (q - clusterStart)) {
      lambda = lambdas[q - 1] - 10 * pert * (q - clusterStart);
    }
    // factor
    for (let i = 0; i < len; i++) {
      u0[i] = d[lo + i] - lambda;
      u1[i] = i + 1 < len ? e[lo + i] : 0;
      u2[i] = 0;
    }
    for (let i = 0; i < len - 1; i++) {
      const sub = e[lo + i];
      if (Math.abs(u0[i]) >= Math.abs(sub)) {
        piv[i] = 0;
        if (u0[i] === 0) u0[i] = pert;
        const mlt = sub / u0[i];
        mult[i] = mlt;
        u0[i + 1] -= mlt * u1[i];
      } else {
        piv[i] = 1;
        const mlt = u0[i] / sub;
        mult[i] = mlt;
        // swap rows i and i+1
        const a1 = u1[i];
        u0[i] = sub;
        u1[i] = u0[i + 1];
        u2[i] = i + 1 < len - 1 ? e[lo + i + 1] : 0;
        u0[i + 1] = a1 - mlt * u1[i];
        u1[i + 1] = i + 1 < len - 1 ? -mlt * u2[i] : 0;
      }
    }
    if (u0[len - 1] === 0) u0[len - 1] = pert;
    for (let i = 0; i < len; i++) x[i] = nextRand();
    for (let it = 0; it < 3; it++) {
      // orthogonalize against earlier vectors of the cluster
      for (let r = clusterStart; r < q; r++) {
        const row = rows[r] * n + lo;
        let s = 0;
        for (let i = 0; i < len; i++) s += x[i] * out[row + i];
        for (let i = 0; i < len; i++) x[i] -= s * out[row + i];
      }
      // solve L U y = x: forward with the stored multipliers and pivots
      for (let i = 0; i < len - 1; i++) {
        if (piv[i] === 1) {
          const tmp = x[i];
          x[i] = x[i + 1];
          x[i + 1] = tmp - mult[i] * x[i];
        } else {
          x[i + 1] -= mult[i] * x[i];
        }
      }
      x[len - 1] /= u0[len - 1];
      if (len >= 2) x[len - 2] = (x[len - 2] - u1[len - 2] * x[len - 1]) / u0[len - 2];
      for (let i = len - 3; i >= 0; i--) x[i] = (x[i] - u1[i] * x[i + 1] - u2[i] * x[i + 2]) / u0[i];
      let nrm = 0;
      for (let i = 0; i < len; i++) nrm += x[i] * x[i];
      nrm = Math.sqrt(nrm);
      if (!(nrm > 0) || !Number.isFinite(nrm)) {
        throw new NumericalError('symEigTop: inverse iteration broke down (non-finite iterate).');
      }
      for (let i = 0; i < len; i++) x[i] /= nrm;
    }
    for (let r = clusterStart; r < q; r++) {
      const row = rows[r] * n + lo;
      let s = 0;
      for (let i = 0; i < len; i++) s += x[i] * out[row + i];
      for (let i = 0; i < len; i++) x[i] -= s * out[row + i];
    }
    let nrm = 0;
    for (let i = 0; i < len; i++) nrm += x[i] * x[i];
    nrm = Math.sqrt(nrm);
    const row = rows[q] * n;
    out.fill(0, row, row + n);
    for (let i = 0; i < len; i++) out[row + lo + i] = x[i] / nrm;
  }
}

/**
 * The k largest eigenpairs of the symmetric n x n matrix `a` (row-major; destroyed): values
 * descending into `values` (k), vectors as columns of `vectors` (n x k row-major). Cost
 * (4/3) n^3 for the reduction plus O(n^2 k); falls back to the full solver when k is large.
 */
export function symEigTopKernel(n: number, k: number, a: Float64Array, values: Float64Array, vectors: Float64Array): void {
  if (k === 0 || n === 0) return;
  if (k * 4 > n || n <= 64) {
    const allValues = new Float64Array(n);
    const allVectors = new Float64Array(n * n);
    symEigKernel(n, a, allValues, allVectors);
    values.set(allValues.subarray(0, k));
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) vectors[i * k + j] = allVectors[i * n + j];
    return;
  }
  const { d, e, tau } = tridiagonalize(n, a);
  let tnorm = 0;
  for (let i = 0; i < n; i++) tnorm = Math.max(tnorm, Math.abs(d[i]) + Math.abs(e[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0));
  if (tnorm === 0) tnorm = 1;
  // Split into unreduced blocks; eigenvalues of each block by QL without vectors.
  const blockOf = new Int32Array(n);
  const blocks: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const last = i === n - 1 || Math.abs(e[i]) <= EPS * (Math.abs(d[i]) + Math.abs(d[i + 1]));
    if (last) {
      blocks.push([start, i + 1]);
      start = i + 1;
    }
  }
  const ev = new Float64Array(n);
  for (let b = 0; b < blocks.length; b++) {
    const [lo, hi] = blocks[b];
    const len = hi - lo;
    const db = d.slice(lo, hi);
    const eb = new Float64Array(len);
    for (let i = 0; i < len - 1; i++) eb[i] = e[lo + i];
    tridiagonalQL(len, db, eb, null);
    for (let i = 0; i < len; i++) {
      ev[lo + i] = db[i];
      blockOf[lo + i] = b;
    }
  }
  const order = descendingOrder(ev).slice(0, k);
  const zt = new Float64Array(k * n);
  // Group the wanted values by block; within a block, in descending order.
  for (let b = 0; b < blocks.length; b++) {
    const mine: number[] = [];
    for (let q = 0; q < k; q++) if (blockOf[order[q]] === b) mine.push(q);
    if (mine.length === 0) continue;
    const [lo, hi] = blocks[b];
    inverseIteration(n, d, e, lo, hi, mine.map((q) => ev[order[q]]), zt, mine, tnorm);
  }
  applyQ(n, a, tau, zt, k);
  for (let j = 0; j < k; j++) {
    values[j] = ev[order[j]];
    for (let i = 0; i < n; i++) vectors[i * k + j] = zt[j * n + i];
  }
}
