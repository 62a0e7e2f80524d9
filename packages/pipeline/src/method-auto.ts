/**
 * identify's method 'auto': the paper's pipeline or the student fit (@nnid/student-fit), chosen by
 * the budget and the network's size, and combined on the answers already paid (model 'paper', and
 * model 'general' with one output: studentFitGeneral):
 *
 * - the widths unknown: the pipeline (the fit must be told the shape);
 * - maxQueries below the pipeline's floor (budget.ts) plus PIPELINE_MARGIN P: the fit, on all of
 *   the budget (just above its floor the pipeline has too few Hessians: 1 of 3 exact at 6 P on
 *   (20, 10, 3) tanh, floor 5.75 P, 3 of 3 at 8 P; and a failed pipeline would leave the fit too
 *   few answers); studentFitInRange: in range(A)'s coordinates (from m0 + 2 gradients, fitted as
 *   derivative equations too) where they give more equations per unknown and leave more Gaussian
 *   points than P, else the plain fit;
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
 * With the activations unknown (activation 'auto') or a width not given (pipelineAsIdentify, the
 * CLI's default for real black boxes): the pipeline exactly as identify runs it (its own points and
 * retries: identify's bits, but for the search's second pass: secondPassPairs 0 leaves it until the
 * fit failed), and when its check fails, the fit over candidate widths and pairs
 * (continueAfterPipeline): the m0 it found, m1 as found when given or established by the check,
 * else every m1 <= m0 (the pipeline's best failed residual per m1 first), times the activation
 * search's best-ranked pairs (FIT_PAIRS, rankedPairs; when those fail, the best PAIR_SCREEN_KEEP of
 * its other pairs by a screen at the pipeline's m1 and refits one layer away from the best screens); more candidates than SCREEN_ABOVE are screened (a
 * few LM iterations each) and fitted in full in the screen's order, each pair's best first, on the answers its refinement fitted plus
 * fresh Gaussian points within the budget; a passing network with m1 inferred sheds the units the
 * others can do without. identifyAutoOutputs does the same after identifyOutputs for k >= 1
 * outputs. Measured on held-out trained networks, the widths and pairs the pipeline hands over,
 * not the fit's starts, were what kept the fit from exact (BENCHMARKS.md, "The default for real
 * black boxes").
 *
 * No point is paid twice. report.method says what was tried, in which order, why, and each one's
 * residual, queries and CPU seconds.
 *
 * @example
 * const { network, report } = await identifyAuto(oracle, { width1: 10, width2: 3, activation, seed: 1, maxQueries: 1215 });
 * report.method.chosen; // 'fit' (1215 queries are below the pipeline's floor at (20, 10, 3))
 */
import { checkInteger, checkPositive, generalParameterCount, invalidArgument, parameterCount, matrixFrom, toDense, type ActivationName, type Float64View, type GeneralNetwork, type Network, type Oracle } from '@nnid/core';
import { DEAD_UNIT_REDRAWS, gaussianPoints, studentFit, studentFitGeneral, studentFitInRange, type MultiOutputSource, type StudentFitReport } from '@nnid/student-fit';
import { fitGeneralNetwork, fitNetwork } from '@nnid/refine';
import { SECOND_PASS_PAIRS, type ActivationSearchReport, type AutoIdentifyResult } from './activation-auto.ts';
import { planWithinBudget } from './budget.ts';
import { identify } from './identify.ts';
import { identifyOutputs, type IdentifyOutputsOptions, type IdentifyOutputsResult, type MultiOutputBlackBox } from './identify-outputs.ts';
import { resolveOptions, type IdentifyOptions } from './options.ts';
import type { PaidData } from './attempt.ts';
import type { IdentifyReport, IdentifyResult } from './report.ts';
import type { IdentifyProgress } from './stages.ts';
import { PRUNE_TOLERANCE, pruneDeadUnits, shrinkSecondLayerUnits } from './prune.ts';
import { budgetWidth2, type WidthEvidence } from './widths.ts';
import { HELD_OUT_POINTS, heldOutSet, heldOutText, type HeldOutCheck, type HeldOutSet, type HeldOutSource } from './held-out.ts';

/**
 * The activation search's pairs the fit tries after it failed (rankedPairs): as many as the search
 * runs in full (the probe and up to 4 short runs, activation-auto.ts), its closer judge. Measured:
 * the held-out PyTorch silu/tanh (5, 2) regressor's pair ranked 5th of those runs (3.4e-2; tanh/tanh
 * 1.5e-2 first); with 3 pairs the continuation's 30 fits over m1 1..5 ended at 1.3e-2.
 */
export const FIT_PAIRS = 5;

/** The pipeline runs first when the budget is at least its floor plus this many P (see above). */
export const PIPELINE_MARGIN = 2;

type Pair = { layer1: ActivationName; layer2: ActivationName };

export interface IdentifyAutoOptions extends Omit<IdentifyOptions, 'activation'> {
  /** As identify's; 'auto' searches the pairs (identify's activation 'auto') and makes the pipeline run as identify runs it. */
  activation: IdentifyOptions['activation'] | 'auto';
  /**
   * The pipeline run exactly as identify runs it (its own refinement points and retries: the same
   * bits as identify alone, but for the search's second pass: secondPassPairs), the fit only after its check fails, with the widths and the best
   * activation pairs it found, over other m1 when m1 is not established (see continueAfterPipeline). Default: true when `activation` is 'auto' or
   * a width is not given (no fit can be planned before the pipeline), false otherwise.
   */
  pipelineAsIdentify?: boolean;
  /** After a failed activation search: the fit tries this many of its best-ranked pairs at most (default FIT_PAIRS). */
  fitPairs?: number;
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
  /**
   * After a failed pipeline: no fit starts once the continuation has spent this many CPU seconds.
   * Default: no CPU bound (the continuation's work is bounded by FULL_FIT_ROUNDS, so that a seed
   * gives the same network on any machine); a bound given here makes a failing run's path depend on
   * the machine's speed.
   */
  continuationCpu?: number;
  /**
   * activation 'auto': pairs the search gives its second pass (activation-auto.ts) before the fit
   * over widths and pairs. Default 0: the fit first, the pass (for SECOND_PASS_PAIRS pairs) only
   * after the fit failed, then the fit again from the network it moved where it moved below the fit's best (secondPassAfterFit; k > 1:
   * identifyOutputs hands the pass on, and it runs unless the fit paid rows of a budget). The pass's
   * Hessians cost 5.5-23 P a search; where the fit passes without them they are not paid
   * (BENCHMARKS.md, "The default for real black boxes, session 10").
   */
  secondPassPairs?: number;
  /** activation 'auto': the search's long runs only for a pair that came within this relative residual (activation-auto.ts, default LONG_RUN_FROM). */
  longRunFrom?: number;
  /** After a failed pipeline: a screened candidate is fitted in full only when its screen came within this relative residual (default FULL_FIT_FROM; Infinity: every one, as before session 16). */
  fullFitFrom?: number;
  /**
   * After a failed pipeline: its fits' dead-unit redraw rounds per start (the continuation's full
   * fits and the fit with the widths given; student-fit's `deadUnitRedraws`: a start that ends above
   * the check with a dead or duplicate hidden unit has it redrawn and is refitted). Default
   * DEAD_UNIT_REDRAWS; 0: the fits as before session 17.
   */
  deadUnitRedraws?: number;
  /**
   * Rows from each of the held-out check's three distributions (held-out.ts): a network that passed
   * the truth-free check on its own data is judged again on fresh points, and fails there when its
   * residual on any of them is above HELD_OUT_FACTOR times the check's threshold (then the next method
   * runs as after a failed check). Default: HELD_OUT_POINTS when width1 or width2 is not given (surplus
   * units can fit the data without being the function), else 0 (none). Within maxQueries its rows are
   * kept back from the pipeline; it is not run (a warning says so) when they would be more than
   * HELD_OUT_BUDGET_SHARE of the budget.
   */
  heldOutPoints?: number;
}

/** The held-out check runs within a budget only when its rows are at most this share of it. */
export const HELD_OUT_BUDGET_SHARE = 0.1;

/**
 * The held-out set of a run (held-out.ts; null: none) and the rows kept back for it within the
 * budget `B`: `points` as given, else HELD_OUT_POINTS when a width is not given.
 */
function planHeldOut(source: HeldOutSource, outputs: number, seed: number, points: number | undefined, widthsGiven: boolean, B: number | undefined): { set: HeldOutSet | null; reserve: number; warning: string | null } {
  if (points !== undefined) checkInteger('heldOutPoints', points, 0);
  const n = points ?? (widthsGiven ? 0 : HELD_OUT_POINTS);
  if (n === 0) return { set: null, reserve: 0, warning: null };
  if (B !== undefined && 3 * n > HELD_OUT_BUDGET_SHARE * B) return { set: null, reserve: 0, warning: `held-out check not run: its ${3 * n} rows (heldOutPoints ${n} x 3 distributions) are more than ${HELD_OUT_BUDGET_SHARE * 100}% of maxQueries ${B}` };
  return { set: heldOutSet(source, { outputs, seed, points: n }), reserve: B === undefined ? 0 : 3 * n, warning: null };
}

/**
 * A try that passed its check judged on the held-out set (`set`, null: none): the verdict recorded
 * on the try (its rows added to its queries), the try failed when the verdict fails. Returns
 * whether it still passes.
 */
