/**
 * One Levenberg–Marquardt loop for every least-squares fit in nnid (refine's fits, the shift
 * fit): minimize 0.5 |r(x)|^2 from x0 by steps delta = -(J^T J + lambda D)^-1 J^T r that a
 * StepStrategy computes. Each caller's historical rules (damping, step test, acceptance, inner
 * steps, stall rule) are options, so that it keeps its bits; the report follows scipy's
 * `least_squares` (status, message, success, nfev, njev, cost).
 *
 * @example
 * const { x, report } = await leastSquares(normalEquationsStrategy(equations), x0, { residualScale: norm(y) });
 * report.success; // true when report.status > 0
 */
import { checkInteger, checkPositive, invalidArgument } from '@nnid/core';
import { isSuccess, STATUS_TABLE, type LeastSquaresStatus, type StopReason } from './status.ts';
import type { StepStrategy } from './strategy.ts';

/**
 * How lambda falls after an accepted step (it always grows by Nielsen's doubling factors after a
 * refused one: lambda *= nu, nu *= 2).
 * - 'nielsen': lambda *= max(minFactor, 1 - (2 rho - 1)^3), rho = actual / predicted decrease
 *   (Nielsen's rule; his minFactor is 1/3, refine's 0.1).
 * - 'divide': lambda = max(lambda / by, floor) (the shift fit's: by 3, floor 1e-12).
 */
export type DampingDecrease = { rule: 'nielsen'; minFactor: number } | { rule: 'divide'; by: number; floor: number };

export interface DampingOptions {
  /** lambda at the start (default 1e-3). */
  initial?: number;
  /** After an accepted step (default Nielsen's rule with minFactor 1/3). */
  decrease?: DampingDecrease;
  /** Stop ('lambda', status -1) when lambda exceeds this (default 1e20). */
  ceiling?: number;
}

/** A stall rule: `window` accepted steps that lowered the relative residual by less than `factor`, above `above`. */
export interface PlateauRule {
  window: number;
  factor: number;
  above: number;
}

/**
 * A stop for a fit whose residual has a floor it cannot pass (e.g. refine's fit in range(A): the
 * range estimate's error): at or below `below`, an accepted step whose last move (its last inner
 * step kept, else the step itself) lowered the relative residual by less than `factor` (new > factor
 * x old; an inner step tried and not kept counts as no move) ends the fit ('cost', converged).
 */
export interface FloorRule {
  below: number;
  factor: number;
}

export interface LevenbergMarquardtOptions {
  /** At most this many iterations, accepted or not (default 200). */
  maxIterations?: number;
  /**
   * The norm residuals are measured against: relativeResidual = |r| / residualScale (e.g. |y|;
   * default 1: absolute).
   */
  residualScale?: number;
  /** Stop ('residual', status 1) when relativeResidual <= this (default 0: an exact fit only). */
  residualTolerance?: number;
  /** A step below stepTolerance (|x| + stepTolerance) stops ('step', status 3) (default 1e-13). */
  stepTolerance?: number;
  /**
   * 'size-and-prediction' (default): a small step stops only when it also promises to lower the
   * cost by at most costTolerance of it (a step kept small by damping or by huge parameters is
   * not a stationary point). 'size': its size alone.
   */
  stepTest?: 'size-and-prediction' | 'size';
  /** Stop ('cost', status 2) when `costSteps` accepted steps in a row lower the cost by less than this fraction (default 1e-12). */
  costTolerance?: number;
  /** Accepted steps in a row below costTolerance that stop the fit (default 2; 1: the first such step, e.g. a fit that knows its floor). */
  costSteps?: number;
  /**
   * Which trial steps are accepted: 'gain-ratio' (default): rho = actual / predicted decrease > 0;
   * 'decrease': the cost is lower. Either way the cost must be finite and acceptStep must agree.
   */
  acceptance?: 'gain-ratio' | 'decrease';
  /** How lambda starts, falls and when it gives up. */
  damping?: DampingOptions;
  /**
   * After an accepted step x', at most this many further steps -(J^T J + lambda D)^-1 J^T r(x')
   * with the same linearization and lambda, each kept only when it lowers the cost (and
   * acceptStep agrees); default 0 (plain LM). Such a step costs a residual evaluation instead of
   * a new linearization.
   */
  innerSteps?: number;
  /**
   * Stop as stalled ('stalled', status -2) when the last `stallWindow` accepted steps lowered the
   * relative residual by less than `stallFactor` while it is above `stallAbove` (defaults 0 = never,
   * 0.8, 1e-6).
   */
  stallWindow?: number;
  stallFactor?: number;
  stallAbove?: number;
  /**
   * A second stall rule for plateaus far from a fit: stop as stalled ('stalled', status -2) when
   * the last `window` accepted steps lowered the relative residual by less than `factor` while it
   * is above `above` (default: none). E.g. refine's full fit: 10 steps, 0.9, 1e-3.
   */
  plateau?: PlateauRule | null;
  /** The floor rule (FloorRule; default none). */
  floor?: FloorRule | null;
  /**
   * Acceptance hook: called with a trial point that passed the cost test and the current point
   * (neither to be modified); false refuses the step, which then counts as a failed one (lambda
   * grows). E.g. the shift fit refuses steps that drive a unit deeper into saturation.
   */
  acceptStep?: (trial: Float64Array, current: Float64Array) => boolean;
  /** Called after each accepted step with the iteration, the relative residual and the step's damping (StepInfo). */
  onProgress?: (iteration: number, relativeResidual: number, step: StepInfo) => void;
}

