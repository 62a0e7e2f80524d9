/**
 * identify's report (DESIGN.md section 4), typed from the stage reports: every option resolved, the
 * widths and where they came from, the plan, queries and seconds per stage (one vocabulary,
 * stages.ts), the spectra, the candidates, every attempt, the truth-free check and the noise level.
 */
import { generalParameterCount, parameterCount, type Float64View, type GeneralNetwork, type Network, type NetworkJson } from '@nnid/core';
import type { SampleReport } from '@nnid/hessian-sampler';
import type { RangeReport } from '@nnid/subspace';
import type { CandidateReport } from './attempt.ts';
import type { AttemptReport, AttemptResult } from './attempt-refine.ts';
import { OPTIONS, reportOptions, valueOf, type ReportedOptions, type ResolvedOptions, type UsedOptions } from './options.ts';
import type { QueryPlan } from './plan.ts';
import type { BudgetPlan } from './budget.ts';
import type { NoiseLevel, RangeOfA, Hessians } from './sample-stages.ts';
import { PAYING_STAGES, type IdentifyStage, type PayingStage, type Run, type StageQueries } from './stages.ts';
import type { FirstWidth, WidthEvidence } from './widths.ts';

export interface IdentifyReport {
  format: 'nnid.identify-report/v1';
  /** Every option, with each 'auto' resolved to the value used. */
  options: ReportedOptions & { subspaceDimensionsTried: number[]; width2Tried: number[] };
  /** With a width inferred, `evidence`: the spectrum gaps that chose them and the residuals of one unit fewer (widths.ts). */
  widths: { width1: number; width1Source: string; width2: number; width2Source: string; inputDim: number; reducedDim: number; evidence?: WidthEvidence };
  parameterCount: number;
  /** The queries planned before the first query (revised once m0 is known from range(A)). */
  plan: QueryPlan;
  /** With maxQueries: the stages' counts within it, whether it bound, the pipeline's floor (budget.ts); else null. */
  budget: BudgetPlan | null;
  queries: StageQueries &
    Record<PayingStage, number> & {
      /** total / P. */
      multipleOfP: number;
      byStage: Record<PayingStage, StageQueries>;
    };
  /** Seconds per stage (a stage run by several attempts adds up), and in total. */
  seconds: Partial<Record<IdentifyStage, number>> & { total: number };
  threads: number;
  /** Singular values of the gradient and Hessian stacks; hessianRows: the Hessians stacked (the points', times k with every output's: identifyOutputs' outputHessians 'all'). */
  spectrum: { gradients: number[] | null; hessians: number[]; hessianRows: number };
  candidates: CandidateReport[];
  attributionMargin: number | null;
  /** range: with a noisy oracle and m0 inferred, `centralCompletion` says whether the forward gradients were completed to central differences (rows paid, the forward stack's spectrum) or why not. */
  stages: { range: (RangeReport & { centralCompletion?: RangeOfA['centralCompletion'] }) | null; gradients: SampleReport | null; hessians: SampleReport };
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
  noise: NoiseLevel;
  warnings: string[];
}

export interface IdentifyResult {
  /**
   * The network found in the paper's form. With model 'general' this is the paper's pipeline
   * alone (the form cannot hold the general network): the result is `networkGeneral`.
   */
  network: Network;
  /** With model 'general' (and refinement): the general network found (nnid.network/v2), else null. */
  networkGeneral: GeneralNetwork | null;
  /** The (input, output) pairs the refinement fitted (its fresh points and the shift fit's), or null without refinement. */
  refinementData: { inputs: Float64View; values: Float64Array } | null;
  /** The paper's pipeline alone (before refinement). */
  networkBeforeRefinement: Network;
  report: IdentifyReport;
}

/** The attempt identify returns: the smallest residual (after refinement when there is one). */
export function chooseAttempt(attempts: readonly AttemptResult[]): number {
  const score = (x: AttemptResult) => x.report.refinedResidual ?? x.report.pipelineResidual;
  let best = 0;
  for (let a = 1; a < attempts.length; a++) if (score(attempts[a]) < score(attempts[best])) best = a;
  return best;
}

