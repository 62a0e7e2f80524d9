/**
 * Shift recovery (the last stage of the paper's pipeline): with the first-layer weights A-hat
 * and the entangled weights V-hat fixed, fit the first-layer shifts theta, the second-layer
 * shifts tau and the scales lambda of b_l = lambda_l G_0(theta)^{-1} A-hat^+ v_l, by
 * Levenberg-Marquardt on fresh queries, and assemble the network.
 */
import {
  activation,
  ACTIVATIONS,
  checkChoice,
  checkInteger,
  checkPositive,
  checkView,
  ErrorCodes,
  invalidArgument,
  matrix,
  matrixFrom,
  NnidError,
  NumericalError,
  rng,
  transposeView,
  type ActivationName,
  type Float64View,
  type Network,
  type Oracle,
  type ViewLike,
} from '@nnid/core';
import { gram, lstsq, matmul } from '@nnid/linalg';
import { leastSquares, normalEquationsStrategy, type LeastSquaresStatus, type NormalEquations, type StopReason } from '@nnid/optimize';
import { residuals, secondLayer, type ShiftModel } from './model.ts';

export interface ShiftRecoveryOptions {
  activation: { layer1: ActivationName; layer2: ActivationName };
  /** Seed of the fresh query points. */
  seed: number;
  /**
   * grad f(0) (inputDim numbers), e.g. from the gradients already sampled for range(A); else it
   * is measured here by central differences (2 inputDim queries).
   */
  gradientAtZero?: ArrayLike<number>;
  /** Step of that central difference (default 1e-5). */
  gradientStep?: number;
  /** Fresh queries to fit on: a number or 'auto' (default) = max(200, 4 (m0 + 2 m1)). Points from N(0, I_d). */
  dataPoints?: number | 'auto';
  /** Already-paid (input, value) pairs to fit on instead of fresh queries (then `dataPoints` is ignored). */
  data?: { inputs: Float64View; values: Float64Array };
  /** Initial theta (default zeros). */
  initialTheta?: ArrayLike<number>;
  /** LM iterations (default 200). */
  maxIterations?: number;
  /** Stop when an accepted step lowers the cost by less than this fraction, twice (default 1e-12). */
  costTolerance?: number;
}

export interface ShiftRecoveryReport {
  width1: number;
  width2: number;
  activation: { layer1: ActivationName; layer2: ActivationName };
  dataPoints: number;
  /** Queries of this stage: gradient at 0 (0 when given) and the fit data. */
  queries: { gradient: number; fit: number; total: number };
  gradientSource: 'given' | 'central-difference';
  /** Coefficients of grad f(0) on the v_l (their signs fix the signs of the v_l). */
  gradientCoefficients: number[];
  /** Indices l whose v_l was flipped. */
  flipped: number[];
  /** The fit's Levenberg-Marquardt (@nnid/optimize): iterations, accepted and refused steps (see SATURATION_FLOOR). */
  iterations: number;
  acceptedSteps: number;
  refusedSteps: number;
  /** |f_hat - y| / |y| on the fit data after each accepted step (the first at the start). */
  residualHistory: number[];
  relativeResidual: number;
  /** The solver's status (> 0: converged), stop reason ('cost', 'step', 'maxIterations' or 'lambda') and message. */
  status: LeastSquaresStatus;
  stopReason: StopReason;
  message: string;
  /** Residual evaluations and linearizations of the fit. */
  nfev: number;
  njev: number;
  theta: number[];
  tau: number[];
  lambda: number[];
  /** diag(G_0) = phi1'(theta). */
  g0: number[];
  seconds: number;
}

export interface ShiftRecoveryResult {
  network: Network;
  theta: Float64Array;
  tau: Float64Array;
  lambda: Float64Array;
  report: ShiftRecoveryReport;
  /** The fit's query points (N x d) and the black box's answers: already paid, reusable (e.g. by refinement). */
  data: { inputs: Float64View; values: Float64Array };
}

function dense(v: Float64View): Float64Array {
  const [r, c] = v.shape;
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = v.data[v.offset + i * v.strides[0] + j * v.strides[1]];
  return out;
}

