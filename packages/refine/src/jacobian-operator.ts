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
import { activation, allocFloat64, matrixFrom, settleAll, type ActivationName } from '@nnid/core';
import { gram, matmul } from '@nnid/linalg';
import type { JacobianOperator, PreconditionerBlocks } from '@nnid/optimize';
import { blockRanges } from './blocks.ts';

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
  /** The second layer (B, tau) in the preconditioner: 'auto' (default: whole up to SECOND_LAYER_BLOCK_MAX parameters, else per unit) or 'units'. */
  secondLayerBlock?: 'units' | 'auto';
  /** Row blocks of the products (default operatorRowBlocks(N k, P)): the bits depend on it, not on `pool`. */
  rowBlocks?: number;
  /** Runs the row blocks after the first in its workers (refine's pool); absent: every block in this thread. */
  pool?: OperatorPool | null;
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
 * The products run on row blocks of the data past this many (rows x parameters) multiply-adds
 * per product (about 0.01 s): OPERATOR_ROW_BLOCKS blocks, the first in the calling thread and the
 * others in the refine pool's workers when it has them (or here, one after the other). J^T w's
 * blocks are summed in block order, so the bits depend on the block count (fixed by the size),
 * never on the threads.
 */
export const OPERATOR_BLOCKED_FROM = 1e7;
/** Row blocks of a blocked operator: 2, the cores of the machine it is measured on (each block's GEMMs single-threaded). */
export const OPERATOR_ROW_BLOCKS = 2;

/** The operator's row blocks for `rows` residuals (N k) and P parameters: 1, or OPERATOR_ROW_BLOCKS past OPERATOR_BLOCKED_FROM. */
export function operatorRowBlocks(rows: number, parameters: number): number {
  return rows * parameters >= OPERATOR_BLOCKED_FROM ? OPERATOR_ROW_BLOCKS : 1;
}

/** The shapes and offsets a row block's kernels read (plain data: sent to the workers). */
export interface OperatorShape {
  /** All rows (the blocks' tasks read their range of them). */
  N: number;
  d: number;
  m0: number;
  m1: number;
  k: number;
  general: boolean;
  layer1: ActivationName;
  layer2: ActivationName;
  free: FreeFirstLayer;
  /** Offsets in the full parameter vector. */
  offTheta: number;
  offB: number;
  offTau: number;
  offC: number;
  offBias: number;
  /** P, the first free index, F (free parameters) and the blocks' offsets in the free vector (-1: fixed). */
  P: number;
  first: number;
  F: number;
  oTheta: number;
  oB: number;
  oTau: number;
  oC: number;
  oBias: number;
  oS: number;
}

/** A point's parameters and activations: p the full vector (P, then s with 'shifts-and-scales'), G = phi1(Z1), G1 = phi1'(Z1), H, H1, r the residuals. */
export interface OperatorState {
  p: Float64Array;
  G: Float64Array;
  G1: Float64Array;
  H: Float64Array;
  H1: Float64Array;
  r: Float64Array;
}

/**
 * One row block's work: 'forward' (the activations and residuals of rows [r0, r1) at state.p;
 * slopes when asked), 'apply' (rows [r0, r1) of J v into out), 'transpose' (the block's J_b^T w_b
 * into out, F values). Arrays on shared memory when it runs in a worker.
 */
export interface OperatorTask {
  kind: 'operator';
  job: 'forward' | 'apply' | 'transpose' | 'unit-grams' | 'unit2-grams' | 'layer2-gram';
  shape: OperatorShape;
  r0: number;
  r1: number;
  X: Float64Array;
  Y: Float64Array;
  U0: Float64Array | null;
  state: OperatorState;
  slopes?: boolean;
  /** apply: the free vector (F); transpose: w (N k). */
  v?: Float64Array;
  out?: Float64Array;
  /**
   * 'unit-grams': the first layer's units [r0, r1) (their (d + 1)-square blocks from every step-th
   * row, weights S (N x m0), diagonals `exact` when sampled) into out at i (d + 1)^2; 'unit2-grams':
   * the second layer's units [r0, r1) (their (m0 + 1)-square blocks) into out at l (m0 + 1)^2;
   * 'layer2-gram': the whole second layer's block over rows [r0, r1) (every step-th row of all N).
   */
  S?: Float64Array;
  step?: number;
  exact?: Float64Array | null;
}

