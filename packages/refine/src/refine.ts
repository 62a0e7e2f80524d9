/**
 * Levenberg–Marquardt on all parameters (A, theta, B, tau) of a two-hidden-layer network,
 * started from an estimate, on queries of the black box. The analytic Jacobian is exact; the
 * normal equations (J^T J + lambda D) delta = -J^T r go through @nnid/linalg (gram + Cholesky),
 * with Marquardt's diagonal scaling D = diag(J^T J) and Nielsen's update of lambda.
 *
 * @example
 * const { network, report } = await refineNetwork(oracle, estimate, { seed: 1 });
 * report.relativeResidual; // ~1e-15 when the estimate was in the basin
 */
import {
  checkInteger,
  checkPositive,
  invalidArgument,
  matrix,
  matrixFrom,
  parameterCount,
  rng,
  type Float64View,
  type Network,
  type Oracle,
} from '@nnid/core';
import { choleskySolve, gram, matmul, setBlasThreads } from '@nnid/linalg';
import { hiddenFeatures, layoutOf, packParameters, residualsAndJacobian, secondLayerResidualsAndJacobian, unpackParameters } from './params.ts';

export interface RefineOptions {
  /** Seed of the fresh query points. */
  seed: number;
  /**
   * Fresh queries to fit on: a number, or 'auto' = 2 P (P = parameter count). Half the points
   * are uniform on the unit sphere, half from N(0, I_d): the two distributions nnid is scored on.
   */
  dataPoints?: number | 'auto';
  /** Already-paid (input, output) pairs to fit on as well (no new queries). */
  extraData?: { inputs: Float64View; values: Float64Array };
  /** Stop when the step is below `stepTolerance * (|p| + stepTolerance)` (default 1e-13). */
  stepTolerance?: number;
  /** Stop when the relative residual |r| / |y| is below this (default 1e-15). */
  residualTolerance?: number;
  /** Stop when an accepted step lowers the cost by less than this fraction, twice (default 1e-12). */
  costTolerance?: number;
  /** At most this many LM iterations (accepted or not; default 200). */
  maxIterations?: number;
  /**
   * Stop as stalled when the last `stallWindow` accepted steps lowered the relative residual by
   * less than `stallFactor` and it is still above `stallAbove` — a local minimum or a plateau
   * the data will not leave (default 50 steps, factor 0.8, above 1e-6; stallWindow 0: never).
   */
  stallWindow?: number;
  stallFactor?: number;
  stallAbove?: number;
  /**
   * OpenBLAS threads for the normal equations (default 1). Raise it to the core count when no
   * other thread runs OpenBLAS meanwhile (OpenBLAS's count is process-wide); restored after.
   */
  blasThreads?: number;
  /**
   * 'first-layer': keep A and theta as given and fit only the second layer (B, tau) — a small,
   * cheap problem (m0 m1 + m1 parameters), e.g. to try several second layers on one first layer.
   * Default 'none'.
   */
  fix?: 'none' | 'first-layer';
  /** Called after each accepted step. */
  onProgress?: (iteration: number, relativeResidual: number) => void;
}

export type StopReason = 'residual' | 'step' | 'cost' | 'maxIterations' | 'lambda' | 'stalled';

export interface RefineReport {
  /** Data points fitted: fresh queries + extra pairs. */
  dataPoints: number;
  /** Fresh queries paid or reused through the oracle by this stage. */
  queries: number;
  iterations: number;
  acceptedSteps: number;
  /** Relative residual |r| / |y| after each accepted step, the first entry at the start. */
  residualHistory: number[];
  initialRelativeResidual: number;
  relativeResidual: number;
  /** Root mean square residual at the end (compare with the oracle's noise level). */
  rmsResidual: number;
  converged: boolean;
  stopReason: StopReason;
  finalLambda: number;
  parameters: number;
  timeMs: number;
}

export interface RefineResult {
  network: Network;
  report: RefineReport;
  /** The (input, output) pairs fitted (fresh and extra): pass them as `extraData` to refit without new queries. */
  data: { inputs: Float64View; values: Float64Array };
}

