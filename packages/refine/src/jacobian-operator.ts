/**
 * The Jacobian of a network fit as products, never formed (issue 15): for
 *
 *   f(x) = C phi2( B phi1( A x + theta ) + tau ) + c     (k outputs; the paper's form: C = 1^T, c = 0)
 *
 * at the linearization's activations G = phi1(Z1), G1 = phi1'(Z1), H = phi2(Z2), H1 = phi2'(Z2)
 * (each N x m0 or N x m1), forward mode gives J v and reverse mode J^T w, each a few GEMMs
 * through @nnid/linalg:
 *
 *   J v:   dZ1 = X dA^T + dtheta (+ U0 o ds),  dZ2 = (G1 o dZ1) B^T + G dB^T + dtau,
 *          dF = (H1 o dZ2) C^T + H dC^T + dc
 *   J^T w: L2 = (W C) o H1,  dB = L2^T G,  dtau = colsum L2,  L1 = (L2 B) o G1,
 *          dA = L1^T X,  dtheta = colsum L1,  ds = colsum(L1 o U0),  dC = W^T H,  dc = colsum W
 *
 * (o: entrywise; W is w as N x k). Memory O(N (d + m0 + m1 + k) + P) besides the preconditioner's
 * blocks: per first-layer unit its (a_i, theta_i) block of J^T J, X~^T diag(S_i) X~ with
 * x~ = (x, 1) and S_ni = sum_o (dF_o/dtheta_i)^2; per second-layer unit its (b_l, tau_l) block
 * G~^T diag(Q_l) G~ with Q_nl = sum_o (C_ol h1_nl)^2; per output its (C_o, c_o) block H~^T H~.
 * Their diagonals are J's squared column norms.
 */
import { activation, matrixFrom, type Activation, type ActivationName } from '@nnid/core';
import { gram, matmul } from '@nnid/linalg';
import type { JacobianOperator, PreconditionerBlocks } from '@nnid/optimize';

/** What the operator needs of a layout (refine's Layout and GeneralLayout both are). */
export interface OperatorLayout {
  readonly inputDim: number;
  readonly width1: number;
  readonly width2: number;
  readonly layer1: ActivationName;
  readonly layer2: ActivationName;
  readonly offTheta: number;
  readonly offB: number;
  readonly offTau: number;
  /** General form only: where C (k x m1) and c (k) start; absent: the paper's form (C = 1^T, c = 0). */
  readonly offC?: number;
  readonly offBias?: number;
  readonly outputs?: number;
  readonly size: number;
}

/**
 * Which first-layer parameters are free: 'weights-and-shifts' (A and theta), 'shifts' (theta),
 * 'shifts-and-scales' (theta and s, A = diag(s) A0 with A0 the rows in p), 'none'. Everything
 * above the first layer is free.
 */
export type FreeFirstLayer = 'weights-and-shifts' | 'shifts' | 'shifts-and-scales' | 'none';

export interface NetworkOperatorInput {
  layout: OperatorLayout;
  /** The full parameter vector: the fixed parameters are read from it (A0's unit rows with 'shifts-and-scales'). */
  p: Float64Array;
  free: FreeFirstLayer;
  /** N x d inputs (row-major) and N k values (row n's at [n k, n k + k)). */
  X: Float64Array;
  Y: Float64Array;
  N: number;
  /** The blocks' budgets in multiply-adds (default BLOCK_FLOPS and SECOND_LAYER_BLOCK_FLOPS; tests shrink them). */
  blockFlops?: number;
  /**
   * The first layer's (A, theta) in the preconditioner: 'units' (one (d + 1)-square block per
   * unit), 'whole' (one m0 (d + 1)-square block: couples the units), or 'auto' (default): see
   * firstLayerBlockOf.
   */
  firstLayerBlock?: 'units' | 'whole' | 'auto';
}

/** The first layer is one block of the preconditioner ('auto') up to this many parameters, as the second layer's (SECOND_LAYER_BLOCK_MAX). */
export const FIRST_LAYER_BLOCK_MAX = 3072;

