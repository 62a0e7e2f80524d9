/**
 * One random start of the student fit: its initial network (from the seed and the start's index
 * alone) and its Levenberg-Marquardt fit on the data in hand. The same function runs in the main
 * thread (1 thread) and in a worker (worker-task.ts): the same bits.
 *
 * Both models are fitted in the general model's parameters (refine's general layout [W1, b1, W2,
 * b2, C, c]): the paper's form holds C = 1^T, c = 0 fixed; the general model fits every weight
 * and bias, k outputs as k residuals per row.
 */
import { matrix, matrixFrom, rng, toGeneral, type ActivationName, type GeneralNetwork, type Network } from '@nnid/core';
import { setBlasThreads } from '@nnid/linalg';
import { leastSquares } from '@nnid/optimize';
import { fitOutputLayer, generalLayoutOf, packGeneral, unpackGeneral, type GeneralLayout } from '@nnid/refine';
import { studentEquations, type GradientData } from './equations.ts';
import { levenbergStrategy } from './levenberg.ts';

/** 'paper': f = sum_l phi2(b_l . phi1(A x + theta) + tau_l); 'general': f = C phi2(W2 phi1(W1 x + b1) + b2) + c. */
export type StudentModel = 'paper' | 'general';

/** The student's shape: what the fit must be told (it does not infer widths). */
export interface StudentShape {
  inputDim: number;
  width1: number;
  width2: number;
  activation: { layer1: ActivationName; layer2: ActivationName };
  /** Default 'paper'. */
  model?: StudentModel;
  /** k (general model; the paper's form has 1). Default 1. */
  outputs?: number;
}

/** Std of the initial shifts theta, tau: the generator's default (DESIGN.md section 7). */
export const START_SHIFT_STD = 0.3;

/** Split keys of rng(seed): the data points and the starts draw from disjoint streams. */
export const DATA_KEY = 0xda7a;
export const START_KEY = 0x57a7;
/** Split key of a start's redraws: rng(seed).split(START_KEY, draw, REDRAW_KEY, round). */
const REDRAW_KEY = 0x4edf;
/** Split key of a start's dead-unit redraws: rng(seed).split(START_KEY, draw, DEAD_KEY, round). */
const DEAD_KEY = 0xdead;

/**
 * A hidden unit is dead when its incoming row's norm (W1 row, W2 row) or its outgoing column's
 * norm (W2 column for the first layer, C column for the second in the general model) is below this
 * fraction of the median of its layer's: the unit is nearly constant or unused, so the fit has one
 * unit fewer than the black box, and an unused unit's incoming weights get no gradient to leave
 * it. Chosen on the float64 held-out softplus (4, 3) iris k = 3 truth (the closest stalled starts
 * had the first layer right and one second-layer row at 0.02 against the others' 2.3, about 1%);
 * see README.md for the networks that checked it.
 */
export const DEAD_NORM_RATIO = 0.1;

/**
 * Two units of one layer are duplicates when their pre-activations' second-moment cosine on the
 * fit's Gaussian data, |w . v + b c| / sqrt((|w|^2 + b^2)(|v|^2 + c^2)) for incoming rows w, v and
 * shifts b, c, is at least this: one unit doing the other's work, the network one unit short. The
 * one with the smaller outgoing column is redrawn as a dead unit. Chosen on the same iris truth
 * (stalled starts with first-layer pairs at 0.997-0.999 and second-layer pairs at 0.9997-0.9999;
 * the truth's own closest pair 0.94).
 */
export const DUPLICATE_COS = 0.995;

/**
 * Dead-unit redraw rounds per start in identify's method 'auto' after a failed pipeline (the fits'
 * `deadUnitRedraws`; the plain fit's default is 0). Each round runs only while the start is above its
 * check and some unit is dead; on the iris truth (README.md) the starts they rescued took 1 and 2.
 */
export const DEAD_UNIT_REDRAWS = 3;

