/**
 * Levenberg–Marquardt on the general network (docs/DESIGN.md section 6),
 *
 *   f(x) = C phi2( W2 phi1( W1 x + b1 ) + b2 ) + c,    f(x) in R^k,
 *
 * on data in hand. The parameter vector extends refine's layout: [W1 (= A), b1 (= theta),
 * W2 (= B), b2 (= tau), C (k x m1, row-major), c (k)], and the k outputs of a row are k residuals
 * (row n, output o at n k + o). The hidden layers go through core's forward pass exactly as the
 * paper-form fit's; an output's Jacobian row is that fit's with phi2' weighted by C's row
 * (df_o/dz2_l = C_ol phi2'(z2_l)), plus h for C's row o and 1 for c_o.
 *
 * f is linear in (C, c): given the hidden layers, `fitOutputLayer` solves for them by linear least
 * squares (the variable-projection start of a fit whose output layer is unknown).
 *
 * @example
 * const start = fitOutputLayer(toGeneral(estimate), { inputs, values });
 * const { network, report } = await fitGeneralNetwork(start, { inputs, values });
 */
import {
  activation,
  checkInteger,
  checkPositive,
  checkView,
  forwardRow,
  forwardRowScratch,
  generalParameterCount,
  invalidArgument,
  matrix,
  matrixFrom,
  outputSlopeSums,
  parameterJacobianRow,
  toDense,
  type ActivationName,
  type Float64View,
  type ForwardRow,
  type GeneralNetwork,
  type ViewLike,
} from '@nnid/core';
import { gram, lstsq, matmul, setBlasThreads } from '@nnid/linalg';
import { leastSquares, matrixFreeStrategy, normalEquationsStrategy, type MatrixFreeOptions, type NormalEquations } from '@nnid/optimize';
import type { RefineReport } from './refine.ts';
import { checkSolver, checkSolverOptions, leastSquaresOptions, type Solver, type SolverOptions } from './solver-options.ts';
import { networkOperator } from './jacobian-operator.ts';
import { fitLayers } from './params.ts';

/** Where each block of a general network's parameters sits in the packed vector. */
export interface GeneralLayout {
  readonly inputDim: number;
  readonly width1: number;
  readonly width2: number;
  readonly outputs: number;
  readonly layer1: ActivationName;
  readonly layer2: ActivationName;
  readonly offTheta: number;
  readonly offB: number;
  readonly offTau: number;
  readonly offC: number;
  readonly offBias: number;
  /** P = d m0 + m0 + m0 m1 + m1 + k m1 + k. */
  readonly size: number;
}

export function generalLayoutOf(net: GeneralNetwork): GeneralLayout {
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = net;
  const offTheta = d * m0;
  const offB = offTheta + m0;
  const offTau = offB + m0 * m1;
  const offC = offTau + m1;
  const offBias = offC + k * m1;
  return {
    inputDim: d,
    width1: m0,
    width2: m1,
    outputs: k,
    layer1: net.activation.layer1,
    layer2: net.activation.layer2,
    offTheta,
    offB,
    offTau,
    offC,
    offBias,
    size: offBias + k,
  };
}

function copyMatrix(v: Float64View, into: Float64Array, at: number): void {
  const [r, c] = v.shape;
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) into[at + i * c + j] = v.data[v.offset + i * v.strides[0] + j * v.strides[1]];
}

export function packGeneral(net: GeneralNetwork, layout: GeneralLayout): Float64Array {
  const p = new Float64Array(layout.size);
  copyMatrix(net.W1, p, 0);
  p.set(net.b1, layout.offTheta);
  copyMatrix(net.W2, p, layout.offB);
  p.set(net.b2, layout.offTau);
  copyMatrix(net.C, p, layout.offC);
  p.set(net.c, layout.offBias);
  return p;
}

