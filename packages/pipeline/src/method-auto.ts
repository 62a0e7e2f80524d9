/**
 * identify's method 'auto': the paper's pipeline or the student fit (@nnid/student-fit), chosen by
 * the budget and the network's size, and combined on the answers already paid (model 'paper', and
 * model 'general' with one output: studentFitGeneral):
 *
 * - the widths unknown: the pipeline (the fit must be told the shape);
 * - maxQueries below the pipeline's floor (budget.ts) plus PIPELINE_MARGIN P: the fit, on all of
 *   the budget (just above its floor the pipeline has too few Hessians: 1 of 3 exact at 6 P on
 *   (20, 10, 3) tanh, floor 5.75 P, 3 of 3 at 8 P; and a failed pipeline would leave the fit too
 *   few answers);
 * - otherwise the pipeline first (reliable, and faster where both run: BENCHMARKS.md), its fresh
 *   refinement points drawn from N(0, I_d) as the fit's (identify alone draws half of them on the
 *   unit sphere; so auto's bits differ from identify's); when its check fails, the fit on the
 *   answers its refinement fitted (those points, the shift fit's, and under a binding budget the
 *   stencils': handed over, not asked again) plus fresh Gaussian points with
 *   what is left of the budget (5 P in all without one), its first start the pipeline's refined
 *   network (the warm start), then fitStarts random ones. The pipeline's attempts are bounded
 *   (retryFactors [2, 1]: three, against up to thirteen alone) so that a hopeless pipeline (a
 *   failing general run: 13 x (15 short starts + 3 full fits)) does not spend minutes before the
 *   fit runs; without the widths no fit can follow and the pipeline keeps its own retries.
 *
 * No point is paid twice. report.method says what was tried, in which order, why, and each one's
 * residual and queries.
 *
 * @example
 * const { network, report } = await identifyAuto(oracle, { width1: 10, width2: 3, activation, seed: 1, maxQueries: 1215 });
 * report.method.chosen; // 'fit' (1215 queries are below the pipeline's floor at (20, 10, 3))
 */
import { checkPositive, generalParameterCount, invalidArgument, matrixFrom, type ActivationName, type GeneralNetwork, type Network, type Oracle } from '@nnid/core';
import { gaussianPoints, studentFit, studentFitGeneral, type StudentFitReport } from '@nnid/student-fit';
import { planWithinBudget } from './budget.ts';
import { identify } from './identify.ts';
import { resolveOptions, type IdentifyOptions } from './options.ts';
import type { PaidData } from './attempt.ts';
import type { IdentifyReport, IdentifyResult } from './report.ts';
import { budgetWidth2 } from './widths.ts';

/** The pipeline runs first when the budget is at least its floor plus this many P (see above). */
export const PIPELINE_MARGIN = 2;

export interface IdentifyAutoOptions extends IdentifyOptions {
  /**
   * Random starts of the fit at most when it runs (default 6: twice the fit's own 3; a start after
   * the first passing one is never run to its end, so more starts cost time only when the first fail).
   */
  fitStarts?: number;
  /** Data of the fit as a multiple of P when the budget does not set it (default 5, the issue's). */
  fitDataFactor?: number;
  /** Retry factors of the pipeline's attempts before the fit takes over (default [2, 1]: three attempts; without the widths, where no fit follows, identify's own). */
  retryFactors?: number[];
  /** The fit after a failed pipeline starts from the pipeline's refined network first (default true). */
  warmStart?: boolean;
  /** Below the pipeline's floor plus this many P the fit runs alone (default PIPELINE_MARGIN). */
  pipelineMargin?: number;
}

/** One method tried. */
export interface MethodTry {
  method: 'pipeline' | 'fit';
  why: string;
  /** Relative residual on its own data (null: it did not run to a network). */
  relativeResidual: number | null;
  passed: boolean;
  /** Queries it asked: all, paid, answered from memory or the store. */
  queries: { total: number; paid: number; reused: number };
  seconds: number;
  /** Why it stopped without a network (e.g. the budget). */
  error?: string;
  /** The fit after the pipeline: its warm start (the pipeline's refined network) and how it ended. */
  warmStart?: { fromResidual: number; relativeResidual: number; passed: boolean; iterations: number };
}