/**
 * A first-layer unit is saturated when its row's norm is above this many times the median row
 * norm: it has become a step in the data's range, fitting a region another unit should. Measured
 * (bench range-fit.ts, tanh N(0, 0.3^2) (30, 20, 8) 3 P, network 1005, where 16 starts stalled at
 * 1e-2..1e-1): at the starts closest to a fit (1.4e-2, 1.9e-2) every true row was matched to
 * |cos| >= 0.93 but one, and one or two fitted rows had norms 14-19 against a median 1.0.
 */
export const SATURATED_NORM_RATIO = 5;

/**
 * The solver's settings, one place (measured: packages/student-fit/README.md). Levenberg's
 * damping from lambda = 1e-2, Nielsen's update, no inner steps, refine's stall rule.
 */
export const SOLVER = {
  damping: { initial: 1e-2, decrease: { rule: 'nielsen', minFactor: 0.1 }, ceiling: 1e20 },
  innerSteps: 0,
  stallWindow: 50,
  stallFactor: 0.8,
  stallAbove: 1e-6,
  residualTolerance: 1e-15,
  stepTolerance: 1e-13,
  costTolerance: 1e-12,
} as const;

/**
 * The initial network of start `start` in the paper's form: rows of A uniform on the unit sphere
 * of R^d, rows of B on the unit sphere of R^m0, theta and tau ~ N(0, 0.3^2). Streams:
 * rng(seed).split(START_KEY, start) then split(0, i) row i of A, split(1) theta, split(2, l) row l
 * of B, split(3) tau. The general model's start has these hidden layers and the output layer
 * (C, c) that fits the data best with them (linear least squares).
 *
 * @example
 * const net = startNetwork({ inputDim: 8, width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' } }, 0, 3);
 */
export function startNetwork(shape: StudentShape, seed: number, start: number): Network {
  const { inputDim: d, width1: m0, width2: m1 } = shape;
  const root = rng(seed).split(START_KEY, start);
  const A = matrix(m0, d);
  for (let i = 0; i < m0; i++) root.split(0, i).fillSphere(A.data.subarray(i * d, (i + 1) * d), 1);
  const theta = root.split(1).fillNormal(new Float64Array(m0), 0, START_SHIFT_STD);
  const B = matrix(m1, m0);
  for (let l = 0; l < m1; l++) root.split(2, l).fillSphere(B.data.subarray(l * m0, (l + 1) * m0), 1);
  const tau = root.split(3).fillNormal(new Float64Array(m1), 0, START_SHIFT_STD);
  return { activation: { ...shape.activation }, inputDim: d, width1: m0, width2: m1, A, theta, B, tau };
}

/** The start as a general network: startNetwork's hidden layers, C = 1^T and c = 0 (k outputs: all ones, zeros). */
export function startGeneral(shape: StudentShape, seed: number, start: number): GeneralNetwork {
  const k = shape.outputs ?? 1;
  const g = toGeneral(startNetwork(shape, seed, start));
  const C = matrix(k, shape.width2);
  C.data.fill(1);
  return { ...g, outputs: k, C, c: new Float64Array(k) };
}

