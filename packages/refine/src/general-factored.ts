/**
 * The general network's shift fit ("factored" fit): what the Hessian stages give is the
 * directions of W1's rows (A, unit rows) and the entangled weights v_l, which fix the rows of W2
 * up to a diagonal scaling (at x = 0, v_l ∝ W1^T diag(phi1'(b1)) W2_l: in A's coordinates W2_l
 * times diag(s phi1'(b1))). So the fit keeps A and a pattern matrix B (m1 x m0, the start's W2)
 * and fits
 *
 *   W1 = diag(s) A,   W2 = diag(lambda) B diag(r),   b1, b2, C, c
 *
 * (3 m0 + 3 m1 + ... parameters, not d m0 + m0 m1 + ...): a small problem that multi-starts
 * cheaply and whose minimum, when B's rows are the true ones up to that scaling, is the true
 * network (then every weight and bias is fitted by fitGeneralNetwork).
 *
 * fitGeneralSigns, the other small fit here, keeps the directions A but not W2's pattern: for the
 * first layers whose rows' signs are part of the function (LINEAR_FLIP), it chooses each sign;
 * flipRowsByRefit chooses them one row at a time by the directions fit's residual instead.
 *
 * @example
 * const factored = await fitGeneralFactored(start, { inputs, values }); // start.W2: the pattern B
 * const { network } = await fitGeneralNetwork(factored.network, { inputs, values });
 */
import { activation, checkInteger, invalidArgument, matrix, matrixFrom, NumericalError, type Activation, type Float64View, type GeneralNetwork } from '@nnid/core';
import { gram, matmul, setBlasThreads } from '@nnid/linalg';
import { leastSquares, normalEquationsStrategy, type NormalEquations } from '@nnid/optimize';
import { checkData, fitGeneralNetwork, fitOutputLayer, type GeneralData, type GeneralFitResult } from './general.ts';
import { checkSolverOptions, leastSquaresOptions, type SolverOptions } from './solver-options.ts';

export interface GeneralFactoredOptions extends SolverOptions {
  onProgress?: (iteration: number, relativeResidual: number) => void;
}

/**
 * Fits (s, b1, r, lambda, b2, C, c) of W1 = diag(s) A, W2 = diag(lambda) B diag(r) on the data,
 * A the start's W1 with unit rows (s starts at their norms), B the start's W2 (r, lambda start at 1).
 * Returns the network fitted (in the general form) and refine's report.
 */