export function unpackGeneral(p: Float64Array, layout: GeneralLayout): GeneralNetwork {
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = layout;
  const W1 = matrix(m0, d);
  W1.data.set(p.subarray(0, d * m0));
  const W2 = matrix(m1, m0);
  W2.data.set(p.subarray(layout.offB, layout.offB + m0 * m1));
  const C = matrix(k, m1);
  C.data.set(p.subarray(layout.offC, layout.offC + k * m1));
  return {
    activation: { layer1: layout.layer1, layer2: layout.layer2 },
    inputDim: d,
    width1: m0,
    width2: m1,
    outputs: k,
    W1,
    b1: p.slice(layout.offTheta, layout.offTheta + m0),
    W2,
    b2: p.slice(layout.offTau, layout.offTau + m1),
    C,
    c: p.slice(layout.offBias, layout.offBias + k),
  };
}

/**
 * Kernel: residuals r_{n k + o} = f_o(x_n) - Y[n k + o] and, when `jacobian` is given, their rows
 * of dr/dp from parameter `first` on (0: all; layout.offTheta: W1 fixed, U = W1 x_n given),
 * (N k) x rowWidth row-major (columns past P - first are the caller's). `U` holds W1 x_n (N x m0).
 * Returns sum r^2.
 */
export function generalResiduals(
  p: Float64Array,
  layout: GeneralLayout,
  X: Float64Array | null,
  U: Float64Array,
  Y: Float64Array,
  N: number,
  residuals: Float64Array,
  jacobian: Float64Array | undefined,
  first: number,
  rowWidth = layout.size - first,
): number {
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = layout;
  const F = rowWidth;
  const net = fitLayers(p, layout);
  const row = forwardRowScratch(m0, m1);
  // the row with phi2' weighted by output o's row of C: the paper-form kernels then give df_o/dp
  const weighted: ForwardRow = { ...row, h1: new Float64Array(m1) };
  const cw = new Float64Array(m0);
  const offC = layout.offC;
  let sum = 0;
  for (let r = 0; r < N; r++) {
    forwardRow(net, U, r * m0, row, jacobian !== undefined);
    for (let o = 0; o < k; o++) {
      const co = offC + o * m1;
      let s = 0;
      for (let l = 0; l < m1; l++) s += p[co + l] * row.h[l];
      const res = s + p[layout.offBias + o] - Y[r * k + o];
      const q = r * k + o;
      residuals[q] = res;
      sum += res * res;
      if (jacobian) {
        for (let l = 0; l < m1; l++) weighted.h1[l] = p[co + l] * row.h1[l];
        outputSlopeSums(net, weighted, cw);
        const at = q * F;
        if (first === 0) parameterJacobianRow(net, weighted, cw, X, r * d, d, jacobian, at);
        else parameterJacobianRow(net, weighted, cw, null, 0, 0, jacobian, at);
        const cAt = at + offC - first;
        jacobian.fill(0, cAt, cAt + k * m1 + k);
        for (let l = 0; l < m1; l++) jacobian[cAt + o * m1 + l] = row.h[l];
        jacobian[cAt + k * m1 + o] = 1;
      }
    }
  }
  return sum;
}

/** W1 x_n for the N rows of X (N x m0 row-major), by BLAS. */
function firstProducts(p: Float64Array, layout: GeneralLayout, X: Float64Array, N: number): Float64Array {
  return matmul(matrixFrom(X, N, layout.inputDim), matrixFrom(p, layout.width1, layout.inputDim), { transB: true }).data;
}

/** The data of a general fit: n x inputDim inputs and n x k values (row-major; k = 1: n values). */
export interface GeneralData {
  inputs: ViewLike;
  /** n k numbers, row n's outputs at [n k, n k + k), or an n x k view. */
  values: Float64Array | ViewLike;
}

export function checkData(net: GeneralNetwork, data: GeneralData): { X: Float64Array; Y: Float64Array; N: number } {
  if (!data || typeof data !== 'object') invalidArgument('data', 'must be { inputs: n x inputDim, values: n x k }', data);
  const d = net.inputDim;
  const k = net.outputs;
  const inputs = checkView('data.inputs', data.inputs, { cols: d, colsName: 'inputDim', minRows: 1, dims: 'n x inputDim' });
  const N = inputs.shape[0];
  let Y: Float64Array;
  if (data.values instanceof Float64Array) {
    if (data.values.length !== N * k) invalidArgument('data.values', `must hold n k = ${N * k} numbers (${k} per row of data.inputs)`, data.values.length);
    Y = data.values;
  } else {
    const v = checkView('data.values', data.values, { rows: N, cols: k, colsName: 'k', dims: 'n x k' });
    Y = toDense(v).data;
  }
  return { X: toDense(inputs).data, Y, N };
}