/** What one start needs; structured-clone safe (the data on shared memory: not copied). */
export interface StartTask {
  shape: StudentShape;
  seed: number;
  start: number;
  /** N x d inputs, row-major, and the N x k answers. */
  inputs: Float64Array;
  values: Float64Array;
  maxIterations: number;
  /**
   * A warm start's parameters in refine's general layout (packGeneral; the paper's form with
   * C = 1^T, c = 0): the start begins there instead of its random network. Absent: random.
   */
  initial?: Float64Array;
  /** Gradients measured at the first points of `inputs`, fitted as derivative rows beside the values (equations.ts). */
  gradients?: GradientData;
  /** The random start's stream index (default `start`; after w warm starts, start - w). */
  draw?: number;
  /**
   * Redraw rounds at most (default 0): a start that ends above `redrawAbove` with saturated
   * first-layer units (row norm > SATURATED_NORM_RATIO x the median) has those rows redrawn on the
   * unit sphere, their shifts from N(0, 0.3^2), and is fitted again from there; the best end kept.
   */
  redraws?: number;
  /** The residual above which a start's end is redrawn (the fit's check threshold). */
  redrawAbove?: number;
  /**
   * Dead-unit redraw rounds at most (default 0), after the saturated ones: a start that ends above
   * `redrawAbove` with dead hidden units (either layer: an incoming row's or outgoing column's norm
   * below DEAD_NORM_RATIO x its layer's median) has them redrawn (incoming row at its layer's median
   * norm, shift from N(0, 0.3^2), a first-layer unit's outgoing column at the median column norm;
   * the general model's output layer then by least squares) and is fitted again; the best end kept.
   */
  deadRedraws?: number;
  /**
   * [0]: the smallest index of a start that passed so far (or 2^31 - 1). A start with a larger
   * index stops at its next step: its result could not be returned.
   */
  stop: Int32Array;
}

/** One start's outcome (cancelled: stopped because an earlier start passed). */
export interface StartOutcome {
  start: number;
  cancelled: boolean;
  /** Every parameter in refine's general layout (packGeneral); empty when cancelled. */
  parameters: Float64Array;
  iterations: number;
  relativeResidual: number;
  initialRelativeResidual: number;
  stopReason: string;
  /** Redraw rounds run (each redrew the saturated units and fitted again). */
  redraws: number;
  /** Dead-unit redraw rounds run: the units redrawn (0-based, per layer) and the residual each round's fit ended at. */
  deadRedraws: DeadRedraw[];
  seconds: number;
}

/** One dead-unit redraw round of a start. */
export interface DeadRedraw {
  round: number;
  layer1: number[];
  layer2: number[];
  relativeResidual: number;
}

class Cancelled extends Error {}