/** sum over the n rows of an n x c matrix into out[at + j]. */
function columnSumsOf(M: Float64Array, n: number, c: number, out: Float64Array, at: number): void {
  for (let j = 0; j < c; j++) out[at + j] = 0;
  for (let q = 0; q < n; q++) for (let j = 0; j < c; j++) out[at + j] += M[q * c + j];
}

/** The preconditioner's unit blocks of units [r0, r1) (see OperatorTask): each unit's as in one thread, whichever thread runs it. */
function unitGrams(t: OperatorTask): void {
  const { shape: s, r0, r1, X, state } = t;
  const { N, d, m0, m1, k, general } = s;
  const out = t.out!;
  if (t.job === 'unit-grams') {
    const S = t.S!;
    const step = t.step!;
    const D1 = d + 1;
    const rows = Math.ceil(N / step);
    const Xs = new Float64Array(rows * D1);
    for (let i = r0; i < r1; i++) {
      for (let n = 0, q = 0; n < N; n += step, q++) {
        const w = Math.sqrt(step * S[n * m0 + i]);
        for (let j = 0; j < d; j++) Xs[q * D1 + j] = w * X[n * d + j];
        Xs[q * D1 + d] = w;
      }
      const g = gram(view(Xs, rows, D1)).data;
      if (t.exact) for (let j = 0; j < D1; j++) g[j * D1 + j] = t.exact[i * D1 + j];
      out.set(g, i * D1 * D1);
    }
    return;
  }
  // per second-layer unit: Q_nl = h1_nl^2 sum_o C_ol^2
  const M1 = m0 + 1;
  const { G, H1, p } = state;
  const Gs = new Float64Array(N * M1);
  for (let l = r0; l < r1; l++) {
    let c2 = 0;
    for (let o = 0; o < k; o++) c2 += general ? p[s.offC + o * m1 + l] * p[s.offC + o * m1 + l] : 1;
    for (let n = 0; n < N; n++) {
      const w = Math.sqrt(c2) * Math.abs(H1[n * m1 + l]);
      for (let i = 0; i < m0; i++) Gs[n * M1 + i] = w * G[n * m0 + i];
      Gs[n * M1 + m0] = w;
    }
    out.set(gram(view(Gs, N, M1)).data, l * M1 * M1);
  }
}

/**
 * The whole second layer's block of J^T J over rows [r0, r1): J's columns C_ol h1_nl (g_n, 1) of
 * every step-th row n (weight step), Gram over row chunks (sized on all N rows: at most ~4 in all)
 * summed in order into t.out.
 */
function secondLayerGram(t: OperatorTask): void {
  const { shape: s, r0, r1, state } = t;
  const { N, m0, m1, k, general } = s;
  const { G, H1, p } = state;
  const step = t.step!;
  const M1 = m0 + 1;
  const Q = m1 * M1;
  const block = t.out!;
  block.fill(0);
  const chunk = Math.max(1, Math.floor(CHUNK_NUMBERS / Q), Math.ceil((Math.ceil(N / step) * k) / 4));
  const Jb = new Float64Array(Math.min(chunk, Math.ceil(N / step) * k) * Q);
  let rows = 0;
  const flush = () => {
    if (rows === 0) return;
    const g = gram(view(Jb, rows, Q)).data;
    for (let q = 0; q < Q * Q; q++) block[q] += g[q];
    rows = 0;
  };
  const w = Math.sqrt(step);
  for (let n = Math.ceil(r0 / step) * step; n < r1; n += step) {
    for (let o = 0; o < k; o++) {
      if ((rows + 1) * Q > Jb.length) flush();
      const at = rows * Q;
      for (let l = 0; l < m1; l++) {
        const c = w * (general ? p[s.offC + o * m1 + l] : 1) * H1[n * m1 + l];
        const bo = at + l * M1;
        for (let i = 0; i < m0; i++) Jb[bo + i] = c * G[n * m0 + i];
        Jb[bo + m0] = c;
      }
      rows++;
    }
  }
  flush();
}

