/**
 * The student fit: what a user tries instead of nnid. A network of the given shape is fitted to
 * N answers of the black box at Gaussian points N(0, I_d) by Levenberg-Marquardt with the analytic
 * Jacobian (refine's fitNetwork), from random starts run in parallel worker threads. The answers
 * are paid once, through the oracle (its budget and store apply). The first start, in start order,
 * whose relative residual on its own data is below the truth-free threshold is returned; else the
 * best. The same seed gives the same bits whatever the thread count. `studentFit` fits the paper's
 * form; `studentFitGeneral` the general model f = C phi2(W2 phi1(W1 x + b1) + b2) + c with k >= 1
 * outputs (an Oracle, or a MultiOutputSource answering n x k). Both run the same engine.
 *
 * @example
 * const { network, report } = await studentFit(oracle, { width1: 10, width2: 3, queryBudget: 5, starts: 3, threads: 2 });
 * report.check.passed; // true when some start fitted its data to 1e-9
 */
import {
  ACTIVATIONS,
  allocFloat64,
  checkChoice,
  checkInteger,
  checkPositive,
  createWorkerPool,
  errorFromWorker,
  invalidArgument,
  matrixFrom,
  toDense,
  rng,
  toGeneral,
  settleAll,
  workerEntryUrl,
  type ActivationName,
  type Float64View,
  type GeneralNetwork,
  type Network,
  type Oracle,
  type ViewLike,
} from '@nnid/core';
import { generalLayoutOf, layoutOf, packGeneral, unpackGeneral, unpackParameters } from '@nnid/refine';
import { DATA_KEY, runStart, type DeadRedraw, SOLVER, START_SHIFT_STD, startGeneral, startNetwork, type StartOutcome, type StartTask, type StudentModel, type StudentShape } from './start.ts';
import type { StartResult } from './worker-task.ts';
import type { GradientData } from './equations.ts';
import type { RangeStageReport } from './range-fit.ts';

/** A black box with k outputs: `evaluate` answers n x k (an n x k view, or n k numbers row-major). */
export interface MultiOutputSource {
  readonly inputDim: number;
  readonly outputs: number;
  evaluate(inputs: Float64View): Promise<Float64Array | ViewLike>;
}

export interface StudentFitOptions {
  /** First hidden layer width m0 (the fit must be told the shape). */
  width1: number;
  /** Second hidden layer width m1 (<= width1). */
  width2: number;
  /** One activation for both layers, or one per layer (default 'tanh'). */
  activation?: ActivationName | { layer1: ActivationName; layer2: ActivationName };
  /** Seed of the data points and of every start (default 0). */
  seed?: number;
  /** Data points as a multiple of P = d m0 + m0 + m0 m1 + m1: N = floor(queryBudget P) (default 5). */
  queryBudget?: number;
  /** Data points as a count (instead of queryBudget). */
  dataPoints?: number;
  /** Random starts at most (default 3). */
  starts?: number;
  /** Worker threads, one start per thread (default 1: every start in this thread). */
  threads?: number;
  /** Levenberg-Marquardt iterations per start at most (default 200; refine's stall rule applies). */
  maxIterations?: number;
  /** The truth-free check: relative residual on the fitted data at most this (default 1e-9, identify's). */
  checkThreshold?: number;
  /**
   * The black box's noise level sigma (the standard deviation of its answers' error, e.g. a float32
   * model's rounding; identify's noise stage measures it), default 0: the check's threshold becomes
   * max(checkThreshold, NOISE_THRESHOLD_FACTOR sigma / rms(data)) once the data are paid, as identify's
   * on a noisy oracle (a fit within a float32 model's own error then passes instead of failing at 1e-9).
   */
  noise?: number;
  /**
   * Redraw rounds per start at most (default 0: the plain fit, what a user tries): a start that
   * ends above the check's threshold with saturated first-layer units (a row norm above
   * SATURATED_NORM_RATIO x the median) has those rows redrawn and is fitted again from there, the
   * best end kept (studentFitInRange's default: UNIT_REDRAWS).
   */
  unitRedraws?: number;
  /**
   * Dead-unit redraw rounds per start at most (default 0: the plain fit): a start that ends above
   * the check's threshold with dead or duplicate hidden units in either layer (a row or outgoing
   * column norm below DEAD_NORM_RATIO x its layer's median; two units at DUPLICATE_COS) has them
   * redrawn and is fitted again, the best end kept; `report.starts[i].deadRedraws` names the units
   * of each round. Identify's method 'auto' gives its fits after a failed pipeline DEAD_UNIT_REDRAWS.
   */
  deadUnitRedraws?: number;
  /** Called when a start ends (in completion order). */
  onProgress?: (event: StudentFitProgress) => void;
  /**
   * Warm starts run before the random ones (starts 0 .. w - 1; the random starts follow with their
   * own streams, the same as without them): e.g. identify's refined network whose check failed.
   * The paper's form takes v1 networks; the general model v1 (C = 1^T, c = 0) or general networks,
   * of the fit's shape and activations.
   */
  startNetworks?: readonly (Network | GeneralNetwork)[];
  /**
   * Answers already paid (e.g. identify's refinement data: `result.refinementData`): n rows of
   * inputs [n, d] and their n k values. They are the first n of the N data points; only the
   * N - n others (rows n .. N - 1 of the seed's Gaussian points) are asked. n <= N. `gradients`:
   * the k outputs' gradients measured at the first g of these rows (g x k x d numbers, row-major
   * [point][output][coordinate]; e.g. the forward differences studentFitInRange pays for
   * range(A)), fitted as derivative rows w (grad f_o(x_j) - G[j, o]) beside the values, weight w
   * (default 1); the check's relative residual is then over both.
   */
  answers?: { inputs: Float64View; values: Float64Array; gradients?: { values: Float64Array; weight?: number } };
}