function freshPoints(n: number, d: number, seed: number): Float64Array {
  const X = new Float64Array(n * d);
  const root = rng(seed).split(0x7e11e);
  for (let i = 0; i < n; i++) {
    const row = X.subarray(i * d, (i + 1) * d);
    const s = root.split(i);
    if (i % 2 === 0) s.fillSphere(row, 1);
    else s.fillNormal(row);
  }
  return X;
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Refines `initial` against the oracle by Levenberg–Marquardt. */
export async function refineNetwork(oracle: Oracle, initial: Network, options: RefineOptions): Promise<RefineResult> {
  const started = performance.now();
  const seed = checkInteger('seed', options?.seed, 0);
  if (initial.inputDim !== oracle.inputDim) {
    invalidArgument('initial.inputDim', `must equal the oracle's inputDim ${oracle.inputDim}`, initial.inputDim);
  }
  const P = parameterCount(initial);
  const fresh =
    options.dataPoints === undefined || options.dataPoints === 'auto'
      ? 2 * P
      : checkInteger('dataPoints', options.dataPoints, 0);
  const stepTol = checkPositive('stepTolerance', options.stepTolerance ?? 1e-13);
  const resTol = checkPositive('residualTolerance', options.residualTolerance ?? 1e-15, true);
  const costTol = checkPositive('costTolerance', options.costTolerance ?? 1e-12, true);
  const maxIterations = checkInteger('maxIterations', options.maxIterations ?? 200, 0);
  const stallWindow = checkInteger('stallWindow', options.stallWindow ?? 50, 0);
  const stallFactor = checkPositive('stallFactor', options.stallFactor ?? 0.8);
  if (stallFactor >= 1) invalidArgument('stallFactor', 'must be a number in (0, 1)', stallFactor);
  const stallAbove = checkPositive('stallAbove', options.stallAbove ?? 1e-6, true);
  const d = initial.inputDim;
  const extra = options.extraData;
  const extraRows = extra ? extra.inputs.shape[0] : 0;
  if (extra && (extra.inputs.shape[1] !== d || extra.values.length !== extraRows)) {
    invalidArgument('extraData', `must be n x ${d} inputs with n values`, { shape: extra.inputs.shape, values: extra.values.length });
  }
  const N = fresh + extraRows;
  if (N < 1) invalidArgument('dataPoints', 'must give at least one data point with extraData', fresh);

  // The data: fresh queries first, then the extra pairs.
  const X = new Float64Array(N * d);
  const y = new Float64Array(N);
  const before = oracle.counts().total;
  if (fresh > 0) {
    const Xf = freshPoints(fresh, d, seed);
    X.set(Xf);
    y.set(await oracle.evaluate(matrixFrom(Xf, fresh, d)));
  }
  if (extra) {
    for (let i = 0; i < extraRows; i++) {
      for (let j = 0; j < d; j++) {
        X[(fresh + i) * d + j] = extra.inputs.data[extra.inputs.offset + i * extra.inputs.strides[0] + j * extra.inputs.strides[1]];
      }
      y[fresh + i] = extra.values[i];
    }
  }
  const queries = oracle.counts().total - before;

  const fix = options.fix ?? 'none';
  if (fix !== 'none' && fix !== 'first-layer') invalidArgument('fix', "must be 'none' or 'first-layer'", fix);
  const blasBefore = setBlasThreads(checkInteger('blasThreads', options.blasThreads ?? 1));
  try {
    const result = fit(initial, X, y, N, queries, started, { stepTol, resTol, costTol, maxIterations, stallWindow, stallFactor, stallAbove, fix, onProgress: options.onProgress });
    return { ...result, data: { inputs: matrixFrom(X, N, d), values: y } };
  } finally {
    setBlasThreads(blasBefore);
  }
}

interface FitSettings {
  stepTol: number;
  resTol: number;
  costTol: number;
  maxIterations: number;
  stallWindow: number;
  stallFactor: number;
  stallAbove: number;
  fix: 'none' | 'first-layer';
  onProgress?: (iteration: number, relativeResidual: number) => void;
}

function fit(initial: Network, X: Float64Array, y: Float64Array, N: number, queries: number, started: number, settings: FitSettings): Omit<RefineResult, 'data'> {
  const { stepTol, resTol, costTol, maxIterations } = settings;
  const yNorm = norm(y) || 1;
  const layout = layoutOf(initial);
  const Pall = layout.size;
  // the free parameters are p[first..Pall): all, or the second layer (B, tau) alone
  const first = settings.fix === 'first-layer' ? layout.offB : 0;
  const P = Pall - first;
  let p = packParameters(initial, layout);
  const r = new Float64Array(N);
  const rTrial = new Float64Array(N);
  const J = matrix(N, P);
  // with the first layer fixed its outputs are computed once and only (B, tau) is differentiated
  const G = first > 0 ? hiddenFeatures(p, layout, X, N) : null;
  const residualsOf = (q: Float64Array, res: Float64Array, jac?: Float64Array): number =>
    G ? secondLayerResidualsAndJacobian(q, layout, G, y, res, jac) : residualsAndJacobian(q, layout, X, y, res, jac);
  const evaluate = (q: Float64Array): number => residualsOf(q, r, J.data);
  let sumSq = evaluate(p);
  const history = [Math.sqrt(sumSq) / yNorm];
  let JtJ = gram(J);
  let grad = matmul(J, matrixFrom(r, N, 1), { transA: true }).data;
  let lambda = 1e-3;
  let nu = 2;
  let iterations = 0;
  let accepted = 0;
  let smallCostSteps = 0;
  let stopReason: StopReason = 'maxIterations';
  const diag = new Float64Array(P);
  const M = matrix(P, P);
  const rhs = matrix(P, 1);

  while (iterations < maxIterations) {
    if (Math.sqrt(sumSq) / yNorm <= resTol) {
      stopReason = 'residual';
      break;
    }
    iterations++;
    let maxDiag = 0;
    for (let k = 0; k < P; k++) maxDiag = Math.max(maxDiag, JtJ.data[k * P + k]);
    for (let k = 0; k < P; k++) diag[k] = Math.max(JtJ.data[k * P + k], 1e-12 * maxDiag, 1e-300);
    M.data.set(JtJ.data);
    for (let k = 0; k < P; k++) {
      M.data[k * P + k] += lambda * diag[k];
      rhs.data[k] = -grad[k];
    }
    let delta: Float64Array;
    try {
      delta = choleskySolve(M, rhs).data;
    } catch {
      lambda *= nu;
      nu *= 2;
      if (lambda > 1e20) {
        stopReason = 'lambda';
        break;
      }
      continue;
    }
    const trial = Float64Array.from(p);
    for (let k = 0; k < P; k++) trial[first + k] = p[first + k] + delta[k];
    const trialSumSq = residualsOf(trial, rTrial);
    // predicted reduction of 0.5 |r|^2: 0.5 delta^T (lambda D delta - grad)
    let predicted = 0;
    for (let k = 0; k < P; k++) predicted += delta[k] * (lambda * diag[k] * delta[k] - grad[k]);
    predicted *= 0.5;
    // A tiny step is convergence only when it also promises no decrease: a step kept tiny by
    // damping or by huge parameters (a saturated unit) is not.
    if (norm(delta) <= stepTol * (norm(p.subarray(first)) + stepTol) && predicted <= costTol * 0.5 * sumSq) {
      stopReason = 'step';
      break;
    }
    const actual = 0.5 * (sumSq - trialSumSq);
    const rho = predicted > 0 ? actual / predicted : -1;
    if (rho > 0 && Number.isFinite(trialSumSq)) {
      accepted++;
      const relativeDrop = (sumSq - trialSumSq) / (sumSq || 1);
      p = trial;
      sumSq = evaluate(p);
      JtJ = gram(J);
      grad = matmul(J, matrixFrom(r, N, 1), { transA: true }).data;
      // Nielsen's rule, allowed to fall by 10x a step: near the solution LM becomes Gauss-Newton fast
      lambda *= Math.max(0.1, 1 - (2 * rho - 1) ** 3);
      nu = 2;
      const rel = Math.sqrt(sumSq) / yNorm;
      history.push(rel);
      settings.onProgress?.(iterations, rel);
      smallCostSteps = relativeDrop < costTol ? smallCostSteps + 1 : 0;
      if (smallCostSteps >= 2) {
        stopReason = 'cost';
        break;
      }
      const w = settings.stallWindow;
      if (w > 0 && history.length > w && rel > settings.stallAbove && rel > settings.stallFactor * history[history.length - 1 - w]) {
        stopReason = 'stalled';
        break;
      }
    } else {
      lambda *= nu;
      nu *= 2;
      if (lambda > 1e20) {
        stopReason = 'lambda';
        break;
      }
    }
  }
  const relativeResidual = Math.sqrt(sumSq) / yNorm;
  return {
    network: unpackParameters(p, layout),
    report: {
      dataPoints: N,
      queries,
      iterations,
      acceptedSteps: accepted,
      residualHistory: history,
      initialRelativeResidual: history[0],
      relativeResidual,
      rmsResidual: Math.sqrt(sumSq / N),
      converged: stopReason !== 'maxIterations' && stopReason !== 'lambda' && stopReason !== 'stalled',
      stopReason,
      finalLambda: lambda,
      parameters: P,
      timeMs: performance.now() - started,
    },
  };
}
