/**
 * Rank-one elements of a matrix space W: local maximizers of Phi(u) = |P_W(u u^T)|_F^2 on the
 * unit sphere, by projected ascent u <- normalize(u + gamma P_W(u u^T) u) from many random
 * starts, in worker threads. Keeps the maximizers that pass the a-posteriori check Phi >=
 * threshold, merges duplicates up to sign, orders them by Phi and fixes each sign.
 */
import { availableParallelism } from 'node:os';
import {
  checkChoice,
  checkInteger,
  checkPositive,
  checkView,
  invalidArgument,
  matrix,
  toDescriptor,
  type Float64View,
  type ViewLike,
} from '@nnid/core';
import { createSolverPool, type SolverPool } from './pool.ts';
import { runChunk, type ChunkTask } from './task.ts';
import { alignChunkSize } from './batch.ts';

export type BasisLayout = 'full' | 'packed';

export interface RankOneOptions {
  /**
   * How each basis row stores its n x n symmetric matrix: 'packed' (default; n(n+1)/2 columns,
   * upper triangle row by row, off-diagonal entries times sqrt 2, as @nnid/hessian-sampler and
   * @nnid/subspace write it) or 'full' (n*n columns, row-major).
   */
  layout?: BasisLayout;
  /** Random starts (default 10 k, k = basis rows). Start s begins at rng(seed).split(s). */
  starts?: number;
  /** Explicit start vectors (rows, n or restricted q columns) instead of random ones. */
  startVectors?: ViewLike;
  seed?: number;
  /** Worker threads (default os.availableParallelism()); 1 runs in the main thread. */
  threads?: number;
  /** A pool to run on (left open); default: a pool is made and closed for this call. */
  pool?: SolverPool;
  /** Step of the ascent (default 5). */
  gamma?: number;
  /** Iterations per start (default 2000). */
  maxIterations?: number;
  /** A start has converged when |u_{t+1} - u_t| <= tolerance (default 1e-12). */
  tolerance?: number;
  /**
   * Switch to Riemannian Newton steps (kept only while Phi does not drop) once an ascent step
   * moves less than this (default 1e-2; 0 turns Newton off).
   */
  newtonSwitch?: number;
  /** A-posteriori check: keep maximizers with Phi >= threshold (default 0.9). */
  threshold?: number;
  /** Maximizers with |cos| > mergeCos are one candidate (the one of largest Phi). Default 0.95. */
  mergeCos?: number;
  /**
   * An n x q matrix with orthonormal columns Q: search only u = Q y (e.g. the orthogonal
   * complement of weights already found).
   */
  restrictTo?: ViewLike;
  /** Starts per worker task (default ceil(starts / (4 threads))), rounded up to a multiple of 32 (the batched blocks). Results do not depend on it. */
  chunkSize?: number;
}

export interface RankOneReport {
  side: number;
  basisDimension: number;
  layout: BasisLayout;
  /** Search dimension: n, or q with restrictTo. */
  searchDimension: number;
  restricted: boolean;
  starts: number;
  startSource: 'random' | 'given';
  seed: number;
  gamma: number;
  maxIterations: number;
  tolerance: number;
  newtonSwitch: number;
  threshold: number;
  mergeCos: number;
  /** Starts whose maximizer passed the check. */
  accepted: number;
  notConverged: number;
  meanIterations: number;
  meanNewtonSteps: number;
  maxIterationsUsed: number;
  /** Largest Phi among the starts that failed the check (null when none failed). */
  bestRejectedPhi: number | null;
  candidates: number;
  /** Phi of each candidate (the a-posteriori certificate), in candidate order. */
  certificates: number[];
  /** How many accepted starts merged into each candidate. */
  hits: number[];
  signConvention: string;
  threads: number;
  mode: 'workers' | 'main-thread';
  seconds: number;
}

export interface RankOneResult {
  /** c x n: one unit vector per row, ordered by Phi (descending). */
  candidates: Float64View;
  /** Phi of each candidate. */
  certificates: Float64Array;
  hits: number[];
  report: RankOneReport;
}