/**
 * The output layer (C, c) of `start` replaced by its linear least-squares solution on the data:
 * min over (C, c) of sum_n |C h(x_n) + c - y_n|^2 with the hidden layers of `start` fixed.
 */
export function fitOutputLayer(start: GeneralNetwork, data: GeneralData): GeneralNetwork {
  const { X, Y, N } = checkData(start, data);
  const layout = generalLayoutOf(start);
  const { width1: m0, width2: m1, outputs: k } = layout;
  const p = packGeneral(start, layout);
  const U = firstProducts(p, layout, X, N);
  const net = fitLayers(p, layout);
  const row = forwardRowScratch(m0, m1);
  const H = matrix(N, m1 + 1);
  for (let r = 0; r < N; r++) {
    forwardRow(net, U, r * m0, row, false);
    H.data.set(row.h, r * (m1 + 1));
    H.data[r * (m1 + 1) + m1] = 1;
  }
  const solution = lstsq(H, matrixFrom(Y, N, k)).solution; // (m1 + 1) x k
  for (let o = 0; o < k; o++) {
    for (let l = 0; l < m1; l++) p[layout.offC + o * m1 + l] = solution.data[solution.offset + l * solution.strides[0] + o * solution.strides[1]];
    p[layout.offBias + o] = solution.data[solution.offset + m1 * solution.strides[0] + o * solution.strides[1]];
  }
  return unpackGeneral(p, layout);
}

/** Which parameters fitGeneralNetwork keeps (see GeneralFitOptions.fix). */
export type GeneralFix = 'none' | 'first-layer-weights' | 'first-layer-directions';
const GENERAL_FIXES: readonly GeneralFix[] = ['none', 'first-layer-weights', 'first-layer-directions'];

/** The solver options (SolverOptions) as refine's: step (1e-13), residual (1e-15), cost (1e-12) tolerances, iterations (200), stall rule (50, 0.8, 1e-6), inner steps (4), OpenBLAS threads (1). */
export interface GeneralFitOptions extends SolverOptions {
  /**
   * 'none' (default): every parameter; 'first-layer-weights': W1 kept, the rest fitted;
   * 'first-layer-directions': the directions of W1's rows kept, their norms fitted with the rest
   * (W1 = diag(s) A, A the start's rows made unit: what the Hessian stages find is A alone).
   */
  fix?: GeneralFix;
  /** As refine's (RefineOptions.solver): 'auto' (default: dense within 4 GiB, else matrix-free), 'normal-equations', 'matrix-free' (J never formed). */
  solver?: Solver;
  /** The matrix-free solver's CG options (RefineOptions.matrixFree). */
  matrixFree?: MatrixFreeOptions;
  onProgress?: (iteration: number, relativeResidual: number) => void;
}

export interface GeneralFitResult {
  network: GeneralNetwork;
  /** refine's report (`dataPoints` counts input rows; `queries` 0: no oracle here). */
  report: RefineReport;
}

/**
 * Levenberg–Marquardt on every weight and bias of `start` (or all but W1) on the data: the same
 * solver and settings as fitNetwork, with the k outputs of a row as k residuals.
 *
 * @example
 * const { network, report } = await fitGeneralNetwork(start, { inputs, values }); // report.relativeResidual ~1e-15
 */