/** Central-difference gradient at 0: 2d queries in one batch. */
async function gradientAtZero(oracle: Oracle, d: number, h: number): Promise<Float64Array> {
  const X = matrix(2 * d, d);
  for (let j = 0; j < d; j++) {
    X.data[2 * j * d + j] = h;
    X.data[(2 * j + 1) * d + j] = -h;
  }
  const f = await oracle.evaluate(X);
  const g = new Float64Array(d);
  for (let j = 0; j < d; j++) g[j] = (f[2 * j] - f[2 * j + 1]) / (2 * h);
  return g;
}

/**
 * A unit whose phi1'(theta_i) is below this fraction of phi1'(0) is saturated: the fit's
 * b_l = lambda_l G_0^-1 w_l then grows like 1 / phi1'(theta_i) while the unit is nearly constant.
 * (tanh: |theta| > 4.1; sigmoid: |theta| > 8.3.)
 */
const SATURATION_FLOOR = 1e-3;

/** The trial moves some theta_i deeper into saturation (below SATURATION_FLOOR). */
function saturates(phi1: ReturnType<typeof activation>, p: Float64Array, trial: Float64Array, m0: number): boolean {
  const floor = SATURATION_FLOOR * phi1.d1(0);
  for (let i = 0; i < m0; i++) if (phi1.d1(trial[i]) < floor && Math.abs(trial[i]) > Math.abs(p[i])) return true;
  return false;
}

/** The shift fit's normal equations over p = [theta, tau, lambda] (J^T J by gram, as before the solver moved). */
function shiftEquations(model: ShiftModel, y: Float64Array): NormalEquations {
  const { N, m0, m1 } = model;
  const r = new Float64Array(N);
  const rTrial = new Float64Array(N);
  const J = matrix(N, m0 + 2 * m1);
  return {
    async evaluate(q) {
      const sumSq = residuals(model, q, y, r, J.data);
      return { sumSq, JtJ: gram(J), grad: matmul(J, matrixFrom(r, N, 1), { transA: true }).data };
    },
    async sumOf(q) {
      return residuals(model, q, y, rTrial, null);
    },
    gradientAtLast() {
      return matmul(J, matrixFrom(rTrial, N, 1), { transA: true }).data;
    },
  };
}

/**
 * Fits theta, tau and the scales of b_l with A-hat and V-hat fixed, and assembles the network.
 *
 * @example
 * const { network, report } = await recoverShifts(oracle, Ahat, Vhat, { activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1 });
 */
/**
 * The shift fit's fresh queries by default: max(200, 4 (m0 + 2 m1)) (4 per unknown of its fit);
 * with the input dimension, a small network (P = d m0 + m0 + m0 m1 + m1 < 100) takes
 * max(4 (m0 + 2 m1), 2 P) instead, so that its 200 points do not outweigh everything else it pays.
 */
export function defaultShiftDataPoints(m0: number, m1: number, inputDim?: number): number {
  const perUnknown = 4 * (m0 + 2 * m1);
  if (inputDim === undefined) return Math.max(200, perUnknown);
  const P = inputDim * m0 + m0 + m0 * m1 + m1;
  return Math.max(perUnknown, Math.min(200, 2 * P));
}