export const SIGN_CONVENTION = 'largest-|entry| positive (first such entry on ties)';

function sideOf(cols: number, layout: BasisLayout): number {
  if (layout === 'full') {
    const n = Math.round(Math.sqrt(cols));
    if (n * n !== cols) invalidArgument('basis', "must have n*n columns (layout 'full')", cols);
    return n;
  }
  const n = Math.round((Math.sqrt(8 * cols + 1) - 1) / 2);
  if ((n * (n + 1)) / 2 !== cols) invalidArgument('basis', "must have n(n+1)/2 columns (layout 'packed')", cols);
  return n;
}

/** Dense n x n symmetric matrix of basis row j. */
function unpackRow(basis: Float64View, j: number, n: number, layout: BasisLayout, out: Float64Array): void {
  const base = basis.offset + j * basis.strides[0];
  const cs = basis.strides[1];
  if (layout === 'full') {
    for (let a = 0; a < n; a++) {
      for (let b = a; b < n; b++) {
        const v = 0.5 * (basis.data[base + (a * n + b) * cs] + basis.data[base + (b * n + a) * cs]);
        out[a * n + b] = v;
        out[b * n + a] = v;
      }
    }
    return;
  }
  let idx = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      const raw = basis.data[base + idx * cs];
      const v = a === b ? raw : raw / Math.SQRT2;
      out[a * n + b] = v;
      out[b * n + a] = v;
      idx++;
    }
  }
}

function checkOrthonormalRows(basis: Float64View): void {
  const [k, cols] = basis.shape;
  let worst = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let s = 0;
      const bi = basis.offset + i * basis.strides[0];
      const bj = basis.offset + j * basis.strides[0];
      for (let t = 0; t < cols; t++) s += basis.data[bi + t * basis.strides[1]] * basis.data[bj + t * basis.strides[1]];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  if (!(worst <= 1e-8)) invalidArgument('basis', `must have orthonormal rows (max |W W^T - I| = ${worst.toExponential(2)})`, `${k} x ${cols}`);
}

