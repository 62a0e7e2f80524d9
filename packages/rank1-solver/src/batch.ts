/**
 * The ascent of kernel.ts for a block of starts at once, its two large products through linalg's
 * matrix product (BLAS on the native tier): with the rows u u^T (packed, off-diagonal doubled) of
 * the block's live starts stacked in O (b x p), the coefficients are C = O W^T (b x k) and the
 * matrices M = C W (b x p). Per start and iteration that is 4 k p flops, which the scalar kernel
 * spends in JavaScript loops (~0.4 GFLOP/s) and BLAS 10-40x faster; the O(p) rest (the rows of O,
 * M u, the step) and the Riemannian Newton steps stay per start, in kernel.ts.
 *
 * Every start follows exactly the scalar kernel's rules (same steps, switches, pauses and
 * stopping test); only the rounding of c_j and M differs. A block is a fixed set of starts
 * (BATCH_ROWS consecutive start indices, aligned to the start index: chunk boundaries are
 * multiples of BATCH_ROWS, see alignChunkSize), so the shapes of its products, and hence every
 * bit, do not depend on the threads or the chunks.
 */
import { matrixFrom, type Float64View } from '@nnid/core';
import { matmul } from '@nnid/linalg';
import { newtonSolve, type AscentParams, type AscentScratch } from './kernel.ts';

/** Starts per block. */
export const BATCH_ROWS = 32;

/** The batched path runs from this many numbers in the W_j (k p) on; below, the scalar kernel (its bits unchanged). */
export const BATCH_FROM = 16384;

/** Chunk sizes of the solver's tasks, rounded up to whole blocks (results do not depend on them). */
export function alignChunkSize(size: number): number {
  return Math.ceil(size / BATCH_ROWS) * BATCH_ROWS;
}

/** The W_j unpacked: (k n) x n, row j n + a = row a of W_j (the Newton steps' products). */
export function unpackStack(W: Float64Array, n: number, k: number): Float64View {
  const p = (n * (n + 1)) / 2;
  const full = new Float64Array(k * n * n);
  for (let j = 0; j < k; j++) {
    let idx = j * p;
    const base = j * n * n;
    for (let a = 0; a < n; a++) {
      for (let b = a; b < n; b++) {
        const w = W[idx++];
        full[base + a * n + b] = w;
        full[base + b * n + a] = w;
      }
    }
  }
  return matrixFrom(full, k * n, n);
}

/**
 * kernel.ts's Newton step with its two O(k n^2) parts as products: g_j = W_j u for all j at once
 * ((k n) x n times u), and sum_j g_j g_j^T = G^T G.
 */
function newtonStepProducts(Wfull: Float64View, n: number, k: number, phi: number, s: AscentScratch): boolean {
  const { u, M, S, r } = s;
  const G = matmul(Wfull, matrixFrom(u, n, 1));
  const GG = matmul(matrixFrom(G.data, k, n), matrixFrom(G.data, k, n), { transA: true }).data;
  packedMatVecAt(M, 0, n, u, 0, r);
  for (let a = 0; a < n; a++) r[a] -= phi * u[a];
  let idx = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      const v = -(2 * GG[a * n + b] + M[idx++]) + (a === b ? phi : 0);
      S[a * n + b] = v;
      S[b * n + a] = v;
    }
  }
  return newtonSolve(n, s);
}

/** One start's state in a block. */
interface StartState {
  /** 'active': ascending; 'finishing': stopped, its final Phi comes from the next product; 'done'. */
  status: 'active' | 'finishing' | 'done';
  converged: boolean;
  iterations: number;
  change: number;
  newtonSteps: number;
  newtonPause: number;
  phi: number;
}

export interface BlockOutcome {
  phi: number;
  iterations: number;
  converged: boolean;
  newtonSteps: number;
}

/** outer = u u^T packed, off-diagonal doubled (c_j = <W_j, outer>), as kernel.ts's evaluatePhi. */
function packOuter(u: Float64Array, uAt: number, n: number, outer: Float64Array, at: number): void {
  let idx = at;
  for (let a = 0; a < n; a++) {
    const ua = u[uAt + a];
    outer[idx++] = ua * ua;
    const ua2 = 2 * ua;
    for (let b = a + 1; b < n; b++) outer[idx++] = ua2 * u[uAt + b];
  }
}

/** out = M u for packed symmetric M (row `mAt` of a stack), as kernel.ts's packedMatVec. */
function packedMatVecAt(M: Float64Array, mAt: number, n: number, u: Float64Array, uAt: number, out: Float64Array): void {
  out.fill(0);
  let idx = mAt;
  for (let a = 0; a < n; a++) {
    const ua = u[uAt + a];
    let acc = M[idx++] * ua;
    for (let b = a + 1; b < n; b++) {
      const m = M[idx++];
      acc += m * u[uAt + b];
      out[b] += m * ua;
    }
    out[a] += acc;
  }
}

