/**
 * Tier selection. At load, the native addon (OpenBLAS + LAPACKE, built by native/build.mjs) is
 * used when its .node file loads; otherwise the TypeScript kernels. `NNID_LINALG=typescript`
 * forces the TypeScript tier.
 */
import { createRequire } from 'node:module';
import { NumericalError, invalidArgument } from '@nnid/core';
import type { Backend, TierName } from './backend.ts';
import { typescriptBackend } from './ts/backend.ts';

/** The functions the addon (native/src/linalg.c) exports. Each returns LAPACK's info (0 = ok). */
interface Addon {
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float64Array, lda: number, b: Float64Array, ldb: number, c: Float64Array): number;
  gram(columns: boolean, n: number, p: number, x: Float64Array, ldx: number, out: Float64Array): number;
  symEig(n: number, a: Float64Array, values: Float64Array, vectors: Float64Array): number;
  symEigTop(n: number, k: number, a: Float64Array, values: Float64Array, vectors: Float64Array): number;
  svd(n: number, p: number, a: Float64Array, values: Float64Array, left: Float64Array, right: Float64Array): number;
  qr(n: number, p: number, a: Float64Array, q: Float64Array, r: Float64Array): number;
  choleskySolve(n: number, k: number, a: Float64Array, b: Float64Array, jitter: number): number;
  threads(): number;
  setThreads(n: number): number;
}

function lapackFailure(routine: string, info: number): never {
  throw new NumericalError(`${routine}: LAPACK reported info = ${info} (the iteration did not converge or an argument was rejected).`);
}

function wrap(addon: Addon): Backend {
  return {
    name: 'native',
    gemm(transA, transB, m, n, k, a, lda, b, ldb, c) {
      addon.gemm(transA, transB, m, n, k, a, lda, b, ldb, c);
    },
    gram(columns, n, p, x, ldx, out) {
      addon.gram(columns, n, p, x, ldx, out);
    },
    symEig(n, a, values, vectors) {
      const info = addon.symEig(n, a, values, vectors);
      if (info !== 0) lapackFailure('symEig (dsyevr)', info);
    },
    symEigTop(n, k, a, values, vectors) {
      const info = addon.symEigTop(n, k, a, values, vectors);
      if (info !== 0) lapackFailure('symEigTop (dsyevr)', info);
    },
    svd(n, p, a, values, left, right) {
      const info = addon.svd(n, p, a, values, left, right);
      if (info !== 0) lapackFailure('svd (dgesdd)', info);
    },
    qr(n, p, a, q, r) {
      const info = addon.qr(n, p, a, q, r);
      if (info !== 0) lapackFailure('qr (dgeqrf/dorgqr)', info);
    },
    choleskySolve(n, k, a, b, jitter) {
      const info = addon.choleskySolve(n, k, a, b, jitter);
      if (info < 0) lapackFailure('choleskySolve (dposv)', info);
      return info === 0 ? -1 : info - 1;
    },
  };
}

let nativeAddon: Addon | null = null;

function loadNative(): Backend | null {
  try {
    const require = createRequire(import.meta.url);
    const addon = require('../native/build/Release/nnid_linalg.node') as Addon;
    if (typeof addon.gemm !== 'function') return null;
    nativeAddon = addon;
    return wrap(addon);
  } catch {
    return null;
  }
}

const nativeBackend = loadNative();
let active: Backend = nativeBackend !== null && process.env.NNID_LINALG !== 'typescript' ? nativeBackend : typescriptBackend;

/** The backend in use (internal). */
export function backend(): Backend {
  return active;
}

/**
 * The tier in use: 'native' (OpenBLAS + LAPACKE addon) or 'typescript'.
 *
 * @example
 * if (tier() === 'typescript') console.warn('slow linear algebra: run tools/setup.sh with OpenBLAS installed');
 */
export function tier(): TierName {
  return active.name;
}

/** True when the native addon was built and loads in this process. */
export function nativeAvailable(): boolean {
  return nativeBackend !== null;
}

/**
 * Forces a tier for this process (tests, benchmarks). Forcing 'native' when it is not built
 * throws.
 *
 * @example
 * useTier('typescript');
 */
export function useTier(name: TierName): void {
  if (name === 'typescript') {
    active = typescriptBackend;
    return;
  }
  if (name === 'native') {
    if (nativeBackend === null) {
      invalidArgument(
        'name',
        "must be 'typescript' here: the native tier is not built (install libopenblas-dev and liblapacke-dev, then rerun tools/setup.sh)",
        name,
      );
    }
    active = nativeBackend;
    return;
  }
  invalidArgument('name', "must be one of 'native', 'typescript'", name);
}

/**
 * Sets OpenBLAS's thread count (process-wide) and returns the previous one; a no-op returning 1
 * on the TypeScript tier. The addon starts at 1 because nnid parallelizes with worker threads;
 * raise it only around large single-threaded work (e.g. the normal equations of refinement)
 * while no other thread runs OpenBLAS, and restore it after.
 *
 * @example
 * const before = setBlasThreads(2); try { ... } finally { setBlasThreads(before); }
 */
export function setBlasThreads(n: number): number {
  if (!Number.isInteger(n) || n < 1) invalidArgument('n', 'must be a positive integer', n);
  if (nativeAddon === null || typeof nativeAddon.setThreads !== 'function' || active !== nativeBackend) return 1;
  const before = nativeAddon.threads();
  nativeAddon.setThreads(n);
  return before;
}