export interface RunRecord {
  options: ResolvedOptions;
  run: Run;
  startedAt: number;
  inputDim: number;
  plan: QueryPlan;
  noise: NoiseLevel;
  rangeOfA: RangeOfA;
  width1: FirstWidth;
  hessians: Hessians;
  firstSubspaceDimension: number;
  attempts: AttemptResult[];
  lanes: { lanes: number; fromAttempt: number | null };
  threshold: number;
  warnings: string[];
  refinementData: { inputs: Float64View; values: Float64Array } | null;
  budget?: BudgetPlan | null;
}

export function buildResult(record: RunRecord): IdentifyResult {
  const { options, run, attempts, hessians } = record;
  const best = chooseAttempt(attempts);
  const chosen = attempts[best];
  const residual = options.refine ? chosen.report.refinedResidual : chosen.report.pipelineResidual;
  const passed = options.refine ? residual !== null && residual <= record.threshold : null;
  const warnings = [...record.warnings];
  if (options.refine && !passed) warnings.push(`no attempt passed the truth-free check: best relative residual ${residual?.toExponential(2)}`);
  const byStage = run.queries;
  const sum = (key: keyof StageQueries) => PAYING_STAGES.reduce((s, stage) => s + byStage[stage][key], 0);
  const total = sum('total');
  const P = chosen.networkGeneral ? generalParameterCount(chosen.networkGeneral) : parameterCount(chosen.network);
  const used: UsedOptions = {
    gradientPoints: record.rangeOfA.gradientPoints,
    hessianPoints: hessians.budget.points,
    hessianBudget: hessians.budget.queries / hessians.budget.parameterCount,
    step: hessians.report.step,
    subspaceDimension: record.firstSubspaceDimension,
    noise: record.noise.sigma,
    gradientStep: record.noise.gradientStep,
    starts: valueOf(options.starts, OPTIONS.starts, { width1: record.width1.width1, width2: hessians.width2 }),
    shiftDataPoints: chosen.report.shifts.dataPoints,
    refineDataPoints: chosen.report.refine ? chosen.report.refine.dataPoints : null,
  };
  const report: IdentifyReport = {
    format: 'nnid.identify-report/v1',
    options: {
      ...reportOptions(options, used),
      subspaceDimensionsTried: attempts.map((x) => x.report.subspaceDimension),
      width2Tried: attempts.map((x) => x.report.width2),
    },
    widths: {
      width1: record.width1.width1,
      width1Source: record.width1.source,
      width2: chosen.report.width2,
      width2Source: chosen.width2Source,
      inputDim: record.inputDim,
      reducedDim: record.rangeOfA.reducedDim,
    },
    parameterCount: P,
    plan: record.plan,
    budget: record.budget ?? null,
    queries: {
      total,
      paid: sum('paid'),
      reused: sum('reused'),
      noise: byStage.noise.total,
      gradients: byStage.gradients.total,
      hessians: byStage.hessians.total,
      shifts: byStage.shifts.total,
      refine: byStage.refine.total,
      multipleOfP: total / P,
      byStage,
    },
    seconds: { ...run.seconds, total: (performance.now() - record.startedAt) / 1000 },
    threads: options.threads,
    spectrum: { gradients: record.rangeOfA.range?.singularValues ?? null, hessians: hessians.spectrum, hessianRows: hessians.stack.shape[0] },
    candidates: chosen.report.candidates,
    attributionMargin: chosen.report.attributionMargin,
    stages: {
      range: record.rangeOfA.range ? { ...record.rangeOfA.range.report, ...(record.rangeOfA.centralCompletion ? { centralCompletion: record.rangeOfA.centralCompletion } : {}) } : null,
      gradients: record.rangeOfA.gradients,
      hessians: hessians.report,
    },
    attempts: attempts.map((x) => x.report),
    chosenAttempt: best,
    parallelAttempts: record.lanes,
    networkBeforeRefinement: chosen.report.networkBeforeRefinement,
    check: {
      relativeResidual: residual,
      threshold: record.threshold,
      passed,
      on: options.refine ? 'refine-data' : 'shift-data',
      noise: record.noise.sigma,
      noiseFloor: record.threshold > options.retryResidual,
    },
    noise: record.noise,
    warnings,
  };
  return { network: chosen.network, networkGeneral: chosen.networkGeneral, networkBeforeRefinement: chosen.networkBeforeRefinement, refinementData: record.refinementData, report };
}