export interface StudentFitGeneralOptions extends StudentFitOptions {
  /** A MultiOutputSource has no Oracle's budget: at most this many input rows asked (default: none). */
  maxQueries?: number;
}

export interface StudentFitProgress {
  stage: 'fit';
  /** Starts ended so far, of `total`. */
  done: number;
  total: number;
  start: number;
  relativeResidual: number;
  passed: boolean;
}

/** One start in the report. */
export interface StartReport {
  start: number;
  iterations: number;
  relativeResidual: number;
  initialRelativeResidual: number;
  stopReason: string;
  /** Redraw rounds run (unitRedraws). */
  redraws: number;
  /** Dead-unit redraw rounds run (deadUnitRedraws): each round's units (0-based, per layer) and the residual its fit ended at. */
  deadRedraws: DeadRedraw[];
  seconds: number;
  passed: boolean;
}

export interface StudentFitReport {
  format: 'nnid.student-fit-report/v1';
  method: 'fit';
  /** Every option, resolved. */
  options: {
    model: StudentModel;
    width1: number;
    width2: number;
    activation: { layer1: ActivationName; layer2: ActivationName };
    seed: number;
    queryBudget: number | null;
    dataPoints: number;
    starts: number;
    threads: number;
    maxIterations: number;
    checkThreshold: number;
    /** The noise level the threshold followed (0: none given). */
    noise: number;
    unitRedraws: number;
    deadUnitRedraws: number;
    initialization: string;
    solver: string;
  };
  widths: { inputDim: number; width1: number; width2: number; outputs: number };
  /** P: the paper's form d m0 + m0 + m0 m1 + m1; the general model adds k m1 + k. */
  parameterCount: number;
  /**
   * Queries of this run (the N data points, input rows): total = paid + reused (the store); total
   * / P; numbers received = rows x k.
   */
  queries: { total: number; paid: number; reused: number; multipleOfP: number; numbersReceived: number };
  seconds: { queries: number; starts: number; total: number };
  threads: number;
  /**
   * The starts up to the one returned (all of them when none passed), in start order: the same
   * whatever the thread count (but their seconds).
   */
  starts: StartReport[];
  /** Starts run beside or after the first passing one (parallel lanes) and not reported. */
  startsDiscarded: number;
  /** Index of the start returned. */
  chosenStart: number;
  /** Warm starts (startNetworks) run first: starts 0 .. warmStarts - 1. */
  warmStarts: number;
  /** Data points given as answers in hand (not asked; `queries` counts the others). */
  answersInHand: number;
  /** The truth-free check on the fitted data, as identify's (`on`: the data the fit paid for). */
  check: { relativeResidual: number; threshold: number; passed: boolean; on: 'fit-data' };
  warnings: string[];
  /** studentFitInRange only: the gradients, range(A) and the fit in its coordinates before this (the full fit's) report. */
  range?: RangeStageReport;
}

export interface StudentFitResult {
  network: Network;
  report: StudentFitReport;
}

