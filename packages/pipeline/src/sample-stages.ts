/**
 * identify's stages before the attempts, each paying for its queries: the oracle's noise level,
 * range(A) from gradients at 0 and on the sphere, and the Hessians in the reduced coordinates
 * (with the m1 the attempts count with, from their spectrum). Worker pools start only where they
 * pay: one (tsx in every worker) costs ~0.3-1 s, while an in-process network answers ~1e6
 * queries/s in the main thread; the results do not depend on where the work runs.
 */
import { matrix, toDense, type Float64View, type Oracle } from '@nnid/core';
import {
  createSamplerPool,
  estimateNoise,
  sampleGradients,
  sampleHessians,
  spherePoints,
  type HessianOptions,
  type NoiseReport,
  type SamplerPool,
  type SampleReport,
} from '@nnid/hessian-sampler';
import { estimateRange, estimateSubspace, type RangeReport } from '@nnid/subspace';
import { createSolverPool, type SolverPool } from '@nnid/rank1-solver';
import { stageSeed } from './identify-geometry.ts';
import { OPTIONS, valueOf, type ResolvedOptions } from './options.ts';
import { gradientPointsOf, NOISE_LINES, NOISE_STEPS } from './plan.ts';
import { hessianBudget, type HessianBudget } from './hessian-budget.ts';
import type { Run } from './stages.ts';
import { gradientErrorLevel, RANGE_TAIL_FACTOR, spectrumWidth2 } from './widths.ts';

/** Sampling jobs of at least this many (queries x inputDim) use worker threads (~0.1 s of work). */
const SAMPLER_WORKERS_FROM = 2e7;
/** Rank-one searches of at least this many estimated flops use worker threads (~0.3 s of work). */
const SOLVER_WORKERS_FROM = 3e8;

/** The worker pools of a run, started when a job is large enough, closed at its end. */
export class Pools {
  sampler: SamplerPool | null = null;
  solver: SolverPool | null = null;
  constructor(
    private readonly oracle: Oracle,
    private readonly threads: number,
  ) {}
  /** Where a sampling job of `queries` runs. */
  samplerFor(queries: number): { pool: SamplerPool } | { threads: number } {
    if (this.threads > 1 && typeof this.oracle.workerSpec === 'function' && queries * this.oracle.inputDim >= SAMPLER_WORKERS_FROM) {
      this.sampler ??= createSamplerPool({ threads: this.threads });
      return { pool: this.sampler };
    }
    return { threads: 1 };
  }
  async close(): Promise<void> {
    await Promise.all([this.sampler?.close(), this.solver?.close()]);
  }
}

export interface NoiseLevel {
  sigma: number;
  source: 'estimated' | 'given';
  estimate: NoiseReport | null;
  gradientStep: number;
  hessianStep: number;
}

/**
 * The oracle's noise level as identify's noise stage measures it (NOISE_LINES lines of NOISE_STEPS + 1
 * points, 45 queries, from the seed's stage stream): sigma, 0 when the answers read as exact.
 *
 * @example
 * const { sigma, queries } = await probeNoise(oracle, 1); // a float32 model: sigma ~1e-8 - 1e-7
 */
export async function probeNoise(oracle: Oracle, seed: number): Promise<{ sigma: number; queries: number; report: NoiseReport }> {
  const result = await estimateNoise(oracle, { seed: stageSeed(seed, 7), points: NOISE_LINES, steps: NOISE_STEPS });
  return { sigma: result.report.exact ? 0 : result.sigma, queries: result.queries, report: result.report };
}

/** The oracle's noise level (estimated unless given) and the finite-difference steps it sets. */
export async function noiseLevel(run: Run, oracle: Oracle, options: ResolvedOptions): Promise<NoiseLevel> {
  let sigma = options.noise === 'auto' ? 0 : options.noise;
  let estimate: NoiseReport | null = null;
  if (options.noise === 'auto') {
    const result = await run.stage('noise', () => probeNoise(oracle, options.seed));
    estimate = result.report;
    sigma = result.sigma;
  }
  // noisy: steps that balance truncation and noise error, scaled by the activation's row of SAMPLING
  const layer1 = options.activation.layer1;
  return {
    sigma,
    source: options.noise === 'auto' ? 'estimated' : 'given',
    estimate,
    gradientStep: valueOf(options.gradientStep, OPTIONS.gradientStep, { scheme: options.gradientScheme, sigma, layer1 }),
    hessianStep: valueOf(options.step, OPTIONS.step, { scheme: options.scheme, sigma, layer1 }),
  };
}