/** Runs one start: Levenberg-Marquardt from the start's network on (inputs, values). */
export async function runStart(task: StartTask): Promise<StartOutcome> {
  const started = performance.now();
  const { shape, start } = task;
  const d = shape.inputDim;
  const k = shape.outputs ?? 1;
  const N = task.values.length / k;
  const cancelled = (): StartOutcome => ({
    start,
    cancelled: true,
    parameters: new Float64Array(0),
    iterations: 0,
    relativeResidual: NaN,
    initialRelativeResidual: NaN,
    stopReason: 'cancelled',
    redraws: 0,
    deadRedraws: [],
    seconds: (performance.now() - started) / 1000,
  });
  if (Atomics.load(task.stop, 0) < start) return cancelled();
  const general = shape.model === 'general';
  let initial = startGeneral(shape, task.seed, task.draw ?? start);
  let full: Float64Array;
  const layout = generalLayoutOf(initial);
  if (task.initial) {
    // a warm start (e.g. the pipeline's refined network whose check failed): its own weights
    if (task.initial.length !== layout.size) throw new Error(`student fit: a start network has ${task.initial.length} parameters, expected ${layout.size}`);
    full = Float64Array.from(task.initial);
  } else {
    if (general) initial = fitOutputLayer(initial, { inputs: matrixFrom(task.inputs, N, d), values: task.values });
    full = packGeneral(initial, layout);
  }
  const free = general ? layout.size : layout.offC;
  let yNorm = 0;
  for (let i = 0; i < task.values.length; i++) yNorm += task.values[i] * task.values[i];
  // the derivative rows' targets count in the scale of the relative residual
  const gv = task.gradients?.values ?? new Float64Array(0);
  const w2 = (task.gradients?.weight ?? 0) ** 2;
  for (let i = 0; i < gv.length; i++) yNorm += w2 * gv[i] * gv[i];
  yNorm = Math.sqrt(yNorm) || 1;
  // one OpenBLAS thread: the thread count is process-wide and may change a product's rounding
  const blasBefore = setBlasThreads(1);
  try {
    const equations = studentEquations(full, layout, task.inputs, task.values, N, free, task.gradients);
    const solve = (x0: Float64Array) =>
      leastSquares(levenbergStrategy(equations), x0, {
        ...SOLVER,
        damping: { ...SOLVER.damping, decrease: { ...SOLVER.damping.decrease } },
        maxIterations: task.maxIterations,
        residualScale: yNorm,
        stepTest: 'size-and-prediction',
        acceptance: 'gain-ratio',
        onProgress: () => {
          if (Atomics.load(task.stop, 0) < start) throw new Cancelled();
        },
      });
    const first = await solve(full.slice(0, free));
    let best = first;
    let iterations = first.report.iterations;
    let rounds = 0;
    const redraws = task.redraws ?? 0;
    const above = task.redrawAbove ?? 0;
    for (let round = 1; round <= redraws && best.report.relativeResidual > above; round++) {
      const units = saturatedUnits(best.x, d, shape.width1);
      if (units.length === 0) break;
      const x0 = best.x.slice();
      const stream = rng(task.seed).split(START_KEY, task.draw ?? start, REDRAW_KEY, round);
      for (const i of units) {
        stream.fillSphere(x0.subarray(i * d, (i + 1) * d), 1);
        x0[layout.offTheta + i] = START_SHIFT_STD * stream.normal();
      }
      const next = await solve(x0);
      iterations += next.report.iterations;
      rounds = round;
      if (next.report.relativeResidual < best.report.relativeResidual) best = next;
    }
    const revived: DeadRedraw[] = [];
    for (let round = 1; round <= (task.deadRedraws ?? 0) && best.report.relativeResidual > above; round++) {
      full.set(best.x);
      const units = deadUnits(full, layout, general);
      if (units.layer1.length + units.layer2.length === 0) break;
      const stream = rng(task.seed).split(START_KEY, task.draw ?? start, DEAD_KEY, round);
      let x0 = redrawDead(full, layout, units, stream);
      if (general) x0 = packGeneral(fitOutputLayer(unpackGeneral(x0, layout), { inputs: matrixFrom(task.inputs, N, d), values: task.values }), layout);
      const next = await solve(x0.slice(0, free));
      iterations += next.report.iterations;
      revived.push({ round, ...units, relativeResidual: next.report.relativeResidual });
      if (next.report.relativeResidual < best.report.relativeResidual) best = next;
    }
    full.set(best.x);
    return {
      start,
      cancelled: false,
      parameters: full,
      iterations,
      relativeResidual: best.report.relativeResidual,
      initialRelativeResidual: first.report.initialRelativeResidual,
      stopReason: best.report.stopReason,
      redraws: rounds,
      deadRedraws: revived,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (e) {
    if (e instanceof Cancelled) return cancelled();
    throw e;
  } finally {
    setBlasThreads(blasBefore);
  }
}

/** The first-layer units (rows of W1 in x) whose norm is above SATURATED_NORM_RATIO x the median row norm. */
function saturatedUnits(x: Float64Array, d: number, m0: number): number[] {
  const rowNorms = norms(x, 0, m0, d, false);
  const cut = SATURATED_NORM_RATIO * median(rowNorms);
  const units: number[] = [];
  for (let i = 0; i < m0; i++) if (rowNorms[i] > cut) units.push(i);
  return units;
}

function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/** Norms of the rows (byColumn false) or columns of the rows x cols matrix at x[at ..]. */
function norms(x: Float64Array, at: number, rows: number, cols: number, byColumn: boolean): Float64Array {
  const out = new Float64Array(byColumn ? cols : rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = x[at + r * cols + c];
      out[byColumn ? c : r] += v * v;
    }
  }
  return out.map(Math.sqrt);
}

/** Below DEAD_NORM_RATIO x their median: the indices. */
function small(values: Float64Array): number[] {
  const cut = DEAD_NORM_RATIO * median(values);
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i] < cut) out.push(i);
  return out;
}