export async function fitGeneralNetwork(start: GeneralNetwork, data: GeneralData, options: GeneralFitOptions = {}): Promise<GeneralFitResult> {
  const started = performance.now();
  const { X, Y, N } = checkData(start, data);
  const o = options ?? {};
  const fix = o.fix ?? 'none';
  if (!GENERAL_FIXES.includes(fix)) invalidArgument('fix', `must be one of ${GENERAL_FIXES.map((f) => `'${f}'`).join(', ')}`, fix);
  const checked = checkSolverOptions(o);
  const { blasThreads } = checked;
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') invalidArgument('onProgress', 'must be a function', o.onProgress);

  const layout = generalLayoutOf(start);
  const { width1: m0, inputDim: d } = layout;
  const P = generalParameterCount(start);
  const first = fix === 'none' ? 0 : layout.offTheta;
  // with the directions fixed, the free vector is [theta, B, tau, C, c, s]: the row norms s last
  const scales = fix === 'first-layer-directions';
  const F = P - first + (scales ? m0 : 0);
  const rows = N * start.outputs;
  const { solver, matrixFree } = checkSolver(o, rows, F);
  const p = packGeneral(start, layout);
  const x0 = new Float64Array(F);
  x0.set(p.subarray(first));
  if (scales) {
    // W1 = diag(s) A: A's rows unit, s their norms
    for (let i = 0; i < m0; i++) {
      let sq = 0;
      for (let j = 0; j < d; j++) sq += p[i * d + j] ** 2;
      const norm = Math.sqrt(sq);
      if (!(norm > 0)) invalidArgument(`start.W1[${i}]`, "must be a nonzero row with fix 'first-layer-directions'", 0);
      x0[P - first + i] = norm;
      for (let j = 0; j < d; j++) p[i * d + j] /= norm;
    }
  }
  const fixedU = first > 0 && solver === 'normal-equations' ? firstProducts(p, layout, X, N) : null;
  const scaledU = scales ? new Float64Array(N * m0) : null;
  const full = Float64Array.from(p);
  const r = new Float64Array(rows);
  let J: Float64View | null = null;
  const at = (x: Float64Array) => {
    full.set(x.subarray(0, P - first), first);
    return full;
  };
  const residuals = (x: Float64Array, jacobian: Float64Array | undefined) => {
    const q = at(x);
    if (!scaledU) return generalResiduals(q, layout, X, fixedU ?? firstProducts(q, layout, X, N), Y, N, r, jacobian, first);
    const U = fixedU!;
    const s = x.subarray(P - first);
    for (let n = 0; n < N; n++) for (let i = 0; i < m0; i++) scaledU[n * m0 + i] = s[i] * U[n * m0 + i];
    const sum = generalResiduals(q, layout, X, scaledU, Y, N, r, jacobian, first, F);
    if (jacobian) {
      // df/ds_i = df/dtheta_i (a_i . x): the theta column (the first free one) times the unit product
      const k = layout.outputs;
      for (let n = 0; n < N; n++) {
        for (let o = 0; o < k; o++) {
          const row = (n * k + o) * F;
          for (let i = 0; i < m0; i++) jacobian[row + P - first + i] = jacobian[row + i] * U[n * m0 + i];
        }
      }
    }
    return sum;
  };
  const equations: NormalEquations = {
    async evaluate(x) {
      J ??= matrix(rows, F);
      const sumSq = residuals(x, J.data);
      return { sumSq, JtJ: gram(J), grad: matmul(J, matrixFrom(r, rows, 1), { transA: true }).data };
    },
    async sumOf(x) {
      return residuals(x, undefined);
    },
    gradientAtLast() {
      return matmul(J!, matrixFrom(r, rows, 1), { transA: true }).data;
    },
  };
  const strategy =
    solver === 'matrix-free'
      ? matrixFreeStrategy(networkOperator({ layout, p, free: fix === 'none' ? 'weights-and-shifts' : scales ? 'shifts-and-scales' : 'shifts', X, Y, N }), matrixFree)
      : normalEquationsStrategy(equations);
  let yNorm = 0;
  for (let i = 0; i < Y.length; i++) yNorm += Y[i] * Y[i];
  yNorm = Math.sqrt(yNorm) || 1;
  const blasBefore = setBlasThreads(blasThreads);
  try {
    const { x, report } = await leastSquares(strategy, x0, leastSquaresOptions(checked, yNorm, o.onProgress));
    p.set(x.subarray(0, P - first), first);
    if (scales) {
      const s = x.subarray(P - first);
      for (let i = 0; i < m0; i++) for (let j = 0; j < d; j++) p[i * d + j] *= s[i];
    }
    return {
      network: unpackGeneral(p, layout),
      report: {
        dataPoints: N,
        queries: 0,
        ...report,
        rmsResidual: Math.sqrt((2 * report.cost) / rows),
        converged: report.success,
        seconds: (performance.now() - started) / 1000,
      },
    };
  } finally {
    setBlasThreads(blasBefore);
  }
}