export async function fitGeneralFactored(start: GeneralNetwork, data: GeneralData, options: GeneralFactoredOptions = {}): Promise<GeneralFitResult> {
  const started = performance.now();
  const { X, Y, N, o, checked, phi1, phi2, A, s0, U } = smallFit(start, data, options);
  checkInteger('start.width2', start.width2);
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = start;
  const B = new Float64Array(m1 * m0);
  for (let l = 0; l < m1; l++) for (let i = 0; i < m0; i++) B[l * m0 + i] = at2(start.W2, l, i);
  // x = [s, b1, r, lambda, b2, C (k x m1), c (k)]
  const oS = 0;
  const oB1 = m0;
  const oR = 2 * m0;
  const oL = 3 * m0;
  const oB2 = 3 * m0 + m1;
  const oC = 3 * m0 + 2 * m1;
  const oc = oC + k * m1;
  const F = oc + k;
  const x0 = new Float64Array(F);
  x0.set(s0, oS);
  x0.set(start.b1, oB1);
  x0.fill(1, oR, oR + m0);
  x0.fill(1, oL, oL + m1);
  setOutputStart(x0, start, oB2, oC, oc);
  const rows = N * k;
  const r = new Float64Array(rows);
  const J = matrix(rows, F);
  const W2 = new Float64Array(m1 * m0);
  const z1 = new Float64Array(m0);
  const g = new Float64Array(m0);
  const g1 = new Float64Array(m0);
  const t = new Float64Array(m1);
  const h = new Float64Array(m1);
  const h1 = new Float64Array(m1);
  const e = new Float64Array(m1);
  const q = new Float64Array(m0);
  const residuals = (x: Float64Array, jac: Float64Array | undefined): number => {
    for (let l = 0; l < m1; l++) for (let i = 0; i < m0; i++) W2[l * m0 + i] = x[oL + l] * B[l * m0 + i] * x[oR + i];
    let sum = 0;
    for (let n = 0; n < N; n++) {
      firstLayerAt(x, oS, oB1, U, n, m0, phi1, z1, g, g1);
      for (let l = 0; l < m1; l++) {
        let tl = 0;
        let z = x[oB2 + l];
        for (let i = 0; i < m0; i++) {
          tl += B[l * m0 + i] * x[oR + i] * g[i];
          z += W2[l * m0 + i] * g[i];
        }
        t[l] = tl;
        h[l] = phi2.value(z);
        h1[l] = phi2.d1(z);
      }
      sum = outputResidualsAt(x, oC, oc, h, n, m1, k, Y, r, sum);
      if (!jac) continue;
      for (let o2 = 0; o2 < k; o2++) {
        const row = n * k + o2;
        const Jr = jac.subarray(row * F, (row + 1) * F);
        Jr.fill(0);
        for (let l = 0; l < m1; l++) e[l] = x[oC + o2 * m1 + l] * h1[l];
        q.fill(0);
        for (let l = 0; l < m1; l++) {
          for (let i = 0; i < m0; i++) q[i] += e[l] * W2[l * m0 + i];
          Jr[oL + l] = e[l] * t[l];
          Jr[oB2 + l] = e[l];
          Jr[oC + o2 * m1 + l] = h[l];
        }
        for (let i = 0; i < m0; i++) {
          Jr[oS + i] = g1[i] * q[i] * U[n * m0 + i];
          Jr[oB1 + i] = g1[i] * q[i];
          let sr = 0;
          for (let l = 0; l < m1; l++) sr += e[l] * x[oL + l] * B[l * m0 + i];
          Jr[oR + i] = g[i] * sr;
        }
        Jr[oc + o2] = 1;
      }
    }
    return sum;
  };
  const { x, report } = await solveSmall(residuals, J, r, x0, Y, checked, o.onProgress);
  const W1 = matrix(m0, d);
  for (let i = 0; i < m0; i++) for (let j = 0; j < d; j++) W1.data[i * d + j] = x[oS + i] * A.data[i * d + j];
  const W2out = matrix(m1, m0);
  for (let l = 0; l < m1; l++) for (let i = 0; i < m0; i++) W2out.data[l * m0 + i] = x[oL + l] * B[l * m0 + i] * x[oR + i];
  const C = matrixFrom(x.slice(oC, oC + k * m1), k, m1);
  return {
    network: { ...start, W1, b1: x.slice(oB1, oB1 + m0), W2: W2out, b2: x.slice(oB2, oB2 + m1), C, c: x.slice(oc, oc + k) },
    report: reportOf(report, N, rows, started),
  };
}

const at2 = (v: Float64View, i: number, j: number) => v.data[v.offset + i * v.strides[0] + j * v.strides[1]];

/** What both small fits start from: the data and options checked, the activations, A (W1's unit rows), s0 (their norms), U = X A^T. */
function smallFit(start: GeneralNetwork, data: GeneralData, options: GeneralFactoredOptions) {
  const { X, Y, N } = checkData(start, data);
  const o = options ?? {};
  const checked = checkSolverOptions(o);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') invalidArgument('onProgress', 'must be a function', o.onProgress);
  const phi1 = activation(start.activation.layer1);
  const phi2 = activation(start.activation.layer2);
  const { A, s0 } = unitRows(start.W1);
  return { X, Y, N, o, checked, phi1, phi2, A, s0, U: unitProducts(X, N, A) };
}

/** Point n's first layer with the directions fixed: z1_i = s_i (a_i . x_n) + b1_i, g = phi1(z1), g1 = phi1'(z1). */
function firstLayerAt(x: Float64Array, oS: number, oB1: number, U: Float64Array, n: number, m0: number, phi1: Activation, z1: Float64Array, g: Float64Array, g1: Float64Array): void {
  for (let i = 0; i < m0; i++) {
    z1[i] = x[oS + i] * U[n * m0 + i] + x[oB1 + i];
    g[i] = phi1.value(z1[i]);
    g1[i] = phi1.d1(z1[i]);
  }
}