async function judgeTry(set: HeldOutSet | null, t: MethodTry, network: Network | GeneralNetwork, threshold: number, warnings: string[]): Promise<boolean> {
  if (!set || !t.passed) return t.passed;
  const verdict = await set.judge(network, threshold);
  t.heldOut = verdict;
  t.queries = { total: t.queries.total + verdict.rowsPaid, paid: t.queries.paid + verdict.rowsPaid, reused: t.queries.reused };
  if (!verdict.passed) {
    t.passed = false;
    warnings.push(`${t.method}${t.activation ? ` ${pairText(t.activation)}${t.widths ? ` (${t.widths.width1}, ${t.widths.width2})` : ''}` : ''}: passed on its own data (${t.relativeResidual?.toExponential(2)}) but ${heldOutText(verdict)}`);
  }
  return t.passed;
}

/**
 * The pipeline's passing general network with a width inferred, shrunk as a passing fit's is
 * (shrinkPassing on the data its refinement fitted, no query): identify prunes at PRUNE_TOLERANCE
 * only, and a float32 black box's near-copies need the larger tolerances. The shrink recorded on the
 * try `t` (and its held-out verdict); null: no unit goes.
 */
async function shrinkPipeline(t: MethodTry, network: GeneralNetwork, data: { inputs: Float64View; values: Float64Array }, threshold: number, given: { width1: boolean; width2: boolean }, heldOut: HeldOutSet | null, warnings: string[]): Promise<GeneralNetwork | null> {
  if (!t.passed || (given.width1 && given.width2)) return null;
  const shrunk = await shrinkPassing(network, data, threshold, { width1: !given.width1, width2: !given.width2, heldOut });
  if (!shrunk) return null;
  t.shrunk = shrunk.report;
  const verdict = heldOut?.verdict(shrunk.network);
  if (verdict) t.heldOut = verdict;
  warnings.push(`pipeline: ${shrunk.report.why}`);
  return shrunk.network;
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
  /** CPU seconds of the whole process (every thread) while it ran (process.cpuUsage). */
  cpuSeconds?: number;
  /** Why it stopped without a network (e.g. the budget). */
  error?: string;
  /** The fit after the pipeline: its warm start (the pipeline's refined network) and how it ended. */
  warmStart?: { fromResidual: number; relativeResidual: number; passed: boolean; iterations: number };
  /** The fit: the activations and widths it was given (after the pipeline: those it found, or a candidate m1). */
  activation?: Pair;
  widths?: { width1: number; width2: number };
  /** A fit after a failed pipeline: a short screen of one (m1, pair) candidate, or a full fit (continueAfterPipeline). */
  stage?: 'screen' | 'full';
  /** Its passing network with second-layer units removed whose work the others take up (m1 inferred). */
  shrunk?: { from: number; to: number; layer1?: { from: number; to: number }; relativeResidual: number; why: string };
  /** It passed its check on its own data: the held-out check's verdict (a failed one failed the try). */
  heldOut?: HeldOutCheck;
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
  /** The chosen network's truth-free check; heldOut: its held-out check (absent: not run). */
  check: { relativeResidual: number | null; threshold: number; passed: boolean; heldOut?: HeldOutCheck };
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
  /** The pipeline's result when it ran to a network (its networkBeforeRefinement, refinementData; report.activationSearch with activation 'auto'). */
  pipeline: AutoIdentifyResult | null;
  fit: AutoFitResult | null;
}

/** A general network's hidden layers in the paper's fields (no copy; rows keep their norms). */
function paperFields(g: GeneralNetwork): Network {
  return { activation: { ...g.activation }, inputDim: g.inputDim, width1: g.width1, width2: g.width2, A: g.W1, theta: g.b1, B: g.W2, tau: g.b2 };
}

const since = (t: number) => (performance.now() - t) / 1000;
const cpuSince = (c: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(c);
  return (u.user + u.system) / 1e6;
};