export interface StudentFitGeneralResult {
  network: GeneralNetwork;
  report: StudentFitReport;
}

const UNSET = 0x7fffffff;
/** identify's `noiseThresholdFactor` default: a noisy black box's check passes at this many sigma relative to the data's rms. */
export const NOISE_THRESHOLD_FACTOR = 3;

/**
 * factor sigma / rms(values), 0 for all-zero data: the noise's part of the truth-free check's threshold on a
 * noisy black box, identify's (max(retryResidual, this), its `noiseThresholdFactor`) and the fit's.
 *
 * @example
 * const threshold = Math.max(1e-9, noiseThreshold(3e-8, values));
 */
export function noiseThreshold(sigma: number, values: Float64Array, factor = NOISE_THRESHOLD_FACTOR): number {
  let sq = 0;
  for (const v of values) sq += v * v;
  return sq > 0 ? (factor * sigma) / Math.sqrt(sq / values.length) : 0;
}
const INITIALIZATION = `rows of A and B uniform on the unit sphere, theta and tau ~ N(0, ${START_SHIFT_STD}^2)`;
const INITIALIZATION_GENERAL = `rows of W1 and W2 uniform on the unit sphere, b1 and b2 ~ N(0, ${START_SHIFT_STD}^2), (C, c) by linear least squares on the data`;
const SOLVER_LINE = `Levenberg-Marquardt, damping lambda mean(diag J^T J) I from lambda = ${SOLVER.damping.initial} (Nielsen's update), no inner steps, stalled after ${SOLVER.stallWindow} steps lowering the residual by < ${100 * (1 - SOLVER.stallFactor)}%`;

function resolveActivation(act: StudentFitOptions['activation']): { layer1: ActivationName; layer2: ActivationName } {
  if (act === undefined) return { layer1: 'tanh', layer2: 'tanh' };
  if (typeof act === 'string') {
    const a = checkChoice('activation', act, ACTIVATIONS);
    return { layer1: a, layer2: a };
  }
  if (act === null || typeof act !== 'object') invalidArgument('activation', `must be one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}, or { layer1, layer2 }`, act);
  return { layer1: checkChoice('activation.layer1', act.layer1, ACTIVATIONS), layer2: checkChoice('activation.layer2', act.layer2, ACTIVATIONS) };
}

/** N x d points from N(0, I_d) on shared memory: row n from rng(seed).split(DATA_KEY, n). */
export function gaussianPoints(n: number, d: number, seed: number): Float64Array {
  const X = allocFloat64(n * d, { shared: true });
  const root = rng(seed).split(DATA_KEY);
  for (let i = 0; i < n; i++) root.split(i).fillNormal(X.subarray(i * d, (i + 1) * d));
  return X;
}

/** Fits a student network of the paper's form to the oracle's answers at N Gaussian points. */
export async function studentFit(oracle: Oracle, options: StudentFitOptions): Promise<StudentFitResult> {
  if (!oracle || typeof oracle.evaluate !== 'function' || typeof oracle.counts !== 'function') invalidArgument('oracle', 'must be an Oracle (createOracle)', oracle);
  const { parameters, report, shape } = await fit(oracle, options, 'paper');
  // the paper's layout [A, theta, B, tau] is the general one's first part
  const layout = layoutOf(startNetwork(shape, 0, 0));
  return { network: unpackParameters(parameters.subarray(0, layout.size), layout), report };
}

/**
 * Fits a student network of the general model (every weight and bias, the output layer, k >= 1
 * outputs) to the source's answers at N Gaussian points: an Oracle (k = 1: its budget and store
 * apply) or a MultiOutputSource (k outputs; `maxQueries` bounds the rows asked).
 *
 * @example
 * const { network, report } = await studentFitGeneral(source, { width1: 6, width2: 4, activation: 'tanh', queryBudget: 8, starts: 4 });
 */
export async function studentFitGeneral(source: Oracle | MultiOutputSource, options: StudentFitGeneralOptions): Promise<StudentFitGeneralResult> {
  if (!source || typeof source.evaluate !== 'function') invalidArgument('source', 'must be an Oracle (createOracle) or { inputDim, outputs, evaluate }', source);
  const { parameters, report, shape } = await fit(source, options, 'general');
  return { network: unpackGeneral(parameters, generalLayoutOf(startGeneral(shape, 0, 0))), report };
}

function isGeneralNetwork(n: Network | GeneralNetwork): n is GeneralNetwork {
  return 'W1' in n && 'C' in n;
}