/** What 'auto' resolves to for m0 units of d inputs (see FIRST_LAYER_BLOCK_MAX). */
export function firstLayerBlockOf(choice: 'units' | 'whole' | 'auto' | undefined, m0: number, d: number): 'units' | 'whole' {
  if (choice === 'units' || choice === 'whole') return choice;
  return FIRST_LAYER_BLOCK_DEFAULT === 'whole' && m0 * (d + 1) <= FIRST_LAYER_BLOCK_MAX ? 'whole' : 'units';
}
const FIRST_LAYER_BLOCK_DEFAULT: 'units' | 'whole' = 'units';

/** The free vector's first index in p: x = [p[first..P), s]. */
export function firstFreeIndex(layout: OperatorLayout, free: FreeFirstLayer): number {
  return free === 'weights-and-shifts' ? 0 : free === 'none' ? layout.offB : layout.offTheta;
}

const view = (data: Float64Array, rows: number, cols: number) => matrixFrom(data, rows, cols);

/**
 * The second layer (B, tau) is one block of the preconditioner up to this many parameters (its
 * Gram then holds at most 8 * 3072^2 bytes = 75 MB), per unit past it. One block couples the
 * second layer's units: at (30, 20, 8) it halves sqrt(cond) of the preconditioned matrix
 * against per-unit blocks (36 against 69 at lambda = 1e-7; the whole layers' blocks: 19).
 */
export const SECOND_LAYER_BLOCK_MAX = 3072;
/** Past this many N Q^2 multiply-adds, the second layer's block is formed from every s-th row. */
export const SECOND_LAYER_BLOCK_FLOPS = 5e10;
/**
 * Past this many m0 N (d+1)^2 multiply-adds, the first layer's unit blocks are formed from every
 * s-th row (weight s; their diagonals, J's column norms, stay exact): (100, 50, 20) on 4 P rows
 * (1.2e10) is exact, (200, 100, 30) on 4 P rows (3.7e11) takes every 8th row, 11,565 rows for
 * blocks of 201.
 */
export const BLOCK_FLOPS = 5e10;
/** Rows of a chunk of J's second-layer columns: about this many numbers (16 MB). */
const CHUNK_NUMBERS = 1 << 21;

/**
 * The fit's residuals r = f(X) - Y and its Jacobian's products, with the per-unit blocks of J^T J
 * for the preconditioner (see the module comment). The free vector is x = [p[first..P), s]
 * (first = firstFreeIndex; s the first layer's row norms with 'shifts-and-scales').
 *
 * @example
 * const op = networkOperator({ layout, p, free: 'weights-and-shifts', X, Y: y, N });
 * const { x, report } = await leastSquares(matrixFreeStrategy(op), p, {});
 */