/** identify with method 'auto' (see the file's comment). */
export async function identifyAuto(oracle: Oracle, options: IdentifyAutoOptions): Promise<IdentifyAutoResult> {
  const startedAt = performance.now();
  if (!oracle || typeof oracle.evaluate !== 'function' || typeof oracle.counts !== 'function') invalidArgument('oracle', 'must be an Oracle (see createOracle)', oracle);
  const { fitStarts = 6, fitDataFactor = 5, warmStart = true, pipelineMargin = PIPELINE_MARGIN, pipelineAsIdentify, fitPairs = FIT_PAIRS, continuationCpu, secondPassPairs = 0, heldOutPoints, fullFitFrom = FULL_FIT_FROM, deadUnitRedraws = DEAD_UNIT_REDRAWS, ...identifyOptions } = options ?? ({} as IdentifyAutoOptions);
  checkInteger('deadUnitRedraws', deadUnitRedraws, 0, 100);
  if (typeof fullFitFrom !== 'number' || !(fullFitFrom > 0)) invalidArgument('fullFitFrom', 'must be a number > 0 (Infinity: no bound)', fullFitFrom);
  checkPositive('pipelineMargin', pipelineMargin, true);
  checkInteger('fitPairs', fitPairs, 1);
  if (continuationCpu !== undefined) checkPositive('continuationCpu', continuationCpu);
  const activationAuto = identifyOptions.activation === 'auto';
  // the options as the plan sees them (an unknown pair resolved as the search's probe: the plan does not depend on it)
  const resolved = resolveOptions({ retryFactors: [2, 1], ...identifyOptions, activation: activationAuto ? PROBE_PAIR : (identifyOptions.activation as Pair) } as IdentifyOptions, oracle.inputDim);
  const asIdentify = pipelineAsIdentify ?? (activationAuto || resolved.width1 === undefined || resolved.width2 === undefined);
  if (activationAuto && !asIdentify) invalidArgument('pipelineAsIdentify', "must be true with activation 'auto' (the fit must be told the activations: the pipeline's search finds them)", pipelineAsIdentify);
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
  let pipeline: AutoIdentifyResult | null = null;
  let fit: AutoFitResult | null = null;
  const held = planHeldOut(o, 1, resolved.seed, heldOutPoints, resolved.width1 !== undefined && resolved.width2 !== undefined, B);
  if (held.warning) warnings.push(held.warning);
  // the held-out set's rows kept back within the budget until it is paid
  const kept = () => (held.set && held.set.rowsPaid() === 0 ? held.reserve : 0);
  const left = () => (B === undefined ? Infinity : B - spent().paid - kept());
  // the pipeline's passing network shrunk (shrinkPipeline; null: not shrunk)
  let pipelineShrunk: GeneralNetwork | null = null;

  const runFit = async (why: string, dataPoints: number, warm: { network: Network | GeneralNetwork; residual: number } | null = null, answers: PaidData | null = null, inRange = false) => {
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
        // after a failed pipeline (not below its floor: studentFitInRange has its own redraws)
        ...(inRange ? {} : { deadUnitRedraws }),
      };
      // below the floor: studentFitInRange (range(A)'s coordinates where they give more equations per unknown, else the plain fit)
      const result: AutoFitResult = inRange ? await studentFitInRange(o, { ...fitOptions, model: general ? 'general' : 'paper' }) : general ? await studentFitGeneral(o, fitOptions) : await studentFit(o, fitOptions);
      fit = result;
      const q = spent();
      const first = result.report.starts[0];
      const warmReport = warm && first ? { warmStart: { fromResidual: warm.residual, relativeResidual: first.relativeResidual, passed: first.passed, iterations: first.iterations } } : {};
      tried.push({ method: 'fit', why, relativeResidual: result.report.check.relativeResidual, passed: result.report.check.passed, queries: diff(q, before), seconds: since(t), ...warmReport });
      warnings.push(...result.report.warnings);
      await judgeTry(held.set, tried[tried.length - 1], result.network, result.report.check.threshold, warnings);
    } catch (e) {
      tried.push({ method: 'fit', why, relativeResidual: null, passed: false, queries: diff(spent(), before), seconds: since(t), error: (e as Error).message });
    }
  };

  const runPipeline = async (why: string, refinementPoints: number, asIs = false) => {
    const t = performance.now();
    const before = spent();
    if (asIs) {
      // identify exactly as it runs alone (same options, same bits); its errors are identify's
      const cpu = process.cpuUsage();
      const maxQueries = B === undefined ? undefined : left();
      pipeline = await identify(o, { ...identifyOptions, ...(activationAuto ? { secondPassPairs } : {}), ...(maxQueries !== undefined ? { maxQueries } : {}) });
      const check = pipeline.report.check;
      tried.push({ method: 'pipeline', why, relativeResidual: check.relativeResidual, passed: check.passed === true, queries: diff(spent(), before), seconds: since(t), cpuSeconds: cpuSince(cpu) });
      warnings.push(...pipeline.report.warnings.map((w) => `pipeline: ${w}`));
      await judgeTry(held.set, tried[tried.length - 1], general ? pipeline.networkGeneral ?? pipeline.network : pipeline.network, check.threshold, warnings);
      return;
    }
    try {
      // the refinement's fresh points drawn from N(0, I_d), as the fit's (identify alone draws half
      // of them on the unit sphere): measured, the pipeline passed sooner on them (BENCHMARKS.md,
      // "The pipeline within the budget, and method 'auto'"); paid here, then handed to the fit
      let refinementData: IdentifyOptions['refinementData'];
      if (refinementPoints > 0) {
        const inputs = matrixFrom(gaussianPoints(refinementPoints, d, resolved.seed), refinementPoints, d);
        refinementData = { inputs, values: await o.evaluate(inputs) };
      }
      const maxQueries = B === undefined ? undefined : left();
      // bounded only when the fit can follow (a pipeline alone keeps its own retries)
      const retryFactors = fitPossible ? resolved.retryFactors : identifyOptions.retryFactors;
      pipeline = await identify(o, { ...(identifyOptions as IdentifyOptions), ...(retryFactors ? { retryFactors } : {}), ...(maxQueries !== undefined ? { maxQueries } : {}), ...(refinementData ? { refinementData } : {}) });
      const check = pipeline.report.check;
      tried.push({ method: 'pipeline', why, relativeResidual: check.relativeResidual, passed: check.passed === true, queries: diff(spent(), before), seconds: since(t) });
      warnings.push(...pipeline.report.warnings.map((w) => `pipeline: ${w}`));
      await judgeTry(held.set, tried[tried.length - 1], general ? pipeline.networkGeneral ?? pipeline.network : pipeline.network, check.threshold, warnings);
    } catch (e) {
      tried.push({ method: 'pipeline', why, relativeResidual: null, passed: false, queries: diff(spent(), before), seconds: since(t), error: (e as Error).message });
    }
  };

  if (asIdentify && resolved.refine && (general || resolved.model === 'paper')) {
    const unknown = [resolved.width1 === undefined || resolved.width2 === undefined ? 'width1 or width2 not given' : null, activationAuto ? "activation 'auto'" : null].filter((w) => w !== null);
    await runPipeline(
      `${unknown.length > 0 ? `${unknown.join(' and ')}: ` : ''}the pipeline first, as identify runs it${unknown.length > 0 ? ' (it finds what the fit must be told)' : ''}${passText(activationAuto, secondPassPairs)}; the fit only when its check fails`,
      0,
      true,
    );
    const last = tried[tried.length - 1];
    const ran = pipeline as AutoIdentifyResult | null;
    if (general && ran?.networkGeneral && ran.refinementData) {
      pipelineShrunk = await shrinkPipeline(last, ran.networkGeneral, ran.refinementData, ran.report.check.threshold, { width1: resolved.width1 !== undefined, width2: resolved.width2 !== undefined }, held.set, warnings);
    }
    const found = ran ? (general ? ran.networkGeneral : ran.network) : null;
    if (!last.passed && ran && found && ran.refinementData && last.relativeResidual !== null) {
      const continuation: Continuation = {
        source: o,
        outputs: 1,
        general,
        network: found,
        residual: last.relativeResidual,
        search: ran.report.activationSearch,
        answers: ran.refinementData,
        left: left(),
        threshold: ran.report.check.threshold,
        given: { width1: resolved.width1 !== undefined, width2: resolved.width2 !== undefined },
        evidence: ran.report.widths.evidence,
        cpuBound: continuationCpu,
        fullFitFrom,
        deadUnitRedraws,
        seed: resolved.seed,
        threads: resolved.threads,
        fitStarts,
        fitDataFactor,
        fitPairs,
        warmStart,
        counts: spent,
        heldOut: held.set,
        onProgress: identifyOptions.onProgress,
      };
      const cont = await continueAfterPipeline(continuation);
      tried.push(...cont.tried);
      warnings.push(...cont.warnings);
      if (cont.fit) fit = cont.fit;
      if (!cont.tried.some((x) => x.passed) && ran.secondPassLater) {
        const pass = await secondPassAfterFit(
          ran.secondPassLater,
          (later) => ({ network: general ? later.networkGeneral : later.network, residual: later.report.check.relativeResidual, passed: later.report.check.passed === true, search: later.report.activationSearch, answers: later.refinementData ?? null, evidence: later.report.widths.evidence }),
          continuation,
          cont.data,
          left,
          bestResidual(cont.fit),
        );
        pipeline = pass.result;
        tried.push(...pass.tried);
        warnings.push(...pass.warnings);
        if (closerFit(pass.fit, fit)) fit = pass.fit;
      }
    }
  } else if (!fitPossible) {
    await runPipeline(!resolved.refine ? 'refine false: the fit is a refinement' : 'width1 or width2 not given: the fit must be told the shape', 0);
  } else if (B !== undefined && floor !== null && B - held.reserve < floor + pipelineMargin * P!) {
    const where = B < floor ? 'below' : `within ${pipelineMargin} P above`;
    await runFit(`maxQueries ${B} (${(B / P!).toFixed(2)} P) is ${where} the pipeline's floor ${floor} (${(floor / P!).toFixed(2)} P): the fit on all of it${kept() > 0 ? ` but the held-out check's ${kept()} rows` : ''}`, B - kept(), null, null, true);
  } else {
    // the refinement's fresh points as the plan within what is left counts them
    const plan = planWithinBudget(resolved, B === undefined ? Number.MAX_SAFE_INTEGER : B - held.reserve, { inputDim: d, width1: m0!, reducedDim: resolved.reduceToRange ? m0! : d });
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
  const networkGeneral = !general ? null : chosen === 'fit' ? (fitResult!.network as GeneralNetwork) : (pipelineShrunk ?? pipelineResult!.networkGeneral);
  const network = chosen === 'fit' ? (general ? (pipelineResult?.network ?? paperFields(fitResult!.network as GeneralNetwork)) : (fitResult!.network as Network)) : pipelineResult!.network;
  if (!passedTry) warnings.push(`no method passed the truth-free check: best relative residual ${(chosenTry.relativeResidual as number).toExponential(2)} (${chosen})`);
  const q = spent();
  const threshold = chosen === 'fit' ? fitResult!.report.check.threshold : pipelineResult!.report.check.threshold;
  // widths found by the pipeline (not given): P of the network returned
  const count = P ?? (networkGeneral ? generalParameterCount(networkGeneral) : parameterCount(network));
  const heldOut = held.set?.verdict(networkGeneral ?? network);
  return {
    network,
    networkGeneral,
    pipeline,
    fit,
    report: {
      format: 'nnid.identify-auto-report/v1',
      model: general ? 'general' : 'paper',
      method: { chosen, tried, maxQueries: B ?? null, parameterCount: count, pipelineFloor: floor },
      queries: { ...q, multipleOfP: q.total / count },
      // a fit's own check (a passing fit's network shrunk: the smaller network's residual)
      check: { relativeResidual: chosen === 'fit' ? fitResult!.report.check.relativeResidual : (chosenTry.shrunk?.relativeResidual ?? chosenTry.relativeResidual), threshold, passed: chosenTry.passed, ...(heldOut ? { heldOut } : {}) },
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

/** The pipeline's result after the search's later second pass, as secondPassAfterFit reads it (k = 1 and k > 1 alike). */
export interface PassResult {
  network: Network | GeneralNetwork | null;
  residual: number | null;
  passed: boolean;
  search: ActivationSearchReport | undefined;
  answers: { inputs: Float64View; values: Float64Array } | null;
  evidence: WidthEvidence | undefined;
}

/**
 * The continuation failed: the activation search's second pass, held back until now
 * (secondPassPairs 0), then the continuation again from the network it moved, on the answers in
 * hand (`data`, the continuation's; no point paid twice), only where the pass moved it below both
 * the pipeline's residual (`continuation.residual`) and the first continuation's best (`fitBest`,
 * Infinity: none ran to a network): from a start no closer than the first continuation's best
 * network, the second one ended where the first had on every run measured (BENCHMARKS.md, "Method
 * auto for k > 1, session 12"). The pass's try first in `tried`, then the second continuation's
 * (or one 'not run' try saying why).
 */
export async function secondPassAfterFit<R>(later: () => Promise<R>, read: (r: R) => PassResult, continuation: Continuation, data: { inputs: Float64View; values: Float64Array } | null, left: () => number, fitBest: number): Promise<{ result: R; tried: MethodTry[]; warnings: string[]; fit: AutoFitResult | null }> {
  const t = performance.now();
  const cpu = process.cpuUsage();
  const before = continuation.counts();
  const result = await later();
  const moved = read(result);
  const tried: MethodTry[] = [{ method: 'pipeline', why: `the fit failed: the activation search's second pass for its ${SECOND_PASS_PAIRS} closest pairs (left out before the fit), from their best networks`, relativeResidual: moved.residual, passed: moved.passed, queries: diff(continuation.counts(), before), seconds: since(t), cpuSeconds: cpuSince(cpu) }];
  const warnings: string[] = [];
  if (moved.passed && moved.network) moved.passed = await judgeTry(continuation.heldOut ?? null, tried[0], moved.network, continuation.threshold, warnings);
  if (moved.passed || !moved.network || moved.residual === null) return { result, tried, warnings, fit: null };
  const skip = againSkipped(moved.residual, continuation.residual, fitBest);
  if (skip !== null) return { result, tried: [...tried, { method: 'fit', why: skip, relativeResidual: null, passed: false, queries: { total: 0, paid: 0, reused: 0 }, seconds: 0 }], warnings, fit: null };
  const again = await continueAfterPipeline({ ...continuation, network: moved.network, residual: moved.residual, search: moved.search, answers: data ?? moved.answers, left: left(), evidence: moved.evidence });
  return { result, tried: [...tried, ...again.tried], warnings: [...warnings, ...again.warnings], fit: again.fit };
}

/**
 * Why the continuation is not run again after the search's later second pass (null: it runs): the
 * pass moved the pipeline's network to `moved`, not below the pipeline's own residual `pipeline`,
 * or not below the first continuation's best `fitBest` (Infinity: it ran to no network).
 *
 * @example
 * againSkipped(8.9e-3, 3.53e-2, 1.43e-3); // "not run: the fit again after the search's second pass: ..."
 * againSkipped(1e-3, 3.53e-2, 1.43e-3); // null
 */
export function againSkipped(moved: number, pipeline: number, fitBest: number): string | null {
  if (moved < pipeline && moved < fitBest) return null;
  const below = moved >= pipeline ? `not below the pipeline's ${pipeline.toExponential(2)}` : `not below the first fit's best ${fitBest.toExponential(2)}`;
  return `not run: the fit again after the search's second pass: the pass moved the network to ${moved.toExponential(2)}, ${below} (from no closer a start, the fit again ended where the first had)`;
}

/** A fit's residual on its own data (Infinity: none). */
const bestResidual = (fit: AutoFitResult | null) => fit?.report.check.relativeResidual ?? Infinity;

/** Whether fit a ends closer than fit b (a passing fit closest; null: none). */
function closerFit(a: AutoFitResult | null, b: AutoFitResult | null): a is AutoFitResult {
  const r = (x: AutoFitResult | null) => (x === null ? Infinity : x.report.check.passed ? -1 : x.report.check.relativeResidual);
  return a !== null && r(a) < r(b);
}

/** The search's probe pair (activation-auto.ts's PROBE): what the plan is resolved with when the pair is unknown. */
const PROBE_PAIR: Pair = { layer1: 'tanh', layer2: 'tanh' };

const pairText = (p: Pair) => `${p.layer1}/${p.layer2}`;
/** The pipeline's why: how many pairs its activation search gives the second pass (secondPassPairs). */
const passText = (activationAuto: boolean, pairs: number) => (!activationAuto ? '' : pairs === 0 ? " but for the search's second pass (secondPassPairs 0: the fit first)" : ` with the search's second pass for ${pairs} pair${pairs === 1 ? '' : 's'}`);

/**
 * The pairs the fit tries after a failed pipeline, best first: with the activations given, those;
 * after activation 'auto', the search's candidates that ran in full by their residual, then the
 * others in the search's order (its screen's), `count` at most.
 *
 * @example
 * rankedPairs(result.report.activationSearch, result.networkGeneral.activation, 2); // [{ pair: { layer1: 'silu', layer2: 'tanh' }, why: '...' }, ...]
 */
export function rankedPairs(search: ActivationSearchReport | undefined, run: Pair, count: number): { pair: Pair; why: string }[] {
  if (!search || search.candidates.length === 0) return [{ pair: { layer1: run.layer1, layer2: run.layer2 }, why: 'the activations given' }];
  // the full runs (identify with the pair: the closer judge) by their residual, then the screened rest in the search's order
  const key = (c: ActivationSearchReport['candidates'][number]) => c.relativeResidual ?? Infinity;
  const ranked = search.candidates
    .map((c, i) => ({ c, i, k: key(c) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i))
    .slice(0, count);
  return ranked.map(({ c }, r) => {
    const full = c.relativeResidual !== null ? `its full run ${c.relativeResidual.toExponential(2)}` : 'no full run';
    const screen = c.screenResidual !== null ? `screen ${c.screenResidual.toExponential(2)}` : 'no screen';
    return { pair: { layer1: c.layer1, layer2: c.layer2 }, why: `the activation search's pair ranked ${r + 1} of ${search.candidates.length} (${full}, ${screen})` };
  });
}

/** The continuation's screen: LM iterations per start, and random starts per candidate (after the warm one where the pipeline has that shape). */
export const SCREEN_ITERATIONS = 40;
export const SCREEN_STARTS = 3;
/**
 * After the search's FIT_PAIRS pairs failed (their screens and full fits): every other pair of the
 * search is screened at the pipeline's m1 (the pair screen), and this many of them, best first, are
 * screened at the other candidate m1 and fitted in full as those were.
 */
export const PAIR_SCREEN_KEEP = 2;
/** The pair screen's best this many networks are refitted into every pair of the screen one layer away (a pair's screen residual then the best of its own and the refits into it). */
export const PAIR_REFIT_FROM = 2;
/**
 * When the full fits fail (the search's pairs', then the pair screen's): the networks of the best
 * this many are refitted into every pair of the search one layer away (refitFulls in continueAfterPipeline).
 */
export const FULL_REFIT_FROM = 2;
/** No screen with at most this many candidates (m1, pair): each is fitted in full, in order. */
export const SCREEN_ABOVE = 3;
/**
 * After a screen, the full fits run in rounds of one candidate per pair (screenOrder); at most this
 * many rounds (each pair's best-screened m1 values), the rest reported as skipped. A count, not a
 * time, so that the same seed gives the same network on every machine. Measured (BENCHMARKS.md, "The
 * default for real black boxes, session 9"): the held-out silu/tanh regressor passed at full fit 16
 * of 25 (its pair's 4th round), the tanh regressor at the first.
 */
export const FULL_FIT_ROUNDS = 4;
/**
 * After a screen, a candidate is fitted in full only when its screen's relative residual is at most
 * this; those farther are reported skipped (the screens themselves all run: a screen can pass). Chosen
 * on the held-out float32 exports (BENCHMARKS.md, "The digits classifiers' run time, session 16"):
 * every full fit that passed, or whose network a passing refit started from, had screened at most
 * 4e-2 (k = 1) and 1e-3 (sklearn sigmoid wine k = 3); the digits PCA 16 k = 2 classifier's screens all
 * came to 0.2 and farther, and its full fits there bought nothing.
 */
export const FULL_FIT_FROM = 1e-1;

/** What the fit after a failed pipeline needs (continueAfterPipeline). */
export interface Continuation {
  source: Oracle | MultiOutputSource;
  outputs: number;
  general: boolean;
  /** The pipeline's refined network (its check failed) and its residual. */
  network: Network | GeneralNetwork;
  residual: number;
  search: ActivationSearchReport | undefined;
  /** The answers its refinement fitted (k values per row), not asked again. */
  answers: { inputs: Float64View; values: Float64Array } | null;
  /** Queries (input rows) left within the budget (Infinity: no budget). */
  left: number;
  /** The pipeline's check threshold (noise-aware on a noisy oracle): the fit's. */
  threshold: number;
  /** Which widths were given (a given m1 is the only one fitted; with m1 inferred and not established, every m1 <= m0). */
  given: { width1: boolean; width2: boolean };
  /** The pipeline's widths evidence (report.widths.evidence): the best failed residual per m1 orders the m1 tried. */
  evidence?: WidthEvidence | undefined;
  /** An explicit CPU bound on the continuation (IdentifyAutoOptions.continuationCpu); none by default. */
  cpuBound?: number | undefined;
  /** A screened candidate is fitted in full only when its screen came within this (FULL_FIT_FROM when absent). */
  fullFitFrom?: number | undefined;
  /** The full fits' dead-unit redraw rounds per start (DEAD_UNIT_REDRAWS when absent). */
  deadUnitRedraws?: number | undefined;
  seed: number;
  threads: number;
  fitStarts: number;
  fitDataFactor: number;
  fitPairs: number;
  warmStart: boolean;
  counts: () => { total: number; paid: number; reused: number };
  /** The held-out set (planHeldOut; null or absent: none): a fit passing its check passes only when it passes there too. */
  heldOut?: HeldOutSet | null;
  /** Progress: a 'note' (stage 'method') as each fit ends (identify's onProgress). */
  onProgress?: ((event: IdentifyProgress) => void) | undefined;
}

/** One (m1, pair) the continuation fits. */
interface Candidate {
  width2: number;
  pair: Pair;
  /** Why this m1 and this pair. */
  width2Why: string;
  pairWhy: string;
}

/**
 * The second-layer widths the fit tries after a failed pipeline, in order: a given m1, or an m1
 * the check established, alone; else every m1 in 1..m0: those the pipeline's attempts tried by
 * their best failed residual (report.widths.evidence.byWidth2), then the others nearest the m1 it
 * found first (the larger of two as near: extra units are pruned after a passing fit).
 *
 * @example
 * candidateWidths2(2, 8, false, evidence); // [{ width2: 2, why: 'm1 = 2: the pipeline's best failed residual 1.4e-1 (3 attempts)' }, { width2: 4, ... }, ...]
 */
export function candidateWidths2(found: number, width1: number, given: boolean, evidence?: WidthEvidence): { width2: number; why: string }[] {
  if (given) return [{ width2: found, why: `m1 = ${found} as given` }];
  if (evidence?.established.width2) return [{ width2: found, why: `m1 = ${found} established by the check` }];
  const tried = (evidence?.byWidth2 ?? [])
    .filter((r) => r.width2 >= 1 && r.width2 <= width1)
    .sort((a, b) => (a.bestResidual ?? Infinity) - (b.bestResidual ?? Infinity) || a.width2 - b.width2);
  const out = tried.map((r) => ({ width2: r.width2, why: `m1 = ${r.width2}: the pipeline's best failed residual ${r.bestResidual === null ? 'n/a' : r.bestResidual.toExponential(1)} (${r.attempts} attempt${r.attempts === 1 ? '' : 's'})` }));
  const seen = new Set(out.map((r) => r.width2));
  const rest = Array.from({ length: width1 }, (_, i) => i + 1)
    .filter((m) => !seen.has(m))
    .sort((a, b) => Math.abs(a - found) - Math.abs(b - found) || b - a);
  for (const m of rest) out.push({ width2: m, why: m === found ? `m1 = ${m}: the pipeline's network` : `m1 = ${m}: not tried by the pipeline (m1 not established: every m1 <= m0 = ${width1})` });
  return out;
}

/**
 * The student fit after the pipeline's check failed, over candidate widths and pairs: m1 from
 * candidateWidths2 (the pipeline's m0 kept), the activation search's best-ranked pairs
 * (rankedPairs), on one data set for all of them (the answers its refinement fitted plus fresh
 * Gaussian points paid once: what is left of the budget, else fitDataFactor P of the widest
 * candidate in all). With more candidates than SCREEN_ABOVE, each is screened first (SCREEN_ITERATIONS
 * LM iterations from the pipeline's network where it has that shape, then SCREEN_STARTS random
 * starts; one thread), then fitted in full (from the screen's network, then fitStarts random starts)
 * in the screen's order by rounds: every pair's best-screened m1 (the best of them first), then every
 * pair's second, ... (the screen ranks pairs less surely than widths: a wrong pair's short fits can
 * come closer than the right one's); else each is fitted in full in order. When none of the
 * search's FIT_PAIRS pairs passed, its other pairs are screened at the pipeline's m1 (the pair screen:
 * the search never runs some pairs, e.g. a softplus first layer, or ranks gelu behind gelu_tanh), the
 * networks of its best PAIR_REFIT_FROM are refitted into the pairs one layer away (SCREEN_ITERATIONS,
 * no random start), and the best PAIR_SCREEN_KEEP pairs by their screen or a refit into them are
 * screened at the other m1 and fitted in full the same way. After each failed round of full fits
 * (the search's pairs', the pair screen's), the networks of the best FULL_REFIT_FROM full fits are
 * refitted into the search's pairs one layer away (refitFulls). The first
 * start that passes the pipeline's check threshold ends it; a passing network with m1 inferred loses
 * the second-layer units whose work the others take up (dead or duplicate units pruned, then one unit
 * at a time, least contribution first, while the refit passes). At most FULL_FIT_ROUNDS rounds of full
 * fits run (and, when c.cpuBound is given, no try starts once the continuation's CPU passes it); those
 * skipped are reported.
 */
export async function continueAfterPipeline(c: Continuation): Promise<{ tried: MethodTry[]; fit: AutoFitResult | null; warnings: string[]; data: { inputs: Float64View; values: Float64Array } | null }> {
  const net = c.network;
  const { width1, width2: found, inputDim: d } = net;
  const k = c.outputs;
  const none = { total: 0, paid: 0, reused: 0 };
  const params = (m1: number) => (c.general ? generalParameterCount({ inputDim: d, width1, width2: m1, outputs: k }) : d * width1 + width1 + width1 * m1 + m1);
  const widths2 = candidateWidths2(found, width1, c.given.width2, c.evidence);
  const pairs = rankedPairs(c.search, net.activation, c.fitPairs);
  // the search's other pairs, for the pair screen (none when the activations were given)
  const unranked = c.search ? rankedPairs(c.search, net.activation, Infinity).slice(pairs.length) : [];
  const candidates: Candidate[] = widths2.flatMap((w) => pairs.map((p) => ({ width2: w.width2, pair: p.pair, width2Why: w.why, pairWhy: p.why })));
  const Pmax = Math.max(...widths2.map((w) => params(w.width2)));
  const n = c.answers ? c.answers.inputs.shape[0] : 0;
  const N = Number.isFinite(c.left) ? n + Math.max(0, c.left) : Math.max(n, Math.floor(c.fitDataFactor * Pmax));
  const widthsText = (m1: number) => `widths (${width1}, ${m1})`;
  const usable = candidates.filter((x) => N * k > params(x.width2));
  if (usable.length === 0) {
    const P = params(Math.min(...widths2.map((w) => w.width2)));
    return { tried: [{ method: 'fit', why: `not run: ${N} answers${k > 1 ? ` x ${k} outputs` : ''} within the budget are not more than P = ${P} at ${widthsText(found)}`, relativeResidual: null, passed: false, queries: none, seconds: 0 }], fit: null, warnings: [], data: null };
  }
  // one data set for every try: the answers in hand, then fresh Gaussian points paid once
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const before = c.counts();
  const inputs = new Float64Array(N * d);
  const values = new Float64Array(N * k);
  if (c.answers) {
    inputs.set(toDense(c.answers.inputs).data.subarray(0, n * d));
    values.set(c.answers.values);
  }
  try {
    if (N > n) {
      const fresh = gaussianPoints(N, d, c.seed).subarray(n * d);
      inputs.set(fresh, n * d);
      const raw = await c.source.evaluate(matrixFrom(fresh, N - n, d));
      const answers = raw instanceof Float64Array ? raw : toDense(raw as Float64View).data;
      if (answers.length !== (N - n) * k) throw new Error(`the black box answered ${answers.length} numbers for ${N - n} rows, expected ${N - n} x ${k}`);
      values.set(answers, n * k);
    }
  } catch (e) {
    return { tried: [{ method: 'fit', why: `the fit's ${N - n} fresh data points at ${widthsText(found)}`, relativeResidual: null, passed: false, queries: diff(c.counts(), before), seconds: since(t0), error: (e as Error).message }], fit: null, warnings: [], data: null };
  }
  const data = { inputs: matrixFrom(inputs, N, d), values };
  let paid: { total: number; paid: number; reused: number } | null = diff(c.counts(), before);
  let dataSeconds = since(t0);
  let dataCpu = cpuSince(cpu0);
  const bound = c.cpuBound;
  const overBound = () => bound !== undefined && cpuSince(cpu0) > bound;
  const tried: MethodTry[] = [];
  const warnings: string[] = [];
  const failed = c.search ? `the activation search found no pair passing (best residual ${c.residual.toExponential(2)})` : `the pipeline's check failed (residual ${c.residual.toExponential(2)})`;
  const dataText = `on the ${n} answers the pipeline's refinement fitted and ${N - n} fresh Gaussian ones`;
  c.onProgress?.({ event: 'note', stage: 'method', done: 1, total: 1, message: `${failed}: the student fit over ${usable.length} (m1, pair) candidates ${dataText}`, seconds: cpuSince(cpu0) });
  // the pipeline's network with a candidate's pair put in, where it has the candidate's shape
  const screening = usable.length > SCREEN_ABOVE;
  const pipelineStart = (x: Candidate) => (c.warmStart && x.width2 === found ? { ...net, activation: { ...x.pair } } : null);

  const fitOne = async (x: Candidate, stage: 'screen' | 'full', start: Network | GeneralNetwork | null, whyStart: string, why: string, randomStarts = stage === 'screen' ? SCREEN_STARTS : c.fitStarts, iterations = SCREEN_ITERATIONS) => {
    const t = performance.now();
    const cpu = process.cpuUsage();
    const options = {
      width1,
      width2: x.width2,
      activation: x.pair,
      // after a screen, the full fits' random starts differ from the screen's
      seed: stage === 'full' && screening ? c.seed + 1 : c.seed,
      threads: stage === 'screen' ? 1 : c.threads,
      starts: randomStarts,
      dataPoints: N,
      answers: data,
      checkThreshold: c.threshold,
      ...(stage === 'screen' || iterations === 0 ? { maxIterations: iterations } : { deadUnitRedraws: c.deadUnitRedraws ?? DEAD_UNIT_REDRAWS }),
      ...(start ? { startNetworks: [start] } : {}),
    };
    const queries = paid ?? none;
    const extra = paid ? { seconds: dataSeconds, cpu: dataCpu } : { seconds: 0, cpu: 0 };
    paid = null;
    dataSeconds = 0;
    dataCpu = 0;
    const base = { method: 'fit' as const, stage, why: `${why}; ${whyStart}`, queries, activation: x.pair, widths: { width1, width2: x.width2 } };
    try {
      const result: AutoFitResult = c.general ? await studentFitGeneral(c.source, options) : await studentFit(c.source as Oracle, options);
      const first = result.report.starts[0];
      const check = result.report.check;
      tried.push({
        ...base,
        relativeResidual: check.relativeResidual,
        passed: check.passed,
        seconds: since(t) + extra.seconds,
        cpuSeconds: cpuSince(cpu) + extra.cpu,
        ...(start && first ? { warmStart: { fromResidual: first.initialRelativeResidual, relativeResidual: first.relativeResidual, passed: first.passed, iterations: first.iterations } } : {}),
      });
      warnings.push(...result.report.warnings.map((w) => `fit ${pairText(x.pair)} ${widthsText(x.width2)}: ${w}`));
      return result;
    } catch (e) {
      tried.push({ ...base, relativeResidual: null, passed: false, seconds: since(t) + extra.seconds, cpuSeconds: cpuSince(cpu) + extra.cpu, error: (e as Error).message });
      return null;
    }
  };
  const skipped = (rest: Candidate[], stage: 'screen' | 'full', reason = `the continuation's CPU passed its bound ${bound?.toFixed(0)} s (continuationCpu)`) => {
    if (rest.length === 0) return;
    tried.push({
      method: 'fit',
      stage,
      why: `not run: ${reason}; ${stage === 'screen' ? 'screens' : 'full fits'} skipped: ${rest.map((x) => `${pairText(x.pair)} ${widthsText(x.width2)}`).join(', ')}`,
      relativeResidual: null,
      passed: false,
      queries: none,
      seconds: 0,
    });
  };

  let best: { result: AutoFitResult; x: Candidate } | null = null;
  /** The fit just tried (the last try): the best so far, and whether it passed (its check, then the held-out check). */
  const consider = async (fitted: AutoFitResult | null, x: Candidate) => {
    let result = fitted;
    if (result && result.report.check.passed && !(await judgeTry(c.heldOut ?? null, tried[tried.length - 1], result.network, c.threshold, warnings))) {
      result = { ...result, report: { ...result.report, check: { ...result.report.check, passed: false } } };
    }
    if (result && (best === null || (result.report.check.passed && !best.result.report.check.passed) || (!best.result.report.check.passed && result.report.check.relativeResidual < best.result.report.check.relativeResidual))) best = { result, x };
    const last = tried[tried.length - 1];
    const verdict = last.error ? `stopped: ${last.error}` : `residual ${last.relativeResidual?.toExponential(2)}, ${result?.report.check.passed ? 'passed' : fitted?.report.check.passed ? 'passed its check, failed held out' : 'failed'}`;
    c.onProgress?.({ event: 'note', stage: 'method', done: 1, total: 1, message: `fit ${last.stage ?? ''} ${pairText(x.pair)} ${widthsText(x.width2)}: ${verdict}`, seconds: last.cpuSeconds ?? 0 });
    return result?.report.check.passed === true;
  };
  const intro = (x: Candidate) => `${failed}: the fit with ${pairText(x.pair)} (${x.pairWhy}) and ${widthsText(x.width2)} ${c.given.width1 && c.given.width2 ? 'as given' : `(${x.width2Why})`}, ${dataText} (${(N / params(x.width2)).toFixed(1)} P)`;
  type Full = { x: Candidate; start: Network | GeneralNetwork | null; from: string };
  let passed = false;
  const fitInFull = async (full: Full[]) => {
    for (const [i, f] of full.entries()) {
      if (passed) break;
      if (overBound()) {
        skipped(full.slice(i).map((y) => y.x), 'full');
        break;
      }
      const result = await fitOne(f.x, 'full', f.start, `${f.from}; the first start that passes the check (threshold ${c.threshold.toExponential(2)}) ends it`, intro(f.x));
      if (result) fulls.push({ x: f.x, result });
      passed = await consider(result, f.x);
    }
  };
  /**
   * `network` with x's pair put in, refitted by refine's LM (`options`: its iterations), then the
   * fit's report at the network it reached (fitOne with no iteration, its try's seconds those of
   * both); undefined when refine's fit threw (no try recorded).
   */
  const refitInto = async (network: Network | GeneralNetwork, x: Candidate, stage: 'screen' | 'full', options: { maxIterations?: number }, why: string) => {
    const t = performance.now();
    const cpu = process.cpuUsage();
    const swapped = { ...network, activation: { ...x.pair } };
    const moved = await (c.general ? fitGeneralNetwork(swapped as GeneralNetwork, data, options) : fitNetwork(swapped as Network, data, options)).catch(() => null);
    if (!moved) return undefined;
    const [seconds, cpuSeconds] = [since(t), cpuSince(cpu)];
    const result = await fitOne(x, stage, moved.network, why, intro(x), 0, 0);
    const last = tried[tried.length - 1];
    last.seconds += seconds;
    last.cpuSeconds = (last.cpuSeconds ?? 0) + cpuSeconds;
    return result;
  };
  // the full fits that ran to a network, and those already refitted from (refitFulls)
  const fulls: { x: Candidate; result: AutoFitResult }[] = [];
  const refittedFrom = new Set<AutoFitResult>();
  // every pair of the search (none when the activations were given: no other pair to swap in)
  const allPairs = c.search ? rankedPairs(c.search, net.activation, Infinity) : [];
  /**
   * The full fits failed: the networks of the best FULL_REFIT_FROM of them (not refitted from yet)
   * refitted into every pair of the search one layer away (refine's LM with its own iterations and
   * stopping rules, at the full fit's widths), the fit's check on each; the first passing ends it. A
   * full fit of a near pair lands close to the truth's network with one layer's activation wrong
   * (gelu/gelu (10, 6, 3) k = 3: gelu/silu (6, 5) at 1.4e-3, gelu/gelu from it 6e-14; BENCHMARKS.md,
   * "Method auto for k > 1, session 12"), as the search's refits from a run's network.
   */
  const refitFulls = async (label: string) => {
    const from = fulls.filter((f) => !refittedFrom.has(f.result)).sort((a, b) => a.result.report.check.relativeResidual - b.result.report.check.relativeResidual).slice(0, FULL_REFIT_FROM);
    for (const f of from) {
      refittedFrom.add(f.result);
      const own = f.x.pair;
      for (const p of allPairs) {
        if (passed) return;
        if (overBound()) return;
        const one = (p.pair.layer1 === own.layer1) !== (p.pair.layer2 === own.layer2);
        if (!one) continue;
        const x: Candidate = { width2: f.x.width2, pair: p.pair, width2Why: f.x.width2Why, pairWhy: p.why };
        if (N * k <= params(x.width2)) continue;
        const result = await refitInto(f.result.network, x, 'full', {}, `${label}: refine's LM from the ${pairText(own)} ${widthsText(f.x.width2)} full fit's network (${f.result.report.check.relativeResidual.toExponential(2)}) with ${pairText(p.pair)} put in`);
        if (result === undefined) continue;
        passed = await consider(result, x);
      }
    }
  };
  if (!screening) {
    await fitInFull(
      usable.map((x) => {
        const start = pipelineStart(x);
        const swapped = x.pair.layer1 !== net.activation.layer1 || x.pair.layer2 !== net.activation.layer2;
        return { x, start, from: start ? `its first start the pipeline's refined network${swapped ? ` (${pairText(net.activation)}) with ${pairText(x.pair)} put in` : ''}, then ${c.fitStarts} random` : `${c.fitStarts} random starts` };
      }),
    );
    if (!passed) await refitFulls("the full fits' refit");
  } else {
    // the screen: every candidate briefly, then each in full in the screen's order (screenOrder)
    type Screened = { x: Candidate; result: AutoFitResult };
    const residualOf = (s: Screened) => s.result.report.check.relativeResidual;
    /** Screens `list` in order until one passes (`label` names the screen in each try's why). */
    const screen = async (list: Candidate[], label: string): Promise<Screened[]> => {
      const out: Screened[] = [];
      for (const [i, x] of list.entries()) {
        if (passed) break;
        if (overBound()) {
          skipped(list.slice(i), 'screen');
          break;
        }
        const start = pipelineStart(x);
        const result = await fitOne(x, 'screen', start, `${label} ${i + 1} of ${list.length}: ${SCREEN_ITERATIONS} LM iterations from ${start ? "the pipeline's refined network, then " : ''}${SCREEN_STARTS} random starts (one thread)`, intro(x));
        if (result) out.push({ x, result });
        passed = await consider(result, x);
      }
      return out;
    };
    /** The screened candidates fitted in full by rounds (screenOrder), at most FULL_FIT_ROUNDS; the rest reported skipped. */
    const screenedInFull = async (screened: Screened[]) => {
      const ordered = screenOrder(screened.map(({ x, result }) => ({ x, residual: residualOf({ x, result }), result })));
      const fullFitFrom = c.fullFitFrom ?? FULL_FIT_FROM;
      const order = ordered.filter((o) => o.round < FULL_FIT_ROUNDS && o.residual <= fullFitFrom);
      await fitInFull(
        order.map(({ x, result, residual, round }, r) => ({
          x,
          start: result.network,
          from: `full fit ${r + 1} of ${order.length} (screen residual ${residual.toExponential(2)}, ${pairText(x.pair)}'s ${ordinal(round + 1)} best screened): its first start the screen's network, then ${c.fitStarts} random`,
        })),
      );
      if (!passed) skipped(ordered.filter((o) => o.round >= FULL_FIT_ROUNDS && o.residual <= fullFitFrom).map((o) => o.x), 'full', `beyond ${FULL_FIT_ROUNDS} rounds of full fits (FULL_FIT_ROUNDS: each pair's ${FULL_FIT_ROUNDS} best-screened m1)`);
      if (!passed) skipped(ordered.filter((o) => o.residual > fullFitFrom).map((o) => o.x), 'full', `their screens came to more than fullFitFrom ${fullFitFrom} (FULL_FIT_FROM: full fits from that far have not passed)`);
    };
    await screenedInFull(await screen(usable, 'screen'));
    if (!passed) await refitFulls("the full fits' refit");
    // none passed: the pairs the search did not hand on (never run, or ranked below FIT_PAIRS: a
    // softplus first layer, gelu behind gelu_tanh), screened at the pipeline's m1 (its network, the
    // pair put in, the warm start); the best PAIR_SCREEN_KEEP are screened at the other m1 and fitted
    // in full as the others were (no cost where the search's pairs pass)
    const atFound = unranked.map((p) => ({ width2: found, pair: p.pair, width2Why: widths2.find((w) => w.width2 === found)?.why ?? `m1 = ${found}: the pipeline's network`, pairWhy: p.why })).filter((x) => N * k > params(x.width2));
    if (!passed && atFound.length > 0) {
      const pairScreen = await screen(atFound, `pair screen (the search's pairs not handed on, at ${widthsText(found)})`);
      // the pair screen's best networks refitted into the pairs one layer away (the search's refits
      // from a run's network): a screen from the pipeline's network with both layers swapped lands
      // far (softplus/softplus (10, 6, 3) k = 3: 20th of 31 at 1.9e-2, 1st at 1.6e-3 from the
      // softplus/silu screen's network; BENCHMARKS.md, session 11)
      // refine's LM with its inner steps, as the search's refits (the fit's own, without them, came
      // to 4.8e-3 there, 4th): then the fit's report at the network it reached (no iteration)
      const refits: Screened[] = [];
      const from = [...pairScreen].sort((a, b) => residualOf(a) - residualOf(b)).slice(0, PAIR_REFIT_FROM);
      for (const s of from) {
        for (const x of atFound) {
          if (passed) break;
          const one = (x.pair.layer1 === s.x.pair.layer1) !== (x.pair.layer2 === s.x.pair.layer2);
          if (!one) continue;
          const result = await refitInto(s.result.network, x, 'screen', { maxIterations: SCREEN_ITERATIONS }, `pair screen's refit: ${SCREEN_ITERATIONS} LM iterations (refine's) from the ${pairText(s.x.pair)} screen's network (${residualOf(s).toExponential(2)}) with ${pairText(x.pair)} put in`);
          if (result === undefined) continue;
          if (result) refits.push({ x, result });
          passed = await consider(result, x);
        }
      }
      // each pair's best of its screen and the refits into it
      const bestOf = new Map<string, Screened>();
      for (const s of [...pairScreen, ...refits]) {
        const key = pairText(s.x.pair);
        const held = bestOf.get(key);
        if (!held || residualOf(s) < residualOf(held)) bestOf.set(key, s);
      }
      const kept = [...bestOf.values()].sort((a, b) => residualOf(a) - residualOf(b)).slice(0, PAIR_SCREEN_KEEP);
      const joined = kept.map((s, r) => ({ ...s, x: { ...s.x, pairWhy: `${s.x.pairWhy}; the pair screen's ${ordinal(r + 1)} best of ${bestOf.size} (${residualOf(s).toExponential(2)} at m1 = ${found}, its screen's or a refit's)` } }));
      const others = widths2.filter((w) => w.width2 !== found).flatMap((w) => joined.map((s) => ({ width2: w.width2, pair: s.x.pair, width2Why: w.why, pairWhy: s.x.pairWhy })));
      const screenedOthers = await screen(others.filter((x) => N * k > params(x.width2)), "screen of the pair screen's best");
      if (!passed) await screenedInFull([...joined, ...screenedOthers]);
      if (!passed) await refitFulls("the pair screen's full fits' refit");
    }
  }
  const chosen = best as { result: AutoFitResult; x: Candidate } | null;
  if (chosen && passed && c.general && !c.given.width2 && chosen.x.width2 > 1) {
    // each smaller network kept only where it passed the check and the held-out check (shrinkPassing)
    const shrunk = await shrinkPassing(chosen.result.network as GeneralNetwork, data, c.threshold, { width1: !c.given.width1, heldOut: c.heldOut ?? null });
    if (shrunk) {
      const last = tried[tried.length - 1];
      last.shrunk = shrunk.report;
      const verdict = c.heldOut?.verdict(shrunk.network);
      if (verdict) last.heldOut = verdict;
      warnings.push(`fit ${pairText(chosen.x.pair)}: ${shrunk.report.why}`);
      const r = chosen.result.report;
      chosen.result = { network: shrunk.network, report: { ...r, widths: { ...r.widths, width1: shrunk.network.width1, width2: shrunk.network.width2 }, check: { ...r.check, relativeResidual: shrunk.report.relativeResidual } } };
    }
  }
  return { tried, fit: chosen?.result ?? null, warnings, data };
}

/**
 * The full fits' order after a screen: rounds of one candidate per pair (each pair's best-screened
 * first, then its second, ...), within a round by screen residual.
 *
 * @example
 * screenOrder([{ x: tanhArctan6, residual: 1e-2 }, { x: tanhArctan7, residual: 2e-2 }, { x: tanhTanh2, residual: 1e-1 }]); // tanh/arctan 6, tanh/tanh 2, tanh/arctan 7
 */
export function screenOrder<T extends { x: { pair: Pair }; residual: number }>(screened: readonly T[]): (T & { round: number })[] {
  const byPair = new Map<string, T[]>();
  for (const s of screened) {
    const key = pairText(s.x.pair);
    byPair.set(key, [...(byPair.get(key) ?? []), s]);
  }
  const rounds: (T & { round: number })[][] = [];
  for (const list of byPair.values()) {
    [...list].sort((a, b) => a.residual - b.residual).forEach((s, round) => (rounds[round] ??= []).push({ ...s, round }));
  }
  return rounds.flatMap((r) => r.sort((a, b) => a.residual - b.residual));
}

const ordinal = (n: number) => `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;

/**
 * Tolerances of the shrink's pruning of dead and duplicate units (prune.ts), in turn: PRUNE_TOLERANCE's
 * 1e-7, then up to the noise of a float32 black box, whose fit can split one unit into near-copies
 * that differ at its rounding's level (sklearn sigmoid wine k = 3 float32: the passing tanh/tanh
 * (11, 5) fit held first-layer units 4-7 along one direction, biases +-0.055 and +-0.054, and units 0
 * and 10 with biases 0.528 and -0.527: none merged at 1e-7 or 1e-5, four at 1e-4; BENCHMARKS.md,
 * "The held-out check, session 13"). Each pruning is kept only when its refit passes the check (and
 * the held-out check where it runs); the first that does not ends the sequence.
 */
export const SHRINK_TOLERANCES: readonly number[] = [PRUNE_TOLERANCE, 1e-5, 1e-4, 1e-3];

/**
 * A passing general network with a width inferred: its dead and duplicate units pruned at rising
 * tolerances (SHRINK_TOLERANCES; first-layer units only when `width1` may change, i.e. m0 was not
 * given, second-layer units unless `width2` is false), then its second layer shrunk as identify's is (shrinkSecondLayerUnits: one unit at a time
 * while the refit on the data passes `threshold`; no new query); each smaller network kept only when
 * it passes the held-out check too (`heldOut`, null: none; its rows already paid by the network
 * judged before). null: no unit goes.
 */
export async function shrinkPassing(
  net: GeneralNetwork,
  data: { inputs: Float64View; values: Float64Array },
  threshold: number,
  options: { width1: boolean; width2?: boolean; heldOut?: HeldOutSet | null },
): Promise<{ network: GeneralNetwork; report: NonNullable<MethodTry['shrunk']> } | null> {
  const heldOut = options.heldOut ?? null;
  const passes = async (candidate: GeneralNetwork, residual: number | null) => residual !== null && residual <= threshold && (heldOut === null || (await heldOut.judge(candidate, threshold)).passed);
  const [from1, from] = [net.width1, net.width2];
  let out = net;
  let residual: number | null = null;
  for (const tolerance of SHRINK_TOLERANCES) {
    const pruned = await pruneDeadUnits(out, data, { tolerance, maxIterations: SHRINK_ITERATIONS });
    if (pruned.report.refitResidual === null || (!options.width1 && pruned.network.width1 !== out.width1) || (options.width2 === false && pruned.network.width2 !== out.width2)) continue;
    if (!(await passes(pruned.network, pruned.report.refitResidual))) break;
    out = pruned.network;
    residual = pruned.report.refitResidual;
  }
  const shrunk = options.width2 === false ? { removed: [], network: out } : await shrinkSecondLayerUnits(out, data, threshold, SHRINK_ITERATIONS);
  if (shrunk.removed.length > 0 && (await passes(shrunk.network, shrunk.removed[shrunk.removed.length - 1].relativeResidual))) {
    out = shrunk.network;
    residual = shrunk.removed[shrunk.removed.length - 1].relativeResidual;
  }
  if ((out.width2 === from && out.width1 === from1) || residual === null) return null;
  const layer1 = out.width1 !== from1 ? { layer1: { from: from1, to: out.width1 } } : {};
  const what = [out.width1 !== from1 ? `first-layer units ${from1} -> ${out.width1}` : null, out.width2 !== from ? `second-layer units ${from} -> ${out.width2}` : null].filter((w) => w !== null).join(', ');
  return { network: out, report: { from, to: out.width2, ...layer1, relativeResidual: residual, why: `units whose work the others take up removed (${what}), each refit on the fit's data passing the check (${residual.toExponential(2)})${heldOut ? ' and the held-out check' : ''}` } };
}

/** LM iterations of each refit of the shrink (refine's general fit from a network already close). */
const SHRINK_ITERATIONS = 100;

/** identifyAutoOutputs's report: identifyAuto's, with queries as input rows and numbers received. */
export interface IdentifyAutoOutputsReport {
  format: 'nnid.identify-auto-report/v1';
  model: 'general';
  outputs: number;
  method: MethodReport;
  /** Input rows asked of the black box (each answers k numbers), numbers received, rows / P. */
  queries: { rows: number; numbersReceived: number; multipleOfP: number };
  /** The chosen network's truth-free check; heldOut: its held-out check (absent: not run). */
  check: { relativeResidual: number | null; threshold: number; passed: boolean; heldOut?: HeldOutCheck };
  seconds: { total: number };
  /** identifyOutputs's report (the pipeline), and the fit's (null: not run). */
  pipeline: IdentifyOutputsResult['report'];
  fit: StudentFitReport | null;
  warnings: string[];
}

export interface IdentifyAutoOutputsResult {
  network: GeneralNetwork;
  report: IdentifyAutoOutputsReport;
  pipeline: IdentifyOutputsResult;
  fit: AutoFitResult | null;
}

/**
 * Method 'auto' on a black box with k >= 1 outputs (the general model): identifyOutputs first,
 * exactly as it runs alone; when its check fails, the general student fit on all k outputs of the
 * answers its refinement fitted plus fresh Gaussian points within maxQueries (continueAfterPipeline:
 * m0 as found, m1 over 1..m0 when not established, the activation search's best FIT_PAIRS pairs);
 * when that fails too, the search's second pass (identifyOutputs's secondPassLater, the k outputs
 * fitted again after it) and the fit again from the network it moved (secondPassAfterFit), as
 * identifyAuto does for k = 1.
 *
 * @example
 * const { network, report } = await identifyAutoOutputs(box, { activation: 'auto', seed: 1 });
 * report.method.tried; // [{ method: 'pipeline', passed: false, ... }, { method: 'fit', passed: true, activation: ... }]
 */
export async function identifyAutoOutputs(source: MultiOutputBlackBox, options: IdentifyAutoOptions): Promise<IdentifyAutoOutputsResult> {
  const startedAt = performance.now();
  if (!source || typeof source.evaluate !== 'function') invalidArgument('source', 'must be a MultiOutputBlackBox (inputDim, outputs, identity, evaluate)', source);
  const { fitStarts = 6, fitDataFactor = 5, warmStart = true, pipelineMargin: _margin, pipelineAsIdentify: _asIs, fitPairs = FIT_PAIRS, continuationCpu, secondPassPairs = 0, heldOutPoints, fullFitFrom = FULL_FIT_FROM, deadUnitRedraws = DEAD_UNIT_REDRAWS, ...rest } = options ?? ({} as IdentifyAutoOptions);
  checkInteger('deadUnitRedraws', deadUnitRedraws, 0, 100);
  if (typeof fullFitFrom !== 'number' || !(fullFitFrom > 0)) invalidArgument('fullFitFrom', 'must be a number > 0 (Infinity: no bound)', fullFitFrom);
  checkInteger('fitPairs', fitPairs, 1);
  if (continuationCpu !== undefined) checkPositive('continuationCpu', continuationCpu);
  const k = checkInteger('source.outputs', source.outputs, 1);
  // rows asked of the black box, the pipeline's and the fit's
  let rows = 0;
  const counted: MultiOutputBlackBox = {
    inputDim: source.inputDim,
    outputs: k,
    identity: source.identity,
    evaluate: (x) => {
      rows += x.shape[0];
      return source.evaluate(x);
    },
  };
  const counts = () => ({ total: rows, paid: rows, reused: 0 });
  const B = rest.maxQueries;
  const given = rest.width1 !== undefined && rest.width2 !== undefined;
  const held = planHeldOut(counted, k, rest.seed, heldOutPoints, given, B);
  // the held-out set's rows kept back within the budget until it is paid
  const kept = () => (held.set && held.set.rowsPaid() === 0 ? held.reserve : 0);
  const t = performance.now();
  const cpu = process.cpuUsage();
  const first = await identifyOutputs(counted, { ...rest, ...(B !== undefined ? { maxQueries: B - kept() } : {}), ...(rest.activation === 'auto' ? { secondPassPairs } : {}) } as IdentifyOutputsOptions);
  const pcheck = first.report.check;
  // the pipeline's result as it stands (the search's later second pass may bring a closer one)
  let pipeline = first;
  const unknown = [given ? null : 'width1 or width2 not given', rest.activation === 'auto' ? "activation 'auto'" : null].filter((w) => w !== null);
  const tried: MethodTry[] = [
    {
      method: 'pipeline',
      why: `k = ${k} outputs${unknown.length > 0 ? `, ${unknown.join(' and ')}` : ''}: the pipeline first (identify on a projection of the outputs, then all k fitted), as it runs alone${passText(rest.activation === 'auto', secondPassPairs)}; the fit only when its check fails`,
      relativeResidual: pcheck.relativeResidual,
      passed: pcheck.passed,
      queries: counts(),
      seconds: since(t),
      cpuSeconds: cpuSince(cpu),
    },
  ];
  const warnings = first.report.identify.warnings.map((w) => `pipeline: ${w}`);
  if (held.warning) warnings.push(held.warning);
  await judgeTry(held.set, tried[0], first.network, pcheck.threshold, warnings);
  const pipelineShrunk = first.refinementData ? await shrinkPipeline(tried[0], first.network, first.refinementData, pcheck.threshold, { width1: rest.width1 !== undefined, width2: rest.width2 !== undefined }, held.set, warnings) : null;
  let fit: AutoFitResult | null = null;
  if (!tried[0].passed) {
    const searchOf = (r: IdentifyOutputsResult) => (r.report.identify as IdentifyReport & { activationSearch?: ActivationSearchReport }).activationSearch;
    const rowsBefore = rows;
    const continuation: Continuation = {
      source: counted as MultiOutputSource,
      outputs: k,
      general: true,
      network: first.network,
      residual: pcheck.relativeResidual,
      search: searchOf(first),
      answers: first.refinementData,
      left: B === undefined ? Infinity : B - rows - kept(),
      threshold: pcheck.threshold,
      given: { width1: rest.width1 !== undefined, width2: rest.width2 !== undefined },
      evidence: first.report.identify.widths.evidence,
      cpuBound: continuationCpu,
      fullFitFrom,
      deadUnitRedraws,
      seed: rest.seed,
      threads: rest.threads ?? 1,
      fitStarts,
      fitDataFactor,
      fitPairs,
      warmStart,
      counts,
      heldOut: held.set,
      onProgress: rest.onProgress,
    };
    const cont = await continueAfterPipeline(continuation);
    tried.push(...cont.tried);
    warnings.push(...cont.warnings);
    fit = cont.fit;
    if (!cont.tried.some((x) => x.passed) && first.secondPassLater) {
      // the pass's budget is the projection's oracle's, which does not see the rows the fit paid: the pass only where the fit paid none within a budget
      if (B !== undefined && rows > rowsBefore) {
        tried.push({ method: 'pipeline', why: `not run: the activation search's second pass (left out before the fit): the fit paid ${rows - rowsBefore} of the budget's rows`, relativeResidual: null, passed: false, queries: { total: 0, paid: 0, reused: 0 }, seconds: 0 });
      } else {
        const pass = await secondPassAfterFit(
          first.secondPassLater,
          (later) => ({ network: later.network, residual: later.report.check.relativeResidual, passed: later.report.check.passed, search: searchOf(later), answers: later.refinementData, evidence: later.report.identify.widths.evidence }),
          continuation,
          cont.data,
          () => (B === undefined ? Infinity : B - rows - kept()),
          bestResidual(cont.fit),
        );
        // the k outputs fitted again after the pass: its result stands where it is closer
        if (pass.result.report.check.relativeResidual < pcheck.relativeResidual) pipeline = pass.result;
        tried.push(...pass.tried);
        warnings.push(...pass.warnings);
        if (closerFit(pass.fit, fit)) fit = pass.fit;
      }
    }
  }
  // the pipeline's check, and its held-out verdict where one was given on the network it stands at
  const pipelineHeldOut = held.set?.verdict(pipeline.network);
  const pipelineCheck = { ...pipeline.report.check, passed: pipeline.report.check.passed && pipelineHeldOut?.passed !== false };
  const fitTry = tried.find((x) => x.method === 'fit' && x.passed);
  const chosen: 'pipeline' | 'fit' = pipelineCheck.passed ? 'pipeline' : fitTry || (fit !== null && (fit as AutoFitResult).report.check.relativeResidual < pipelineCheck.relativeResidual) ? 'fit' : 'pipeline';
  const network = chosen === 'fit' ? ((fit as AutoFitResult | null)!.network as GeneralNetwork) : pipeline === first && pipelineShrunk ? pipelineShrunk : pipeline.network;
  // the pipeline's network shrunk: the smaller network's residual (shrinkPipeline)
  const check = chosen === 'fit' ? (fit as AutoFitResult | null)!.report.check : network === pipelineShrunk ? { ...pipelineCheck, relativeResidual: tried[0].shrunk!.relativeResidual } : pipelineCheck;
  const heldOut = held.set?.verdict(network);
  if (!check.passed) warnings.push(`no method passed the truth-free check: best relative residual ${check.relativeResidual.toExponential(2)} (${chosen})`);
  const P = generalParameterCount(network);
  return {
    network,
    pipeline,
    fit,
    report: {
      format: 'nnid.identify-auto-report/v1',
      model: 'general',
      outputs: k,
      method: { chosen, tried, maxQueries: B ?? null, parameterCount: P, pipelineFloor: null },
      queries: { rows, numbersReceived: rows * k, multipleOfP: rows / P },
      check: { relativeResidual: check.relativeResidual, threshold: check.threshold, passed: check.passed, ...(heldOut ? { heldOut } : {}) },
      seconds: { total: since(startedAt) },
      pipeline: pipeline.report,
      fit: (fit as AutoFitResult | null)?.report ?? null,
      warnings,
    },
  };
}