/** The warm starts packed in refine's general layout, checked against the fit's shape. */
function warmStarts(nets: StudentFitOptions['startNetworks'], shape: StudentShape): Float64Array[] {
  if (nets === undefined) return [];
  if (!Array.isArray(nets)) invalidArgument('startNetworks', 'must be an array of networks', nets);
  const layout = generalLayoutOf(startGeneral(shape, 0, 0));
  return nets.map((net, i) => {
    const name = `startNetworks[${i}]`;
    if (!net || typeof net !== 'object' || !('inputDim' in net)) invalidArgument(name, 'must be a network (v1 or general)', net);
    const general = isGeneralNetwork(net);
    if (general && shape.model !== 'general') invalidArgument(name, "must be a v1 network for the paper's form (a general network needs model 'general')", 'general network');
    const g = general ? net : toGeneral(net);
    const want = `(d, m0, m1, k) = (${shape.inputDim}, ${shape.width1}, ${shape.width2}, ${shape.outputs ?? 1})`;
    const got = `(${g.inputDim}, ${g.width1}, ${g.width2}, ${g.outputs})`;
    if (g.inputDim !== shape.inputDim || g.width1 !== shape.width1 || g.width2 !== shape.width2 || g.outputs !== (shape.outputs ?? 1)) invalidArgument(name, `must have the fit's shape ${want}`, got);
    if (g.activation.layer1 !== shape.activation.layer1 || g.activation.layer2 !== shape.activation.layer2) {
      invalidArgument(name, `must have the fit's activations ${shape.activation.layer1}/${shape.activation.layer2}`, `${g.activation.layer1}/${g.activation.layer2}`);
    }
    return packGeneral(g, layout);
  });
}

/** Answers in hand, checked: [n, d] inputs, n k finite values, n <= N; gradients at g <= n of them. */
function answersInHand(answers: StudentFitOptions['answers'], d: number, k: number, N: number): { inputs: Float64View; values: Float64Array; gradients: GradientData | null } | null {
  if (answers === undefined) return null;
  if (!answers || typeof answers !== 'object' || !answers.inputs || !(answers.values instanceof Float64Array)) invalidArgument('answers', 'must be { inputs: [n, d] view, values: Float64Array }', answers);
  const shape = answers.inputs.shape;
  if (shape.length !== 2 || shape[1] !== d) invalidArgument('answers.inputs', `must be n x ${d}`, `[${shape.join(', ')}]`);
  const n = shape[0];
  if (answers.values.length !== n * k) invalidArgument('answers.values', `must hold ${n} x ${k} numbers`, answers.values.length);
  if (n > N) invalidArgument('answers', `must hold at most the fit's ${N} data points`, `${n} rows`);
  const grads = answers.gradients;
  if (grads === undefined) return { inputs: answers.inputs, values: answers.values, gradients: null };
  if (!grads || typeof grads !== 'object' || !(grads.values instanceof Float64Array)) invalidArgument('answers.gradients', 'must be { values: Float64Array, weight? }', grads);
  const g = grads.values.length / (k * d);
  if (!Number.isInteger(g) || g > n) invalidArgument('answers.gradients.values', `must hold g x ${k} x ${d} numbers, g <= ${n} (the answers' rows)`, grads.values.length);
  const weight = checkPositive('answers.gradients.weight', grads.weight ?? 1);
  const values = allocFloat64(grads.values.length, { shared: true });
  values.set(grads.values);
  return { inputs: answers.inputs, values: answers.values, gradients: { points: g, values, weight } };
}

function isOracle(source: Oracle | MultiOutputSource): source is Oracle {
  return typeof (source as Oracle).counts === 'function';
}

/**
 * The engine of both (and of studentFitInRange's two fits): data paid once, starts in lanes, the
 * first passing start in start order. Returns the chosen start's parameters in refine's general
 * layout of the fit's shape. firstDraw: the random starts' first stream (default 0; studentFitInRange
 * resumes its starts after a lifted one failed). Internal: not exported from the package.
 */
