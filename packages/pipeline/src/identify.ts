/**
 * identify(): every stage of the paper's pipeline (arXiv:1907.00485), end to end, against a
 * black box seen only through an Oracle; then, by default, Levenberg-Marquardt refinement.
 *
 *   gradients -> range(A) -> Hessians in reduced coordinates -> W-hat -> rank-one candidates
 *   -> attribution (+ missing a_i searched in the orthogonal complement, + the entangled part
 *   re-estimated after deflating span{a_i a_i^T}) -> shifts -> network -> refine
 *
 * A truth-free check follows refinement: when the relative residual on its own data stays above
 * `retryResidual`, the later stages are redone with another dimension of W-hat on the same
 * Hessians (no new Hessian queries), and the attempt with the smallest residual is kept.
 */
import { availableParallelism } from 'node:os';
import {
  ACTIVATIONS,
  checkChoice,
  checkInteger,
  checkPositive,
  ErrorCodes,
  invalidArgument,
  matrix,
  NnidError,
  parameterCount,
  rng,
  serializeNetwork,
  toDense,
  type ActivationName,
  type Float64View,
  type Network,
  type NetworkJson,
  type Oracle,
  type QueryCounts,
} from '@nnid/core';
import {
  createSamplerPool,
  estimateNoise,
  noiseAwareStep,
  sampleGradients,
  sampleHessians,
  spherePoints,
  type NoiseReport,
  type SamplerPool,
} from '@nnid/hessian-sampler';
import {
  complementBasis,
  deflate,
  estimateRange,
  estimateSubspace,
  joinSubspaces,
  rankOneSpan,
  restrictStack,
  type MatrixSubspace,
} from '@nnid/subspace';
import { createSolverPool, findRankOne, type SolverPool } from '@nnid/rank1-solver';
import { attributeCandidates } from '@nnid/attribution';
import { defaultShiftDataPoints, recoverShifts } from '@nnid/shift-recovery';
import { bestAbsCos, liftRows, mapRows, pickRows, rowsOf, stackRows, stageSeed } from './identify-geometry.ts';
import { createAttemptLanes, type AttemptLanes } from './attempt-lanes.ts';
import { refineStages, type RefineStagesOptions, type RefineStagesResult } from './refine-stages.ts';

/** What identify() reports as it goes. */
export interface IdentifyProgress {
  stage: IdentifyStage;
  done: number;
  total: number;
  message?: string;
}

export type IdentifyStage = 'gradients' | 'hessians' | 'subspace' | 'rank-one' | 'attribution' | 'shifts' | 'refine';

export interface IdentifyOptions {
  /** m0, the first hidden layer's width. Default: the dimension of range(A) (or inferred by attribution). */
  width1?: number;
  /** m1, the second hidden layer's width. Default: the number of entangled weights found. */
  width2?: number;
  activation: { layer1: ActivationName; layer2: ActivationName };
  seed: number;
  /** Worker threads (default os.availableParallelism()). The result does not depend on it. */
  threads?: number;
  /** Levenberg-Marquardt on all parameters after the paper's pipeline (default true). */
  refine?: boolean;
  onProgress?: (event: IdentifyProgress) => void;
  /** Reduce to range(A) from gradients first (default true). */
  reduceToRange?: boolean;
  /** Gradients for range(A), the first at x = 0: 'auto' = m0 + 4 (d + 4 when m0 is unknown). */
  gradientPoints?: number | 'auto';
  /** Finite-difference scheme of the gradients (default 'forward': d + 1 queries each, central 2 d). */
  gradientScheme?: 'forward' | 'central';
  /**
   * Finite-difference step of the gradients: 'auto' = the sampler's default for the scheme, or
   * larger when the oracle is noisy (noiseAwareStep of @nnid/hessian-sampler, from `noise`).
   */
  gradientStep?: number | 'auto';
  /**
   * Std of the oracle's noise: 'auto' = estimated first from 45 queries (estimateNoise of
   * @nnid/hessian-sampler); a number = known (0: exact, no queries). It sets the 'auto' steps and
   * the truth-free check's threshold.
   */
  noise?: number | 'auto';
  /**
   * Hessians: 'auto' = as many as the Hessian budget buys, at least m0 + m1 + 2 and at most
   * 2 (m0 + m1); m1 taken as ceil(m0 / 2) when unknown.
   */
  hessianPoints?: number | 'auto';
  /**
   * Queries for the Hessians when `hessianPoints` is 'auto', as a multiple of P: 'auto' (default)
   * = what `queryBudget` leaves after the queries already paid (noise estimate, gradients) and
   * those planned for the shift fit and the refinement.
   */
  hessianBudget?: number | 'auto';
  /** Total queries the 'auto' Hessian budget aims at, as a multiple of P (default 20). */
  queryBudget?: number;
  /**
   * Radius of the sphere the gradient and Hessian points are drawn on: 'auto' = 1 for a tanh
   * first layer, 3 for sigmoid (sigmoid(t) = (1 + tanh(t / 2)) / 2 halves the first-layer weights;
   * measured: see packages/pipeline/README.md).
   */
  radius?: number | 'auto';
  /** Finite-difference scheme of the Hessians (default 'forward'). */
  scheme?: 'forward' | 'central';
  /**
   * Finite-difference step of the Hessians: 'auto' = the sampler's default for the scheme, or
   * larger when the oracle is noisy (noiseAwareStep of @nnid/hessian-sampler, from `noise`).
   */
  step?: number | 'auto';
  /** dim W-hat: 'auto' = round(1.5 (m0 + m1)). */
  subspaceDimension?: number | 'auto';
  /** Multiples of (m0 + m1) tried, in order, when the truth-free check fails (default [2, 1, 1.25, 0.75, 1.1, 0.9, 1.75, 0.6, 1.4, 0.8, 1.6, 0.7]; duplicate dimensions are skipped). */
  retryFactors?: number[];
  /**
   * Relative residual after refinement above which the later stages are redone (default 1e-9: exact runs end near 1e-15; a run stalled at 5e-7 had relative L2 5e-7 — above the 1e-8 target).
   * With a noisy oracle the threshold used is max(retryResidual, noiseThresholdFactor sigma /
   * rms(refinement data)): the residual cannot fall below the noise.
   */
  retryResidual?: number;
  /** Multiple of the noise level in the check's threshold (default 3). */
  noiseThresholdFactor?: number;
  /** Random starts of the rank-one solver: 'auto' = 10 (m0 + m1). */
  starts?: number | 'auto';
  /** A-posteriori check of the rank-one solver (default 0.9). */
  threshold?: number;
  /** Fresh queries of the shift fit ('auto': the stage's default). */
  shiftDataPoints?: number | 'auto';
  /**
   * Fresh queries of the refinement: 'auto' = 4 P (P = d m0 + m0 + m0 m1 + m1). They are drawn
   * once (half on the unit sphere, half from N(0, I)) and fitted together with the shift fit's
   * already-paid data; retries refit the same data (no new queries).
   */
  refineDataPoints?: number | 'auto';
  /** Multiple of P for refineDataPoints 'auto' (default 4). */
  refineDataFactor?: number;
  /** Refit the shift fit's (already paid) data in the refinement too (default true). */
  reuseShiftData?: boolean;
  /** Levenberg-Marquardt iterations per refinement attempt (default 200, refine's own; 500 rescued one small sigmoid run but makes failing large runs very slow). */
  refineMaxIterations?: number;
  /** Random second layers tried (fit alone on the first layer found) besides the pipeline's before refinement (default 0). */
  secondLayerStarts?: number;
  /**
   * Before the full refinement, at most this many LM iterations fitting (theta, B, tau) on the
   * first layer found, A fixed (refine's `fix: 'first-layer-weights'`; default 100, 0 skips it).
   * The pipeline's second layer is its weakest part: from the pipeline's network the full LM
   * spent most iterations there, and often stalled (packages/pipeline/README.md).
   */
  upperFitIterations?: number;
  /**
   * After a failed check, refine the next attempts side by side, one per thread, in worker
   * threads ("lanes"; the main thread prepares the attempts after them): 'auto' (default) = when
   * threads > 1 and the failed attempt spent at least 1 s refining (a lane costs ~0.5 s to start);
   * true = whenever threads > 1; false = one attempt after the other. The result is the same
   * either way: attempts are still taken in order, the first that passes the check ends the run.
   */
  parallelAttempts?: 'auto' | boolean;
}