/**
 * The dead units of the network x (general layout, every parameter): a first-layer unit whose W1
 * row or W2 column, a second-layer unit whose W2 row or (general model) C column has a norm below
 * DEAD_NORM_RATIO x the median of its layer's; and of two duplicate units (DUPLICATE_COS) of one
 * layer, the one with the smaller outgoing norm.
 */
export function deadUnits(x: Float64Array, layout: GeneralLayout, general: boolean): { layer1: number[]; layer2: number[] } {
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = layout;
  const union = (a: number[], b: number[]) => [...new Set([...a, ...b])].sort((i, j) => i - j);
  const out1 = norms(x, layout.offB, m1, m0, true);
  const out2 = general ? norms(x, layout.offC, k, m1, true) : new Float64Array(m1).fill(1);
  const layer1 = union(union(small(norms(x, 0, m0, d, false)), small(out1)), duplicates(x, 0, layout.offTheta, m0, d, out1));
  const layer2 = union(union(small(norms(x, layout.offB, m1, m0, false)), general ? small(out2) : []), duplicates(x, layout.offB, layout.offTau, m1, m0, out2));
  return { layer1, layer2 };
}

/**
 * Of each pair of units (rows at x[at ..], shifts at x[shiftAt ..]) whose second-moment cosine is
 * at least DUPLICATE_COS, the one with the smaller outgoing norm (`out`; the later of equals).
 */
function duplicates(x: Float64Array, at: number, shiftAt: number, rows: number, cols: number, out: Float64Array): number[] {
  const found: number[] = [];
  const dot = (i: number, j: number) => {
    let s = x[shiftAt + i] * x[shiftAt + j];
    for (let c = 0; c < cols; c++) s += x[at + i * cols + c] * x[at + j * cols + c];
    return s;
  };
  for (let i = 0; i < rows; i++) {
    for (let j = i + 1; j < rows; j++) {
      const cos = Math.abs(dot(i, j)) / Math.sqrt(dot(i, i) * dot(j, j));
      if (cos >= DUPLICATE_COS) found.push(out[j] <= out[i] ? j : i);
    }
  }
  return found;
}

/**
 * x with the dead units redrawn from `stream`: a first-layer unit's W1 row on the sphere of the
 * median W1 row norm, its shift from N(0, 0.3^2), its W2 column N(0, 1) scaled to the median W2
 * column norm; a second-layer unit's W2 row on the sphere of the median W2 row norm, its shift from
 * N(0, 0.3^2). First layer first, in unit order.
 */
function redrawDead(x: Float64Array, layout: GeneralLayout, units: { layer1: number[]; layer2: number[] }, stream: ReturnType<typeof rng>): Float64Array {
  const { inputDim: d, width1: m0, width2: m1 } = layout;
  const y = x.slice();
  const rowNorm1 = median(norms(x, 0, m0, d, false));
  const colNorm2 = median(norms(x, layout.offB, m1, m0, true));
  const rowNorm2 = median(norms(x, layout.offB, m1, m0, false));
  for (const i of units.layer1) {
    stream.fillSphere(y.subarray(i * d, (i + 1) * d), rowNorm1);
    y[layout.offTheta + i] = START_SHIFT_STD * stream.normal();
    const column = new Float64Array(m1);
    stream.fillSphere(column, colNorm2);
    for (let l = 0; l < m1; l++) y[layout.offB + l * m0 + i] = column[l];
  }
  for (const l of units.layer2) {
    stream.fillSphere(y.subarray(layout.offB + l * m0, layout.offB + (l + 1) * m0), rowNorm2);
    y[layout.offTau + l] = START_SHIFT_STD * stream.normal();
  }
  return y;
}