export async function fit(source: Oracle | MultiOutputSource, options: StudentFitGeneralOptions, model: StudentModel, firstDraw = 0): Promise<{ parameters: Float64Array; report: StudentFitReport; shape: StudentShape }> {
  const started = performance.now();
  if (!options || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const oracle = isOracle(source) ? source : null;
  const d = checkInteger('source.inputDim', source.inputDim);
  const k = oracle ? 1 : checkInteger('source.outputs', (source as MultiOutputSource).outputs);
  const width1 = checkInteger('width1', options.width1);
  const width2 = checkInteger('width2', options.width2);
  if (width1 > d) invalidArgument('width1', `must be <= the oracle's inputDim (${d})`, width1);
  if (width2 > width1) invalidArgument('width2', `must be <= width1 (${width1})`, width2);
  const activation = resolveActivation(options.activation);
  const seed = checkInteger('seed', options.seed ?? 0, 0);
  const P = d * width1 + width1 + width1 * width2 + width2 + (model === 'general' ? k * width2 + k : 0);
  if (options.queryBudget !== undefined && options.dataPoints !== undefined) {
    invalidArgument('dataPoints', 'must not be given with queryBudget (one or the other)', options.dataPoints);
  }
  const queryBudget = options.dataPoints === undefined ? checkPositive('queryBudget', options.queryBudget ?? 5) : null;
  const N = options.dataPoints !== undefined ? checkInteger('dataPoints', options.dataPoints) : Math.floor((queryBudget as number) * P);
  if (N < 1) invalidArgument('queryBudget', `must give at least one data point (P = ${P})`, queryBudget);
  const warm = warmStarts(options.startNetworks, { inputDim: d, width1, width2, activation, model, outputs: k });
  const starts = warm.length + checkInteger('starts', options.starts ?? 3, warm.length > 0 ? 0 : 1, 100_000);
  const threads = checkInteger('threads', options.threads ?? 1, 1, 1024);
  const maxIterations = checkInteger('maxIterations', options.maxIterations ?? 200, 0);
  const checkThreshold = checkPositive('checkThreshold', options.checkThreshold ?? 1e-9);
  const noise = options.noise === undefined ? 0 : checkPositive('noise', options.noise, true);
  const redraws = checkInteger('unitRedraws', options.unitRedraws ?? 0, 0, 100);
  const deadRedraws = checkInteger('deadUnitRedraws', options.deadUnitRedraws ?? 0, 0, 100);
  const maxQueries = options.maxQueries === undefined ? undefined : checkInteger('maxQueries', options.maxQueries, 0);
  const onProgress = options.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') invalidArgument('onProgress', 'must be a function', onProgress);
  const shape: StudentShape = { inputDim: d, width1, width2, activation, model, outputs: k };
  const warnings: string[] = [];
  // N k <= P numbers can be interpolated by networks other than the black box: a tiny residual proves nothing
  const checkable = N * k > P;
  if (!checkable) {
    const what = k === 1 ? `${N} data points` : `${N} data points x ${k} outputs = ${N * k} values`;
    warnings.push(`${what} <= P = ${P} parameters: a fit can interpolate them without being the network, so the check cannot pass; give more than ${Math.floor(P / k)} queries`);
  }

  // The data: paid once (an Oracle's budget refuses the batch before any query; maxQueries likewise).
  const before = oracle?.counts();
  const given = answersInHand(options.answers, d, k, N);
  const n = given ? given.values.length / k : 0;
  const inputs = allocFloat64(N * d, { shared: true });
  if (given) inputs.set(toDense(given.inputs).data);
  // the fresh points: rows n .. N - 1 of the seed's Gaussian points (answers in hand may hold its
  // first rows, as identify's method 'auto' pays them; all N without answers: as before)
  if (N > n) inputs.set(gaussianPoints(N, d, seed).subarray(n * d), n * d);
  if (maxQueries !== undefined && N - n > maxQueries) {
    invalidArgument('maxQueries', `must allow the fit's ${N - n}${n > 0 ? ' fresh' : ''} data points (queryBudget or dataPoints ask for them)`, maxQueries);
  }
  const values = allocFloat64(N * k, { shared: true });
  if (given) values.set(given.values);
  if (N > n) {
    const raw = await source.evaluate(matrixFrom(inputs.subarray(n * d), N - n, d));
    const answers = raw instanceof Float64Array ? raw : toDense(raw as Float64View).data;
    if (answers.length !== (N - n) * k) invalidArgument('source.evaluate', `must answer ${N - n} x ${k} numbers`, answers.length);
    values.set(answers, n * k);
  }
  const after = oracle?.counts();
  // noisy: identify's threshold, the noise relative to the rms of the data fitted
  const threshold = noise > 0 ? Math.max(checkThreshold, noiseThreshold(noise, values)) : checkThreshold;
  const queriesSeconds = (performance.now() - started) / 1000;

  const stop = new Int32Array(new SharedArrayBuffer(4));
  stop[0] = UNSET;
  const gradients = given?.gradients ?? undefined;
  const task = (start: number): StartTask => ({ shape, seed, start, inputs, values, gradients, maxIterations, redraws, deadRedraws, redrawAbove: threshold, stop, ...(start < warm.length ? { initial: warm[start] } : { draw: start - warm.length + firstDraw }) });
  const passes = (o: StartOutcome) => checkable && !o.cancelled && o.relativeResidual <= threshold;
  const outcomes: (StartOutcome | undefined)[] = new Array(starts);
  let next = 0;
  let done = 0;
  const lanes = Math.min(threads, starts);
  const pool = lanes > 1 ? createWorkerPool<StartTask, StartResult>({ filename: workerEntryUrl(import.meta.url, { source: './worker.mjs', built: './worker-task.js' }), threads: lanes, name: 'student-fit' }) : null;
  const run = async (t: StartTask): Promise<StartOutcome> => {
    if (!pool) return runStart(t);
    const [outcome] = await pool.runAll([t], 'student-fit starts', (r) => {
      if (!r.ok) throw errorFromWorker(r, 'student-fit');
      return r.outcome;
    });
    return outcome;
  };
  // each lane takes the next start until one at or before it has passed
  const lane = async () => {
    for (;;) {
      const s = next++;
      if (s >= starts || stop[0] < s) return;
      const o = await run(task(s));
      outcomes[s] = o;
      if (passes(o) && s < stop[0]) stop[0] = s;
      done++;
      if (!o.cancelled) onProgress?.({ stage: 'fit', done, total: starts, start: s, relativeResidual: o.relativeResidual, passed: passes(o) });
    }
  };
  try {
    await settleAll(Array.from({ length: lanes }, lane), 'student-fit lanes');
  } finally {
    await pool?.close();
  }

  // the first passing start, in start order; else the smallest residual (the first of equals)
  let chosen = stop[0] !== UNSET ? stop[0] : -1;
  if (chosen < 0) {
    for (let s = 0; s < starts; s++) {
      const o = outcomes[s] as StartOutcome;
      if (chosen < 0 || o.relativeResidual < (outcomes[chosen] as StartOutcome).relativeResidual) chosen = s;
    }
  }
  const last = stop[0] !== UNSET ? chosen : starts - 1;
  const reported = outcomes.slice(0, last + 1) as StartOutcome[];
  const best = outcomes[chosen] as StartOutcome;
  const paid = oracle ? (after as { paid: number }).paid - (before as { paid: number }).paid : N - n;
  const reused = oracle ? (after as { reused: number }).reused - (before as { reused: number }).reused : 0;
  const total = oracle ? (after as { total: number }).total - (before as { total: number }).total : N - n;
  return {
    parameters: best.parameters,
    shape,
    report: {
      format: 'nnid.student-fit-report/v1',
      method: 'fit',
      options: {
        model,
        width1,
        width2,
        activation,
        seed,
        queryBudget,
        dataPoints: N,
        starts,
        threads,
        maxIterations,
        checkThreshold: threshold,
        noise,
        unitRedraws: redraws,
        deadUnitRedraws: deadRedraws,
        initialization: model === 'general' ? INITIALIZATION_GENERAL : INITIALIZATION,
        solver: SOLVER_LINE,
      },
      widths: { inputDim: d, width1, width2, outputs: k },
      parameterCount: P,
      queries: { total, paid, reused, multipleOfP: total / P, numbersReceived: total * k },
      seconds: { queries: queriesSeconds, starts: reported.reduce((sum, o) => sum + o.seconds, 0), total: (performance.now() - started) / 1000 },
      threads: lanes,
      starts: reported.map((o) => ({
        start: o.start,
        iterations: o.iterations,
        relativeResidual: o.relativeResidual,
        initialRelativeResidual: o.initialRelativeResidual,
        stopReason: o.stopReason,
        redraws: o.redraws,
        deadRedraws: o.deadRedraws,
        seconds: o.seconds,
        passed: passes(o),
      })),
      startsDiscarded: outcomes.filter((o, s) => o !== undefined && s > last).length,
      chosenStart: chosen,
      warmStarts: warm.length,
      answersInHand: n,
      check: { relativeResidual: best.relativeResidual, threshold, passed: passes(best), on: 'fit-data' },
      warnings,
    },
  };
}
