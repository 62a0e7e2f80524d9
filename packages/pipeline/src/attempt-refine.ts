/**
 * The refinement of a prepared attempt: the data paid by the first attempt that refines (in the
 * main thread), then refineStages here (with identify's threads) or in a lane (attempt-lanes.ts).
 */
import { matrix, parameterCount, rng, serializeNetwork, toDense, type Float64View, type Network, type NetworkJson } from '@nnid/core';
import type { RefineReport } from '@nnid/refine';
import { stageSeed } from './identify-geometry.ts';
import type { AttemptLanes } from './attempt-lanes.ts';
import { attemptSeedOf, type AttemptContext, type PaidData, type PreparedAttempt, type PreparedReport } from './attempt.ts';
import { OPTIONS, valueOf } from './options.ts';
import { refineStages, type RefineStagesOptions, type RefineStagesResult } from './refine-stages.ts';

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
  /** The fit of (theta, B, tau) on the first layer found, before the full refinement (null: none). */
  upperFit: RefineStagesResult['upperFit'];
  refine: RefineReport | null;
  /** This attempt's network after refinement (null without refinement): a failed attempt's local minimum too. */
  networkAfterRefinement: NetworkJson | null;
  /** Relative residual after refinement on its data (null without refinement). */
  refinedResidual: number | null;
  /** The queries of its shift fit and refinement. */
  queries: { total: number; paid: number; reused: number };
  seconds: number;
}

export interface AttemptResult {
  network: Network;
  networkBeforeRefinement: Network;
  report: AttemptReport;
  /** Seconds this attempt spent refining (the lanes rule). */
  refineSeconds: number;
  width2Source: string;
}

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

/** Stacks (inputs, values) sets into shared memory (attempt lanes read it without a copy). */
function sharedData(parts: PaidData[]): PaidData {
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

export async function refineAttempt(ctx: AttemptContext, prepared: PreparedAttempt, lanes: AttemptLanes | null): Promise<AttemptResult> {
  const { oracle, options, run } = ctx;
  let refined: RefineStagesResult | null = null;
  if (options.refine) {
    refined = await run.stage(
      'refine',
      async (pay) => {
        if (ctx.refineData === null) {
          const n = valueOf(options.refineDataPoints, OPTIONS.refineDataPoints, { parameterCount: parameterCount(prepared.network), refineDataFactor: options.refineDataFactor });
          const inputs = refinePoints(n, oracle.inputDim, stageSeed(options.seed, 5));
          ctx.refineData = { inputs, values: n > 0 ? await pay(() => oracle.evaluate(inputs)) : new Float64Array(0) };
        }
        ctx.fitData ??= sharedData(options.reuseShiftData && ctx.shiftData ? [ctx.refineData, ctx.shiftData] : [ctx.refineData]);
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
    ranIn: lanes ? 'lane' : 'main',
    upperFit: refined?.upperFit ?? null,
    refine: refined?.refine ?? null,
    refinedResidual: refined ? refined.refine.relativeResidual : null,
    networkAfterRefinement: refined ? serializeNetwork(refined.network) : null,
    queries: prepared.ledger.queries,
    seconds: (performance.now() - prepared.started) / 1000,
  };
  return {
    network: refined?.network ?? prepared.network,
    networkBeforeRefinement: prepared.network,
    report,
    refineSeconds: prepared.ledger.seconds.refine ?? 0,
    width2Source: prepared.width2Source,
  };
}
