/**
 * identify()'s options, declared once (scikit-learn's `_parameter_constraints` as the model): each
 * row holds the option's doc (its comment), default, check and how 'auto' resolves (`auto`, in
 * words; `resolve`, the rule, where it is a formula of what the run knows: `valueOf` applies it).
 * The options type callers pass, the resolved form, the checks and the report's `options` are all
 * derived from this table. Rows are checked in table order.
 */
import { availableParallelism } from 'node:os';
import { ACTIVATIONS, checkActivation, checkChoice, checkInteger, checkPositive, checkView, invalidArgument, type ActivationName, type Float64View, type Oracle } from '@nnid/core';
import { noiseAwareStep } from '@nnid/hessian-sampler';
import { defaultShiftDataPoints } from '@nnid/shift-recovery';
import { NOISE_THRESHOLD_FACTOR } from '@nnid/student-fit';
import { dimensionFor } from './retry-policy.ts';
import type { IdentifyProgress } from './stages.ts';
import { SAMPLING } from './sampling.ts';

/** What a check sees besides the value: the oracle's input dimension and the options checked before that it depends on. */
export interface CheckContext {
  readonly inputDim: number;
  width1?: number;
  layer1?: ActivationName;
}

/** One row of the table. `In` is what a caller passes, `Out` the resolved value ('auto' where it resolves at run time). */
export interface OptionSpec<In, Out> {
  /** The default (the value a missing option takes before its check). */
  readonly default: In | undefined | (() => In);
  /** The value given (or the default) to the value used; throws in the house template. */
  readonly check: (value: unknown, name: string, context: CheckContext) => Out;
  /** How 'auto' resolves: at run time, from what the run has measured; the report shows the value used. */
  readonly auto?: string;
  /** Left out of the report (callbacks). */
  readonly unreported?: true;
  /** Type only: what a caller passes. */
  readonly input?: In;
}

function spec<In, Out>(row: OptionSpec<In, Out>): OptionSpec<In, Out> {
  return row;
}

const isAuto = (value: unknown) => value === undefined || value === 'auto';

function integer(dflt: number | (() => number), min: number, max?: number): OptionSpec<number, number> {
  return spec({ default: dflt, check: (value, name) => checkInteger(name, value, min, max) });
}

/** An optional width: at most `max` of what is checked before it. */
function width(max: (context: CheckContext) => number): OptionSpec<number, number | undefined> {
  return spec<number, number | undefined>({ default: undefined, check: (value, name, context) => (value === undefined ? undefined : checkInteger(name, value, 1, max(context))) });
}

/** A row whose 'auto' is a rule of what the run knows (`facts`): `resolve` applies it (see `valueOf`). */
type AutoRow<In, Out, F> = OptionSpec<In, Out> & { readonly resolve: (facts: F) => number };

function autoInteger(min: number, auto: string): OptionSpec<number | 'auto', number | 'auto'>;
function autoInteger<F>(min: number, auto: string, resolve: (facts: F) => number): AutoRow<number | 'auto', number | 'auto', F>;
function autoInteger<F>(min: number, auto: string, resolve?: (facts: F) => number): OptionSpec<number | 'auto', number | 'auto'> & { resolve?: (facts: F) => number } {
  return { default: 'auto', auto, ...(resolve ? { resolve } : {}), check: (value: unknown, name: string) => (isAuto(value) ? 'auto' : checkInteger(name, value, min)) };
}

function positive(dflt: number, allowZero = false): OptionSpec<number, number> {
  return spec({ default: dflt, check: (value, name) => checkPositive(name, value, allowZero) });
}

function autoPositive(auto: string, allowZero?: boolean): OptionSpec<number | 'auto', number | 'auto'>;
function autoPositive<F>(auto: string, allowZero: boolean, resolve: (facts: F) => number): AutoRow<number | 'auto', number | 'auto', F>;
function autoPositive<F>(auto: string, allowZero = false, resolve?: (facts: F) => number): OptionSpec<number | 'auto', number | 'auto'> & { resolve?: (facts: F) => number } {
  return { default: 'auto', auto, ...(resolve ? { resolve } : {}), check: (value: unknown, name: string) => (isAuto(value) ? 'auto' : checkPositive(name, value, allowZero)) };
}