/** Point n's k residuals f - y (f = C h + c, h = phi2(z2)) written into r; returns sum plus their squares (added one by one). */
function outputResidualsAt(x: Float64Array, oC: number, oc: number, h: Float64Array, n: number, m1: number, k: number, Y: Float64Array, r: Float64Array, sum: number): number {
  for (let q = 0; q < k; q++) {
    let f = x[oc + q];
    for (let l = 0; l < m1; l++) f += x[oC + q * m1 + l] * h[l];
    const row = n * k + q;
    r[row] = f - Y[row];
    sum += r[row] * r[row];
  }
  return sum;
}

/** The start's b2, C, c into x0 at their offsets. */
function setOutputStart(x0: Float64Array, start: GeneralNetwork, oB2: number, oC: number, oc: number): void {
  const { width2: m1, outputs: k } = start;
  x0.set(start.b2, oB2);
  for (let q = 0; q < k; q++) for (let l = 0; l < m1; l++) x0[oC + q * m1 + l] = at2(start.C, q, l);
  x0.set(start.c, oc);
}

/** W1's rows made unit (A) and their norms (s0). */
function unitRows(W1: Float64View): { A: Float64View; s0: Float64Array } {
  const [m0, d] = W1.shape;
  const A = matrix(m0, d);
  const s0 = new Float64Array(m0);
  for (let i = 0; i < m0; i++) {
    let sq = 0;
    for (let j = 0; j < d; j++) sq += at2(W1, i, j) ** 2;
    const norm = Math.sqrt(sq);
    if (!(norm > 0)) invalidArgument(`start.W1[${i}]`, 'must be a nonzero row', 0);
    s0[i] = norm;
    for (let j = 0; j < d; j++) A.data[i * d + j] = at2(W1, i, j) / norm;
  }
  return { A, s0 };
}

/** U = X A^T (N x m0): the unit products a_i . x_n, fixed while the directions are. */
function unitProducts(X: Float64Array, N: number, A: Float64View): Float64Array {
  return matmul(matrixFrom(X, N, A.shape[1]), A, { transB: true }).data;
}

/**
 * Activations with phi(t) - phi(-t) = t (softplus, gelu, gelu_tanh, silu): flipping a first-layer
 * row's sign (w, b) -> (-w, -b) changes phi1(w . x + b) by the linear term w . x + b, which no
 * other parameter absorbs. So the row's sign is part of the function, and a fit started with the
 * wrong one must move the row's norm through 0 (where the unit is constant) to correct it.
 */
export const LINEAR_FLIP: ReadonlySet<string> = new Set(['softplus', 'gelu', 'gelu_tanh', 'silu']);

export interface GeneralSignsResult extends GeneralFitResult {
  /** The rows whose sign was flipped (their index in W1). */
  flipped: number[];
}

/**
 * The fit with W1's row directions fixed (W1 = diag(s) A, A the start's rows made unit) for a first
 * layer in LINEAR_FLIP, extended by a linear term in the first layer's pre-activations,
 *
 *   z2 = W2 phi1(z1) + D z1 + b2,   z1 = diag(s) A x + b1,
 *
 * so that either sign of every row gives the function exactly (phi1(z) = phi1(-z) + z: a row of the
 * wrong sign is the right one with D's column i = -(W2's column i)), and the fit need not cross
 * s_i = 0. Then each row takes the sign for which the linear term it leaves is smaller (kept: |D_:i|;
 * flipped: |W2_:i + D_:i|), the row and b1_i negated when flipped, and D dropped: the network returned
 * has no linear term (fit it on with fitGeneralNetwork). Parameters: s, b1, W2, D, b2, C, c.
 *
 * @example
 * const signed = await fitGeneralSigns(start, { inputs, values }, { maxIterations: 100 }); // silu first layer
 * const { network } = await fitGeneralNetwork(signed.network, { inputs, values });
 */