/** What onProgress learns of an accepted step (diagnostics; no effect on the fit). */
export interface StepInfo {
  /** lambda the accepted step was solved with. */
  lambda: number;
  /** Its gain ratio rho = actual / predicted decrease of the cost (before its inner steps). */
  gainRatio: number;
  /** Trial steps refused since the previous accepted step (each raised lambda). */
  refused: number;
  /** Inner steps kept after it (the same linearization). */
  innerSteps: number;
  /** Its last move's ratio of relative residuals, new / old (FloorRule; 1 when an inner step was tried and not kept). */
  lastRatio: number;
}

export interface LeastSquaresReport {
  /** The step strategy's name (e.g. 'normal-equations'). */
  strategy: string;
  /** The strategy's own counts, when it keeps any (e.g. the matrix-free strategy's CG iterations). */
  strategyStats?: Record<string, number>;
  /** > 0: converged; see STATUS_TABLE. */
  status: LeastSquaresStatus;
  stopReason: StopReason;
  message: string;
  /** status > 0. */
  success: boolean;
  iterations: number;
  acceptedSteps: number;
  /** Inner steps kept (see innerSteps). */
  innerSteps: number;
  /** Steps that lowered the cost but were refused by acceptStep. */
  refusedSteps: number;
  /** Residual evaluations (every linearization and every trial point). */
  nfev: number;
  /** Linearizations (Jacobian evaluations). */
  njev: number;
  /** 0.5 |r|^2 at the end and at the start. */
  cost: number;
  initialCost: number;
  /** |r| / residualScale at the end and at the start. */
  relativeResidual: number;
  initialRelativeResidual: number;
  /** relativeResidual after each accepted step, the first entry at the start. */
  residualHistory: number[];
  finalLambda: number;
  /** Free parameters (length of x). */
  parameters: number;
  seconds: number;
}

