/**
 * identify(): every stage of the paper's pipeline (arXiv:1907.00485), end to end, against a
 * black box seen only through an Oracle; then, by default, Levenberg-Marquardt refinement.
 *
 *   plan -> noise -> gradients -> range(A) -> Hessians in reduced coordinates -> attempts:
 *   W-hat -> rank-one candidates -> attribution (+ missing a_i searched in the orthogonal
 *   complement, + the entangled part re-estimated after deflating span{a_i a_i^T}) -> shifts
 *   -> network -> refine
 *
 * A truth-free check follows refinement: when the relative residual on its own data stays above
 * `retryResidual`, the later stages are redone with another dimension of W-hat on the same
 * Hessians (no new Hessian queries), and the attempt with the smallest residual is kept
 * (retry-policy.ts). Each step below is a file of its own.
 */
import { ErrorCodes, invalidArgument, NnidError, type Oracle } from '@nnid/core';
import { noiseThreshold } from '@nnid/student-fit';
import { identifyActivationAuto, type AutoIdentifyOptions, type AutoIdentifyResult } from './activation-auto.ts';
import type { AttemptContext } from './attempt.ts';
import { runAttempts } from './attempt-runner.ts';
import { RunBudget } from './budget-run.ts';
import { OPTIONS, resolveOptions, valueOf, type IdentifyOptions, type ResolvedOptions } from './options.ts';
import { describePlan, planQueries, planWarning, type QueryPlan } from './plan.ts';
import { checkMemoryPlan, describeMemoryPlan, memoryLimit, planMemory } from './memory-plan.ts';
import { buildResult, type IdentifyResult } from './report.ts';
import { firstPlan } from './retry-policy.ts';
import { hessians, noiseLevel, Pools, rangeOfA } from './sample-stages.ts';
import { pruneInferredWidths } from './prune.ts';
import { createRun, type Run } from './stages.ts';
import { firstWidth } from './widths.ts';
import { secondPassAttempt, type DeferredSecondPass } from './second-pass.ts';

/**
 * Emits the plan with its memory (a warning too when it exceeds its target and the widths are
 * known); refuses, before the stage that would not fit, a plan whose peak memory exceeds the
 * machine or maxMemory (with m0 unknown, once range(A) has given it: m0 = d overstates).
 */
function announcePlan(run: Run, queries: QueryPlan, warnings: string[], resolved: ResolvedOptions): QueryPlan {
  const memory = planMemory(resolved, queries, memoryLimit(resolved.maxMemory));
  const plan = { ...queries, memory };
  if (!plan.widths.assumed) checkMemoryPlan(memory, plan);
  const warning = plan.widths.assumed ? null : planWarning(plan);
  if (warning) warnings.push(warning);
  run.emit({ event: 'plan', stage: 'plan', done: 0, total: 0, message: describePlan(plan) + `\n${describeMemoryPlan(memory)}` + (warning ? `\nwarning: ${warning}` : ''), plan });
  return plan;
}

/**
 * The truth-free check's threshold: retryResidual, or the noise level relative to the rms of the
 * data the refinement fits when higher; those data are paid once and refitted after, so it is
 * computed once they are.
 */
function checkThreshold(resolved: ResolvedOptions, sigma: number, ctx: AttemptContext): () => number {
  let threshold: number | null = null;
  return () => {
    if (sigma === 0 || ctx.fitData === null) return resolved.retryResidual;
    threshold ??= Math.max(resolved.retryResidual, noiseThreshold(sigma, ctx.fitData.values, resolved.noiseThresholdFactor));
    return threshold;
  };
}

/**
 * Identifies the weights of a two-hidden-layer network from queries of the black box alone.
 *
 * @example
 * const oracle = createOracle(networkBlackBox(net));
 * const { network, report } = await identify(oracle, { activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1 });
 * report.queries.total; report.plan.multipleOfP; report.networkBeforeRefinement;
 */
export async function identify(oracle: Oracle, options: AutoIdentifyOptions): Promise<AutoIdentifyResult> {
  return identifyRun(oracle, options, 'run');
}

/**
 * identify, with the second pass or with it deferred: the activation search's runs return it as
 * `secondPass` and the search runs it for its best failing pairs only (a wrong pair near the truth
 * would pay for it in every run).
 */