export interface MethodReport {
  chosen: 'pipeline' | 'fit';
  tried: MethodTry[];
  /** What the choice saw: the budget, P, the pipeline's floor at the widths (null: widths unknown). */
  maxQueries: number | null;
  parameterCount: number | null;
  pipelineFloor: number | null;
}

export interface IdentifyAutoReport {
  format: 'nnid.identify-auto-report/v1';
  method: MethodReport;
  queries: { total: number; paid: number; reused: number; multipleOfP: number | null };
  check: { relativeResidual: number | null; threshold: number; passed: boolean };
  seconds: { total: number };
  /** 'paper' or 'general' (the form fitted). */
  model: 'paper' | 'general';
  /** The pipeline's own report (null: not run), and the fit's. */
  pipeline: IdentifyReport | null;
  fit: StudentFitReport | null;
  warnings: string[];
}

/** The fit's result in either form. */
export interface AutoFitResult {
  network: Network | GeneralNetwork;
  report: StudentFitReport;
}

export interface IdentifyAutoResult {
  /**
   * The network found in the paper's form. With model 'general' (see networkGeneral) the
   * pipeline's network before refinement, or, when the pipeline did not run, the fit's hidden
   * layers in the paper's fields (W1 as A, b1 as theta, W2 as B, b2 as tau: rows not unit).
   */
  network: Network;
  /** With model 'general': the general network found (nnid.network/v2), else null. */
  networkGeneral: GeneralNetwork | null;
  report: IdentifyAutoReport;
  /** The pipeline's result when it ran to a network (its networkBeforeRefinement, refinementData). */
  pipeline: IdentifyResult | null;
  fit: AutoFitResult | null;
}

/** A general network's hidden layers in the paper's fields (no copy; rows keep their norms). */
function paperFields(g: GeneralNetwork): Network {
  return { activation: { ...g.activation }, inputDim: g.inputDim, width1: g.width1, width2: g.width2, A: g.W1, theta: g.b1, B: g.W2, tau: g.b2 };
}

const since = (t: number) => (performance.now() - t) / 1000;