export async function fitGeneralSigns(start: GeneralNetwork, data: GeneralData, options: GeneralFactoredOptions = {}): Promise<GeneralSignsResult> {
  const started = performance.now();
  const { X, Y, N, o, checked, phi1, phi2, A, s0, U } = smallFit(start, data, options);
  if (!LINEAR_FLIP.has(start.activation.layer1)) {
    invalidArgument('start.activation.layer1', `must be one of ${[...LINEAR_FLIP].map((a) => `'${a}'`).join(', ')} (phi(t) - phi(-t) = t)`, start.activation.layer1);
  }
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = start;
  // x = [s, b1, W2 (m1 x m0), D (m1 x m0), b2, C (k x m1), c (k)]
  const oS = 0;
  const oB1 = m0;
  const oW = 2 * m0;
  const oD = oW + m1 * m0;
  const oB2 = oD + m1 * m0;
  const oC = oB2 + m1;
  const oc = oC + k * m1;
  const F = oc + k;
  const x0 = new Float64Array(F);
  x0.set(s0, oS);
  x0.set(start.b1, oB1);
  for (let l = 0; l < m1; l++) for (let i = 0; i < m0; i++) x0[oW + l * m0 + i] = at2(start.W2, l, i);
  setOutputStart(x0, start, oB2, oC, oc);
  const rows = N * k;
  const r = new Float64Array(rows);
  const J = matrix(rows, F);
  const z1 = new Float64Array(m0);
  const g = new Float64Array(m0);
  const g1 = new Float64Array(m0);
  const h = new Float64Array(m1);
  const h1 = new Float64Array(m1);
  const residuals = (x: Float64Array, jac: Float64Array | undefined): number => {
    let sum = 0;
    for (let n = 0; n < N; n++) {
      firstLayerAt(x, oS, oB1, U, n, m0, phi1, z1, g, g1);
      for (let l = 0; l < m1; l++) {
        let z = x[oB2 + l];
        for (let i = 0; i < m0; i++) z += x[oW + l * m0 + i] * g[i] + x[oD + l * m0 + i] * z1[i];
        h[l] = phi2.value(z);
        h1[l] = phi2.d1(z);
      }
      sum = outputResidualsAt(x, oC, oc, h, n, m1, k, Y, r, sum);
      if (!jac) continue;
      for (let q = 0; q < k; q++) {
        const row = n * k + q;
        // e_l = C_ql phi2'(z2_l); df/dz1_i = sum_l e_l (W2_li phi1'(z1_i) + D_li)
        const Jr = jac.subarray(row * F, (row + 1) * F);
        Jr.fill(0);
        for (let l = 0; l < m1; l++) {
          const e = x[oC + q * m1 + l] * h1[l];
          for (let i = 0; i < m0; i++) {
            Jr[oW + l * m0 + i] = e * g[i];
            Jr[oD + l * m0 + i] = e * z1[i];
            const p = e * (x[oW + l * m0 + i] * g1[i] + x[oD + l * m0 + i]);
            Jr[oB1 + i] += p;
            Jr[oS + i] += p * U[n * m0 + i];
          }
          Jr[oB2 + l] = e;
          Jr[oC + q * m1 + l] = h[l];
        }
        Jr[oc + q] = 1;
      }
    }
    return sum;
  };
  const { x, report } = await solveSmall(residuals, J, r, x0, Y, checked, o.onProgress);
  const flipped: number[] = [];
  const W1 = matrix(m0, d);
  const b1 = x.slice(oB1, oB1 + m0);
  const W2 = matrix(m1, m0);
  for (let i = 0; i < m0; i++) {
    let kept = 0;
    let flip = 0;
    for (let l = 0; l < m1; l++) {
      kept += x[oD + l * m0 + i] ** 2;
      flip += (x[oW + l * m0 + i] + x[oD + l * m0 + i]) ** 2;
    }
    const sign = flip < kept ? -1 : 1;
    if (sign < 0) flipped.push(i);
    for (let j = 0; j < d; j++) W1.data[i * d + j] = sign * x[oS + i] * A.data[i * d + j];
    b1[i] *= sign;
    for (let l = 0; l < m1; l++) W2.data[l * m0 + i] = x[oW + l * m0 + i];
  }
  const C = matrixFrom(x.slice(oC, oC + k * m1), k, m1);
  return {
    network: { ...start, W1, b1, W2, b2: x.slice(oB2, oB2 + m1), C, c: x.slice(oc, oc + k) },
    report: reportOf(report, N, rows, started),
    flipped,
  };
}

/** Passes of flipRowsByRefit over the rows at most (a pass that flips none ends it). */
export const SIGN_FLIP_PASSES = 2;
/** A flip is kept when its refit's relative residual is below this fraction of the network's. */
const SIGN_FLIP_GAIN = 0.9;

