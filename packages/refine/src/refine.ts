/**
 * Levenberg–Marquardt on all parameters (A, theta, B, tau) of a two-hidden-layer network,
 * started from an estimate, on queries of the black box. The analytic Jacobian is exact; the
 * normal equations (J^T J + lambda D) delta = -J^T r go through @nnid/linalg (gram + Cholesky),
 * with Marquardt's diagonal scaling D = diag(J^T J) and Nielsen's update of lambda; after an
 * accepted step, a few inner steps reuse its J and Cholesky factor (innerSteps). The loop is
 * @nnid/optimize's leastSquares (normal-equations strategy); this file forms the equations.
 *
 * @example
 * const { network, report } = await refineNetwork(oracle, estimate, { seed: 1 });
 * report.relativeResidual; // ~1e-15 when the estimate was in the basin
 */
import {
  allocFloat64,
  checkInteger,
  checkPositive,
  checkView,
  invalidArgument,
  isRowMajor,
  isShared,
  matrix,
  matrixFrom,
  parameterCount,
  rng,
  settleAll,
  toDense,
  type Float64View,
  type Network,
  type Oracle,
  type ViewLike,
} from '@nnid/core';
import { gram, matmul, setBlasThreads } from '@nnid/linalg';
import {
  leastSquares,
  matrixFreeStrategy,
  normalEquationsStrategy,
  type LeastSquaresReport,
  type MatrixFreeOptions,
  type NormalEquations,
  type FloorRule,
  type PlateauRule,
  type StepInfo,
  type StopReason,
} from '@nnid/optimize';
import { blockRanges, inputPairs, pairCount, runBlock, type BlockTask } from './blocks.ts';
import { checkSolver, checkSolverOptions, type Solver } from './solver-options.ts';
import { networkOperator, operatorRowBlocks, type FreeFirstLayer } from './jacobian-operator.ts';
import { createRefinePool, type RefinePool } from './pool.ts';
import { firstLayerInputs, type Layout, layoutOf, packParameters, residualsAndJacobian, upperResidualsAndJacobian, unpackParameters } from './params.ts';

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
  /** Stop when an accepted step lowers the cost by less than this fraction, `costSteps` times in a row (default 1e-12). */
  costTolerance?: number;
  /** Accepted steps in a row below costTolerance that stop the fit (default 2; 1: a fit that knows its floor, as identify's in range(A)). */
  costSteps?: number;
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
   * A second stall rule, for plateaus far from any fit (@nnid/optimize's PlateauRule; default null:
   * none). identify's full fits take FULL_FIT_PLATEAU: a failed attempt then stops ~34 accepted
   * steps (J^T J) sooner.
   */
  plateau?: PlateauRule | null;
  /**
   * A stop on a floor the residual cannot pass (@nnid/optimize's FloorRule; default null: none):
   * identify's fit in range(A) takes { below: FINISH_NEAR, factor: RANGE_FLOOR_RATIO } (pipeline).
   */
  floor?: FloorRule | null;
  /**
   * OpenBLAS threads for the normal equations (default 1). Raise it to the core count when no
   * other thread runs OpenBLAS meanwhile (OpenBLAS's count is process-wide); restored after.
   */
  blasThreads?: number;
  /**
   * 'first-layer': keep A and theta as given and fit only the second layer (B, tau) — a small,
   * cheap problem (m0 m1 + m1 parameters), e.g. to try several second layers on one first layer.
   * 'first-layer-weights': keep A alone and fit (theta, B, tau) (m0 + m0 m1 + m1 parameters).
   * Default 'none'.
   */
  fix?: Fix;
  /**
   * Threads for the normal equations (default 1): with several row blocks (see rowBlocks), the
   * blocks run at once, all but the first in worker threads. The blocks' J^T J and J^T r are
   * summed in block order, so the result does not depend on the thread count.
   */
  threads?: number;
  /**
   * Row blocks of the normal equations: a number (>= 1; only with fix 'none'), or 'auto' (the
   * default): ROW_BLOCKS when N P^2 >= BLOCKED_FROM, else 1. The bits depend on it, not on `threads`.
   */
  rowBlocks?: number | 'auto';
  /**
   * After an accepted step p', at most this many further steps -(J^T J + lambda D)^-1 J^T r(p')
   * with the same J and factorization, each kept only when it lowers the cost (default 4). Such
   * a step costs a residual evaluation instead of a new J^T J and Cholesky: at (50, 30, 10) the
   * full LM took 5-7 iterations instead of 7-15 (BENCHMARKS.md). 0: plain LM.
   */
  innerSteps?: number;
  /**
   * lambda at the start (default 1e-3, with Marquardt's scaling D = diag(J^T J)). A fit that
   * starts next to its minimum (identify's finish in R^d after the fit in range(A)) takes a
   * smaller one: there each step is nearly Gauss-Newton's and a damped one only slows it.
   */
  initialDamping?: number;
  /**
   * How each step is solved: 'normal-equations': J^T J formed (row blocks, threads) and
   * factored by Cholesky. 'matrix-free': neither J nor J^T J; steps by conjugate gradients on
   * products J v and J^T w through the layers (GEMMs on the N x m0 and N x m1 activations:
   * jacobian-operator.ts), preconditioned by blocks of J^T J (per first-layer unit, the second
   * layer whole), @nnid/optimize's matrixFreeStrategy; its products in row blocks fixed by the size
   * (operatorRowBlocks), on `threads` threads, the same bits for any thread count; `matrixFree` tunes its CG. 'auto' (default): the dense solver while its J,
   * J^T J and the blocks' copies fit in 4 GiB (8 (N F + 3 F^2) bytes), else the matrix-free one.
   */
  solver?: Solver;
  /** The matrix-free solver's CG: tolerance (default 1e-10), iterations per solve (default 2 F + 20), forcing (default 'adaptive'), preconditioner (default 'auto': the blocks). */
  matrixFree?: MatrixFreeOptions;
  /** Called after each accepted step (with @nnid/optimize's StepInfo: its lambda, gain ratio, refused trials). */
  onProgress?: (iteration: number, relativeResidual: number, step: StepInfo) => void;
}