function checkOrthonormalColumns(Q: Float64View, n: number): number {
  const q = Q.shape[1];
  checkInteger('restrictTo.shape[1]', q, 1, n);
  let worst = 0;
  for (let i = 0; i < q; i++) {
    for (let j = i; j < q; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += Q.data[Q.offset + t * Q.strides[0] + i * Q.strides[1]] * Q.data[Q.offset + t * Q.strides[0] + j * Q.strides[1]];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  if (!(worst <= 1e-8)) invalidArgument('restrictTo', `must have orthonormal columns (max |Q^T Q - I| = ${worst.toExponential(2)})`, `${n} x ${q}`);
  return q;
}

/**
 * The k search matrices in packed, unscaled form (k x m(m+1)/2, shared memory): W_j, or
 * Q^T W_j Q with restrictTo.
 */
function searchMatrices(basis: Float64View, n: number, layout: BasisLayout, Q: Float64View | undefined, m: number): Float64View {
  const k = basis.shape[0];
  const p = (m * (m + 1)) / 2;
  const out = matrix(k, p, { shared: true });
  const dense = new Float64Array(n * n);
  const WQ = new Float64Array(n * m);
  const small = new Float64Array(m * m);
  for (let j = 0; j < k; j++) {
    unpackRow(basis, j, n, layout, dense);
    let src = dense;
    if (Q) {
      // WQ = W_j Q (n x m), small = Q^T WQ (m x m)
      for (let a = 0; a < n; a++) {
        for (let c = 0; c < m; c++) {
          let s = 0;
          for (let b = 0; b < n; b++) s += dense[a * n + b] * Q.data[Q.offset + b * Q.strides[0] + c * Q.strides[1]];
          WQ[a * m + c] = s;
        }
      }
      for (let c = 0; c < m; c++) {
        for (let e = c; e < m; e++) {
          let s = 0;
          for (let a = 0; a < n; a++) s += Q.data[Q.offset + a * Q.strides[0] + c * Q.strides[1]] * WQ[a * m + e];
          small[c * m + e] = s;
          small[e * m + c] = s;
        }
      }
      src = small;
    }
    let idx = 0;
    for (let a = 0; a < m; a++) for (let b = a; b < m; b++) out.data[j * p + idx++] = src[a * m + b];
  }
  return out;
}

/** Flips v in place so that its largest-|entry| (first on ties) is positive. */
export function fixSign(v: Float64Array): void {
  let at = 0;
  for (let i = 1; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[at])) at = i;
  if (v[at] < 0) for (let i = 0; i < v.length; i++) v[i] = -v[i];
}

/**
 * Finds the rank-one elements of the matrix space spanned by the (Frobenius-orthonormal) rows
 * of `basis`.
 *
 * @example
 * const { candidates, certificates } = await findRankOne(subspace.basis, { layout: 'packed', starts: 130, seed: 1, threads: 2 });
 */
export async function findRankOne(basis: ViewLike, options: RankOneOptions = {}): Promise<RankOneResult> {
  const started = performance.now();
  basis = checkView('basis', basis, { minRows: 1, dims: 'one vectorized symmetric matrix per row' });
  if (options === null || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const layout = checkChoice('layout', options.layout ?? 'packed', ['full', 'packed'] as const);
  const [k, cols] = basis.shape;
  const n = sideOf(cols, layout);
  checkOrthonormalRows(basis);
  const Q = options.restrictTo === undefined ? undefined : checkView('restrictTo', options.restrictTo, { rows: n, rowsName: 'the matrix side n', dims: 'n x q' });
  const m = Q === undefined ? n : checkOrthonormalColumns(Q, n);
  const seed = checkInteger('seed', options.seed ?? 0, 0);
  const threads = options.pool ? options.pool.threads : checkInteger('threads', options.threads ?? availableParallelism(), 1, 1024);
  const gamma = checkPositive('gamma', options.gamma ?? 5);
  const maxIterations = checkInteger('maxIterations', options.maxIterations ?? 2000);
  const tolerance = checkPositive('tolerance', options.tolerance ?? 1e-12);
  const newtonSwitch = checkPositive('newtonSwitch', options.newtonSwitch ?? 1e-2, true);
  const threshold = checkPositive('threshold', options.threshold ?? 0.9, true);
  const mergeCos = checkPositive('mergeCos', options.mergeCos ?? 0.95);
  if (mergeCos >= 1) invalidArgument('mergeCos', 'must be a number in (0, 1)', mergeCos);
  let startVectors: Float64View | null = null;
  let starts: number;
  if (options.startVectors !== undefined) {
    const sv = checkView('startVectors', options.startVectors, { cols: m, colsName: 'the search dimension', dims: 'one start per row' });
    starts = checkInteger('startVectors.shape[0]', sv.shape[0]);
    const copy = matrix(starts, m, { shared: true });
    for (let i = 0; i < starts; i++) {
      let norm = 0;
      for (let a = 0; a < m; a++) {
        const v = sv.data[sv.offset + i * sv.strides[0] + a * sv.strides[1]];
        if (!Number.isFinite(v)) invalidArgument(`startVectors[${i}]`, 'must hold finite numbers', v);
        copy.data[i * m + a] = v;
        norm += v * v;
      }
      if (!(norm > 0)) invalidArgument(`startVectors[${i}]`, 'must be nonzero', 0);
    }
    startVectors = copy;
  } else {
    starts = checkInteger('starts', options.starts ?? 10 * k);
  }
  const chunkSize = alignChunkSize(options.chunkSize === undefined ? Math.max(1, Math.ceil(starts / (4 * threads))) : checkInteger('chunkSize', options.chunkSize));

  const W = searchMatrices(basis, n, layout, Q, m);
  const out = matrix(starts, m, { shared: true });
  const stats = matrix(starts, 4, { shared: true });
  const tasks: ChunkTask[] = [];
  for (let s0 = 0; s0 < starts; s0 += chunkSize) {
    tasks.push({
      W: toDescriptor(W),
      n: m,
      k,
      gamma,
      maxIterations,
      tolerance,
      newtonSwitch,
      seed,
      start: s0,
      end: Math.min(starts, s0 + chunkSize),
      startVectors: startVectors ? toDescriptor(startVectors) : null,
      out: toDescriptor(out),
      stats: toDescriptor(stats),
    });
  }
  let mode: 'workers' | 'main-thread' = 'main-thread';
  if (threads === 1) {
    for (const t of tasks) runChunk(t);
  } else {
    mode = 'workers';
    const pool = options.pool ?? createSolverPool({ threads });
    try {
      await pool.run(tasks);
    } finally {
      if (!options.pool) await pool.close();
    }
  }

  // a-posteriori check, then merge up to sign: best Phi first, ties by start index
  const accepted: number[] = [];
  let notConverged = 0;
  let itSum = 0;
  let itMax = 0;
  let bestRejected: number | null = null;
  let newtonSum = 0;
  for (let i = 0; i < starts; i++) {
    const phi = stats.data[i * 4];
    const its = stats.data[i * 4 + 1];
    itSum += its;
    itMax = Math.max(itMax, its);
    newtonSum += stats.data[i * 4 + 3];
    if (stats.data[i * 4 + 2] === 0) notConverged++;
    if (phi >= threshold && Number.isFinite(phi)) accepted.push(i);
    else if (Number.isFinite(phi)) bestRejected = bestRejected === null ? phi : Math.max(bestRejected, phi);
  }
  accepted.sort((a, b) => stats.data[b * 4] - stats.data[a * 4] || a - b);
  // map to the original coordinates
  const full = (i: number): Float64Array => {
    const y = out.data.subarray(i * m, (i + 1) * m);
    if (!Q) return Float64Array.from(y);
    const u = new Float64Array(n);
    for (let a = 0; a < n; a++) {
      let s = 0;
      for (let c = 0; c < m; c++) s += Q.data[Q.offset + a * Q.strides[0] + c * Q.strides[1]] * y[c];
      u[a] = s;
    }
    let norm = 0;
    for (let a = 0; a < n; a++) norm += u[a] * u[a];
    norm = Math.sqrt(norm);
    for (let a = 0; a < n; a++) u[a] /= norm;
    return u;
  };
  const reps: Float64Array[] = [];
  const certs: number[] = [];
  const hits: number[] = [];
  for (const i of accepted) {
    const u = full(i);
    let merged = -1;
    for (let r = 0; r < reps.length && merged < 0; r++) {
      let c = 0;
      for (let a = 0; a < n; a++) c += reps[r][a] * u[a];
      if (Math.abs(c) > mergeCos) merged = r;
    }
    if (merged >= 0) {
      hits[merged]++;
      continue;
    }
    fixSign(u);
    reps.push(u);
    certs.push(stats.data[i * 4]);
    hits.push(1);
  }
  const candidates = matrix(reps.length, n);
  reps.forEach((u, r) => candidates.data.set(u, r * n));
  const report: RankOneReport = {
    side: n,
    basisDimension: k,
    layout,
    searchDimension: m,
    restricted: Q !== undefined,
    starts,
    startSource: startVectors ? 'given' : 'random',
    seed,
    gamma,
    maxIterations,
    tolerance,
    newtonSwitch,
    threshold,
    mergeCos,
    accepted: accepted.length,
    notConverged,
    meanIterations: starts > 0 ? itSum / starts : 0,
    meanNewtonSteps: starts > 0 ? newtonSum / starts : 0,
    maxIterationsUsed: itMax,
    bestRejectedPhi: bestRejected,
    candidates: reps.length,
    certificates: certs,
    hits,
    signConvention: SIGN_CONVENTION,
    threads,
    mode,
    seconds: (performance.now() - started) / 1000,
  };
  return { candidates, certificates: Float64Array.from(certs), hits, report };
}