export interface RangeOfA {
  /** d x r basis, or null (no reduction: r = d). */
  basis: Float64View | null;
  reducedDim: number;
  gradientAtZero: Float64Array | null;
  gradientPoints: number;
  /** The gradients' rows paid (the forward stencils, and the central completion's when it ran). */
  gradientQueries: number;
  /** The forward gradients completed to central differences (noisyRangeCentral): its rows; null when it did not run, with why. */
  centralCompletion: { rows: number; forwardSingularValues: number[] } | { rows: null; why: string } | null;
  range: { dimension: number; dimensionSource: string; report: RangeReport; singularValues: number[] } | null;
  gradients: SampleReport | null;
}

/**
 * The smallest relative gap sigma_m0 / sigma_(m0+1) of the gradients' spectrum accepted as range(A)'s
 * edge when the oracle is noisy (sigma > 0 measured or given; exact oracles keep estimateRange's 1e3).
 * A float32 model's rounding lifts the spectrum's tail from ~1e-8 to ~1e-4 - 1e-3, so the edge's gap
 * falls from ~5e5 to 37-70 (scikit-learn and PyTorch tanh regressors exported in float32: gaps 37, 70
 * and 47 at the true m0 = 7, 8, 9, where 1e3 took m0 = d = 10 and the run went on with 3 dead units).
 */
export const NOISY_RANGE_GAP = 20;

/** range(A) from forward-difference gradients at 0 (row 0) and on the sphere (completed to central differences on a noisy oracle with m0 inferred); none without the reduction. */
export async function rangeOfA(run: Run, oracle: Oracle, options: ResolvedOptions, noise: NoiseLevel, pools: Pools, allows: (rows: number, gradientPoints: number) => boolean = () => true): Promise<RangeOfA> {
  const d = oracle.inputDim;
  if (!options.reduceToRange) return { basis: null, reducedDim: d, gradientAtZero: null, gradientPoints: 0, gradientQueries: 0, centralCompletion: null, range: null, gradients: null };
  const gradientPoints = gradientPointsOf(options, d);
  const points = matrix(gradientPoints, d, { shared: true });
  const sampled = await run.stage('gradients', () => {
    const sphere = spherePoints(gradientPoints - 1, d, options.radius, stageSeed(options.seed, 1));
    points.data.set(sphere.data.subarray(0, (gradientPoints - 1) * d), d); // row 0 stays x = 0
    return sampleGradients(oracle, points, {
      ...pools.samplerFor(gradientPoints * 2 * d),
      scheme: options.gradientScheme,
      step: noise.gradientStep,
      onProgress: (k, n) => run.step('gradients', k, n),
    });
  });
  // noisy: a gap is the edge only where the values beyond it are at the gradients' error level; a
  // central completion keeps the forward stack's level, an upper bound on its own error (its
  // h^2 / 6 truncation is not estimated: measured, the true edge's next value lies 10-100x below)
  const level = noise.sigma > 0 ? gradientErrorLevel(sampled.gradientStack, { step: noise.gradientStep, sigma: noise.sigma, radius: options.radius, scheme: options.gradientScheme }) : null;
  // noisy, m0 inferred: the forward stack completed to central differences (its error ~1e-5 against
  // ~1e-3 on a float32 model) before the dimension is read, when the budget leaves room
  const completing = noise.sigma > 0 && options.noisyRangeCentral && options.width1 === undefined && options.gradientScheme === 'forward';
  const rows = gradientPoints * (d + 1);
  const completed = completing && allows(rows, gradientPoints);
  const centralCompletion: RangeOfA['centralCompletion'] = !completing
    ? null
    : completed
      ? { rows, forwardSingularValues: estimateRange(sampled.gradientStack, { dimension: 1 }).report.singularValues }
      : { rows: null, why: `its ${rows} rows would leave maxQueries ${options.maxQueries} below the floor` };
  const gradientStack = completed ? await run.stage('gradients', () => completeToCentral(oracle, points, sampled.gradientStack, noise.gradientStep)) : sampled.gradientStack;
  const gradientQueries = sampled.queries + (completed ? rows : 0);
  const range = await run.stage('range', () =>
    estimateRange(gradientStack, {
      dimension: options.width1 ?? 'auto',
      ...(noise.sigma > 0 ? { gapThreshold: NOISY_RANGE_GAP } : {}),
      ...(level !== null && level > 0 ? { tailBound: RANGE_TAIL_FACTOR * level } : {}),
    }),
  );
  return {
    basis: range.basis,
    reducedDim: range.dimension,
    gradientAtZero: Float64Array.from(toDense(gradientStack).data.subarray(0, d)),
    gradientPoints,
    gradientQueries,
    centralCompletion,
    range: { dimension: range.dimension, dimensionSource: range.dimensionSource, report: range.report, singularValues: range.report.singularValues },
    gradients: sampled.report,
  };
}