/** Runs one row block (the module comment's formulas on rows [r0, r1)); 'forward' returns the block's sum r^2, the others 0. */
export function runOperatorBlock(t: OperatorTask): number {
  const { shape: s, r0, r1, X, Y, U0, state } = t;
  const { d, m0, m1, k, general, free } = s;
  if (t.job === 'unit-grams' || t.job === 'unit2-grams') {
    unitGrams(t);
    return 0;
  }
  if (t.job === 'layer2-gram') {
    secondLayerGram(t);
    return 0;
  }
  const n = r1 - r0;
  const weightsFree = free === 'weights-and-shifts';
  const scales = free === 'shifts-and-scales';
  const shiftsFree = free !== 'none';
  const { p } = state;
  const Xb = view(X.subarray(r0 * d, r1 * d), n, d);
  const U0b = U0 ? U0.subarray(r0 * m0, r1 * m0) : null;
  const G = state.G.subarray(r0 * m0, r1 * m0);
  const G1 = state.G1.subarray(r0 * m0, r1 * m0);
  const H = state.H.subarray(r0 * m1, r1 * m1);
  const H1 = state.H1.subarray(r0 * m1, r1 * m1);
  const B = p.subarray(s.offB, s.offB + m1 * m0);
  const C = general ? p.subarray(s.offC, s.offC + k * m1) : null;
  if (t.job === 'forward') {
    const r = state.r.subarray(r0 * k, r1 * k);
    let Z1: Float64Array;
    if (weightsFree) {
      Z1 = matmul(Xb, view(p, m0, d), { transB: true }).data;
    } else if (scales) {
      Z1 = new Float64Array(n * m0);
      for (let q = 0; q < n; q++) for (let i = 0; i < m0; i++) Z1[q * m0 + i] = U0b![q * m0 + i] * p[s.P + i];
    } else {
      Z1 = Float64Array.from(U0b!);
    }
    for (let q = 0; q < n; q++) for (let i = 0; i < m0; i++) Z1[q * m0 + i] += p[s.offTheta + i];
    activation(s.layer1).valuesSlopes(Z1, 0, n * m0, G, t.slopes ? G1 : null);
    const Z2 = matmul(view(G, n, m0), view(B, m1, m0), { transB: true }).data;
    for (let q = 0; q < n; q++) for (let l = 0; l < m1; l++) Z2[q * m1 + l] += p[s.offTau + l];
    activation(s.layer2).valuesSlopes(Z2, 0, n * m1, H, t.slopes ? H1 : null);
    let sum = 0;
    if (general) {
      const Fo = matmul(view(H, n, m1), view(C!, k, m1), { transB: true }).data;
      for (let q = 0; q < n; q++) {
        for (let o = 0; o < k; o++) {
          const res = Fo[q * k + o] + p[s.offBias + o] - Y[(r0 + q) * k + o];
          r[q * k + o] = res;
          sum += res * res;
        }
      }
    } else {
      for (let q = 0; q < n; q++) {
        let f = 0;
        for (let l = 0; l < m1; l++) f += H[q * m1 + l];
        const res = f - Y[r0 + q];
        r[q] = res;
        sum += res * res;
      }
    }
    return sum;
  }
  const v = t.v!;
  const out = t.out!;
  if (t.job === 'apply') {
    const dZ2 = matmul(view(G, n, m0), view(v.subarray(s.oB, s.oB + m1 * m0), m1, m0), { transB: true }).data;
    if (shiftsFree) {
      const dZ1 = weightsFree ? matmul(Xb, view(v, m0, d), { transB: true }).data : new Float64Array(n * m0);
      for (let q = 0; q < n; q++) {
        const o = q * m0;
        for (let i = 0; i < m0; i++) {
          let z = dZ1[o + i] + v[s.oTheta + i];
          if (scales) z += U0b![o + i] * v[s.oS + i];
          dZ1[o + i] = z * G1[o + i];
        }
      }
      const inner = matmul(view(dZ1, n, m0), view(B, m1, m0), { transB: true }).data;
      for (let q = 0; q < n * m1; q++) dZ2[q] += inner[q];
    }
    for (let q = 0; q < n; q++) for (let l = 0; l < m1; l++) dZ2[q * m1 + l] = (dZ2[q * m1 + l] + v[s.oTau + l]) * H1[q * m1 + l];
    if (!general) {
      for (let q = 0; q < n; q++) {
        let sum = 0;
        for (let l = 0; l < m1; l++) sum += dZ2[q * m1 + l];
        out[r0 + q] = sum;
      }
      return 0;
    }
    const Fo = matmul(view(dZ2, n, m1), view(C!, k, m1), { transB: true }).data;
    const fromC = matmul(view(H, n, m1), view(v.subarray(s.oC, s.oC + k * m1), k, m1), { transB: true }).data;
    for (let q = 0; q < n; q++) for (let o = 0; o < k; o++) out[(r0 + q) * k + o] = Fo[q * k + o] + fromC[q * k + o] + v[s.oBias + o];
    return 0;
  }
  // transpose: out = J_b^T w_b (F values)
  const w = v.subarray(r0 * k, r1 * k);
  out.fill(0);
  let L2: Float64Array;
  if (general) {
    L2 = matmul(view(w, n, k), view(C!, k, m1)).data;
    for (let q = 0; q < n * m1; q++) L2[q] *= H1[q];
    out.set(matmul(view(w, n, k), view(H, n, m1), { transA: true }).data, s.oC);
    columnSumsOf(w, n, k, out, s.oBias);
  } else {
    L2 = new Float64Array(n * m1);
    for (let q = 0; q < n; q++) for (let l = 0; l < m1; l++) L2[q * m1 + l] = w[q] * H1[q * m1 + l];
  }
  out.set(matmul(view(L2, n, m1), view(G, n, m0), { transA: true }).data, s.oB);
  columnSumsOf(L2, n, m1, out, s.oTau);
  if (shiftsFree) {
    const L1 = matmul(view(L2, n, m1), view(B, m1, m0)).data;
    for (let q = 0; q < n * m0; q++) L1[q] *= G1[q];
    if (weightsFree) out.set(matmul(view(L1, n, m0), Xb, { transA: true }).data, 0);
    columnSumsOf(L1, n, m0, out, s.oTheta);
    if (scales) {
      for (let i = 0; i < m0; i++) out[s.oS + i] = 0;
      for (let q = 0; q < n; q++) for (let i = 0; i < m0; i++) out[s.oS + i] += L1[q * m0 + i] * U0b![q * m0 + i];
    }
  }
  return 0;
}