/** What the 'auto' finite-difference steps depend on. */
interface StepFacts {
  scheme: 'forward' | 'central';
  /** The oracle's noise level (0: exact). */
  sigma: number;
  layer1: ActivationName;
}

function flag(dflt: boolean): OptionSpec<boolean, boolean> {
  return spec({ default: dflt, check: (value, name) => (typeof value === 'boolean' ? value : invalidArgument(name, 'must be a boolean', value)) });
}

function choice<T extends string>(choices: readonly T[], dflt: T): OptionSpec<T, T> {
  return spec({ default: dflt, check: (value, name) => checkChoice(name, value, choices) });
}

const SCHEMES = ['forward', 'central'] as const;
const MODELS = ['paper', 'general'] as const;
/** The network forms identify takes (see OPTIONS.model). */
export type IdentifyModel = (typeof MODELS)[number];

/** 'auto' attempt lanes start after a failed attempt that spent at least this long refining (a lane costs ~0.5 s to start). */
export const LANES_FROM_SECONDS = 1;

export const OPTIONS = {
  /** m0, the first hidden layer's width. Default: the dimension of range(A) (or inferred by attribution). */
  width1: width((context) => context.inputDim),
  /** m1, the second hidden layer's width. Default: the number of entangled weights found. */
  width2: width((context) => context.width1 ?? context.inputDim),
  /** The activations of the two layers (the method assumes them known). */
  activation: spec<{ layer1: ActivationName; layer2: ActivationName }, { layer1: ActivationName; layer2: ActivationName }>({
    default: undefined,
    check: (value, name) => {
      const pair = value as { layer1?: unknown; layer2?: unknown } | null | undefined;
      if (!pair || typeof pair !== 'object') invalidArgument(name, `must be { layer1, layer2 }, each one of ${ACTIVATIONS.map((a) => `'${a}'`).join(', ')}`, value);
      // core's check: a known non-smooth activation (relu, elu, ...) is refused with why
      return { layer1: checkActivation(`${name}.layer1`, pair.layer1), layer2: checkActivation(`${name}.layer2`, pair.layer2) };
    },
  }),
  /**
   * The network form identified: 'paper' (default): f = sum_l phi2(b_l . phi1(A^T x + theta) + tau_l),
   * unit-norm rows (nnid.network/v1); 'general': f = C phi2(W2 phi1(W1 x + b1) + b2) + c with one
   * output, rows of any norm and an output layer (nnid.network/v2): the same stages up to the shift
   * fit, then the refinement fits the general form (result.networkGeneral).
   */
  model: choice(MODELS, 'paper'),
  /** Seed of every random choice. */
  seed: spec<number, number>({ default: undefined, check: (value, name) => checkInteger(name, value, 0) }),
  /** Worker threads (default os.availableParallelism()). The result does not depend on it. */
  threads: integer(() => availableParallelism(), 1, 1024),
  /** Levenberg-Marquardt on all parameters after the paper's pipeline (default true). */
  refine: flag(true),
  /** Reduce to range(A) from gradients first (default true). */
  reduceToRange: flag(true),
  /** Refit the shift fit's (already paid) data in the refinement too (default true). */
  reuseShiftData: flag(true),
  /** Called as identify goes: the plan, then each stage's start, progress and end (with its seconds). */
  onProgress: spec<(event: IdentifyProgress) => void, ((event: IdentifyProgress) => void) | undefined>({
    default: undefined,
    unreported: true,
    check: (value, name) =>
      value === undefined || typeof value === 'function' ? (value as ((event: IdentifyProgress) => void) | undefined) : invalidArgument(name, 'must be a function', value),
  }),
  /**
   * Finite-difference step of the Hessians: 'auto' = the sampler's default for the scheme, or
   * larger when the oracle is noisy (noiseAwareStep of @nnid/hessian-sampler, from `noise`).
   */
  step: autoPositive("the sampler's default for the scheme; with a noisy oracle noiseAwareStep(sigma) times the activation's step scale", false, (f: StepFacts) =>
    noiseAwareStep('hessian', f.scheme, f.sigma, SAMPLING[f.layer1].stepScale),
  ),
  /**
   * Finite-difference step of the gradients: 'auto' = the sampler's default for the scheme, or
   * larger when the oracle is noisy (noiseAwareStep of @nnid/hessian-sampler, from `noise`).
   */
  gradientStep: autoPositive("the sampler's default for the scheme; with a noisy oracle noiseAwareStep(sigma) times the activation's step scale", false, (f: StepFacts) =>
    noiseAwareStep('gradient', f.scheme, f.sigma, SAMPLING[f.layer1].stepScale),
  ),
  /**
   * Std of the oracle's noise: 'auto' = estimated first from 45 queries (estimateNoise of
   * @nnid/hessian-sampler); a number = known (0: exact, no queries). It sets the 'auto' steps and
   * the truth-free check's threshold.
   */
  noise: autoPositive('estimated from 45 queries before any other stage', true),
  /** dim W-hat: 'auto' = round(1.5 (m0 + m1)). */
  subspaceDimension: autoInteger(1, 'round(1.5 (m0 + m1)), at most what the Hessian stack gives', (f: { width1: number; width2: number; maxDim: number }) =>
    dimensionFor(1.5, f.width1, f.width2, f.maxDim),
  ),
  /** Multiples of (m0 + m1) tried, in order, when the truth-free check fails (default [2, 1, 1.25, 0.75, 1.1, 0.9, 1.75, 0.6, 1.4, 0.8, 1.6, 0.7]; duplicate dimensions are skipped). */
  retryFactors: spec<number[], number[]>({
    default: [2, 1, 1.25, 0.75, 1.1, 0.9, 1.75, 0.6, 1.4, 0.8, 1.6, 0.7],
    check: (value, name) =>
      Array.isArray(value) && !value.some((f) => typeof f !== 'number' || !(f > 0) || !Number.isFinite(f))
        ? (value as number[])
        : invalidArgument(name, 'must be an array of positive numbers', value),
  }),
  /** A-posteriori check of the rank-one solver (default 0.9). */
  threshold: spec<number, number>({
    default: 0.9,
    check: (value, name) => {
      const threshold = checkPositive(name, value, true);
      return threshold > 1 ? invalidArgument(name, 'must be a number in [0, 1]', threshold) : threshold;
    },
  }),
  /** Gradients for range(A), the first at x = 0: 'auto' = m0 + 4 (d + 4 when m0 is unknown). */
  gradientPoints: autoInteger(2, 'm0 + 4 (d + 4 when m0 is unknown)', (f: { width1: number | undefined; inputDim: number }) => (f.width1 ?? f.inputDim) + 4),
  /**
   * Hessians: 'auto' = as many as the Hessian budget buys, at least m0 + m1 + 2 and at most
   * 2 (m0 + m1); m1 taken as ceil(m0 / 2) when unknown.
   */
  hessianPoints: autoInteger(1, 'as many as the Hessian budget buys, within [m0 + m1 + 2, 2 (m0 + m1)]', (f: { width1: number; width2: number; affordable: number }) =>
    Math.max(f.width1 + f.width2 + 2, Math.min(2 * (f.width1 + f.width2), f.affordable)),
  ),
  /** Finite-difference scheme of the gradients (default 'forward': d + 1 queries each, central 2 d). */
  gradientScheme: choice(SCHEMES, 'forward'),
  /**
   * With a noisy oracle (sigma > 0), m0 inferred and forward gradients: the gradients completed to
   * central differences before range(A)'s dimension is read (f(x - h e_j) and f(x) paid, g (d + 1)
   * rows): a forward difference's (h / 2) diag(H) lifts the spectrum's tail to ~1e-3 on a float32
   * model and hides a weak direction of A; the central one's error is ~1e-5 (sample-stages.ts,
   * completeToCentral). Default true.
   */
  noisyRangeCentral: flag(true),
  /** Multiple of the noise level in the check's threshold (default 3). */
  noiseThresholdFactor: positive(NOISE_THRESHOLD_FACTOR),
  /**
   * Queries for the Hessians when `hessianPoints` is 'auto', as a multiple of P: 'auto' (default)
   * = what `queryBudget` leaves after the queries already paid (noise estimate, gradients) and
   * those planned for the shift fit and the refinement.
   */
  hessianBudget: autoPositive('what queryBudget leaves after the queries paid before and planned after the Hessians'),
  /** Total queries the 'auto' Hessian budget aims at, as a multiple of P (default 20); the plan warns when it exceeds it. */
  queryBudget: positive(20),
  /**
   * Radius of the sphere the gradient and Hessian points are drawn on: 'auto' = 1 for a tanh
   * first layer, 3 for sigmoid (sigmoid(t) = (1 + tanh(t / 2)) / 2 halves the first-layer weights;
   * measured: see packages/pipeline/README.md).
   */
  radius: spec<number | 'auto', number>({
    default: 'auto',
    auto: "the first layer's activation's row of SAMPLING (sampling.ts)",
    check: (value, name, context) => (isAuto(value) ? SAMPLING[context.layer1!].radius : checkPositive(name, value)),
  }),
  /** Finite-difference scheme of the Hessians (default 'forward'). */
  scheme: choice(SCHEMES, 'forward'),
  /**
   * Relative residual after refinement above which the later stages are redone (default 1e-9: exact runs end near 1e-15; a run stalled at 5e-7 had relative L2 5e-7 — above the 1e-8 target).
   * With a noisy oracle the threshold used is max(retryResidual, noiseThresholdFactor sigma /
   * rms(refinement data)): the residual cannot fall below the noise.
   */
  retryResidual: positive(1e-9),
  /** Random starts of the rank-one solver: 'auto' = 10 (m0 + m1). */
  starts: autoInteger(1, '10 (m0 + m1)', (f: { width1: number; width2: number }) => 10 * (f.width1 + f.width2)),
  /** Fresh queries of the shift fit ('auto': the stage's default). */
  shiftDataPoints: autoInteger(1, "the shift fit's default (defaultShiftDataPoints of @nnid/shift-recovery)", (f: { width1: number; width2: number; inputDim: number }) =>
    defaultShiftDataPoints(f.width1, f.width2, f.inputDim),
  ),
  /**
   * Fresh queries of the refinement: 'auto' = 4 P (P = d m0 + m0 + m0 m1 + m1). They are drawn
   * once (half on the unit sphere, half from N(0, I)) and fitted together with the shift fit's
   * already-paid data; retries refit the same data (no new queries).
   */
  refineDataPoints: autoInteger(0, 'round(refineDataFactor P)', (f: { parameterCount: number; refineDataFactor: number }) => Math.round(f.refineDataFactor * f.parameterCount)),
  /** Multiple of P for refineDataPoints 'auto' (default 4). */
  refineDataFactor: positive(4, true),
  /** Levenberg-Marquardt iterations per refinement attempt (default 200, refine's own; 500 rescued one small sigmoid run but makes failing large runs very slow). */
  refineMaxIterations: integer(200, 1),
  /** Random second layers tried (fit alone on the first layer found) besides the pipeline's before refinement (default 0). */
  secondLayerStarts: integer(0, 0),
  /**
   * Before the full refinement, at most this many LM iterations fitting (theta, B, tau) on the
   * first layer found, A fixed (refine's `fix: 'first-layer-weights'`; default 100, 0 skips it).
   * The pipeline's second layer is its weakest part: from the pipeline's network the full LM
   * spent most iterations there, and often stalled (packages/pipeline/README.md).
   */
  upperFitIterations: integer(100, 0),
  /**
   * After a failed check, refine the next attempts side by side, one per thread, in worker
   * threads ("lanes"; the main thread prepares the attempts after them): 'auto' (default) = when
   * threads > 1 and the failed attempt spent at least 1 s refining (a lane costs ~0.5 s to start);
   * true = whenever threads > 1; false = one attempt after the other. The result is the same
   * either way: attempts are still taken in order, the first that passes the check ends the run.
   */
  parallelAttempts: spec<'auto' | boolean, 'auto' | boolean>({
    default: 'auto',
    auto: `after a failed attempt that refined >= ${LANES_FROM_SECONDS} s (threads > 1)`,
    check: (value, name) => (value === 'auto' || typeof value === 'boolean' ? value : invalidArgument(name, "must be 'auto', true or false", value)),
  }),
  /**
   * Paid queries this run may make at most (default: no cap). When the default plan does not fit,
   * the stages are fitted into it (budget.ts: fewer Hessians, gradients, shift and fresh refinement
   * points, down to each stage's floor: the floors are in packages/pipeline/README.md); below the
   * pipeline's floor identify refuses, before any query when width1 is given.
   */
  /**
   * With maxQueries binding: the refinement refits the gradients' and Hessians' stencil answers too
   * (default false: on (20, 10, 3) tanh at 6 and 8 P they made no run exact that was not, at 1.5-2x
   * the refinement's time; the stencils cluster within a step of a few centers). Sampling then runs
   * in the main thread (every answer must pass through the recorder).
   */
  refitStencils: flag(false),
  maxQueries: spec<number, number | undefined>({ default: undefined, check: (value, name) => (value === undefined ? undefined : checkInteger(name, value, 1)) }),
  /**
   * Bytes identify may plan for (default os.totalmem()): a plan whose peak memory exceeds it is
   * refused before the first query, naming the stage and what would fit (memory-plan.ts).
   */
  maxMemory: spec<number, number | undefined>({ default: undefined, check: (value, name) => (value === undefined ? undefined : checkPositive(name, value)) }),
  /**
   * Answers already paid ({ inputs: n x d, values: n }, e.g. a student fit's data): refitted by the
   * refinement, which then pays only for the fresh points still needed (none when n >= 4 P).
   */
  refinementData: spec<PaidAnswers, PaidAnswers | undefined>({
    default: undefined,
    unreported: true,
    check: (value, name, context) => {
      if (value === undefined) return undefined;
      const data = value as Partial<PaidAnswers> | null;
      const inputs = data && typeof data === 'object' ? checkView(`${name}.inputs`, data.inputs) : invalidArgument(name, 'must be { inputs, values }', value);
      if (inputs.shape[1] !== context.inputDim) invalidArgument(`${name}.inputs`, `must have inputDim = ${context.inputDim} columns`, inputs.shape[1]);
      if (!(data!.values instanceof Float64Array) || data!.values.length !== inputs.shape[0]) invalidArgument(`${name}.values`, `must be a Float64Array of ${inputs.shape[0]} answers`, data!.values?.length);
      return { inputs, values: data!.values };
    },
  }),  companions: companionsRow(),
};