export function networkOperator(input: NetworkOperatorInput): JacobianOperator & { freeParameters: number } {
  const { layout, free, X, Y, N } = input;
  const { inputDim: d, width1: m0, width2: m1, offTheta, offB, offTau, size: P } = layout;
  const general = layout.offC !== undefined;
  const k = general ? layout.outputs! : 1;
  const offC = layout.offC ?? P;
  const offBias = layout.offBias ?? P;
  const phi1: Activation = activation(layout.layer1);
  const phi2: Activation = activation(layout.layer2);
  const first = firstFreeIndex(layout, free);
  const scales = free === 'shifts-and-scales';
  const weightsFree = free === 'weights-and-shifts';
  const shiftsFree = free !== 'none';
  const F = P - first + (scales ? m0 : 0);
  // offsets of each block in the free vector (-1: fixed)
  const oTheta = shiftsFree ? offTheta - first : -1;
  const oB = offB - first;
  const oTau = offTau - first;
  const oC = offC - first;
  const oBias = offBias - first;
  const oS = P - first;
  const full = Float64Array.from(input.p);
  // A0 x_n when the first layer's weights are fixed (scaled by s each time with 'shifts-and-scales')
  const U0 = weightsFree ? null : matmul(view(X, N, d), view(full, m0, d), { transB: true }).data;
  const Xv = view(X, N, d);

  const ones = new Float64Array(m1).fill(1);
  /** The activations of one point (the linearization's, or scratch for residual evaluations). */
  const state = () => ({
    G: new Float64Array(N * m0),
    G1: new Float64Array(N * m0),
    H: new Float64Array(N * m1),
    H1: new Float64Array(N * m1),
    Z1: new Float64Array(N * m0),
    r: new Float64Array(N * k),
    B: new Float64Array(m1 * m0),
    C: general ? new Float64Array(k * m1) : ones,
  });
  const lin = state();
  const scratch = state();
  // the paper form's w o H1 (reused by every J^T w)
  const weighted = general ? new Float64Array(0) : new Float64Array(N * m1);

  /** Forward pass at x into st (slopes when asked); returns sum r^2. */
  const forward = (x: Float64Array, st: ReturnType<typeof state>, slopes: boolean): number => {
    full.set(x.subarray(0, P - first), first);
    const { Z1, G, G1, H, H1, r } = st;
    if (weightsFree) {
      Z1.set(matmul(Xv, view(full, m0, d), { transB: true }).data);
    } else if (scales) {
      const s = x.subarray(oS, oS + m0);
      for (let n = 0; n < N; n++) for (let i = 0; i < m0; i++) Z1[n * m0 + i] = U0![n * m0 + i] * s[i];
    } else {
      Z1.set(U0!);
    }
    for (let n = 0; n < N; n++) for (let i = 0; i < m0; i++) Z1[n * m0 + i] += full[offTheta + i];
    phi1.valuesSlopes(Z1, 0, N * m0, G, slopes ? G1 : null);
    st.B.set(full.subarray(offB, offB + m1 * m0));
    const Z2 = matmul(view(G, N, m0), view(st.B, m1, m0), { transB: true }).data;
    for (let n = 0; n < N; n++) for (let l = 0; l < m1; l++) Z2[n * m1 + l] += full[offTau + l];
    phi2.valuesSlopes(Z2, 0, N * m1, H, slopes ? H1 : null);
    let sum = 0;
    if (general) {
      st.C.set(full.subarray(offC, offC + k * m1));
      const Fo = matmul(view(H, N, m1), view(st.C, k, m1), { transB: true }).data;
      for (let n = 0; n < N; n++) {
        for (let o = 0; o < k; o++) {
          const q = n * k + o;
          const res = Fo[q] + full[offBias + o] - Y[q];
          r[q] = res;
          sum += res * res;
        }
      }
    } else {
      for (let n = 0; n < N; n++) {
        let f = 0;
        for (let l = 0; l < m1; l++) f += H[n * m1 + l];
        const res = f - Y[n];
        r[n] = res;
        sum += res * res;
      }
    }
    return sum;
  };

  /** sum over rows of an N x c matrix into out[at + j]. */
  const columnSums = (M: Float64Array, c: number, out: Float64Array, at: number) => {
    for (let j = 0; j < c; j++) out[at + j] = 0;
    for (let n = 0; n < N; n++) for (let j = 0; j < c; j++) out[at + j] += M[n * c + j];
  };

  /** Squared column norms of (a_i, theta_i), ordered (i, j) with theta_i at j = d: sum_n S_ni (x_nj^2, 1). */
  const firstLayerColumnNorms = (S: Float64Array): Float64Array => {
    const X2 = new Float64Array(N * d);
    for (let q = 0; q < N * d; q++) X2[q] = X[q] * X[q];
    const A2 = matmul(view(S, N, m0), view(X2, N, d), { transA: true }).data;
    const D1 = d + 1;
    const out = new Float64Array(m0 * D1);
    for (let i = 0; i < m0; i++) {
      for (let j = 0; j < d; j++) out[i * D1 + j] = A2[i * d + j];
      let t = 0;
      for (let n = 0; n < N; n++) t += S[n * m0 + i];
      out[i * D1 + d] = t;
    }
    return out;
  };

  /** Squared column norms of (B, tau), ordered (l, i) with tau_l at i = m0: sum_n Q_nl (g_ni^2, 1). */
  const secondLayerColumnNorms = (): Float64Array => {
    const { G, H1, C } = lin;
    const M1 = m0 + 1;
    const Qw = new Float64Array(N * m1);
    for (let l = 0; l < m1; l++) {
      let c2 = 0;
      for (let o = 0; o < k; o++) c2 += C[o * m1 + l] * C[o * m1 + l];
      for (let n = 0; n < N; n++) Qw[n * m1 + l] = c2 * H1[n * m1 + l] * H1[n * m1 + l];
    }
    const G2 = new Float64Array(N * m0);
    for (let q = 0; q < N * m0; q++) G2[q] = G[q] * G[q];
    const S = matmul(view(Qw, N, m1), view(G2, N, m0), { transA: true }).data;
    const out = new Float64Array(m1 * M1);
    for (let l = 0; l < m1; l++) {
      for (let i = 0; i < m0; i++) out[l * M1 + i] = S[l * m0 + i];
      let t = 0;
      for (let n = 0; n < N; n++) t += Qw[n * m1 + l];
      out[l * M1 + m0] = t;
    }
    return out;
  };

  /** The blocks of J^T J at the linearization (see the module comment). */
  const blocksAt = (): PreconditionerBlocks => {
    const { G, G1, H, H1, B, C } = lin;
    const indices: Int32Array[] = [];
    const grams: Float64Array[] = [];
    if (shiftsFree) {
      // S_ni = sum_o T_oni^2, T_o = ((H1 o C_o) B) o G1: df_o/dtheta_i
      const S = new Float64Array(N * m0);
      const HC = new Float64Array(N * m1);
      for (let o = 0; o < k; o++) {
        for (let n = 0; n < N; n++) for (let l = 0; l < m1; l++) HC[n * m1 + l] = H1[n * m1 + l] * C[o * m1 + l];
        const T = matmul(view(HC, N, m1), view(B, m1, m0)).data;
        for (let q = 0; q < N * m0; q++) {
          const t = T[q] * G1[q];
          S[q] += t * t;
        }
      }
      if (weightsFree && firstLayerBlockOf(input.firstLayerBlock, m0, d) === 'whole') {
        // the whole first layer (A, theta) as one block: J's columns T_oni (x_n, 1) (T_o = df_o/dtheta),
        // Gram over row chunks, from every s-th row (weight s) past BLOCK_FLOPS; the diagonal exact
        const D1 = d + 1;
        const W = m0 * D1;
        const step = Math.max(1, Math.ceil((N * W * W) / (input.blockFlops ?? BLOCK_FLOPS)));
        const block = new Float64Array(W * W);
        const chunk = Math.max(1, Math.floor(CHUNK_NUMBERS / W), Math.ceil((Math.ceil(N / step) * k) / 4));
        const Jb = new Float64Array(Math.min(chunk, Math.ceil(N / step) * k) * W);
        let rows = 0;
        const flush = () => {
          if (rows === 0) return;
          const g = gram(view(Jb, rows, W)).data;
          for (let t = 0; t < W * W; t++) block[t] += g[t];
          rows = 0;
        };
        const w = Math.sqrt(step);
        const Ts: Float64Array[] = [];
        for (let o = 0; o < k; o++) {
          for (let n = 0; n < N; n++) for (let l = 0; l < m1; l++) HC[n * m1 + l] = H1[n * m1 + l] * C[o * m1 + l];
          const T = matmul(view(HC, N, m1), view(B, m1, m0)).data;
          for (let q = 0; q < N * m0; q++) T[q] *= G1[q];
          Ts.push(T);
        }
        for (let n = 0; n < N; n += step) {
          for (let o = 0; o < k; o++) {
            if ((rows + 1) * W > Jb.length) flush();
            const at = rows * W;
            const T = Ts[o];
            for (let i = 0; i < m0; i++) {
              const c = w * T[n * m0 + i];
              const bo = at + i * D1;
              for (let j = 0; j < d; j++) Jb[bo + j] = c * X[n * d + j];
              Jb[bo + d] = c;
            }
            rows++;
          }
        }
        flush();
        if (step > 1) {
          const exact = firstLayerColumnNorms(S);
          for (let t = 0; t < W; t++) block[t * W + t] = exact[t];
        }
        const idx = new Int32Array(W);
        for (let i = 0; i < m0; i++) {
          for (let j = 0; j < d; j++) idx[i * D1 + j] = i * d + j;
          idx[i * D1 + d] = oTheta + i;
        }
        indices.push(idx);
        grams.push(block);
      } else if (weightsFree) {
        // from every s-th row (weight s) when m0 N (d+1)^2 exceeds BLOCK_FLOPS; the diagonal exact
        const D1 = d + 1;
        const step = Math.max(1, Math.ceil((m0 * N * D1 * D1) / (input.blockFlops ?? BLOCK_FLOPS)));
        const rows = Math.ceil(N / step);
        const Xs = new Float64Array(rows * D1);
        const exact = step > 1 ? firstLayerColumnNorms(S) : null;
        for (let i = 0; i < m0; i++) {
          for (let n = 0, q = 0; n < N; n += step, q++) {
            const w = Math.sqrt(step * S[n * m0 + i]);
            for (let j = 0; j < d; j++) Xs[q * D1 + j] = w * X[n * d + j];
            Xs[q * D1 + d] = w;
          }
          const idx = new Int32Array(D1);
          for (let j = 0; j < d; j++) idx[j] = i * d + j;
          idx[d] = oTheta + i;
          indices.push(idx);
          const g = gram(view(Xs, rows, D1)).data;
          if (exact) for (let j = 0; j < D1; j++) g[j * D1 + j] = exact[i * D1 + j];
          grams.push(g);
        }
      } else {
        for (let i = 0; i < m0; i++) {
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          for (let n = 0; n < N; n++) {
            const w = S[n * m0 + i];
            const u = U0![n * m0 + i];
            s0 += w;
            s1 += w * u;
            s2 += w * u * u;
          }
          if (scales) {
            indices.push(Int32Array.of(oTheta + i, oS + i));
            grams.push(Float64Array.of(s0, s1, s1, s2));
          } else {
            indices.push(Int32Array.of(oTheta + i));
            grams.push(Float64Array.of(s0));
          }
        }
      }
    }
    const M1 = m0 + 1;
    const Q = m1 * M1;
    if (Q <= SECOND_LAYER_BLOCK_MAX) {
      // the whole second layer (B, tau) as one block: J's columns C_ol h1_nl (g_n, 1), Gram over
      // row chunks, from every s-th row (weight s) when N Q^2 exceeds SECOND_LAYER_BLOCK_FLOPS
      const step = Math.max(1, Math.ceil((N * Q * Q) / (input.blockFlops ?? SECOND_LAYER_BLOCK_FLOPS)));
      const block = new Float64Array(Q * Q);
      // at most ~4 flushes: each makes a Q x Q Gram
      const chunk = Math.max(1, Math.floor(CHUNK_NUMBERS / Q), Math.ceil((Math.ceil(N / step) * k) / 4));
      const Jb = new Float64Array(Math.min(chunk, Math.ceil(N / step) * k) * Q);
      let rows = 0;
      const flush = () => {
        if (rows === 0) return;
        const g = gram(view(Jb, rows, Q)).data;
        for (let t = 0; t < Q * Q; t++) block[t] += g[t];
        rows = 0;
      };
      const w = Math.sqrt(step);
      for (let n = 0; n < N; n += step) {
        for (let o = 0; o < k; o++) {
          if ((rows + 1) * Q > Jb.length) flush();
          const at = rows * Q;
          for (let l = 0; l < m1; l++) {
            const c = w * C[o * m1 + l] * H1[n * m1 + l];
            const bo = at + l * M1;
            for (let i = 0; i < m0; i++) Jb[bo + i] = c * G[n * m0 + i];
            Jb[bo + m0] = c;
          }
          rows++;
        }
      }
      flush();
      const idx = new Int32Array(Q);
      for (let l = 0; l < m1; l++) {
        for (let i = 0; i < m0; i++) idx[l * M1 + i] = oB + l * m0 + i;
        idx[l * M1 + m0] = oTau + l;
      }
      if (step > 1) {
        // the diagonal exact (the column norms): Q_nl sums of G~^2
        const norms = secondLayerColumnNorms();
        for (let t = 0; t < Q; t++) block[t * Q + t] = norms[t];
      }
      indices.push(idx);
      grams.push(block);
    } else {
      // per second-layer unit: Q_nl = h1_nl^2 sum_o C_ol^2
      const Gs = new Float64Array(N * M1);
      for (let l = 0; l < m1; l++) {
        let c2 = 0;
        for (let o = 0; o < k; o++) c2 += C[o * m1 + l] * C[o * m1 + l];
        for (let n = 0; n < N; n++) {
          const w = Math.sqrt(c2) * Math.abs(H1[n * m1 + l]);
          for (let i = 0; i < m0; i++) Gs[n * M1 + i] = w * G[n * m0 + i];
          Gs[n * M1 + m0] = w;
        }
        const idx = new Int32Array(M1);
        for (let i = 0; i < m0; i++) idx[i] = oB + l * m0 + i;
        idx[m0] = oTau + l;
        indices.push(idx);
        grams.push(gram(view(Gs, N, M1)).data);
      }
    }
    if (general) {
      const L1 = m1 + 1;
      const Hs = new Float64Array(N * L1);
      for (let n = 0; n < N; n++) {
        Hs.set(H.subarray(n * m1, n * m1 + m1), n * L1);
        Hs[n * L1 + m1] = 1;
      }
      const HtH = gram(view(Hs, N, L1)).data;
      for (let o = 0; o < k; o++) {
        const idx = new Int32Array(L1);
        for (let l = 0; l < m1; l++) idx[l] = oC + o * m1 + l;
        idx[m1] = oBias + o;
        indices.push(idx);
        grams.push(HtH);
      }
    }
    return { indices, grams };
  };

  return {
    freeParameters: F,
    async linearize(x) {
      forward(x, lin, true);
      const blocks = blocksAt();
      const columnNormsSquared = new Float64Array(F);
      blocks.indices.forEach((idx, b) => {
        const m = idx.length;
        const g = blocks.grams[b];
        for (let t = 0; t < m; t++) columnNormsSquared[idx[t]] = g[t * m + t];
      });
      return { residuals: lin.r, columnNormsSquared, blocks };
    },
    async residuals(x) {
      forward(x, scratch, false);
      return scratch.r;
    },
    apply(v) {
      const { G, G1, H, H1, B, C } = lin;
      let dZ2: Float64Array;
      const vB = v.subarray(oB, oB + m1 * m0);
      dZ2 = matmul(view(G, N, m0), view(vB, m1, m0), { transB: true }).data;
      if (shiftsFree) {
        const dZ1 = weightsFree ? matmul(Xv, view(v, m0, d), { transB: true }).data : new Float64Array(N * m0);
        for (let n = 0; n < N; n++) {
          const o = n * m0;
          for (let i = 0; i < m0; i++) {
            let t = dZ1[o + i] + v[oTheta + i];
            if (scales) t += U0![o + i] * v[oS + i];
            dZ1[o + i] = t * G1[o + i];
          }
        }
        const inner = matmul(view(dZ1, N, m0), view(B, m1, m0), { transB: true }).data;
        for (let q = 0; q < N * m1; q++) dZ2[q] += inner[q];
      }
      for (let n = 0; n < N; n++) for (let l = 0; l < m1; l++) dZ2[n * m1 + l] = (dZ2[n * m1 + l] + v[oTau + l]) * H1[n * m1 + l];
      if (!general) {
        const out = new Float64Array(N);
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let l = 0; l < m1; l++) s += dZ2[n * m1 + l];
          out[n] = s;
        }
        return out;
      }
      const out = matmul(view(dZ2, N, m1), view(C, k, m1), { transB: true }).data;
      const fromC = matmul(view(H, N, m1), view(v.subarray(oC, oC + k * m1), k, m1), { transB: true }).data;
      for (let n = 0; n < N; n++) for (let o = 0; o < k; o++) out[n * k + o] += fromC[n * k + o] + v[oBias + o];
      return out;
    },
    applyTranspose(w) {
      const { G, G1, H, H1, B, C } = lin;
      const out = new Float64Array(F);
      let L2: Float64Array;
      if (general) {
        L2 = matmul(view(w, N, k), view(C, k, m1)).data;
        for (let q = 0; q < N * m1; q++) L2[q] *= H1[q];
        out.set(matmul(view(w, N, k), view(H, N, m1), { transA: true }).data, oC);
        columnSums(w, k, out, oBias);
      } else {
        L2 = weighted;
        for (let n = 0; n < N; n++) for (let l = 0; l < m1; l++) L2[n * m1 + l] = w[n] * H1[n * m1 + l];
      }
      out.set(matmul(view(L2, N, m1), view(G, N, m0), { transA: true }).data, oB);
      columnSums(L2, m1, out, oTau);
      if (shiftsFree) {
        const L1 = matmul(view(L2, N, m1), view(B, m1, m0)).data;
        for (let q = 0; q < N * m0; q++) L1[q] *= G1[q];
        if (weightsFree) out.set(matmul(view(L1, N, m0), Xv, { transA: true }).data, 0);
        columnSums(L1, m0, out, oTheta);
        if (scales) {
          for (let i = 0; i < m0; i++) out[oS + i] = 0;
          for (let n = 0; n < N; n++) for (let i = 0; i < m0; i++) out[oS + i] += L1[n * m0 + i] * U0![n * m0 + i];
        }
      }
      return out;
    },
  };
}