export interface StageQueries {
  total: number;
  paid: number;
  reused: number;
}

export interface CandidateReport {
  /** In R^d, unit, sign fixed (largest |entry| positive). */
  vector: number[];
  /** The a-posteriori certificate Phi = |P_W(u u^T)|_F^2. */
  phi: number;
  hits: number;
  role: 'first-layer' | 'entangled' | 'skipped' | 'unused';
}

export interface AttemptReport {
  subspaceDimension: number;
  /** m1 of this attempt's network. */
  width2: number;
  /** Why this attempt ran: 'first', or the residual of the one before it. */
  reason: string;
  /** Where its refinement ran: the main thread (with identify's threads) or a lane (one worker thread). */
  ranIn: 'main' | 'lane';
  subspace: unknown;
  rankOne: unknown;
  attribution: unknown;
  candidates: CandidateReport[];
  /** margin between the groups (entangled min coherence - first-layer max coherence). */
  attributionMargin: number | null;
  completion: unknown;
  entangled: unknown;
  shifts: unknown;
  /** The fit of (theta, B, tau) on the first layer found, before the full refinement (null: none). */
  upperFit: unknown;
  refine: unknown;
  networkBeforeRefinement: NetworkJson;
  /** This attempt's network after refinement (null without refinement): a failed attempt's local minimum too. */
  networkAfterRefinement: NetworkJson | null;
  /** Relative residual of the shift fit (paper's pipeline alone) on its data. */
  pipelineResidual: number;
  /** Relative residual after refinement on its data (null without refinement). */
  refinedResidual: number | null;
  queries: StageQueries;
  seconds: number;
}

export interface IdentifyReport {
  format: 'nnid.identify-report/v1';
  /** Every option, with each 'auto' resolved to the value used. */
  options: Record<string, unknown>;
  widths: { width1: number; width1Source: string; width2: number; width2Source: string; inputDim: number; reducedDim: number };
  parameterCount: number;
  queries: StageQueries & {
    /** The noise estimate's queries (0 when `noise` is given). */
    noise: number;
    gradients: number;
    hessians: number;
    shifts: number;
    refine: number;
    /** total / P. */
    multipleOfP: number;
    byStage: Record<string, StageQueries>;
  };
  seconds: Record<string, number> & { total: number };
  threads: number;
  spectrum: { gradients: number[] | null; hessians: number[] };
  candidates: CandidateReport[];
  attributionMargin: number | null;
  stages: { range: unknown; gradients: unknown; hessians: unknown };
  attempts: AttemptReport[];
  /** Index into `attempts` of the network returned. */
  chosenAttempt: number;
  /** Attempt lanes (see IdentifyOptions.parallelAttempts): how many, and the first attempt refined in one (null: none). */
  parallelAttempts: { lanes: number; fromAttempt: number | null };
  /** The network of the paper's pipeline alone (before refinement), of the chosen attempt. */
  networkBeforeRefinement: NetworkJson;
  /** threshold = max(retryResidual, noiseThresholdFactor noise / rms(data)); noiseFloor: the noise term is the larger. */
  check: { relativeResidual: number | null; threshold: number; passed: boolean | null; on: 'refine-data' | 'shift-data'; noise: number; noiseFloor: boolean };
  /** The oracle's noise level (estimated or given; 0 = exact) and the finite-difference steps it set. */
  noise: { sigma: number; source: 'estimated' | 'given'; estimate: NoiseReport | null; gradientStep: number; hessianStep: number };
  warnings: string[];
}

export interface IdentifyResult {
  network: Network;
  /** The paper's pipeline alone (before refinement). */
  networkBeforeRefinement: Network;
  report: IdentifyReport;
}

interface Resolved {
  width1?: number;
  width2?: number;
  layer1: ActivationName;
  layer2: ActivationName;
  seed: number;
  threads: number;
  refine: boolean;
  reduceToRange: boolean;
  gradientPoints: number | 'auto';
  gradientScheme: 'forward' | 'central';
  gradientStep: number | 'auto';
  noise: number | 'auto';
  noiseThresholdFactor: number;
  hessianPoints: number | 'auto';
  hessianBudget: number | 'auto';
  queryBudget: number;
  radius: number;
  scheme: 'forward' | 'central';
  step: number | 'auto';
  subspaceDimension: number | 'auto';
  retryFactors: number[];
  retryResidual: number;
  starts: number | 'auto';
  threshold: number;
  shiftDataPoints: number | 'auto';
  refineDataPoints: number | 'auto';
  refineDataFactor: number;
  reuseShiftData: boolean;
  refineMaxIterations: number;
  secondLayerStarts: number;
  upperFitIterations: number;
  parallelAttempts: 'auto' | boolean;
  onProgress?: (event: IdentifyProgress) => void;
}

function autoOr(name: string, value: unknown, min = 1): number | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  return checkInteger(name, value, min);
}