/**
 * Other outputs of the same black box, each an Oracle on one combination of its k outputs
 * (identifyOutputs passes w's orthonormal complement), answering the rows identify asks from the
 * answers already paid. Their Hessians at identify's Hessian points are stacked under the
 * oracle's: every output's Hessian lies in the same span{a_i a_i^T, v_l v_l^T}, and a unit nearly
 * invisible in w^T f is seen in another output. Empty: the oracle's Hessians alone.
 */
function companionsRow(): OptionSpec<readonly Oracle[], readonly Oracle[]> {
  return spec<readonly Oracle[], readonly Oracle[]>({
    default: () => [],
    unreported: true,
    check: (value, name, context) => {
      if (!Array.isArray(value)) return invalidArgument(name, 'must be an array of Oracles', value);
      value.forEach((o: Partial<Oracle> | null, i) => {
        if (!o || typeof o.evaluate !== 'function' || typeof o.counts !== 'function') invalidArgument(`${name}[${i}]`, 'must be an Oracle (see createOracle)', o);
        if (o.inputDim !== context.inputDim) invalidArgument(`${name}[${i}].inputDim`, `must be the oracle's ${context.inputDim}`, o.inputDim);
      });
      return value as readonly Oracle[];
    },
  });
}

/** Answers already paid: n x d inputs and their n values. */
export interface PaidAnswers {
  inputs: Float64View;
  values: Float64Array;
}