export async function recoverShifts(
  oracle: Oracle,
  firstLayerWeights: ViewLike,
  entangledWeights: ViewLike,
  options: ShiftRecoveryOptions,
): Promise<ShiftRecoveryResult> {
  const started = performance.now();
  if (!oracle || typeof oracle.evaluate !== 'function' || typeof oracle.inputDim !== 'number') {
    invalidArgument('oracle', 'must be an Oracle (see createOracle)', oracle);
  }
  if (!options || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const d = oracle.inputDim;
  firstLayerWeights = checkView('firstLayerWeights', firstLayerWeights, { cols: d, colsName: 'inputDim', minRows: 1, dims: 'one weight per row' });
  entangledWeights = checkView('entangledWeights', entangledWeights, { cols: d, colsName: 'inputDim', minRows: 1, dims: 'one weight per row' });
  const m0 = firstLayerWeights.shape[0];
  const m1 = entangledWeights.shape[0];
  if (m0 > d) invalidArgument('firstLayerWeights', `must have at most inputDim = ${d} rows`, m0);
  if (!options.activation || typeof options.activation !== 'object') invalidArgument('activation', 'must be { layer1, layer2 }', options.activation);
  const layer1 = checkChoice('activation.layer1', options.activation.layer1, ACTIVATIONS);
  const layer2 = checkChoice('activation.layer2', options.activation.layer2, ACTIVATIONS);
  const phi1 = activation(layer1);
  const phi2 = activation(layer2);
  const seed = checkInteger('seed', options.seed, 0);
  const h = checkPositive('gradientStep', options.gradientStep ?? 1e-5);
  const np = m0 + 2 * m1;
  const given = options.data;
  if (given !== undefined && (!given || !given.inputs || given.inputs.shape[1] !== d || given.values.length !== given.inputs.shape[0] || given.values.length < 1)) {
    invalidArgument('data', `must be n x ${d} inputs with n >= 1 values`, given?.inputs?.shape);
  }
  const N = given
    ? given.inputs.shape[0]
    : options.dataPoints === undefined || options.dataPoints === 'auto'
      ? defaultShiftDataPoints(m0, m1, d)
      : checkInteger('dataPoints', options.dataPoints, 1);
  const maxIterations = checkInteger('maxIterations', options.maxIterations ?? 200, 0);
  const costTol = checkPositive('costTolerance', options.costTolerance ?? 1e-12, true);
  let theta0: Float64Array | null = null;
  if (options.initialTheta !== undefined) {
    if (!options.initialTheta || options.initialTheta.length !== m0) invalidArgument('initialTheta', `must hold ${m0} numbers (one per first-layer weight)`, options.initialTheta?.length);
    theta0 = Float64Array.from(options.initialTheta);
  }

  // unit rows of A-hat and V-hat
  const A = dense(firstLayerWeights);
  const V = dense(entangledWeights);
  for (const [M, rows, name] of [[A, m0, 'firstLayerWeights'], [V, m1, 'entangledWeights']] as const) {
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += M[i * d + t] ** 2;
      s = Math.sqrt(s);
      if (!(s > 0) || !Number.isFinite(s)) invalidArgument(`${name}[${i}]`, 'must be a nonzero finite vector', s);
      for (let t = 0; t < d; t++) M[i * d + t] /= s;
    }
  }
  const Av = matrixFrom(A, m0, d);
  const Vv = matrixFrom(V, m1, d);

  // w_l: A^T w_l = v_l (least squares; exact when v_l lies in the row space of A-hat)
  const wSol = lstsq(transposeView(Av), transposeView(Vv)).solution; // m0 x m1
  const w = new Float64Array(m1 * m0);
  for (let i = 0; i < m0; i++) for (let l = 0; l < m1; l++) w[l * m0 + i] = wSol.data[wSol.offset + i * wSol.strides[0] + l * wSol.strides[1]];

  // signs of the v_l from grad f(0) = sum_l phi2'(.) |A^T G_0 b_l| v_l, all coefficients > 0
  const before = oracle.counts().total;
  let g: Float64Array;
  let gradientSource: ShiftRecoveryReport['gradientSource'];
  if (options.gradientAtZero !== undefined) {
    const gz = options.gradientAtZero;
    if (!gz || gz.length !== d) throw new NnidError(ErrorCodes.dimensionMismatch, `\`gradientAtZero\` has ${gz?.length} numbers, expected inputDim = ${d}`);
    g = Float64Array.from(gz);
    gradientSource = 'given';
  } else {
    g = await gradientAtZero(oracle, d, h);
    gradientSource = 'central-difference';
  }
  const gradientQueries = oracle.counts().total - before;
  const coef = lstsq(transposeView(Vv), matrixFrom(g, d, 1)).solution;
  const c = new Float64Array(m1);
  for (let l = 0; l < m1; l++) c[l] = coef.data[coef.offset + l * coef.strides[0]];
  const flipped: number[] = [];
  for (let l = 0; l < m1; l++) {
    if (c[l] < 0) {
      flipped.push(l);
      for (let i = 0; i < m0; i++) w[l * m0 + i] = -w[l * m0 + i];
      for (let t = 0; t < d; t++) V[l * d + t] = -V[l * d + t];
    }
  }

  // fresh data from N(0, I_d)
  const X = new Float64Array(N * d);
  let y: Float64Array;
  const fitBefore = oracle.counts().total;
  if (given) {
    const M = given.inputs;
    for (let n = 0; n < N; n++) for (let t = 0; t < d; t++) X[n * d + t] = M.data[M.offset + n * M.strides[0] + t * M.strides[1]];
    y = Float64Array.from(given.values);
  } else {
    const root = rng(seed).split(0x5f1f7);
    for (let n = 0; n < N; n++) root.split(n).fillNormal(X.subarray(n * d, (n + 1) * d));
    y = await oracle.evaluate(matrixFrom(X, N, d));
  }
  const fitQueries = oracle.counts().total - fitBefore;
  const z = matmul(matrixFrom(X, N, d), Av, { transB: true }).data;
  const model: ShiftModel = { m0, m1, phi1, phi2, w, z, N };

  // start: theta given or 0, lambda from the gradient, tau such that every pre-activation at 0 is 0
  const p0 = new Float64Array(np);
  if (theta0) p0.set(theta0);
  const phi2d0 = phi2.d1(0);
  for (let l = 0; l < m1; l++) p0[m0 + m1 + l] = Math.abs(c[l]) / phi2d0;
  const bTrial = new Float64Array(m1 * m0);
  secondLayer(model, p0, bTrial);
  for (let l = 0; l < m1; l++) {
    let s = 0;
    for (let i = 0; i < m0; i++) s += bTrial[l * m0 + i] * phi1.value(p0[i]);
    p0[m0 + l] = -s;
  }

  let yNorm = 0;
  for (let n = 0; n < N; n++) yNorm += y[n] * y[n];
  yNorm = Math.sqrt(yNorm) || 1;
  const { x: p, report: fit } = await leastSquares(normalEquationsStrategy(shiftEquations(model, y), { factorization: 'per-solve' }), p0, {
    maxIterations,
    residualScale: yNorm,
    residualTolerance: 0,
    stepTolerance: 1e-14,
    stepTest: 'size',
    costTolerance: costTol,
    acceptance: 'decrease',
    damping: { initial: 1e-3, decrease: { rule: 'divide', by: 3, floor: 1e-12 }, ceiling: 1e20 },
    // a step that drives some theta_i where phi1'(theta_i) underflows makes b_l = .../phi1'(theta_i)
    // infinite while f stays finite (the unit saturates): not a fit, refused
    acceptStep: (trial, current) => {
      secondLayer(model, trial, bTrial);
      return bTrial.every(Number.isFinite) && !saturates(phi1, current, trial, m0);
    },
  });
  if (fit.stopReason === 'nonFiniteStart') throw new NumericalError('shift recovery: the starting network gives non-finite values');

  const theta = p.slice(0, m0);
  const tau = p.slice(m0, m0 + m1);
  const lam = p.slice(m0 + m1);
  const B = matrix(m1, m0);
  secondLayer(model, p, B.data);
  if (![...theta, ...tau, ...B.data].every(Number.isFinite)) {
    throw new NumericalError('shift recovery: the fit gave non-finite parameters (a unit saturated where phi1\'(theta_i) underflows)');
  }
  const Aout = matrix(m0, d);
  Aout.data.set(A);
  const network: Network = { activation: { layer1, layer2 }, inputDim: d, width1: m0, width2: m1, A: Aout, theta, B, tau };
  const report: ShiftRecoveryReport = {
    width1: m0,
    width2: m1,
    activation: { layer1, layer2 },
    dataPoints: N,
    queries: { gradient: gradientQueries, fit: fitQueries, total: gradientQueries + fitQueries },
    gradientSource,
    gradientCoefficients: Array.from(c),
    flipped,
    iterations: fit.iterations,
    acceptedSteps: fit.acceptedSteps,
    refusedSteps: fit.refusedSteps,
    residualHistory: fit.residualHistory,
    relativeResidual: fit.relativeResidual,
    status: fit.status,
    stopReason: fit.stopReason,
    message: fit.message,
    nfev: fit.nfev,
    njev: fit.njev,
    theta: Array.from(theta),
    tau: Array.from(tau),
    lambda: Array.from(lam),
    g0: Array.from(theta, (t) => phi1.d1(t)),
    seconds: (performance.now() - started) / 1000,
  };
  return { network, theta, tau, lambda: lam, report, data: { inputs: matrixFrom(X, N, d), values: Float64Array.from(y) } };
}