async function identifyRun(oracle: Oracle, options: AutoIdentifyOptions, secondPass: 'run' | 'defer'): Promise<AutoIdentifyResult & { secondPass?: DeferredSecondPass }> {
  // activation 'auto': identify with a probe pair, then every candidate pair on its answers (activation-auto.ts)
  if (options?.activation === 'auto') return identifyActivationAuto((o, opts) => identifyRun(o, opts, 'defer'), oracle, options);
  const startedAt = performance.now();
  if (!oracle || typeof oracle.evaluate !== 'function' || typeof oracle.counts !== 'function') {
    invalidArgument('oracle', 'must be an Oracle (see createOracle)', oracle);
  }
  const resolved = resolveOptions(options as IdentifyOptions, oracle.inputDim);
  const d = oracle.inputDim;
  const countsAtStart = oracle.counts();
  // maxQueries, refinementData: the floor checked before any query, counts lowered (budget-run.ts)
  const budget = new RunBudget(oracle, resolved, countsAtStart);
  const run = createRun(oracle, resolved.onProgress);
  const pools = new Pools(budget.samplingOracle, resolved.threads);
  const warnings: string[] = [];
  try {
    let plan = announcePlan(run, planQueries(resolved, { inputDim: d }), warnings, resolved);
    const noise = await noiseLevel(run, oracle, resolved);
    const range = await rangeOfA(run, budget.samplingOracle, resolved, noise, pools, (rows, points) => budget.allowsBeforeRange(rows, points));
    const width1 = firstWidth(resolved, range.range, d);
    if (width1.warning) warnings.push(width1.warning);
    budget.afterRange(width1.width1, range.reducedDim, range.gradientPoints);
    if (plan.widths.assumed || budget.binding) plan = announcePlan(run, planQueries(resolved, { inputDim: d, width1: width1.width1, reducedDim: range.reducedDim, gradientQueries: range.gradientQueries }), warnings, resolved);
    const sampled = await hessians(run, budget.samplingOracle, resolved, { width1: width1.width1, rangeOfA: range, noise, paidBefore: oracle.counts().total - countsAtStart.total }, pools);
    const ctx: AttemptContext = {
      oracle,
      options: resolved,
      run,
      hessianStack: sampled.stack,
      rangeBasis: range.basis,
      reducedDim: range.reducedDim,
      width1: width1.width1,
      width2: sampled.width2,
      gradientAtZero: range.gradientAtZero,
      solverPool: pools.solver,
      shiftData: null,
      refineData: await budget.refineData(run),
      fitData: null,
      stopped: false,
    };
    const maxDim = Math.min(sampled.stack.shape[0], sampled.stack.shape[1]);
    const first = Math.min(valueOf(resolved.subspaceDimension, OPTIONS.subspaceDimension, { width1: width1.width1, width2: sampled.width2, maxDim }), maxDim);
    const steps = firstPlan(first, resolved.retryFactors, { width1: width1.width1, width2: sampled.width2, maxDim, ...(resolved.width2 !== undefined ? { width2Given: resolved.width2 } : {}) });
    const threshold = checkThreshold(resolved, noise.sigma, ctx);
    const attempts = await runAttempts(ctx, steps, threshold);
    // model 'general', the check failed near the truth: W1's directions again from Hessians at beta-free points (second-pass.ts)
    const queriesLeft = resolved.maxQueries === undefined ? Infinity : resolved.maxQueries - (oracle.counts().paid - countsAtStart.paid);
    const second = secondPass === 'run' ? await secondPassAttempt(ctx, attempts.attempts, threshold(), { step: sampled.report.step, queriesLeft }, attempts.warnings) : null;
    if (second) attempts.attempts.push(second);
    const deferred: DeferredSecondPass = async (from, left) => {
      const lines: string[] = [];
      const attempt = await secondPassAttempt(ctx, attempts.attempts, threshold(), { step: sampled.report.step, queriesLeft: left, from }, lines);
      return { attempt, warnings: lines };
    };
    warnings.push(...attempts.warnings);
    if (attempts.attempts.length === 0) throw new NnidError(ErrorCodes.numerical, `identify: every attempt failed: ${warnings.join('; ')}`);
    // with a width inferred: units with no contribution pruned and the rest refitted (prune.ts)
    const result = await pruneInferredWidths(buildResult({
      options: resolved,
      run,
      startedAt,
      inputDim: d,
      plan,
      noise,
      rangeOfA: range,
      width1,
      hessians: sampled,
      firstSubspaceDimension: first,
      attempts: attempts.attempts,
      lanes: { lanes: attempts.lanes, fromAttempt: attempts.lanesFrom },
      threshold: threshold(),
      warnings,
      refinementData: ctx.fitData,
      budget: budget.plan,
    }), resolved);
    return secondPass === 'defer' ? { ...result, secondPass: deferred } : result;
  } finally {
    await pools.close();
  }
}