/**
 * Runs the ascent for the starts in `us` (rows x n, unit rows, updated in place) and returns each
 * start's outcome. `W` is the k x p stack (row-major), `Wfull` its unpackStack, `s` the scalar
 * kernel's scratch (for the Newton steps).
 */
export function ascendBlock(W: Float64Array, Wfull: Float64View, params: AscentParams, us: Float64Array, rows: number, s: AscentScratch): BlockOutcome[] {
  const { n, k, gamma, maxIterations, tolerance, newtonSwitch } = params;
  const p = (n * (n + 1)) / 2;
  const Wv: Float64View = matrixFrom(W, k, p);
  const states: StartState[] = Array.from({ length: rows }, () => ({
    status: 'active',
    converged: false,
    iterations: 0,
    change: Infinity,
    newtonSteps: 0,
    newtonPause: 0,
    phi: 0,
  }));
  const live: number[] = [];
  const outer = new Float64Array(rows * p);
  const candidates = new Float64Array(rows * n);
  const saved = new Float64Array(n);
  const step = s.next;
  for (;;) {
    live.length = 0;
    for (let i = 0; i < rows; i++) if (states[i].status !== 'done') live.push(i);
    if (live.length === 0) break;
    const b = live.length;
    for (let t = 0; t < b; t++) packOuter(us, live[t] * n, n, outer, t * p);
    const C = matmul(matrixFrom(outer, b, p), Wv, { transB: true }).data;
    const anyActive = live.some((i) => states[i].status === 'active');
    const M = anyActive ? matmul(matrixFrom(C, b, k), Wv).data : null;
    const newton: number[] = [];
    for (let t = 0; t < b; t++) {
      const st = states[live[t]];
      let phi = 0;
      for (let j = 0; j < k; j++) phi += C[t * k + j] * C[t * k + j];
      st.phi = phi;
      if (st.status === 'finishing') {
        st.status = 'done';
        continue;
      }
      st.iterations++;
      if (st.newtonPause > 0) st.newtonPause--;
      else if (st.change <= newtonSwitch) {
        const uAt = live[t] * n;
        s.u.set(us.subarray(uAt, uAt + n));
        s.M.set(M!.subarray(t * p, (t + 1) * p));
        if (newtonStepProducts(Wfull, n, k, phi, s)) {
          candidates.set(s.next, t * n);
          newton.push(t);
        } else st.newtonPause = 10;
      }
    }
    // Newton iterates: kept only if Phi does not drop (their Phi from one product)
    const tookNewton = new Uint8Array(b);
    if (newton.length > 0) {
      const nb = newton.length;
      const o2 = new Float64Array(nb * p);
      for (let q = 0; q < nb; q++) packOuter(candidates, newton[q] * n, n, o2, q * p);
      const C2 = matmul(matrixFrom(o2, nb, p), Wv, { transB: true }).data;
      for (let q = 0; q < nb; q++) {
        const t = newton[q];
        const st = states[live[t]];
        let after = 0;
        for (let j = 0; j < k; j++) after += C2[q * k + j] * C2[q * k + j];
        if (after >= st.phi - 1e-15) {
          const uAt = live[t] * n;
          let c2 = 0;
          for (let a = 0; a < n; a++) {
            const v = candidates[t * n + a];
            c2 += (v - us[uAt + a]) ** 2;
            us[uAt + a] = v;
          }
          st.change = Math.sqrt(c2);
          st.phi = after;
          st.newtonSteps++;
          tookNewton[t] = 1;
        } else st.newtonPause = 10;
      }
    }
    for (let t = 0; t < b; t++) {
      const st = states[live[t]];
      if (st.status !== 'active') continue;
      const uAt = live[t] * n;
      if (!tookNewton[t]) {
        packedMatVecAt(M!, t * p, n, us, uAt, step);
        let norm = 0;
        for (let a = 0; a < n; a++) {
          const v = us[uAt + a] + gamma * step[a];
          step[a] = v;
          norm += v * v;
        }
        norm = Math.sqrt(norm);
        let c2 = 0;
        for (let a = 0; a < n; a++) {
          saved[a] = step[a] / norm;
          const diff = saved[a] - us[uAt + a];
          c2 += diff * diff;
          us[uAt + a] = saved[a];
        }
        st.change = Math.sqrt(c2);
      }
      if (st.change <= tolerance) {
        st.converged = true;
        st.status = 'finishing';
      } else if (st.iterations >= maxIterations) st.status = 'finishing';
    }
  }
  return states.map((st) => ({ phi: st.phi, iterations: st.iterations, converged: st.converged, newtonSteps: st.newtonSteps }));
}