/** identify with method 'auto' (see the file's comment). */
export async function identifyAuto(oracle: Oracle, options: IdentifyAutoOptions): Promise<IdentifyAutoResult> {
  const startedAt = performance.now();
  if (!oracle || typeof oracle.evaluate !== 'function' || typeof oracle.counts !== 'function') invalidArgument('oracle', 'must be an Oracle (see createOracle)', oracle);
  const { fitStarts = 6, fitDataFactor = 5, warmStart = true, pipelineMargin = PIPELINE_MARGIN, ...identifyOptions } = options ?? ({} as IdentifyAutoOptions);
  checkPositive('pipelineMargin', pipelineMargin, true);
  const resolved = resolveOptions({ retryFactors: [2, 1], ...identifyOptions }, oracle.inputDim);
  const d = oracle.inputDim;
  const o = oracle;
  const start = o.counts();
  const spent = () => {
    const c = o.counts();
    return { total: c.total - start.total, paid: c.paid - start.paid, reused: c.reused - start.reused };
  };
  const B = resolved.maxQueries;
  const m0 = resolved.width1;
  const m1 = resolved.width2 ?? (m0 !== undefined ? budgetWidth2(resolved, m0) : undefined);
  const general = resolved.model === 'general';
  const P = m0 !== undefined && m1 !== undefined ? (general ? generalParameterCount({ inputDim: d, width1: m0, width2: m1, outputs: 1 }) : d * m0 + m0 + m0 * m1 + m1) : null;
  const floor = m0 !== undefined ? planWithinBudget(resolved, Number.MAX_SAFE_INTEGER, { inputDim: d, width1: m0, reducedDim: resolved.reduceToRange ? m0 : d }).floor.total : null;
  const fitPossible = resolved.width1 !== undefined && resolved.width2 !== undefined && (resolved.model === 'paper' || general) && resolved.refine;
  const tried: MethodTry[] = [];
  const warnings: string[] = [];
  let pipeline: IdentifyResult | null = null;
  let fit: AutoFitResult | null = null;
  const left = () => (B === undefined ? Infinity : B - spent().paid);

  const runFit = async (why: string, dataPoints: number, warm: { network: Network | GeneralNetwork; residual: number } | null = null, answers: PaidData | null = null) => {
    const t = performance.now();
    const before = spent();
    try {
      const fitOptions = {
        width1: resolved.width1!,
        width2: resolved.width2!,
        activation: resolved.activation as { layer1: ActivationName; layer2: ActivationName },
        seed: resolved.seed,
        threads: resolved.threads,
        starts: fitStarts,
        dataPoints,
        checkThreshold: resolved.retryResidual,
        ...(warm ? { startNetworks: [warm.network] } : {}),
        ...(answers ? { answers } : {}),
      };
      const result: AutoFitResult = general ? await studentFitGeneral(o, fitOptions) : await studentFit(o, fitOptions);
      fit = result;
      const q = spent();
      const first = result.report.starts[0];
      const warmReport = warm && first ? { warmStart: { fromResidual: warm.residual, relativeResidual: first.relativeResidual, passed: first.passed, iterations: first.iterations } } : {};
      tried.push({ method: 'fit', why, relativeResidual: result.report.check.relativeResidual, passed: result.report.check.passed, queries: diff(q, before), seconds: since(t), ...warmReport });
      warnings.push(...result.report.warnings);
    } catch (e) {
      tried.push({ method: 'fit', why, relativeResidual: null, passed: false, queries: diff(spent(), before), seconds: since(t), error: (e as Error).message });
    }
  };

  const runPipeline = async (why: string, refinementPoints: number) => {
    const t = performance.now();
    const before = spent();
    try {
      // the refinement's fresh points drawn from N(0, I_d), as the fit's (identify alone draws half
      // of them on the unit sphere): measured, the pipeline passed sooner on them (BENCHMARKS.md,
      // "The pipeline within the budget, and method 'auto'"); paid here, then handed to the fit
      let refinementData: IdentifyOptions['refinementData'];
      if (refinementPoints > 0) {
        const inputs = matrixFrom(gaussianPoints(refinementPoints, d, resolved.seed), refinementPoints, d);
        refinementData = { inputs, values: await o.evaluate(inputs) };
      }
      const maxQueries = B === undefined ? undefined : B - spent().paid;
      // bounded only when the fit can follow (a pipeline alone keeps its own retries)
      const retryFactors = fitPossible ? resolved.retryFactors : identifyOptions.retryFactors;
      pipeline = await identify(o, { ...identifyOptions, ...(retryFactors ? { retryFactors } : {}), ...(maxQueries !== undefined ? { maxQueries } : {}), ...(refinementData ? { refinementData } : {}) });
      const check = pipeline.report.check;
      tried.push({ method: 'pipeline', why, relativeResidual: check.relativeResidual, passed: check.passed === true, queries: diff(spent(), before), seconds: since(t) });
      warnings.push(...pipeline.report.warnings.map((w) => `pipeline: ${w}`));
    } catch (e) {
      tried.push({ method: 'pipeline', why, relativeResidual: null, passed: false, queries: diff(spent(), before), seconds: since(t), error: (e as Error).message });
    }
  };

  if (!fitPossible) {
    await runPipeline(!resolved.refine ? 'refine false: the fit is a refinement' : 'width1 or width2 not given: the fit must be told the shape', 0);
  } else if (B !== undefined && floor !== null && B < floor + pipelineMargin * P!) {
    const where = B < floor ? 'below' : `within ${pipelineMargin} P above`;
    await runFit(`maxQueries ${B} (${(B / P!).toFixed(2)} P) is ${where} the pipeline's floor ${floor} (${(floor / P!).toFixed(2)} P): the fit on all of it`, B);
  } else {
    // the refinement's fresh points as the plan within what is left counts them
    const plan = planWithinBudget(resolved, B ?? Number.MAX_SAFE_INTEGER, { inputDim: d, width1: m0!, reducedDim: resolved.reduceToRange ? m0! : d });
    await runPipeline(
      B === undefined
        ? 'no budget given: the pipeline first (every run exact where measured; faster than the fit where both run)'
        : `maxQueries ${B} (${(B / P!).toFixed(2)} P) >= the pipeline's floor ${floor} (${(floor! / P!).toFixed(2)} P) + ${pipelineMargin} P: the pipeline first`,
      plan.counts.refineDataPoints,
    );
    const last = tried[tried.length - 1];
    if (!last.passed) {
      const ran = pipeline as IdentifyResult | null;
      // the answers the pipeline's refinement fitted (its fresh points, the shift fit's, and under a
      // binding budget the stencils'): the fit's first data points, not asked again
      const answers = ran?.refinementData ?? null;
      const inHand = answers ? answers.values.length : 0;
      const N = B === undefined ? Math.max(inHand, Math.floor(fitDataFactor * P!)) : inHand + Math.max(0, left());
      const warm = warmStart && ran && last.relativeResidual !== null ? { network: general ? ran.networkGeneral ?? ran.network : ran.network, residual: last.relativeResidual } : null;
      const from = warm ? `, its first start the pipeline's refined network (residual ${warm.residual.toExponential(2)}), then ${fitStarts} random` : '';
      if (N > P!) await runFit(`the pipeline's ${last.error ? 'run stopped' : 'check failed'}: the fit on the ${inHand} answers its refinement fitted and ${N - inHand} fresh Gaussian ones${from}`, N, warm, answers);
      else tried.push({ method: 'fit', why: `not run: ${N} answers within the budget are not more than P = ${P}`, relativeResidual: null, passed: false, queries: { total: 0, paid: 0, reused: 0 }, seconds: 0 });
    }
  }

  // the first that passed; else the smallest residual on its own data
  const ran = tried.filter((x) => x.relativeResidual !== null);
  if (ran.length === 0) throw tryError(tried);
  const passedTry = ran.find((x) => x.passed);
  const chosenTry = passedTry ?? ran.reduce((a, b) => ((b.relativeResidual as number) < (a.relativeResidual as number) ? b : a));
  const chosen = chosenTry.method;
  const fitResult = fit as AutoFitResult | null;
  const pipelineResult = pipeline as IdentifyResult | null;
  const networkGeneral = !general ? null : chosen === 'fit' ? (fitResult!.network as GeneralNetwork) : pipelineResult!.networkGeneral;
  const network = chosen === 'fit' ? (general ? (pipelineResult?.network ?? paperFields(fitResult!.network as GeneralNetwork)) : (fitResult!.network as Network)) : pipelineResult!.network;
  if (!passedTry) warnings.push(`no method passed the truth-free check: best relative residual ${(chosenTry.relativeResidual as number).toExponential(2)} (${chosen})`);
  const q = spent();
  const threshold = chosen === 'fit' ? fitResult!.report.check.threshold : pipelineResult!.report.check.threshold;
  return {
    network,
    networkGeneral,
    pipeline,
    fit,
    report: {
      format: 'nnid.identify-auto-report/v1',
      model: general ? 'general' : 'paper',
      method: { chosen, tried, maxQueries: B ?? null, parameterCount: P, pipelineFloor: floor },
      queries: { ...q, multipleOfP: P === null ? null : q.total / P },
      check: { relativeResidual: chosenTry.relativeResidual, threshold, passed: chosenTry.passed },
      seconds: { total: since(startedAt) },
      pipeline: (pipeline as IdentifyResult | null)?.report ?? null,
      fit: fitResult?.report ?? null,
      warnings,
    },
  };
}

function diff(a: { total: number; paid: number; reused: number }, b: { total: number; paid: number; reused: number }) {
  return { total: a.total - b.total, paid: a.paid - b.paid, reused: a.reused - b.reused };
}

function tryError(tried: MethodTry[]): Error {
  const err = new Error(`identify (method 'auto'): no method ran to a network: ${tried.map((t) => `${t.method}: ${t.error ?? t.why}`).join('; ')}`);
  return err;
}