/**
 * The rows' signs chosen by the residual, one row at a time, for a LINEAR_FLIP first layer: fitGeneralSigns
 * decides every sign at once from its linear term D, and where that fit stops in a local minimum
 * (measured: (8, 4, 2) softplus/softplus seed 3 from the true directions, 11 of 12 random second layers end
 * at 1e-2 with 1-3 rows of the wrong sign) the signs it leaves are partly wrong. Here each row in turn is
 * flipped ((w, b) -> (-w, -b)), (C, c) solved, and the directions fit (W1's directions fixed) run
 * `maxIterations`; the flip is kept when the refit's residual is below 0.9 of the network's, and the rows
 * are passed over again (SIGN_FLIP_PASSES) while a pass keeps a flip. `start`: a network after the
 * directions fit, `startResidual` its relative residual. Returns the network (the last kept refit, or
 * `start`), its residual and the rows flipped. Not run by identify (no exact count changed on the
 * generator grid with it after refineGeneralStages' directions fits); bench/second-layer-starts.ts runs it.
 *
 * @example
 * const { network } = await flipRowsByRefit(upper.network, upper.report.relativeResidual, data, { maxIterations: 30 });
 */
export async function flipRowsByRefit(
  start: GeneralNetwork,
  startResidual: number,
  data: GeneralData,
  options: SolverOptions,
): Promise<{ network: GeneralNetwork; residual: number; flipped: number[] }> {
  if (!(startResidual >= 0)) invalidArgument('startResidual', 'must be a nonnegative number', startResidual);
  const { inputDim: d, width1: m0 } = start;
  let network = start;
  let residual = startResidual;
  const flipped: number[] = [];
  for (let pass = 0; pass < SIGN_FLIP_PASSES; pass++) {
    let kept = false;
    for (let i = 0; i < m0; i++) {
      const W1 = matrix(m0, d);
      for (let t = 0; t < m0; t++) for (let j = 0; j < d; j++) W1.data[t * d + j] = (t === i ? -1 : 1) * at2(network.W1, t, j);
      const b1 = Float64Array.from(network.b1);
      b1[i] = -b1[i];
      let refit: GeneralFitResult;
      try {
        refit = await fitGeneralNetwork(fitOutputLayer({ ...network, W1, b1 }, data), data, { ...options, fix: 'first-layer-directions' });
      } catch (error) {
        // a flip whose units leave the output layer's solve singular (the TypeScript tier's SVD may not converge) is not kept
        if (error instanceof NumericalError) continue;
        throw error;
      }
      if (refit.report.relativeResidual < SIGN_FLIP_GAIN * residual) {
        network = refit.network;
        residual = refit.report.relativeResidual;
        flipped.push(i);
        kept = true;
      }
    }
    if (!kept) break;
  }
  return { network, residual, flipped };
}

/** Levenberg-Marquardt (normal equations) on a small fit's residuals(x, J?) -> sum r^2, J (rows x F) and r filled by it. */
async function solveSmall(
  residuals: (x: Float64Array, jac: Float64Array | undefined) => number,
  J: Float64View,
  r: Float64Array,
  x0: Float64Array,
  Y: Float64Array,
  checked: ReturnType<typeof checkSolverOptions>,
  onProgress: ((iteration: number, relativeResidual: number) => void) | undefined,
) {
  const rows = r.length;
  const equations: NormalEquations = {
    async evaluate(x) {
      const sumSq = residuals(x, J.data);
      return { sumSq, JtJ: gram(J), grad: matmul(J, matrixFrom(r, rows, 1), { transA: true }).data };
    },
    async sumOf(x) {
      return residuals(x, undefined);
    },
    gradientAtLast() {
      return matmul(J, matrixFrom(r, rows, 1), { transA: true }).data;
    },
  };
  let yNorm = 0;
  for (let i = 0; i < Y.length; i++) yNorm += Y[i] * Y[i];
  yNorm = Math.sqrt(yNorm) || 1;
  const blasBefore = setBlasThreads(checked.blasThreads);
  try {
    return await leastSquares(normalEquationsStrategy(equations), x0, leastSquaresOptions(checked, yNorm, onProgress));
  } finally {
    setBlasThreads(blasBefore);
  }
}

function reportOf(report: Awaited<ReturnType<typeof leastSquares>>['report'], N: number, rows: number, started: number): GeneralFitResult['report'] {
  return { dataPoints: N, queries: 0, ...report, rmsResidual: Math.sqrt((2 * report.cost) / rows), converged: report.success, seconds: (performance.now() - started) / 1000 };
}