/** Runs operator tasks in a worker (refine's pool): resolves to the task's runOperatorBlock value. */
export interface OperatorPool {
  runOperator(task: OperatorTask): Promise<number>;
}

/**
 * The fit's residuals r = f(X) - Y and its Jacobian's products, with the per-unit blocks of J^T J
 * for the preconditioner (see the module comment). The free vector is x = [p[first..P), s]
 * (first = firstFreeIndex; s the first layer's row norms with 'shifts-and-scales').
 *
 * @example
 * const op = networkOperator({ layout, p, free: 'weights-and-shifts', X, Y: y, N });
 * const { x, report } = await leastSquares(matrixFreeStrategy(op), p, {});
 */
export function networkOperator(input: NetworkOperatorInput): JacobianOperator & { freeParameters: number; rowBlocks: number } {
  const { layout, free, X, Y, N } = input;
  const { inputDim: d, width1: m0, width2: m1, offTheta, offB, offTau, size: P } = layout;
  const general = layout.offC !== undefined;
  const k = general ? layout.outputs! : 1;
  const offC = layout.offC ?? P;
  const offBias = layout.offBias ?? P;
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
  const pool = input.pool ?? null;
  const rowBlocks = input.rowBlocks ?? operatorRowBlocks(N * k, P);
  // workers read the data and the activations in place: on shared memory when a pool runs blocks
  const shared = pool !== null && rowBlocks > 1;
  const onShared = (a: Float64Array) => {
    if (!shared || a.buffer instanceof SharedArrayBuffer) return a;
    const c = allocFloat64(a.length, { shared: true });
    c.set(a);
    return c;
  };
  const Xs = onShared(X);
  const Ys = onShared(Y);
  const p0 = new Float64Array(P + (scales ? m0 : 0));
  p0.set(input.p.subarray(0, P));
  // A0 x_n when the first layer's weights are fixed (scaled by s each time with 'shifts-and-scales')
  const U0 = weightsFree ? null : onShared(matmul(view(X, N, d), view(p0, m0, d), { transB: true }).data);
  const shape: OperatorShape = { N, d, m0, m1, k, general, layer1: layout.layer1, layer2: layout.layer2, free, offTheta, offB, offTau, offC, offBias, P, first, F, oTheta, oB, oTau, oC, oBias, oS };
  const ranges = blockRanges(N, rowBlocks);

  const ones = new Float64Array(m1).fill(1);
  const alloc = (n: number) => allocFloat64(n, { shared });
  /** The activations of one point (the linearization's, or scratch for residual evaluations). */
  const state = (): OperatorState => {
    const q = alloc(p0.length);
    q.set(p0);
    return { p: q, G: alloc(N * m0), G1: alloc(N * m0), H: alloc(N * m1), H1: alloc(N * m1), r: alloc(N * k) };
  };
  const lin = state();
  const scratch = state();
  const linB = lin.p.subarray(offB, offB + m1 * m0);
  const linC = general ? lin.p.subarray(offC, offC + k * m1) : ones;
  // apply's and transpose's buffers (shared when blocked in workers), rewritten at every product
  const vBuffer = alloc(F);
  const wBuffer = shared ? alloc(N * k) : null;
  const applyOut = alloc(N * k);
  const partials = ranges.map(() => alloc(F));

  /** Runs `job` on every row block (the first here, the others in the pool or here, in order); the blocks' values. */
  const runBlocks = (job: OperatorTask['job'], st: OperatorState, extra: (b: number) => Partial<OperatorTask>): Promise<number[]> =>
    settleAll(
      ranges.map(([r0, r1], b) => {
        const task: OperatorTask = { kind: 'operator', job, shape, r0, r1, X: Xs, Y: Ys, U0, state: st, ...extra(b) };
        return b > 0 && shared ? pool!.runOperator(task) : Promise.resolve().then(() => runOperatorBlock(task));
      }),
      'refine operator blocks',
    );

  /** Forward pass at x into st (slopes when asked); returns sum r^2 (the blocks' sums in block order). */
  const forward = async (x: Float64Array, st: OperatorState, slopes: boolean): Promise<number> => {
    st.p.set(x.subarray(0, P - first), first);
    if (scales) st.p.set(x.subarray(oS, oS + m0), P);
    const sums = await runBlocks('forward', st, () => ({ slopes }));
    let sum = 0;
    for (const t of sums) sum += t;
    return sum;
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
    const { G, H1 } = lin;
    const C = linC;
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
  /**
   * The unit blocks of `units` units (job 'unit-grams' or 'unit2-grams') of `size` numbers each:
   * the first half here, the rest in the pool's worker when the products are (each unit's block the
   * same in either thread).
   */
  const unitBlocks = async (job: 'unit-grams' | 'unit2-grams', units: number, size: number, extra: Partial<OperatorTask>): Promise<Float64Array> => {
    const out = allocFloat64(units * size, { shared });
    const parts: [number, number][] = shared ? blockRanges(units, 2) : [[0, units]];
    await settleAll(
      parts.map(([u0, u1], b) => {
        const task: OperatorTask = { kind: 'operator', job, shape, r0: u0, r1: u1, X: Xs, Y: Ys, U0, state: lin, out, ...extra };
        return b > 0 ? pool!.runOperator(task) : Promise.resolve().then(() => runOperatorBlock(task));
      }),
      'refine preconditioner blocks',
    );
    return out;
  };

  const blocksAt = async (): Promise<PreconditionerBlocks> => {
    const { G, G1, H, H1 } = lin;
    const B = linB;
    const C = linC;
    const indices: Int32Array[] = [];
    const grams: Float64Array[] = [];
    if (shiftsFree) {
      // S_ni = sum_o T_oni^2, T_o = ((H1 o C_o) B) o G1: df_o/dtheta_i
      const S = alloc(N * m0);
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
        const exact = step > 1 ? firstLayerColumnNorms(S) : null;
        const all = await unitBlocks('unit-grams', m0, D1 * D1, { S: onShared(S), step, exact: exact && onShared(exact) });
        for (let i = 0; i < m0; i++) {
          const idx = new Int32Array(D1);
          for (let j = 0; j < d; j++) idx[j] = i * d + j;
          idx[d] = oTheta + i;
          indices.push(idx);
          grams.push(all.subarray(i * D1 * D1, (i + 1) * D1 * D1));
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
    if (Q <= SECOND_LAYER_BLOCK_MAX && input.secondLayerBlock !== 'units') {
      // the whole second layer (B, tau) as one block: J's columns C_ol h1_nl (g_n, 1), Gram over
      // row chunks, from every s-th row (weight s) when N Q^2 exceeds SECOND_LAYER_BLOCK_FLOPS
      // (the row blocks' parts summed in block order: one block, the Gram of all rows' chunks in order)
      const step = Math.max(1, Math.ceil((N * Q * Q) / (input.blockFlops ?? SECOND_LAYER_BLOCK_FLOPS)));
      const parts = ranges.map(() => allocFloat64(Q * Q, { shared }));
      await settleAll(
        ranges.map(([r0, r1], b) => {
          const task: OperatorTask = { kind: 'operator', job: 'layer2-gram', shape, r0, r1, X: Xs, Y: Ys, U0, state: lin, out: parts[b], step };
          return b > 0 && shared ? pool!.runOperator(task) : Promise.resolve().then(() => runOperatorBlock(task));
        }),
        'refine preconditioner blocks',
      );
      const block = parts[0];
      for (let b = 1; b < parts.length; b++) {
        const part = parts[b];
        for (let t = 0; t < Q * Q; t++) block[t] += part[t];
      }
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
      const all = await unitBlocks('unit2-grams', m1, M1 * M1, {});
      for (let l = 0; l < m1; l++) {
        const idx = new Int32Array(M1);
        for (let i = 0; i < m0; i++) idx[i] = oB + l * m0 + i;
        idx[m0] = oTau + l;
        indices.push(idx);
        grams.push(all.subarray(l * M1 * M1, (l + 1) * M1 * M1));
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
    rowBlocks,
    async linearize(x) {
      await forward(x, lin, true);
      const blocks = await blocksAt();
      const columnNormsSquared = new Float64Array(F);
      blocks.indices.forEach((idx, b) => {
        const m = idx.length;
        const g = blocks.grams[b];
        for (let t = 0; t < m; t++) columnNormsSquared[idx[t]] = g[t * m + t];
      });
      return { residuals: lin.r, columnNormsSquared, blocks };
    },
    async residuals(x) {
      await forward(x, scratch, false);
      return scratch.r;
    },
    async apply(v) {
      vBuffer.set(v);
      await runBlocks('apply', lin, () => ({ v: vBuffer, out: applyOut }));
      return applyOut;
    },
    async applyTranspose(w) {
      let wv = w;
      if (wBuffer && !(w.buffer instanceof SharedArrayBuffer)) {
        wBuffer.set(w);
        wv = wBuffer;
      }
      await runBlocks('transpose', lin, (b) => ({ v: wv, out: partials[b] }));
      // the blocks' J_b^T w_b summed in block order
      const out = Float64Array.from(partials[0]);
      for (let b = 1; b < partials.length; b++) {
        const part = partials[b];
        for (let t = 0; t < F; t++) out[t] += part[t];
      }
      return out;
    },
  };
}
