/**
 * The TypeScript tier's fast kernels (WebAssembly SIMD tiles, the row-by-row A^T b, the blocked
 * Cholesky update) give the same bits as the kernels they replaced (reference-kernels.ts, the
 * code at f33741c), on odd sizes, strided and transposed operands, and with the WebAssembly path
 * on or off. The refinement's results (and identify's fingerprints) depend on it.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '@nnid/core';
import { typescriptBackend as ts } from '../src/ts/backend.ts';
import { choleskyFactor, choleskySubstitute } from '../src/ts/cholesky.ts';
import { useWasmKernels, wasmKernel } from '../src/ts/wasm.ts';
import { choleskyFactorReference, choleskySubstituteReference, gemmReference, gramReference } from './reference-kernels.ts';

function randomArray(length: number, seed: number): Float64Array {
  const out = new Float64Array(length);
  rng(seed).fillNormal(out);
  // a few exact zeros and signed zeros, where IEEE sums are most fragile
  for (let i = 0; i < length; i += 97) out[i] = i % 2 ? 0 : -0;
  return out;
}

/** Index of the first entry whose bits differ (Object.is: -0 and NaN count), or -1. */
function firstDifference(x: Float64Array, y: Float64Array): number {
  if (x.length !== y.length) return -2;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
  return -1;
}

/** Runs `body` with the WebAssembly kernels on, then off. */
function bothPaths(body: (path: string) => void): void {
  for (const on of [true, false]) {
    const before = useWasmKernels(on);
    try {
      body(on ? 'wasm' : 'js');
    } finally {
      useWasmKernels(before);
    }
  }
}

describe('TypeScript tier kernels: the same bits as before', () => {
  it('loads the WebAssembly SIMD kernel on this Node', () => {
    expect(wasmKernel()).not.toBeNull();
  });

  // (m, n, k): odd sizes, edges in every direction, more than one KC = 256 panel and NC = 96 block
  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [5, 3, 7],
    [37, 29, 53],
    [4, 8, 300],
    [101, 97, 517],
    [130, 9, 260],
    [6, 203, 33],
    [97, 1, 611],
    [200, 3, 257],
  ];

  it('gemm: every transpose combination, row strides wider than the rows', () => {
    bothPaths((path) => {
      let seed = 1;
      for (const [m, n, k] of sizes) {
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const [ar, ac] = transA ? [k, m] : [m, k];
            const [br, bc] = transB ? [n, k] : [k, n];
            for (const pad of [0, 3]) {
              const lda = ac + pad;
              const ldb = bc + pad;
              const a = randomArray(ar * lda, seed++);
              const b = randomArray(br * ldb, seed++);
              const got = new Float64Array(m * n).fill(NaN);
              const want = new Float64Array(m * n);
              ts.gemm(transA, transB, m, n, k, a, lda, b, ldb, got);
              gemmReference(transA, transB, m, n, k, a, lda, b, ldb, want);
              expect(firstDifference(got, want), `${path} gemm ${m}x${n}x${k} transA ${transA} transB ${transB} pad ${pad}`).toBe(-1);
            }
          }
        }
      }
    });
  });

  it('gram: both sides, strided rows', () => {
    bothPaths((path) => {
      let seed = 100;
      for (const [n, p] of [[1, 1], [7, 5], [53, 37], [300, 41], [517, 101], [40, 262], [700, 30]] as [number, number][]) {
        for (const columns of [true, false]) {
          for (const pad of [0, 2]) {
            const ldx = p + pad;
            const x = randomArray(n * ldx, seed++);
            const size = columns ? p : n;
            const got = new Float64Array(size * size).fill(NaN);
            const want = new Float64Array(size * size);
            ts.gram(columns, n, p, x, ldx, got);
            gramReference(columns, n, p, x, ldx, want);
            expect(firstDifference(got, want), `${path} gram ${n}x${p} columns ${columns} pad ${pad}`).toBe(-1);
          }
        }
      }
    });
  });

  it('Cholesky: factor and substitution, several panels, jitter', () => {
    bothPaths((path) => {
      for (const [n, jitter] of [[1, 0], [3, 0], [50, 0], [97, 0.5], [193, 0], [250, 1e-3]] as [number, number][]) {
        const x = randomArray((n + 5) * n, n);
        const spd = new Float64Array(n * n);
        gramReference(true, n + 5, n, x, n, spd);
        const got = spd.slice();
        const want = spd.slice();
        expect(choleskyFactor(n, got, jitter)).toBe(-1);
        expect(choleskyFactorReference(n, want, jitter)).toBe(-1);
        // the lower triangle is L (the upper one is scratch in both)
        for (let i = 0; i < n; i++) {
          const d = firstDifference(got.subarray(i * n, i * n + i + 1), want.subarray(i * n, i * n + i + 1));
          expect(d, `${path} cholesky ${n} row ${i}`).toBe(-1);
        }
        const rhs = randomArray(3 * n, n + 1);
        const bGot = rhs.slice();
        const bWant = rhs.slice();
        choleskySubstitute(n, got, 3, bGot);
        choleskySubstituteReference(n, want, 3, bWant);
        expect(firstDifference(bGot, bWant), `${path} substitute ${n}`).toBe(-1);
      }
    });
  });

  it('Cholesky: the same first failing pivot', () => {
    bothPaths((path) => {
      const n = 130;
      const x = randomArray(n * n, 7);
      const a = new Float64Array(n * n);
      gramReference(true, n, n, x, n, a);
      a[120 * n + 120] = -1;
      expect(choleskyFactor(n, a.slice(), 0), path).toBe(choleskyFactorReference(n, a.slice(), 0));
    });
  });
});
