/**
 * The refinement of a prepared attempt: the data paid by the first attempt that refines (in the
 * main thread), then refineStages here (with identify's threads) or in a lane (attempt-lanes.ts).
 */
import {
  generalParameterCount,
  parameterCount,
  serializeNetwork,
  serializeNetworkV2,
  type GeneralNetwork,
  type GeneralNetworkJson,
  type Network,
  type NetworkJson,
} from '@nnid/core';
import type { RefineReport } from '@nnid/refine';
import { stageSeed } from './identify-geometry.ts';
import { freshPoints, stackPaid } from './paid-data.ts';
import type { AttemptLanes } from './attempt-lanes.ts';
import { attemptSeedOf, type AttemptContext, type PaidData, type PreparedAttempt, type PreparedReport } from './attempt.ts';
import { OPTIONS, valueOf } from './options.ts';
import { scaleRefinePoints } from './hessian-budget.ts';
import { refineGeneralStages, refineStages, type GeneralStagesResult, type RefineStagesOptions, type RefineStagesResult } from './refine-stages.ts';

/**
 * The fit of (theta, B, tau) before the full LM stops when two accepted steps in a row lower its
 * cost by less than this fraction: it levels off within ~10 steps at (50, 30, 10) and the full LM
 * took as many iterations after it as after a fit run to 1e-12 (BENCHMARKS.md).
 */
const UPPER_FIT_COST_TOLERANCE = 1e-4;

export interface AttemptReport extends PreparedReport {
  /** Why this attempt ran: 'first', or the residual of the one before it. */
  reason: string;
  /** Where its refinement ran: the main thread (with identify's threads) or a lane (one worker thread). */
  ranIn: 'main' | 'lane';
  /** The fit of (theta, B, tau) on the first layer found, before the full refinement (model 'general': of everything but the directions of W1's rows; null: none). */
  upperFit: RefineStagesResult['upperFit'];
  refine: RefineReport | null;
  /** This attempt's network after refinement (null without refinement, and with model 'general'): a failed attempt's local minimum too. */
  networkAfterRefinement: NetworkJson | null;
  /** With model 'general': this attempt's general network after refinement (nnid.network/v2), else null. */
  networkGeneralAfterRefinement: GeneralNetworkJson | null;
  /** With model 'general' and m1 inferred: second-layer units removed after the fit passed (each removal refitted and still passing); else null. */
  prunedUnits: number | null;
  /** Relative residual after refinement on its data (null without refinement). */
  refinedResidual: number | null;
  /** The queries of its shift fit and refinement. */
  queries: { total: number; paid: number; reused: number };
  seconds: number;
}

export interface AttemptResult {
  network: Network;
  /** With model 'general': the refined general network (null otherwise or without refinement). */
  networkGeneral: GeneralNetwork | null;
  networkBeforeRefinement: Network;
  report: AttemptReport;
  /** Seconds this attempt spent refining (the lanes rule). */
  refineSeconds: number;
  width2Source: string;
}

export async function refineAttempt(ctx: AttemptContext, prepared: PreparedAttempt, lanes: AttemptLanes | null): Promise<AttemptResult> {
  const { oracle, options, run } = ctx;
  let refined: RefineStagesResult | null = null;
  let general: GeneralStagesResult | null = null;
  if (options.refine && options.model === 'general') {
    // the general fit runs here (no lanes): the pipeline's network, (C, c) by least squares, directions fit, then everything
    general = await run.stage(
      'refine',
      async (pay) => {
        if (ctx.refineData === null) {
          const P = generalParameterCount({ inputDim: prepared.network.inputDim, width1: prepared.network.width1, width2: prepared.network.width2, outputs: 1 });
          const n = valueOf(options.refineDataPoints, OPTIONS.refineDataPoints, { parameterCount: P, refineDataFactor: options.refineDataFactor });
          const inputs = freshPoints(n, oracle.inputDim, stageSeed(options.seed, 5));
          ctx.refineData = { inputs, values: n > 0 ? await pay(() => oracle.evaluate(inputs)) : new Float64Array(0) };
        }
        ctx.fitData ??= stackPaid(options.reuseShiftData && ctx.shiftData ? [ctx.refineData, ctx.shiftData] : [ctx.refineData]);
        return refineGeneralStages(
          prepared.network,
          ctx.fitData,
          { seed: attemptSeedOf(options, prepared.step), upperFitIterations: options.upperFitIterations, upperFitCostTolerance: UPPER_FIT_COST_TOLERANCE, maxIterations: options.refineMaxIterations, goodResidual: options.retryResidual, pruneUnits: options.width2 === undefined },
          (it, res) => run.step('refine', it, 0, `relative residual ${res.toExponential(2)}`),
        );
      },
      { attempt: prepared.ledger, queries: 'inside' },
    );
  } else if (options.refine) {
    refined = await run.stage(
      'refine',
      async (pay) => {
        if (ctx.refineData === null) {
          // at scale the fresh points give way to the query target, as the plan counted them (hessian-budget.ts)
          const n =
            scaleRefinePoints(options, { inputDim: oracle.inputDim, width1: ctx.width1, reducedDim: ctx.reducedDim }) ??
            valueOf(options.refineDataPoints, OPTIONS.refineDataPoints, { parameterCount: parameterCount(prepared.network), refineDataFactor: options.refineDataFactor });
          const inputs = freshPoints(n, oracle.inputDim, stageSeed(options.seed, 5));
          ctx.refineData = { inputs, values: n > 0 ? await pay(() => oracle.evaluate(inputs)) : new Float64Array(0) };
        }
        ctx.fitData ??= stackPaid(options.reuseShiftData && ctx.shiftData ? [ctx.refineData, ctx.shiftData] : [ctx.refineData]);
        const fitOptions: RefineStagesOptions = {
          seed: attemptSeedOf(options, prepared.step),
          threads: options.threads,
          secondLayerStarts: options.secondLayerStarts,
          upperFitIterations: options.upperFitIterations,
          upperFitCostTolerance: UPPER_FIT_COST_TOLERANCE,
          maxIterations: options.refineMaxIterations,
        };
        return lanes
          ? lanes.run(prepared.network, ctx.fitData, fitOptions)
          : refineStages(prepared.network, ctx.fitData, fitOptions, (it, res) => run.step('refine', it, 0, `relative residual ${res.toExponential(2)}`));
      },
      // a lane's refinement waits on a worker while the main thread prepares (and may query for) later attempts
      { attempt: prepared.ledger, queries: 'inside' },
    );
  }
  const report: AttemptReport = {
    ...prepared.report,
    reason: '',
    ranIn: lanes && !general ? 'lane' : 'main',
    upperFit: refined?.upperFit ?? general?.upperFit ?? null,
    refine: refined?.refine ?? general?.refine ?? null,
    refinedResidual: refined ? refined.refine.relativeResidual : general ? general.refine.relativeResidual : null,
    networkAfterRefinement: refined ? serializeNetwork(refined.network) : null,
    networkGeneralAfterRefinement: general ? serializeNetworkV2(general.network) : null,
    prunedUnits: general ? general.prunedUnits : null,
    queries: prepared.ledger.queries,
    seconds: (performance.now() - prepared.started) / 1000,
  };
  return {
    network: refined?.network ?? prepared.network,
    networkGeneral: general?.network ?? null,
    networkBeforeRefinement: prepared.network,
    report,
    refineSeconds: prepared.ledger.seconds.refine ?? 0,
    width2Source: prepared.width2Source,
  };
}