type Table = typeof OPTIONS;
export type OptionName = keyof Table;
type InputOf<R> = R extends OptionSpec<infer In, unknown> ? In : never;
type OutputOf<R> = R extends OptionSpec<unknown, infer Out> ? Out : never;

type OptionInputs = { [K in OptionName]?: InputOf<Table[K]> };
/** identify()'s options: every row of OPTIONS, `activation` and `seed` required. */
export type IdentifyOptions = OptionInputs & Required<Pick<OptionInputs, 'activation' | 'seed'>>;
/** Every option checked, defaults applied; 'auto' where it resolves at run time. */
export type ResolvedOptions = { [K in OptionName]: OutputOf<Table[K]> };

/** An option's value in the report: 'auto' becomes the value used (or how it resolves), a missing width null. */
type Reported<T> = T extends 'auto' ? string : T extends undefined ? null : T;
type ReportedName = Exclude<OptionName, 'onProgress' | 'refinementData' | 'companions'>;
export type ReportedOptions = { [K in ReportedName]: Reported<OutputOf<Table[K]>> };
/** What the run resolved: the value used for each 'auto' (and the few options reported as used, e.g. the sampler's step; null: not used). */
export type UsedOptions = Partial<{ [K in ReportedName]: Exclude<Reported<OutputOf<Table[K]>>, string> | null }>;