export type { Solver };

/** Which parameters refineNetwork keeps as given (see RefineOptions.fix). */
export type Fix = 'none' | 'first-layer' | 'first-layer-weights';
const FIXES: readonly Fix[] = ['none', 'first-layer', 'first-layer-weights'];

/** The first layer's free parameters under each fix (the matrix-free operator's terms). */
const FREE_FIRST_LAYER: Record<Fix, FreeFirstLayer> = { none: 'weights-and-shifts', 'first-layer-weights': 'shifts', 'first-layer': 'none' };

/** Index of the first free parameter: the free ones are p[firstFree..P). */
function firstFree(layout: Layout, fix: Fix): number {
  return fix === 'first-layer' ? layout.offB : fix === 'first-layer-weights' ? layout.offTheta : 0;
}

export type { StopReason };

/**
 * The fit's report: the solver's (@nnid/optimize: status, message, success, stop reason,
 * iterations, nfev, njev, cost, the relative-residual history, ...) with the data it fitted.
 */
export interface RefineReport extends Omit<LeastSquaresReport, 'seconds'> {
  /** Data points fitted: fresh queries + extra pairs. */
  dataPoints: number;
  /** Fresh queries paid or reused through the oracle by this stage. */
  queries: number;
  /** Root mean square residual at the end (compare with the oracle's noise level). */
  rmsResidual: number;
  /** The same as `success`: the fit stopped on residual, cost or step (status > 0). */
  converged: boolean;
  /** Wall time of the stage (its queries included). */
  seconds: number;
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

/** Options of fitNetwork: those of refineNetwork that do not concern fresh queries. */
export type FitOptions = Omit<RefineOptions, 'seed' | 'dataPoints' | 'extraData'>;

/** The checked options of a fit on N data rows, with the row blocks resolved. */
function fitSettings(options: FitOptions, initial: Network, N: number) {
  const { stepTolerance: stepTol, residualTolerance: resTol, costTolerance: costTol, costSteps, maxIterations, stallWindow, stallFactor, stallAbove, innerSteps, blasThreads } = checkSolverOptions(options);
  const threads = checkInteger('threads', options.threads ?? 1, 1, 1024);
  const fix = options.fix ?? 'none';
  if (!FIXES.includes(fix)) invalidArgument('fix', `must be one of ${FIXES.map((f) => `'${f}'`).join(', ')}`, fix);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') invalidArgument('onProgress', 'must be a function', options.onProgress);
  const free = parameterCount(initial) - firstFree(layoutOf(initial), fix);
  const { solver, matrixFree } = checkSolver(options, N, free);
  let blocks = fix === 'none' && solver === 'normal-equations' && N * free * free >= BLOCKED_FROM ? ROW_BLOCKS : 1;
  if (options.rowBlocks !== undefined && options.rowBlocks !== 'auto') {
    blocks = checkInteger('rowBlocks', options.rowBlocks, 1, Math.max(1, N));
    if (blocks > 1 && fix !== 'none') invalidArgument('rowBlocks', "must be 1 or 'auto' with fix '" + fix + "'", blocks);
    if (blocks > 1 && solver !== 'normal-equations') invalidArgument('rowBlocks', "must be 1 or 'auto' with solver '" + solver + "'", blocks);
  }
  const initialDamping = checkPositive('initialDamping', options.initialDamping ?? 1e-3);
  return { stepTol, resTol, costTol, costSteps, maxIterations, stallWindow, stallFactor, stallAbove, plateau: options.plateau ?? null, floor: options.floor ?? null, threads, innerSteps, blasThreads, fix, blocks, solver, matrixFree, initialDamping, onProgress: options.onProgress };
}

/** Copies n x d inputs (any strides) into rows [row0, row0 + n) of X and their values into y. */
function copyData(data: { inputs: Float64View; values: Float64Array }, X: Float64Array, y: Float64Array, row0: number): void {
  X.set(toDense(data.inputs).data, row0 * data.inputs.shape[1]);
  y.set(data.values, row0);
}

/**
 * The N x d inputs and N values as the fit reads them (row-major; on shared memory when row blocks
 * run in workers): the caller's own arrays when they already are so (the fit only reads them), else a copy.
 */
function dataArrays(data: { inputs: Float64View; values: Float64Array }, shared: boolean): { X: Float64Array; y: Float64Array } {
  const { inputs, values } = data;
  const [N, d] = inputs.shape;
  const dense = isRowMajor(inputs) && inputs.offset === 0 && inputs.data.length === N * d;
  if (dense && (!shared || (isShared(inputs) && values.buffer instanceof SharedArrayBuffer))) return { X: inputs.data, y: values };
  const X = allocFloat64(N * d, { shared });
  const y = allocFloat64(N, { shared });
  copyData(data, X, y, 0);
  return { X, y };
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
  const d = initial.inputDim;
  const extra = options.extraData;
  const extraRows = extra ? extra.inputs.shape[0] : 0;
  if (extra && (extra.inputs.shape[1] !== d || extra.values.length !== extraRows)) {
    invalidArgument('extraData', `must be n x ${d} inputs with n values`, { shape: extra.inputs.shape, values: extra.values.length });
  }
  const N = fresh + extraRows;
  if (N < 1) invalidArgument('dataPoints', 'must give at least one data point with extraData', fresh);
  const settings = fitSettings(options, initial, N);

  // The data: fresh queries first, then the extra pairs (on shared memory when blocked: workers read them).
  const X = allocFloat64(N * d, { shared: settings.blocks > 1 });
  const y = allocFloat64(N, { shared: settings.blocks > 1 });
  const before = oracle.counts().total;
  if (fresh > 0) {
    const Xf = freshPoints(fresh, d, seed);
    X.set(Xf);
    y.set(await oracle.evaluate(matrixFrom(Xf, fresh, d)));
  }
  if (extra) copyData(extra, X, y, fresh);
  const queries = oracle.counts().total - before;
  return runFit(initial, X, y, N, queries, started, settings);
}

/**
 * Levenberg–Marquardt on data already in hand (no oracle, no queries): refineNetwork's fit of
 * `initial` to the pairs (inputs, values), with the same options and report (`queries` 0). The
 * same data and options give the same bits as refineNetwork with `dataPoints: 0` and the data
 * as `extraData`, in any thread.
 *
 * @example
 * const { network, report } = await fitNetwork(estimate, { inputs, values }, { maxIterations: 50 });
 */
export async function fitNetwork(initial: Network, dataIn: { inputs: ViewLike; values: Float64Array }, options: FitOptions = {}): Promise<RefineResult> {
  const started = performance.now();
  if (!dataIn || typeof dataIn !== 'object' || !(dataIn.values instanceof Float64Array)) {
    invalidArgument('data', 'must be { inputs: n x inputDim Float64View or ndarray, values: Float64Array(n) }', dataIn);
  }
  const d = initial.inputDim;
  // core's one view check: an ndarray is read in place, a wrong width is said in the house template
  const inputs = checkView('data.inputs', dataIn.inputs, { cols: d, colsName: 'inputDim', minRows: 1, dims: 'n x inputDim' });
  const N = inputs.shape[0];
  if (dataIn.values.length !== N) invalidArgument('data.values', `must hold one value per row of data.inputs (${N})`, dataIn.values.length);
  const data = { inputs, values: dataIn.values };
  const settings = fitSettings(options ?? {}, initial, N);
  const { X, y } = dataArrays(data, settings.blocks > 1);
  return runFit(initial, X, y, N, 0, started, settings);
}

async function runFit(initial: Network, X: Float64Array, y: Float64Array, N: number, queries: number, started: number, s: ReturnType<typeof fitSettings>): Promise<RefineResult> {
  const d = initial.inputDim;
  const blasBefore = setBlasThreads(s.blasThreads);
  // h4 (issue 15): the matrix-free operator's row blocks run in the pool too
  const poolBlocks = s.solver === 'matrix-free' ? operatorRowBlocks(N, parameterCount(initial)) : s.blocks;
  const pool = poolBlocks > 1 && s.threads > 1 ? createRefinePool({ threads: Math.min(s.threads, poolBlocks) - 1 }) : null;
  try {
    const settings: FitSettings = { ...s, pool };
    const result = await fit(initial, X, y, N, queries, started, settings);
    return { ...result, data: { inputs: matrixFrom(X, N, d), values: y } };
  } finally {
    setBlasThreads(blasBefore);
    await pool?.close();
  }
}

interface FitSettings {
  stepTol: number;
  resTol: number;
  costTol: number;
  costSteps: number;
  maxIterations: number;
  stallWindow: number;
  stallFactor: number;
  stallAbove: number;
  plateau: PlateauRule | null;
  floor: FloorRule | null;
  fix: Fix;
  innerSteps: number;
  initialDamping: number;
  blocks: number;
  solver: 'normal-equations' | 'matrix-free';
  matrixFree: MatrixFreeOptions;
  /** Runs all blocks but the first (null: every block in this thread). */
  pool: RefinePool | null;
  onProgress?: (iteration: number, relativeResidual: number, step: StepInfo) => void;
}

/**
 * The plateau rule of identify's full fits (RefineOptions.plateau): stalled when 15 accepted steps
 * lowered the relative residual by less than 10% while it is above 1e-3. Failed attempts at
 * (50, 30, 10) tanh with A perturbed sat at 1.1e-2 and 1.7e-2 for ~50 steps (one J^T J each)
 * before the 50-step rule stopped them; it stops them 34 steps sooner. No full fit that converged
 * crawled that slowly above 1e-3 in the histories measured (BENCHMARKS.md, "Sixth pass").
 */
export const FULL_FIT_PLATEAU: PlateauRule = Object.freeze({ window: 15, factor: 0.9, above: 1e-3 });

/**
 * The plateau rule of identify's fit of (theta, B, tau) with A fixed, before the full fit: stalled
 * when 5 accepted steps lowered the relative residual by less than 10%, at any level. With A
 * fixed the fit's floor is A's error; it reaches most of the way there in a few steps and then
 * crawls (from (100, 50, 20)'s start: 3.6e-1 to 1.04e-1 in 12 steps, then 44 more steps to
 * 1.00e-1, each a J^T J of 1,070 columns: ~100 of the refinement's CPU s); the full fit's first
 * step, which moves A, goes past it (1.00e-1 -> 9.4e-2). A fit that converges lowers it by far more.
 */
export const UPPER_FIT_PLATEAU: PlateauRule = Object.freeze({ window: 5, factor: 0.9, above: 0 });

/** Row blocks of a blocked problem: fixed (not the thread count), so the bits are too. */
export const ROW_BLOCKS = 2;
/** Problems of at least this many N P^2 (about 0.02 s of J^T J) are blocked. */
export const BLOCKED_FROM = 1e9;
/**
 * From this many N P^2 (about 0.1 s of J^T J), J^T J's (A, theta) block is formed from pair
 * products (see normalMatrix) when their table is no larger than J: 20% faster at (50, 30, 10),
 * slower at (30, 20, 8) (BENCHMARKS.md).
 */
export const STRUCTURED_FROM = 5e9;

/**
 * All parameters free: the rows in `blocks` blocks, each forming its own products, summed in
 * block order (one block: the products of the whole J). The first block runs here, the others
 * in the pool's workers (or here, one after the other).
 */
function blockedEquations(blocks: number, pool: RefinePool | null, layout: Layout, X: Float64Array, y: Float64Array, N: number): NormalEquations {
  const P = layout.size;
  const d = layout.inputDim;
  const shared = (n: number) => new Float64Array(new SharedArrayBuffer(n * 8));
  // the blocks' buffers are made once and rewritten at every evaluation
  const buffers = blockRanges(N, blocks).map(([r0, r1]) => ({
    r0,
    r1,
    residuals: shared(r1 - r0),
    jacobian: shared((r1 - r0) * P),
    jtj: shared(P * P),
    jtr: shared(P),
  }));
  // J^T J's (A, theta) block from pair products on large problems, when their table is no larger than J
  const D2 = pairCount(d + 1);
  const pairs = N * P * P >= STRUCTURED_FROM && D2 <= P ? inputPairs(X, N, d, shared(N * D2)) : undefined;
  // the first block here, the others in the pool's workers (or here, one after the other)
  const run = (q: Float64Array, mode: BlockTask['mode']) =>
    settleAll(
      buffers.map((b, i) => {
        const task: BlockTask = { p: q, layout, X, y, ...b, mode, pairs };
        return i > 0 && pool ? pool.run(task) : Promise.resolve().then(() => runBlock(task));
      }),
      'refine blocks',
    );
  return {
    async evaluate(q) {
      const sums = await run(q, 'normal');
      let sumSq = 0;
      const JtJ = matrix(P, P);
      const grad = new Float64Array(P);
      buffers.forEach((t, b) => {
        sumSq += sums[b];
        for (let k = 0; k < P * P; k++) JtJ.data[k] += t.jtj[k];
        for (let k = 0; k < P; k++) grad[k] += t.jtr[k];
      });
      return { sumSq, JtJ, grad };
    },
    async sumOf(q) {
      return (await run(q, 'residuals')).reduce((acc, s) => acc + s, 0);
    },
    gradientAtLast() {
      const g = new Float64Array(P);
      for (const b of buffers) for (let k = 0; k < P; k++) g[k] += b.jtr[k];
      return g;
    },
  };
}

/**
 * A fixed: A x computed once, only (theta,) B, tau differentiated (see upperResidualsAndJacobian).
 * The equations' points are the free parameters p[firstFree..P); A (and theta) stay p's.
 */
function upperEquations(p: Float64Array, layout: Layout, fix: Fix, X: Float64Array, y: Float64Array, N: number): NormalEquations {
  const U = firstLayerInputs(p, layout, X, N);
  const withTheta = fix === 'first-layer-weights';
  const first = firstFree(layout, fix);
  const r = new Float64Array(N);
  const J = matrix(N, layout.size - first);
  const full = Float64Array.from(p);
  const at = (x: Float64Array) => {
    full.set(x, first);
    return full;
  };
  return {
    async evaluate(x) {
      const sumSq = upperResidualsAndJacobian(at(x), layout, U, y, r, J.data, withTheta);
      return { sumSq, JtJ: gram(J), grad: matmul(J, matrixFrom(r, N, 1), { transA: true }).data };
    },
    async sumOf(x) {
      return upperResidualsAndJacobian(at(x), layout, U, y, r, undefined, withTheta);
    },
    gradientAtLast() {
      return matmul(J, matrixFrom(r, N, 1), { transA: true }).data;
    },
  };
}

async function fit(initial: Network, X: Float64Array, y: Float64Array, N: number, queries: number, started: number, settings: FitSettings): Promise<Omit<RefineResult, 'data'>> {
  const yNorm = norm(y) || 1;
  const layout = layoutOf(initial);
  // the free parameters are p[first..P): all, (theta, B, tau), or the second layer (B, tau) alone
  const first = firstFree(layout, settings.fix);
  const p = packParameters(initial, layout);
  const strategy =
    settings.solver === 'matrix-free'
      ? matrixFreeStrategy(networkOperator({ layout, p, free: FREE_FIRST_LAYER[settings.fix], X, Y: y, N, pool: settings.pool }), settings.matrixFree)
      : normalEquationsStrategy(first > 0 ? upperEquations(p, layout, settings.fix, X, y, N) : blockedEquations(settings.blocks, settings.pool, layout, X, y, N));
  const { x, report } = await leastSquares(strategy, p.subarray(first), {
    maxIterations: settings.maxIterations,
    residualScale: yNorm,
    residualTolerance: settings.resTol,
    stepTolerance: settings.stepTol,
    stepTest: 'size-and-prediction',
    costTolerance: settings.costTol,
    costSteps: settings.costSteps,
    acceptance: 'gain-ratio',
    innerSteps: settings.innerSteps,
    stallWindow: settings.stallWindow,
    stallFactor: settings.stallFactor,
    stallAbove: settings.stallAbove,
    plateau: settings.plateau,
    floor: settings.floor,
    // Nielsen's rule, allowed to fall by 10x a step: near the solution LM becomes Gauss-Newton fast
    // (Nielsen's 3x saved iterations on sigmoid (30, 20, 8) N(0, 1) but cost attempts on the grid: BENCHMARKS.md)
    damping: { initial: settings.initialDamping, decrease: { rule: 'nielsen', minFactor: 0.1 }, ceiling: 1e20 },
    ...(settings.onProgress ? { onProgress: settings.onProgress } : {}),
  });
  p.set(x, first);
  return {
    network: unpackParameters(p, layout),
    report: {
      dataPoints: N,
      queries,
      ...report,
      rmsResidual: Math.sqrt((2 * report.cost) / N),
      converged: report.success,
      seconds: (performance.now() - started) / 1000,
    },
  };
}