function resolveOptions(oracle: Oracle, options: IdentifyOptions): Resolved {
  if (!oracle || typeof oracle.evaluate !== 'function' || typeof oracle.counts !== 'function') {
    invalidArgument('oracle', 'must be an Oracle (see createOracle)', oracle);
  }
  if (!options || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const d = oracle.inputDim;
  const width1 = options.width1 === undefined ? undefined : checkInteger('width1', options.width1, 1, d);
  const width2 = options.width2 === undefined ? undefined : checkInteger('width2', options.width2, 1, width1 ?? d);
  if (!options.activation || typeof options.activation !== 'object') {
    invalidArgument('activation', 'must be { layer1, layer2 } with tanh or sigmoid', options.activation);
  }
  const layer1 = checkChoice('activation.layer1', options.activation.layer1, ACTIVATIONS);
  const layer2 = checkChoice('activation.layer2', options.activation.layer2, ACTIVATIONS);
  const seed = checkInteger('seed', options.seed, 0);
  const threads = checkInteger('threads', options.threads ?? availableParallelism(), 1, 1024);
  if (options.refine !== undefined && typeof options.refine !== 'boolean') invalidArgument('refine', 'must be a boolean', options.refine);
  if (options.reduceToRange !== undefined && typeof options.reduceToRange !== 'boolean') {
    invalidArgument('reduceToRange', 'must be a boolean', options.reduceToRange);
  }
  if (options.reuseShiftData !== undefined && typeof options.reuseShiftData !== 'boolean') {
    invalidArgument('reuseShiftData', 'must be a boolean', options.reuseShiftData);
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') invalidArgument('onProgress', 'must be a function', options.onProgress);
  const step = options.step === undefined || options.step === 'auto' ? 'auto' : checkPositive('step', options.step);
  const gradientStep = options.gradientStep === undefined || options.gradientStep === 'auto' ? 'auto' : checkPositive('gradientStep', options.gradientStep);
  const noise = options.noise === undefined || options.noise === 'auto' ? 'auto' : checkPositive('noise', options.noise, true);
  const subspaceDimension = autoOr('subspaceDimension', options.subspaceDimension);
  const retryFactors = options.retryFactors ?? [2, 1, 1.25, 0.75, 1.1, 0.9, 1.75, 0.6, 1.4, 0.8, 1.6, 0.7];
  if (!Array.isArray(retryFactors) || retryFactors.some((f) => typeof f !== 'number' || !(f > 0) || !Number.isFinite(f))) {
    invalidArgument('retryFactors', 'must be an array of positive numbers', retryFactors);
  }
  const threshold = checkPositive('threshold', options.threshold ?? 0.9, true);
  if (threshold > 1) invalidArgument('threshold', 'must be a number in [0, 1]', threshold);
  return {
    width1,
    width2,
    layer1,
    layer2,
    seed,
    threads,
    refine: options.refine ?? true,
    reduceToRange: options.reduceToRange ?? true,
    gradientPoints: autoOr('gradientPoints', options.gradientPoints, 2),
    hessianPoints: autoOr('hessianPoints', options.hessianPoints, 1),
    gradientScheme: checkChoice('gradientScheme', options.gradientScheme ?? 'forward', ['forward', 'central'] as const),
    gradientStep,
    noise,
    noiseThresholdFactor: checkPositive('noiseThresholdFactor', options.noiseThresholdFactor ?? 3),
    hessianBudget: options.hessianBudget === undefined || options.hessianBudget === 'auto' ? 'auto' : checkPositive('hessianBudget', options.hessianBudget),
    queryBudget: checkPositive('queryBudget', options.queryBudget ?? 20),
    radius: options.radius === undefined || options.radius === 'auto' ? (layer1 === 'sigmoid' ? 3 : 1) : checkPositive('radius', options.radius),
    scheme: checkChoice('scheme', options.scheme ?? 'forward', ['forward', 'central'] as const),
    step,
    subspaceDimension,
    retryFactors,
    retryResidual: checkPositive('retryResidual', options.retryResidual ?? 1e-9),
    starts: autoOr('starts', options.starts),
    threshold,
    shiftDataPoints: autoOr('shiftDataPoints', options.shiftDataPoints),
    refineDataPoints: autoOr('refineDataPoints', options.refineDataPoints, 0),
    refineDataFactor: checkPositive('refineDataFactor', options.refineDataFactor ?? 4, true),
    reuseShiftData: options.reuseShiftData ?? true,
    refineMaxIterations: checkInteger('refineMaxIterations', options.refineMaxIterations ?? 200, 1),
    secondLayerStarts: checkInteger('secondLayerStarts', options.secondLayerStarts ?? 0, 0),
    upperFitIterations: checkInteger('upperFitIterations', options.upperFitIterations ?? 100, 0),
    parallelAttempts:
      options.parallelAttempts === undefined || options.parallelAttempts === 'auto' || typeof options.parallelAttempts === 'boolean'
        ? (options.parallelAttempts ?? 'auto')
        : invalidArgument('parallelAttempts', "must be 'auto', true or false", options.parallelAttempts),
    onProgress: options.onProgress,
  };
}

function diff(after: QueryCounts, before: QueryCounts): StageQueries {
  return { total: after.total - before.total, paid: after.paid - before.paid, reused: after.reused - before.reused };
}

function addQueries(a: StageQueries, b: StageQueries): StageQueries {
  return { total: a.total + b.total, paid: a.paid + b.paid, reused: a.reused + b.reused };
}

const ZERO: StageQueries = { total: 0, paid: 0, reused: 0 };

/**
 * 'auto' attempt lanes start after a failed attempt that spent at least this long refining: a lane
 * costs ~0.5 s to start (tsx in the worker), and short attempts are over before it is up.
 */
const LANES_FROM_SECONDS = 1;

/** Sampling jobs of at least this many (queries x inputDim) use worker threads (~0.1 s of work). */
const SAMPLER_WORKERS_FROM = 2e7;
/** Rank-one searches of at least this many estimated flops use worker threads (~0.3 s of work). */
const SOLVER_WORKERS_FROM = 3e8;

/** The dimension of W-hat for a factor of (m0 + m1), within what the stack can give. */
function dimensionFor(factor: number, m0: number, m1: number, maxDim: number): number {
  return Math.max(1, Math.min(maxDim, Math.round(factor * (m0 + m1))));
}

/** One planned attempt: a dimension of W-hat and, when given or tried, m1. */
interface Step {
  /** Creation order: seeds the attempt, so that its result does not depend on when or where it runs. */
  id: number;
  k: number;
  m1?: number;
  /** The residual of the attempt before, at m1 - 1 (see GROWTH_GAIN). */
  grown?: number;
}

interface AttemptContext {
  oracle: Oracle;
  o: Resolved;
  /** Hessians in reduced coordinates (packed). */
  stack: Float64View;
  /** d x r basis of range(A), or null (r = d). */
  U: Float64View | null;
  r: number;
  m0: number;
  /** m1 for dimensions and starts when the step gives none (estimated from the spectrum). */
  m1: number;
  gradientAtZero: Float64Array | null;
  solverPool: SolverPool | null;
  /** The refinement's fresh data, drawn and paid by the first attempt that refines, reused after. */
  refineData: { inputs: Float64View; values: Float64Array } | null;
  /** The shift fit's data, paid by the first attempt, reused by the retries. */
  shiftData: { inputs: Float64View; values: Float64Array } | null;
  /** What every refinement fits (refineData, and shiftData when reused), in shared memory, made once. */
  fitData: { inputs: Float64View; values: Float64Array } | null;
  /** Set when identify has its answer: attempts still being prepared stop at their next stage. */
  stopped: boolean;
  progress: (stage: IdentifyStage, done: number, total: number, message?: string) => void;
}

/** An attempt up to the paper's assembled network (the main thread's part). */
interface PreparedAttempt {
  step: Step;
  network: Network;
  report: Omit<AttemptReport, 'reason' | 'upperFit' | 'refine' | 'refinedResidual' | 'networkAfterRefinement' | 'queries' | 'seconds' | 'ranIn'>;
  seconds: Record<string, number>;
  shiftQueries: StageQueries;
  width2: number;
  width2Source: string;
  started: number;
}

interface AttemptResult {
  network: Network;
  networkBeforeRefinement: Network;
  report: AttemptReport;
  seconds: Record<string, number>;
  shiftQueries: StageQueries;
  refineQueries: StageQueries;
  width2: number;
  width2Source: string;
  width1: number;
}

/**
 * With m1 inferred, a failing attempt at m1 = w + 1 is followed by one at w + 2 when the added unit
 * lowered the relative residual at least this many times (units still missing, not a local minimum);
 * 10 stopped (10, 10, 3) runs at m1 = 2 (0.3 -> 0.1) and (20, 20, 5) runs at 4 (1e-2 -> 3e-3).
 */
const GROWTH_GAIN = 2;

/**
 * The fit of (theta, B, tau) before the full LM stops when two accepted steps in a row lower its
 * cost by less than this fraction: it levels off within ~10 steps at (50, 30, 10) and the full LM
 * took as many iterations after it as after a fit run to 1e-12 (BENCHMARKS.md).
 */
const UPPER_FIT_COST_TOLERANCE = 1e-4;

/** n refinement points: even rows uniform on the unit sphere, odd rows from N(0, I_d) (the two scoring distributions). */
function refinePoints(n: number, d: number, seed: number): Float64View {
  const X = matrix(n, d);
  const root = rng(seed);
  for (let i = 0; i < n; i++) {
    const row = X.data.subarray(i * d, (i + 1) * d);
    if (i % 2 === 0) root.split(i).fillSphere(row, 1);
    else root.split(i).fillNormal(row);
  }
  return X;
}

/** An error that ends an attempt prepared after identify had its answer (never reported). */
const STOPPED = 'identify: stopped (an earlier attempt passed the check)';

/** The seed of an attempt: from its step's id, not from when it runs. */
function attemptSeedOf(o: Resolved, step: Step): number {
  return stageSeed(o.seed, 100 + step.id);
}

/** Subspace -> rank-one -> attribution (+ completion, + entangled part) -> shifts: the paper's network. */
async function prepareAttempt(ctx: AttemptContext, step: Step): Promise<PreparedAttempt> {
  const { oracle, o, stack, U, r, m0 } = ctx;
  const k = step.k;
  const width2Given = step.m1;
  const m1 = step.m1 ?? ctx.m1;
  const started = performance.now();
  const seconds: Record<string, number> = {};
  const tick = (name: string, t0: number) => {
    seconds[name] = (seconds[name] ?? 0) + (performance.now() - t0) / 1000;
  };
  const checkStopped = () => {
    if (ctx.stopped) throw new NnidError(ErrorCodes.numerical, STOPPED);
  };
  const attemptSeed = attemptSeedOf(o, step);
  // small searches run in the main thread (same results): a worker pool costs more to start
  const solverBase = ctx.solverPool ? { pool: ctx.solverPool } : { threads: 1 };
  const starts = o.starts === 'auto' ? 10 * (m0 + m1) : o.starts;

  // W-hat
  let t0 = performance.now();
  ctx.progress('subspace', 0, 1, `dimension ${k}`);
  const sub = estimateSubspace(stack, { layout: 'packed', dimension: k });
  tick('subspace', t0);

  // rank-one candidates
  t0 = performance.now();
  ctx.progress('rank-one', 0, 1, `${starts} starts`);
  const sol = await findRankOne(sub.subspace.basis, { ...solverBase, starts, seed: attemptSeed, threshold: o.threshold });
  tick('rankOne', t0);
  checkStopped();

  // attribution
  t0 = performance.now();
  ctx.progress('attribution', 0, 1);
  const att = attributeCandidates(sol.candidates, {
    width1: m0,
    ...(width2Given !== undefined ? { width2: width2Given } : {}),
    certificates: sol.certificates,
  });
  let firstLayer = att.firstLayerWeights; // reduced coordinates
  const roles = new Array<CandidateReport['role']>(sol.candidates.shape[0]).fill('unused');
  for (const i of att.firstLayer) roles[i] = 'first-layer';
  for (const i of att.entangled) roles[i] = 'entangled';
  for (const s of att.report.skipped) roles[s.index] = 'skipped';

  // missing a_i: the problem restricted to the orthogonal complement of the accepted ones
  // (Q^T H Q keeps the rank-one structure), its own W-hat, solver and attribution
  tick('attribution', t0);
  t0 = performance.now();
  const missing = m0 - firstLayer.shape[0];
  let completion: Record<string, unknown> = { missing, found: 0 };
  if (missing > 0) {
    const Q = complementBasis(firstLayer);
    const c = Q.shape[1];
    const restricted = restrictStack(stack, Q, 'packed');
    const kc = Math.max(1, Math.min(Math.round((k / (m0 + m1)) * (c + m1)), restricted.shape[0], restricted.shape[1]));
    const subc = estimateSubspace(restricted, { layout: 'packed', dimension: kc });
    const solc = await findRankOne(subc.subspace.basis, { ...solverBase, starts: 10 * (c + m1), seed: stageSeed(attemptSeed, 1), threshold: 0 });
    const attc = attributeCandidates(solc.candidates, { width1: c, certificates: solc.certificates });
    let found = mapRows(attc.firstLayerWeights, Q);
    let filled = 0;
    if (found.shape[0] < missing) {
      // still short: complete with an orthonormal basis of what is left (refinement's job then)
      const rest = complementBasis(stackRows(firstLayer, found));
      const extra = matrix(missing - found.shape[0], r);
      for (let i = 0; i < extra.shape[0]; i++) for (let t = 0; t < r; t++) extra.data[i * r + t] = rest.data[t * rest.shape[1] + i];
      filled = extra.shape[0];
      found = stackRows(found, extra);
    }
    const take = pickRows(found, Array.from({ length: missing }, (_, i) => i));
    firstLayer = stackRows(firstLayer, take);
    completion = {
      missing,
      found: missing - filled,
      filledWithComplementBasis: filled,
      complementDimension: c,
      subspaceDimension: kc,
      candidates: solc.candidates.shape[0],
      certificates: Array.from(solc.certificates).slice(0, missing),
      solver: solc.report,
      attributionMargin: attc.report.margin,
    };
  }
  tick('completion', t0);
  checkStopped();

  // entangled part: deflate span{a_i a_i^T}, re-estimate it (dimension m1), search the joined
  // space W' = span{a_i a_i^T} + entangled part. There the a-hat_i a-hat_i^T are exact rank-one
  // elements (Phi = 1): every other local maximizer is an entangled weight, whatever its
  // coherence with the a-hat_i (the |cos| 0.8 rule of the first search is not needed).
  t0 = performance.now();
  const spanA = rankOneSpan(firstLayer, 'packed');
  const rest = deflate(stack, spanA);
  const m1e = Math.max(1, width2Given ?? att.entangled.length);
  const ke = Math.min(m1e, rest.shape[0], rest.shape[1] - spanA.basis.shape[0]);
  type Source = 'deflated' | 'first-search' | 'deflated-below-threshold' | 'first-search-other' | 'gradient-at-zero' | 'random' | 'first-layer-unit';
  const pool: { v: Float64Array; phi: number; source: Source }[] = [];
  const rowOf = (M: Float64View, j: number) => Float64Array.from(M.data.subarray(M.offset + j * M.strides[0], M.offset + j * M.strides[0] + r));
  let deflatedReport: Record<string, unknown> | null = null;
  if (ke >= 1) {
    const ent = estimateSubspace(rest, { layout: 'packed', dimension: ke });
    let joined: MatrixSubspace | null = null;
    try {
      joined = joinSubspaces(spanA, ent.subspace);
    } catch {
      joined = null;
    }
    if (joined) {
      const sole = await findRankOne(joined.basis, { ...solverBase, starts: 10 * (m0 + m1), seed: stageSeed(attemptSeed, 2), threshold: 0 });
      const below: number[] = [];
      for (let j = 0; j < sole.candidates.shape[0]; j++) {
        if (bestAbsCos(sole.candidates, j, firstLayer) >= 0.999) continue;
        if (sole.certificates[j] >= o.threshold) pool.push({ v: rowOf(sole.candidates, j), phi: sole.certificates[j], source: 'deflated' });
        else below.push(j);
      }
      for (const i of att.entangled) pool.push({ v: rowOf(sol.candidates, i), phi: sol.certificates[i], source: 'first-search' });
      for (const j of below) pool.push({ v: rowOf(sole.candidates, j), phi: sole.certificates[j], source: 'deflated-below-threshold' });
      deflatedReport = {
        dimension: ke,
        candidates: sole.candidates.shape[0],
        certificates: Array.from(sole.certificates),
        solver: sole.report,
        spectrum: ent.report.singularValues.slice(0, Math.min(ent.report.singularValues.length, 3 * ke)),
      };
    }
  }
  if (deflatedReport === null) for (const i of att.entangled) pool.push({ v: rowOf(sol.candidates, i), phi: sol.certificates[i], source: 'first-search' });
  if (width2Given !== undefined) {
    // still short of m1: the first search's other maximizers, then grad f(0) (a positive
    // combination of the v_l), then random dense combinations of the a-hat_i (reported)
    const other = [...att.report.skipped.map((x) => x.index), ...att.report.unused].sort((a, b) => sol.certificates[b] - sol.certificates[a]);
    for (const i of other) pool.push({ v: rowOf(sol.candidates, i), phi: sol.certificates[i], source: 'first-search-other' });
    if (ctx.gradientAtZero) {
      const y = new Float64Array(r);
      for (let a = 0; a < r; a++) {
        let acc = 0;
        for (let t = 0; t < ctx.gradientAtZero.length; t++) acc += (U ? U.data[U.offset + t * U.strides[0] + a * U.strides[1]] : t === a ? 1 : 0) * ctx.gradientAtZero[t];
        y[a] = acc;
      }
      pool.push({ v: y, phi: NaN, source: 'gradient-at-zero' });
    }
    const stream = rng(attemptSeed).split(7);
    for (let l = 0; l < width2Given; l++) pool.push({ v: stream.split(l).fillNormal(new Float64Array(r)), phi: NaN, source: 'random' });
  }
  const chosen: typeof pool = [];
  const unit = (v: Float64Array) => {
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  const cosWith = (u: Float64Array, list: Float64Array[]) => list.reduce((m, w) => Math.max(m, Math.abs(u.reduce((s, x, t) => s + x * w[t], 0))), 0);
  const aRows = Array.from({ length: firstLayer.shape[0] }, (_, i) => unit(rowOf(firstLayer, i)));
  const wanted = width2Given ?? pool.filter((c) => c.source === (deflatedReport && pool.some((x) => x.source === 'deflated') ? 'deflated' : 'first-search')).length;
  for (const c of pool) {
    if (chosen.length >= wanted) break;
    const u = unit(c.v);
    if (!u.every(Number.isFinite)) continue;
    if (cosWith(u, aRows) >= 0.98 || cosWith(u, chosen.map((x) => x.v)) >= 0.95) continue;
    chosen.push({ ...c, v: u });
  }
  // one first-layer unit: every v_l = A G_0 b_l / |A G_0 b_l| is +-a_1 (the filter above refuses them all)
  if (m0 === 1) while (chosen.length < Math.max(1, wanted)) chosen.push({ v: aRows[0], phi: NaN, source: 'first-layer-unit' });
  if (chosen.length === 0) {
    throw new NnidError(ErrorCodes.numerical, 'identify: no entangled weight passed the a-posteriori check; lower `threshold` or give `width2`');
  }
  const entangled = matrix(chosen.length, r);
  chosen.forEach((c, l) => entangled.data.set(c.v, l * r));
  const width2 = chosen.length;
  const width2Source = width2Given === undefined ? 'entangled weights found' : o.width2 !== undefined ? 'given' : 'tried after a failed check (m1 + 1)';
  const entangledReport = {
    sources: chosen.map((c) => c.source),
    certificates: chosen.map((c) => (Number.isFinite(c.phi) ? c.phi : null)),
    deflated: deflatedReport,
  };
  tick('entangled', t0);
  checkStopped();

  // back to R^d
  const Ahat = liftRows(firstLayer, U);
  const Vhat = liftRows(entangled, U);

  // shifts
  t0 = performance.now();
  ctx.progress('shifts', 0, 1);
  const before = oracle.counts();
  const shifts = await recoverShifts(oracle, Ahat, Vhat, {
    activation: { layer1: o.layer1, layer2: o.layer2 },
    seed: stageSeed(attemptSeed, 3),
    ...(ctx.gradientAtZero ? { gradientAtZero: ctx.gradientAtZero } : {}),
    dataPoints: o.shiftDataPoints,
    ...(ctx.shiftData ? { data: ctx.shiftData } : {}),
  });
  ctx.shiftData ??= shifts.data;
  const shiftQueries = diff(oracle.counts(), before);
  tick('shifts', t0);
  const pipelineNetwork = shifts.network;

  const candidates: CandidateReport[] = [];
  const lifted = liftRows(sol.candidates, U);
  for (let i = 0; i < sol.candidates.shape[0]; i++) {
    candidates.push({ vector: rowsOf(pickRows(lifted, [i]))[0], phi: sol.certificates[i], hits: sol.hits[i], role: roles[i] });
  }
  return {
    step,
    network: pipelineNetwork,
    report: {
      subspaceDimension: k,
      width2,
      subspace: sub.report,
      rankOne: sol.report,
      attribution: att.report,
      candidates,
      attributionMargin: att.report.margin,
      completion,
      entangled: entangledReport,
      shifts: shifts.report,
      networkBeforeRefinement: serializeNetwork(pipelineNetwork),
      pipelineResidual: shifts.report.relativeResidual,
    },
    seconds,
    shiftQueries,
    width2,
    width2Source,
    started,
  };
}

/** Stacks (inputs, values) sets into shared memory (attempt lanes read it without a copy). */
function sharedData(parts: { inputs: Float64View; values: Float64Array }[]) {
  const d = parts[0].inputs.shape[1];
  const n = parts.reduce((acc, part) => acc + part.inputs.shape[0], 0);
  const inputs = matrix(n, d, { shared: true });
  const values = new Float64Array(new SharedArrayBuffer(n * 8));
  let row = 0;
  for (const part of parts) {
    inputs.data.set(toDense(part.inputs).data, row * d);
    values.set(part.values, row);
    row += part.inputs.shape[0];
  }
  return { inputs, values };
}

/**
 * The refinement of a prepared attempt: the data paid by the first attempt that refines (here,
 * in the main thread), then refineStages here (with identify's threads) or in a lane.
 */
async function refineAttempt(ctx: AttemptContext, prep: PreparedAttempt, lanes: AttemptLanes | null): Promise<AttemptResult> {
  const { oracle, o } = ctx;
  const seconds = { ...prep.seconds };
  let refined: RefineStagesResult | null = null;
  let refineQueries = ZERO;
  if (o.refine) {
    const t0 = performance.now();
    ctx.progress('refine', 0, 1);
    const rb = oracle.counts();
    if (ctx.refineData === null) {
      const n = o.refineDataPoints === 'auto' ? Math.round(o.refineDataFactor * parameterCount(prep.network)) : o.refineDataPoints;
      const inputs = refinePoints(n, oracle.inputDim, stageSeed(o.seed, 5));
      ctx.refineData = { inputs, values: n > 0 ? await oracle.evaluate(inputs) : new Float64Array(0) };
    }
    refineQueries = diff(oracle.counts(), rb);
    ctx.fitData ??= sharedData(o.reuseShiftData && ctx.shiftData ? [ctx.refineData, ctx.shiftData] : [ctx.refineData]);
    const options: RefineStagesOptions = {
      seed: attemptSeedOf(o, prep.step),
      threads: o.threads,
      secondLayerStarts: o.secondLayerStarts,
      upperFitIterations: o.upperFitIterations,
      upperFitCostTolerance: UPPER_FIT_COST_TOLERANCE,
      maxIterations: o.refineMaxIterations,
    };
    refined = lanes
      ? await lanes.run(prep.network, ctx.fitData, options)
      : await refineStages(prep.network, ctx.fitData, options, (it, res) => ctx.progress('refine', it, 0, `relative residual ${res.toExponential(2)}`));
    seconds.refine = (seconds.refine ?? 0) + (performance.now() - t0) / 1000;
  }
  const report: AttemptReport = {
    ...prep.report,
    reason: '',
    ranIn: lanes ? 'lane' : 'main',
    upperFit: refined?.upperFit ?? null,
    refine: refined?.refine ?? null,
    refinedResidual: refined ? refined.refine.relativeResidual : null,
    networkAfterRefinement: refined ? serializeNetwork(refined.network) : null,
    queries: addQueries(prep.shiftQueries, refineQueries),
    seconds: (performance.now() - prep.started) / 1000,
  };
  return {
    network: refined?.network ?? prep.network,
    networkBeforeRefinement: prep.network,
    report,
    seconds,
    shiftQueries: prep.shiftQueries,
    refineQueries,
    width2: prep.width2,
    width2Source: prep.width2Source,
    width1: ctx.m0,
  };
}

/**
 * Identifies the weights of a two-hidden-layer network from queries of the black box alone.
 *
 * @example
 * const oracle = createOracle(networkBlackBox(net));
 * const { network, report } = await identify(oracle, { activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1 });
 * report.queries.total; report.networkBeforeRefinement;
 */
export async function identify(oracle: Oracle, options: IdentifyOptions): Promise<IdentifyResult> {
  const startedAll = performance.now();
  const o = resolveOptions(oracle, options);
  const countsAtStart = oracle.counts();
  const d = oracle.inputDim;
  const warnings: string[] = [];
  const seconds: Record<string, number> = {};
  const byStage: Record<string, StageQueries> = {};
  const progress = (stage: IdentifyStage, done: number, total: number, message?: string) => {
    o.onProgress?.({ stage, done, total, ...(message ? { message } : {}) });
  };
  // Worker pools only where they pay: starting one (tsx in every worker) costs ~0.3-1 s, while an
  // in-process network answers ~1e6 queries/s in the main thread. The results do not depend on
  // where the work runs (the sampler and the solver are deterministic across threads).
  let samplerPool: SamplerPool | null = null;
  let solverPool: SolverPool | null = null;
  let lanes: AttemptLanes | null = null;
  let lanesFrom: number | null = null;
  const samplerFor = (queries: number) => {
    if (o.threads > 1 && typeof oracle.workerSpec === 'function' && queries * d >= SAMPLER_WORKERS_FROM) {
      samplerPool ??= createSamplerPool({ threads: o.threads });
      return { pool: samplerPool };
    }
    return { threads: 1 };
  };

  try {
    // 0. the oracle's noise level: sets the 'auto' steps and the truth-free check's threshold
    let sigma = o.noise === 'auto' ? 0 : o.noise;
    let noiseEstimate: NoiseReport | null = null;
    if (o.noise === 'auto') {
      const t0 = performance.now();
      const before = oracle.counts();
      const est = await estimateNoise(oracle, { seed: stageSeed(o.seed, 7) });
      byStage.noise = diff(oracle.counts(), before);
      noiseEstimate = est.report;
      sigma = est.report.exact ? 0 : est.sigma;
      seconds.noise = (performance.now() - t0) / 1000;
    } else {
      byStage.noise = { ...ZERO };
    }
    // noisy: steps that balance truncation and noise error; a sigmoid first layer bends over a
    // longer scale (measured: 4x the tanh steps; packages/pipeline/README.md)
    const stepScale = o.layer1 === 'sigmoid' ? 4 : 1;
    const gradientStep = o.gradientStep === 'auto' ? noiseAwareStep('gradient', o.gradientScheme, sigma, stepScale) : o.gradientStep;
    const hessianStep = o.step === 'auto' ? noiseAwareStep('hessian', o.scheme, sigma, stepScale) : o.step;

    // 1. range(A) from central-difference gradients at 0 and on the sphere
    let U: Float64View | null = null;
    let r = d;
    let m0: number | undefined = o.width1;
    let width1Source = o.width1 !== undefined ? 'given' : 'attribution';
    let gradientAtZero: Float64Array | null = null;
    let rangeReport: unknown = null;
    let gradientReport: unknown = null;
    let gradientSpectrum: number[] | null = null;
    let gradientPoints = 0;
    if (o.reduceToRange) {
      let t0 = performance.now();
      gradientPoints = o.gradientPoints === 'auto' ? (o.width1 ?? d) + 4 : o.gradientPoints;
      const points = matrix(gradientPoints, d, { shared: true });
      const sphere = spherePoints(gradientPoints - 1, d, o.radius, stageSeed(o.seed, 1));
      points.data.set(sphere.data.subarray(0, (gradientPoints - 1) * d), d); // row 0 stays x = 0
      const before = oracle.counts();
      const g = await sampleGradients(oracle, points, { ...samplerFor(gradientPoints * 2 * d), scheme: o.gradientScheme, step: gradientStep, onProgress: (k, n) => progress('gradients', k, n) });
      byStage.gradients = diff(oracle.counts(), before);
      gradientReport = g.report;
      gradientAtZero = Float64Array.from(g.gradientStack.data.subarray(0, d));
      seconds.gradients = (performance.now() - t0) / 1000;
      t0 = performance.now();
      const range = estimateRange(g.gradientStack, { dimension: o.width1 ?? 'auto' });
      seconds.range = (performance.now() - t0) / 1000;
      rangeReport = range.report;
      gradientSpectrum = range.report.singularValues;
      U = range.basis;
      r = range.dimension;
      if (m0 === undefined) {
        m0 = r;
        width1Source = `range(A): ${range.dimensionSource}`;
      }
    } else {
      byStage.gradients = { ...ZERO };
    }
    if (m0 === undefined) {
      // no reduction and no width1: the widest possible first layer; attribution decides
      m0 = r;
      width1Source = 'upper bound (inputDim); attribution decides';
      warnings.push('width1 not given and reduceToRange off: m0 taken as inputDim for sampling counts');
    }

    // 2. Hessians in the reduced coordinates
    let t0 = performance.now();
    const m1Guess = o.width2 ?? Math.ceil(m0 / 2);
    const perHessian = o.scheme === 'forward' ? ((r + 1) * (r + 2)) / 2 : 2 * r * r + 1;
    // the budget's P with m1 unknown: P at m1 = ceil(m0 / 2). Budgeting at m1 = 1 (a total within
    // 20 P whatever m1 is) bought fewer Hessians: 46 of 54 widths-auto runs exact against 50 (BENCHMARKS.md)
    const Pguess = d * m0 + m0 + m0 * m1Guess + m1Guess;
    // the Hessians get what the query budget leaves: minus what is paid (noise, gradients) and
    // what the shift fit and the refinement will pay
    const plannedLater =
      (o.shiftDataPoints === 'auto' ? defaultShiftDataPoints(m0, m1Guess, d) : o.shiftDataPoints) +
      (!o.refine ? 0 : o.refineDataPoints === 'auto' ? Math.round(o.refineDataFactor * Pguess) : o.refineDataPoints);
    const hessianBudget =
      o.hessianBudget === 'auto' ? Math.max(0, o.queryBudget * Pguess - (oracle.counts().total - countsAtStart.total) - plannedLater) : o.hessianBudget * Pguess;
    const hessianPoints =
      o.hessianPoints === 'auto'
        ? Math.max(m0 + m1Guess + 2, Math.min(2 * (m0 + m1Guess), Math.floor(hessianBudget / perHessian)))
        : o.hessianPoints;
    const hp = spherePoints(hessianPoints, d, o.radius, stageSeed(o.seed, 2));
    let before = oracle.counts();
    // the solver's pool (if the searches will be large) starts while the Hessians are sampled
    {
      const k = Math.round(1.5 * (m0 + m1Guess));
      const cost = 10 * (m0 + m1Guess) * 30 * 2 * k * ((r * (r + 1)) / 2);
      if (o.threads > 1 && cost >= SOLVER_WORKERS_FROM) solverPool = createSolverPool({ threads: o.threads });
    }
    const h = await sampleHessians(oracle, hp, {
      ...samplerFor(hessianPoints * perHessian),
      scheme: o.scheme,
      step: hessianStep,
      layout: 'packed',
      ...(U ? { basis: U } : {}),
      onProgress: (k, n) => progress('hessians', k, n),
    });
    byStage.hessians = diff(oracle.counts(), before);
    seconds.hessians = (performance.now() - t0) / 1000;
    const stack = h.hessianStack;

    // m1 for dimensions: given, or from the spectrum's largest relative gap beyond m0
    t0 = performance.now();
    const spectrum = estimateSubspace(stack, { layout: 'packed', dimension: 1 }).report.singularValues;
    let m1 = o.width2 ?? 0;
    let width2Source = o.width2 !== undefined ? 'given' : '';
    if (o.width2 === undefined) {
      // dim W = m0 + m1 with 1 <= m1 <= m0: the largest relative gap s_D / s_{D+1} there
      let bestD = -1;
      let bestGap = 0;
      for (let D = m0 + 1; D <= Math.min(2 * m0, spectrum.length - 1); D++) {
        const g = spectrum[D] > 0 ? spectrum[D - 1] / spectrum[D] : Infinity;
        if (g > bestGap) {
          bestGap = g;
          bestD = D;
        }
      }
      m1 = bestD > 0 ? bestD - m0 : Math.ceil(m0 / 2);
      width2Source = `spectrum gap (for sampling dimensions; the count is the attribution's)`;
    }
    seconds.subspace = (performance.now() - t0) / 1000;
    const maxDim = Math.min(stack.shape[0], stack.shape[1]);
    const firstK = o.subspaceDimension === 'auto' ? dimensionFor(1.5, m0, m1, maxDim) : Math.min(o.subspaceDimension, maxDim);

    // 3. the later stages, with retries on other dimensions of W-hat when the check fails
    const ctx: AttemptContext = {
      oracle,
      o,
      stack,
      U,
      r,
      m0,
      m1,
      gradientAtZero,
      solverPool,
      refineData: null,
      shiftData: null,
      fitData: null,
      stopped: false,
      progress,
    };
    // plan of attempts: (dimension of W-hat, m1). With m1 unknown, each dimension first infers
    // it (w); when the check fails there, the same dimension is tried with w + 1 (a unit the
    // search missed) before the next dimension, and with w + 2, ... while each added unit lowers
    // the residual at least GROWTH_GAIN-fold (units still missing); when no unit is found at all,
    // from m1 = 1.
    const dims = [firstK];
    for (const f of o.retryFactors) {
      const k = dimensionFor(f, m0, m1, maxDim);
      if (!dims.includes(k)) dims.push(k);
    }
    let nextId = 0;
    const plan: Step[] = dims.map((k) => ({ id: nextId++, k, ...(o.width2 !== undefined ? { m1: o.width2 } : {}) }));
    const attempts: AttemptResult[] = [];
    // the check's threshold: retryResidual, or the noise level relative to the rms of the data the
    // refinement fits when higher; those data are paid once and refitted after, so it is computed once
    let noiseThreshold: number | null = null;
    const checkThreshold = () => {
      if (sigma === 0 || ctx.fitData === null) return o.retryResidual;
      if (noiseThreshold === null) {
        let sq = 0;
        for (const v of ctx.fitData.values) sq += v * v;
        const n = ctx.fitData.values.length;
        noiseThreshold = sq > 0 ? Math.max(o.retryResidual, (o.noiseThresholdFactor * sigma) / Math.sqrt(sq / n)) : o.retryResidual;
      }
      return noiseThreshold;
    };
    // Attempts run in plan order, one after the other; after a failed check they may run in lanes
    // (parallelAttempts): the refinements of the next steps side by side in worker threads, while the
    // main thread prepares the ones after. Prepared attempts go through the main thread one at a time.
    type Outcome = { ok: true; result: AttemptResult } | { ok: false; error: Error };
    const launched = new Map<Step, Promise<Outcome>>();
    let preparing: Promise<unknown> = Promise.resolve();
    const launch = (step: Step, attemptLanes: AttemptLanes | null): Promise<Outcome> => {
      const prepared = preparing.then(() => prepareAttempt(ctx, step));
      preparing = prepared.catch(() => undefined);
      return prepared.then((prep) => refineAttempt(ctx, prep, attemptLanes)).then(
        (result): Outcome => ({ ok: true, result }),
        (error: unknown): Outcome => ({ ok: false, error: error instanceof Error ? error : new Error(String(error)) }),
      );
    };
    let reason = 'first';
    try {
      for (let a = 0; a < plan.length; a++) {
        const step = plan[a];
        if (lanes) {
          for (let j = a; j < Math.min(plan.length, a + lanes.lanes); j++) if (!launched.has(plan[j])) launched.set(plan[j], launch(plan[j], lanes));
        }
        const outcome = await (launched.get(step) ?? launch(step, null));
        if (!outcome.ok) {
          warnings.push(`attempt with subspace dimension ${step.k} failed: ${outcome.error.message}`);
          reason = `attempt ${a} failed`;
          // m1 unknown and none inferred (no entangled weight passed the check): the same dimension
          // with m1 = 1, then more units while they pay (see GROWTH_GAIN)
          if (step.m1 === undefined && o.width2 === undefined) plan.splice(a + 1, 0, { id: nextId++, k: step.k, m1: 1, grown: Infinity });
          continue;
        }
        const res = outcome.result;
        res.report.reason = reason;
        attempts.push(res);
        for (const [name, s] of Object.entries(res.seconds)) seconds[name] = (seconds[name] ?? 0) + s;
        byStage.shifts = addQueries(byStage.shifts ?? ZERO, res.shiftQueries);
        byStage.refine = addQueries(byStage.refine ?? ZERO, res.refineQueries);
        const residual = res.report.refinedResidual;
        const threshold = checkThreshold();
        if (res.report.ranIn === 'lane') progress('refine', 1, 1, `attempt ${a} (lane): relative residual ${residual?.toExponential(2)}`);
        if (!o.refine || residual === null || residual <= threshold) break;
        reason = `relative residual ${residual.toExponential(2)} > ${threshold} after refinement (subspace dimension ${step.k}, m1 = ${res.width2})`;
        // grown: the residual of the attempt before, at m1 - 1
        const grow = step.m1 === undefined || (step.grown !== undefined && residual !== null && residual * GROWTH_GAIN <= step.grown);
        if (grow && o.width2 === undefined && res.width2 + 1 <= m0) plan.splice(a + 1, 0, { id: nextId++, k: step.k, m1: res.width2 + 1, grown: residual ?? Infinity });
        if (a < plan.length - 1) {
          const next = plan[a + 1];
          warnings.push(`truth-free check failed (${reason}); retrying with subspace dimension ${next.k}${next.m1 !== undefined ? `, m1 = ${next.m1}` : ''}`);
          // lanes from here on, when they pay: the refinement just failed was long enough
          const wanted = o.parallelAttempts === true || (o.parallelAttempts === 'auto' && (res.seconds.refine ?? 0) >= LANES_FROM_SECONDS);
          if (!lanes && o.threads > 1 && wanted && ctx.fitData !== null) {
            lanes = createAttemptLanes({ lanes: o.threads });
            lanesFrom = a + 1;
          }
        }
      }
    } finally {
      // attempts launched beyond the one that ended the run: their lanes end with the pool, their
      // preparation at its next stage
      ctx.stopped = true;
      await Promise.all([preparing, (lanes as AttemptLanes | null)?.close()]);
    }
    if (attempts.length === 0) throw new NnidError(ErrorCodes.numerical, `identify: every attempt failed: ${warnings.join('; ')}`);
    byStage.shifts ??= { ...ZERO };
    byStage.refine ??= { ...ZERO };
    const score = (x: AttemptResult) => x.report.refinedResidual ?? x.report.pipelineResidual;
    let best = 0;
    for (let a = 1; a < attempts.length; a++) if (score(attempts[a]) < score(attempts[best])) best = a;
    const chosen = attempts[best];
    const residual = o.refine ? chosen.report.refinedResidual : chosen.report.pipelineResidual;
    const threshold = checkThreshold();
    const passed = o.refine ? residual !== null && residual <= threshold : null;
    if (o.refine && !passed) warnings.push(`no attempt passed the truth-free check: best relative residual ${residual?.toExponential(2)}`);

    const total = Object.values(byStage).reduce((s, q) => s + q.total, 0);
    const P = parameterCount(chosen.network);
    seconds.total = (performance.now() - startedAll) / 1000;
    const report: IdentifyReport = {
      format: 'nnid.identify-report/v1',
      options: {
        width1: o.width1 ?? null,
        width2: o.width2 ?? null,
        activation: { layer1: o.layer1, layer2: o.layer2 },
        seed: o.seed,
        threads: o.threads,
        refine: o.refine,
        reduceToRange: o.reduceToRange,
        gradientPoints,
        gradientScheme: o.gradientScheme,
        hessianPoints,
        hessianBudget: hessianBudget / Pguess,
        queryBudget: o.queryBudget,
        radius: o.radius,
        scheme: o.scheme,
        step: h.report.step,
        subspaceDimension: firstK,
        subspaceDimensionsTried: attempts.map((x) => x.report.subspaceDimension),
        width2Tried: attempts.map((x) => x.width2),
        retryFactors: o.retryFactors,
        retryResidual: o.retryResidual,
        noiseThresholdFactor: o.noiseThresholdFactor,
        noise: o.noise === 'auto' ? sigma : o.noise,
        gradientStep,
        starts: o.starts === 'auto' ? 10 * (m0 + m1) : o.starts,
        threshold: o.threshold,
        shiftDataPoints: (chosen.report.shifts as { dataPoints: number }).dataPoints,
        refineDataPoints: o.refine ? (chosen.report.refine as { dataPoints: number }).dataPoints : null,
        refineDataFactor: o.refineDataFactor,
        reuseShiftData: o.reuseShiftData,
        refineMaxIterations: o.refineMaxIterations,
        secondLayerStarts: o.secondLayerStarts,
        upperFitIterations: o.upperFitIterations,
        parallelAttempts: o.parallelAttempts === 'auto' ? `after a failed attempt that refined >= ${LANES_FROM_SECONDS} s (threads > 1)` : o.parallelAttempts,
      },
      widths: { width1: chosen.width1, width1Source, width2: chosen.width2, width2Source: o.width2 !== undefined ? width2Source : chosen.width2Source, inputDim: d, reducedDim: r },
      parameterCount: P,
      queries: {
        total,
        paid: Object.values(byStage).reduce((s, q) => s + q.paid, 0),
        reused: Object.values(byStage).reduce((s, q) => s + q.reused, 0),
        noise: byStage.noise.total,
        gradients: byStage.gradients.total,
        hessians: byStage.hessians.total,
        shifts: byStage.shifts.total,
        refine: byStage.refine.total,
        multipleOfP: total / P,
        byStage,
      },
      seconds: seconds as IdentifyReport['seconds'],
      threads: o.threads,
      spectrum: { gradients: gradientSpectrum, hessians: spectrum },
      candidates: chosen.report.candidates,
      attributionMargin: chosen.report.attributionMargin,
      stages: { range: rangeReport, gradients: gradientReport, hessians: h.report },
      attempts: attempts.map((x) => x.report),
      chosenAttempt: best,
      parallelAttempts: { lanes: (lanes as AttemptLanes | null)?.lanes ?? 0, fromAttempt: lanesFrom },
      networkBeforeRefinement: chosen.report.networkBeforeRefinement,
      check: {
        relativeResidual: residual,
        threshold,
        passed,
        on: o.refine ? 'refine-data' : 'shift-data',
        noise: sigma,
        noiseFloor: threshold > o.retryResidual,
      },
      noise: { sigma, source: o.noise === 'auto' ? 'estimated' : 'given', estimate: noiseEstimate, gradientStep, hessianStep },
      warnings,
    };
    return { network: chosen.network, networkBeforeRefinement: chosen.networkBeforeRefinement, report };
  } finally {
    await Promise.all([(samplerPool as SamplerPool | null)?.close(), (solverPool as SolverPool | null)?.close(), (lanes as AttemptLanes | null)?.close()]);
  }
}