/** An 'auto' option's value: the one given, or its row's rule applied to what the run knows. */
export function valueOf<F>(value: number | 'auto', row: { resolve: (facts: F) => number }, facts: F): number {
  return value === 'auto' ? row.resolve(facts) : value;
}

function defaultOf<In>(row: OptionSpec<In, unknown>): In | undefined {
  return typeof row.default === 'function' ? (row.default as () => In)() : row.default;
}

/** Checks every option in table order (the house template names the first bad one), defaults applied. */
export function resolveOptions(options: IdentifyOptions, inputDim: number): ResolvedOptions {
  if (!options || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const context: CheckContext = { inputDim };
  const given = options as Record<string, unknown>;
  const resolved: Record<string, unknown> = {};
  for (const [name, row] of Object.entries(OPTIONS) as [OptionName, OptionSpec<unknown, unknown>][]) {
    const value = row.check(given[name] === undefined ? defaultOf(row) : given[name], name, context);
    resolved[name] = value;
    if (name === 'width1') context.width1 = value as number | undefined;
    if (name === 'activation') context.layer1 = (value as ResolvedOptions['activation']).layer1;
  }
  return resolved as ResolvedOptions;
}

/** The report's `options`: every reported row, with the value used where the run resolved it. */
export function reportOptions(resolved: ResolvedOptions, used: UsedOptions): ReportedOptions {
  const out: Record<string, unknown> = {};
  for (const [name, row] of Object.entries(OPTIONS) as [OptionName, OptionSpec<unknown, unknown>][]) {
    if (row.unreported) continue;
    const value = name in used ? used[name as ReportedName] : resolved[name];
    out[name] = value === undefined ? null : value === 'auto' ? (row.auto ?? 'auto') : value;
  }
  return out as ReportedOptions;
}