export interface LeastSquaresResult {
  /** The last accepted point (a new array; x0 is not modified). */
  x: Float64Array;
  report: LeastSquaresReport;
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

function checkFunction(name: string, f: unknown): void {
  if (f !== undefined && typeof f !== 'function') invalidArgument(name, 'must be a function', f);
}

function settings(o: LevenbergMarquardtOptions) {
  if (o === null || typeof o !== 'object') invalidArgument('options', 'must be an object', o);
  const stallFactor = checkPositive('stallFactor', o.stallFactor ?? 0.8);
  if (stallFactor >= 1) invalidArgument('stallFactor', 'must be a number in (0, 1)', stallFactor);
  const stepTest = o.stepTest ?? 'size-and-prediction';
  if (stepTest !== 'size-and-prediction' && stepTest !== 'size') invalidArgument('stepTest', "must be one of 'size-and-prediction', 'size'", stepTest);
  const acceptance = o.acceptance ?? 'gain-ratio';
  if (acceptance !== 'gain-ratio' && acceptance !== 'decrease') invalidArgument('acceptance', "must be one of 'gain-ratio', 'decrease'", acceptance);
  const d = o.damping ?? {};
  if (d === null || typeof d !== 'object') invalidArgument('damping', 'must be an object', d);
  const decrease: DampingDecrease = d.decrease ?? { rule: 'nielsen', minFactor: 1 / 3 };
  if (decrease?.rule === 'nielsen') {
    const f = checkPositive('damping.decrease.minFactor', decrease.minFactor);
    if (f >= 1) invalidArgument('damping.decrease.minFactor', 'must be a number in (0, 1)', f);
  } else if (decrease?.rule === 'divide') {
    const by = checkPositive('damping.decrease.by', decrease.by);
    if (by <= 1) invalidArgument('damping.decrease.by', 'must be a number > 1', by);
    checkPositive('damping.decrease.floor', decrease.floor, true);
  } else {
    invalidArgument('damping.decrease', "must be { rule: 'nielsen', minFactor } or { rule: 'divide', by, floor }", decrease);
  }
  const plateau = o.plateau ?? null;
  if (plateau !== null) {
    if (typeof plateau !== 'object') invalidArgument('plateau', 'must be { window, factor, above } or null', plateau);
    checkInteger('plateau.window', plateau.window, 1);
    const f = checkPositive('plateau.factor', plateau.factor);
    if (f >= 1) invalidArgument('plateau.factor', 'must be a number in (0, 1)', f);
    checkPositive('plateau.above', plateau.above, true);
  }
  const floor = o.floor ?? null;
  if (floor !== null) {
    if (typeof floor !== 'object') invalidArgument('floor', 'must be { below, factor } or null', floor);
    checkPositive('floor.below', floor.below);
    const f = checkPositive('floor.factor', floor.factor);
    if (f >= 1) invalidArgument('floor.factor', 'must be a number in (0, 1)', f);
  }
  checkFunction('acceptStep', o.acceptStep);
  checkFunction('onProgress', o.onProgress);
  return {
    maxIterations: checkInteger('maxIterations', o.maxIterations ?? 200, 0),
    scale: checkPositive('residualScale', o.residualScale ?? 1),
    resTol: checkPositive('residualTolerance', o.residualTolerance ?? 0, true),
    stepTol: checkPositive('stepTolerance', o.stepTolerance ?? 1e-13),
    stepTest,
    costTol: checkPositive('costTolerance', o.costTolerance ?? 1e-12, true),
    costSteps: checkInteger('costSteps', o.costSteps ?? 2, 1),
    acceptance,
    lambda0: checkPositive('damping.initial', d.initial ?? 1e-3),
    decrease,
    ceiling: checkPositive('damping.ceiling', d.ceiling ?? 1e20),
    innerSteps: checkInteger('innerSteps', o.innerSteps ?? 0, 0),
    stallWindow: checkInteger('stallWindow', o.stallWindow ?? 0, 0),
    stallFactor,
    stallAbove: checkPositive('stallAbove', o.stallAbove ?? 1e-6, true),
    plateau,
    floor,
    acceptStep: o.acceptStep,
    onProgress: o.onProgress,
  };
}

/**
 * Minimizes 0.5 |r(x)|^2 from x0 by Levenberg–Marquardt with the given step strategy.
 * Options are checked here (house-style messages); x0 is not modified.
 *
 * @example
 * const { x, report } = await leastSquares(normalEquationsStrategy(equations), x0, {
 *   residualScale: norm(y), residualTolerance: 1e-15, innerSteps: 4,
 *   damping: { decrease: { rule: 'nielsen', minFactor: 0.1 } },
 * });
 * console.log(report.status, report.message, report.nfev);
 */
export async function leastSquares(strategy: StepStrategy, x0: Float64Array, options: LevenbergMarquardtOptions = {}): Promise<LeastSquaresResult> {
  const started = performance.now();
  if (!strategy || typeof strategy.linearize !== 'function' || typeof strategy.solve !== 'function') {
    invalidArgument('strategy', 'must be a StepStrategy (e.g. normalEquationsStrategy(equations))', strategy);
  }
  if (!(x0 instanceof Float64Array) || x0.length < 1) invalidArgument('x0', 'must be a nonempty Float64Array', x0 instanceof Float64Array ? x0.length : x0);
  const s = settings(options);
  const n = x0.length;
  let x = Float64Array.from(x0);
  let nfev = 1;
  let njev = 1;
  let sumSq = await strategy.linearize(x);
  const initialSumSq = sumSq;
  const history = [Math.sqrt(sumSq) / s.scale];
  let lambda = s.lambda0;
  let nu = 2;
  let iterations = 0;
  let accepted = 0;
  let innerSteps = 0;
  let refused = 0;
  let smallCostSteps = 0;
  let refusedSince = 0;
  let stopReason: StopReason = Number.isFinite(sumSq) ? 'maxIterations' : 'nonFiniteStart';
  const minusGrad = new Float64Array(n);
  const hook = s.acceptStep;
  // a refused step (or an unsolvable system) raises lambda; true when it passed the ceiling
  const raise = () => {
    lambda *= nu;
    nu *= 2;
    return lambda > s.ceiling;
  };

  while (stopReason === 'maxIterations' && iterations < s.maxIterations) {
    if (Math.sqrt(sumSq) / s.scale <= s.resTol) {
      stopReason = 'residual';
      break;
    }
    iterations++;
    const grad = strategy.gradient();
    const diag = strategy.scaling();
    for (let k = 0; k < n; k++) minusGrad[k] = -grad[k];
    const delta = await strategy.solve(lambda, minusGrad);
    if (!delta) {
      refusedSince++;
      if (raise()) stopReason = 'lambda';
      continue;
    }
    // predicted reduction of 0.5 |r|^2: 0.5 delta^T (lambda D delta - grad)
    let predicted = 0;
    for (let k = 0; k < n; k++) predicted += delta[k] * (lambda * diag[k] * delta[k] - grad[k]);
    predicted *= 0.5;
    if (norm(delta) <= s.stepTol * (norm(x) + s.stepTol) && (s.stepTest === 'size' || predicted <= s.costTol * 0.5 * sumSq)) {
      stopReason = 'step';
      break;
    }
    const trial = new Float64Array(n);
    for (let k = 0; k < n; k++) trial[k] = x[k] + delta[k];
    const trialSumSq = await strategy.sumOf(trial);
    nfev++;
    const rho = predicted > 0 ? (0.5 * (sumSq - trialSumSq)) / predicted : -1;
    let ok = s.acceptance === 'gain-ratio' ? rho > 0 && Number.isFinite(trialSumSq) : Number.isFinite(trialSumSq) && trialSumSq < sumSq;
    if (ok && hook && !hook(trial, x)) {
      refused++;
      ok = false;
    }
    if (!ok) {
      refusedSince++;
      if (raise()) stopReason = 'lambda';
      continue;
    }
    accepted++;
    const step: StepInfo = { lambda, gainRatio: rho, refused: refusedSince, innerSteps: 0, lastRatio: Math.sqrt(trialSumSq / sumSq) };
    refusedSince = 0;
    // further steps with the same linearization and lambda: delta' = -(J^T J + lambda D)^-1 J^T r(x'),
    // kept while they lower the cost (a modified LM step; no new linearization)
    let next = trial;
    let nextSumSq = trialSumSq;
    for (let t = 0; t < s.innerSteps; t++) {
      const g = await strategy.gradientAtLast();
      for (let k = 0; k < n; k++) g[k] = -g[k];
      const inner = await strategy.solve(lambda, g);
      if (!inner) break;
      const z = Float64Array.from(next);
      for (let k = 0; k < n; k++) z[k] += inner[k];
      const zSumSq = await strategy.sumOf(z);
      nfev++;
      if (!(zSumSq < nextSumSq)) {
        step.lastRatio = 1;
        break;
      }
      if (hook && !hook(z, next)) {
        refused++;
        step.lastRatio = 1;
        break;
      }
      step.lastRatio = Math.sqrt(zSumSq / nextSumSq);
      next = z;
      nextSumSq = zSumSq;
      innerSteps++;
      step.innerSteps++;
    }
    const relativeDrop = (sumSq - nextSumSq) / (sumSq || 1);
    x = next;
    // the stopping tests first, on the trial's sum (the same bits as a linearization's: the
    // strategies' contract): a fit that stops here skips its last J^T J (or preconditioner)
    sumSq = nextSumSq;
    const dec = s.decrease;
    if (dec.rule === 'nielsen') lambda *= Math.max(dec.minFactor, 1 - (2 * rho - 1) ** 3);
    else lambda = Math.max(lambda / dec.by, dec.floor);
    nu = 2;
    const rel = Math.sqrt(sumSq) / s.scale;
    history.push(rel);
    s.onProgress?.(iterations, rel, step);
    smallCostSteps = relativeDrop < s.costTol ? smallCostSteps + 1 : 0;
    if (smallCostSteps >= s.costSteps) {
      stopReason = 'cost';
      break;
    }
    const w = s.stallWindow;
    if (w > 0 && history.length > w && rel > s.stallAbove && rel > s.stallFactor * history[history.length - 1 - w]) {
      stopReason = 'stalled';
      break;
    }
    const pl = s.plateau;
    if (pl && history.length > pl.window && rel > pl.above && rel > pl.factor * history[history.length - 1 - pl.window]) {
      stopReason = 'stalled';
      break;
    }
    if (rel <= s.resTol) {
      stopReason = 'residual';
      break;
    }
    if (s.floor && rel <= s.floor.below && step.lastRatio > s.floor.factor) {
      stopReason = 'cost';
      break;
    }
    if (iterations >= s.maxIterations) break;
    sumSq = await strategy.linearize(x);
    nfev++;
    njev++;
  }
  const entry = STATUS_TABLE[stopReason];
  return {
    x,
    report: {
      strategy: strategy.name,
      ...(strategy.stats ? { strategyStats: strategy.stats() } : {}),
      status: entry.status,
      stopReason,
      message: entry.message,
      success: isSuccess(stopReason),
      iterations,
      acceptedSteps: accepted,
      innerSteps,
      refusedSteps: refused,
      nfev,
      njev,
      cost: 0.5 * sumSq,
      initialCost: 0.5 * initialSumSq,
      relativeResidual: Math.sqrt(sumSq) / s.scale,
      initialRelativeResidual: history[0],
      residualHistory: history,
      finalLambda: lambda,
      parameters: n,
      seconds: (performance.now() - started) / 1000,
    },
  };
}