/**
 * Forward-difference gradients completed to central differences: f(x - h e_j) for each point x and
 * coordinate j, and f(x) again, asked in one batch (g (d + 1) rows); each entry becomes
 * (forward + backward) / 2, which is (f(x + h e_j) - f(x - h e_j)) / 2h for a deterministic oracle:
 * its truncation is h^2 / 6 against the forward difference's (h / 2) diag(H), which lies outside
 * range(A) and, on a float32 model at the noise-aware step, hides a weak direction of A (the torch
 * gelu and scikit-learn sigmoid wine classifiers: gap 5.3-5.7 at the true m0 forward, 120-215
 * central; BENCHMARKS.md, "The gradients completed to central differences").
 *
 * @example
 * const central = await completeToCentral(oracle, points, forwardStack, 1.5e-3);
 */
export async function completeToCentral(oracle: Oracle, points: Float64View, forward: Float64View, step: number): Promise<Float64View> {
  const [g, d] = points.shape;
  const X = toDense(points).data;
  const F = toDense(forward).data;
  const Q = matrix(g * (d + 1), d, { shared: true });
  for (let i = 0; i < g; i++) {
    const x = X.subarray(i * d, (i + 1) * d);
    const base = i * (d + 1);
    Q.data.set(x, base * d);
    for (let j = 0; j < d; j++) {
      const row = (base + 1 + j) * d;
      Q.data.set(x, row);
      Q.data[row + j] = x[j] - step;
    }
  }
  const y = await oracle.evaluate(Q);
  const out = matrix(g, d, { shared: true });
  for (let i = 0; i < g; i++) {
    const fx = y[i * (d + 1)];
    for (let j = 0; j < d; j++) out.data[i * d + j] = 0.5 * (F[i * d + j] + (fx - y[i * (d + 1) + 1 + j]) / step);
  }
  return out;
}

/**
 * The oracle's Hessian stack with its companions' (options.companions: other outputs of the same
 * black box) at the same points stacked under it, on the main thread (their rows are answers
 * already paid: the points and step are the oracle's). No companions: `own` itself.
 */
export async function withCompanions(own: Float64View, companions: readonly Oracle[], points: Float64View, sampleOptions: HessianOptions): Promise<Float64View> {
  if (companions.length === 0) return own;
  const stacks = [toDense(own)];
  for (const companion of companions) stacks.push(toDense((await sampleHessians(companion, points, { ...sampleOptions, threads: 1 })).hessianStack));
  const cols = own.shape[1];
  const out = matrix(stacks.reduce((n, m) => n + m.shape[0], 0), cols);
  let at = 0;
  for (const m of stacks) {
    out.data.set(m.data.subarray(0, m.shape[0] * cols), at);
    at += m.shape[0] * cols;
  }
  return out;
}

export interface Hessians {
  stack: Float64View;
  budget: HessianBudget;
  report: SampleReport;
  /** Singular values of the stack. */
  spectrum: number[];
  /** m1 for dimensions and starts (given, or from the spectrum). */
  width2: number;
  width2Source: string;
}

/** The Hessians the budget buys, in the reduced coordinates; the solver's pool starts meanwhile when the searches will be large. */
export async function hessians(
  run: Run,
  oracle: Oracle,
  options: ResolvedOptions,
  at: { width1: number; rangeOfA: RangeOfA; noise: NoiseLevel; paidBefore: number },
  pools: Pools,
): Promise<Hessians> {
  const d = oracle.inputDim;
  const m0 = at.width1;
  const r = at.rangeOfA.reducedDim;
  const U = at.rangeOfA.basis;
  const budget = hessianBudget(options, { inputDim: d, width1: m0, reducedDim: r, paidBefore: at.paidBefore });
  const sampled = await run.stage('hessians', async () => {
    const points = spherePoints(budget.points, d, options.radius, stageSeed(options.seed, 2));
    const k = Math.round(1.5 * (m0 + budget.width2));
    const cost = 10 * (m0 + budget.width2) * 30 * 2 * k * ((r * (r + 1)) / 2);
    if (options.threads > 1 && cost >= SOLVER_WORKERS_FROM) pools.solver = createSolverPool({ threads: options.threads });
    const sampleOptions = { scheme: options.scheme, step: at.noise.hessianStep, layout: 'packed' as const, ...(U ? { basis: U } : {}) };
    const own = await sampleHessians(oracle, points, { ...pools.samplerFor(budget.points * budget.queriesPerHessian), ...sampleOptions, onProgress: (k, n) => run.step('hessians', k, n) });
    return { ...own, hessianStack: await withCompanions(own.hessianStack, options.companions, points, sampleOptions) };
  });
  const stack = sampled.hessianStack;
  const spectrum = await run.stage('subspace', () => estimateSubspace(stack, { layout: 'packed', dimension: 1 }).report.singularValues);
  const width2 = spectrumWidth2(options, spectrum, m0);
  return { stack, budget, report: sampled.report, spectrum, width2: width2.width2, width2Source: width2.source };
}
