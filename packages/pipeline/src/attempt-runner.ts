/**
 * The attempt runner: takes the plan's attempts in order, one after the other; after a failed check
 * they may run in lanes (parallelAttempts): the refinements of the next steps side by side in worker
 * threads, while the main thread prepares the ones after. Prepared attempts go through the main
 * thread one at a time. Which attempts run, and why, is the retry policy's (retry-policy.ts).
 */
import { createAttemptLanes, type AttemptLanes } from './attempt-lanes.ts';
import { prepareAttempt, type AttemptContext } from './attempt.ts';
import { refineAttempt, type AttemptResult } from './attempt-refine.ts';
import { LANES_FROM_SECONDS } from './options.ts';
import { decide, type Step } from './retry-policy.ts';

type Outcome = { ok: true; result: AttemptResult } | { ok: false; error: Error };

export interface RunAttemptsResult {
  /** The attempts that ran to a network, in plan order. */
  attempts: AttemptResult[];
  warnings: string[];
  /** Lanes used (0: none) and the first attempt refined in one. */
  lanes: number;
  lanesFrom: number | null;
}

/**
 * Runs the plan until an attempt passes the check (`threshold()`: the noise floor is known once
 * the refinement's data are paid) or the plan ends.
 */
export async function runAttempts(ctx: AttemptContext, firstPlan: readonly Step[], threshold: () => number): Promise<RunAttemptsResult> {
  const { options } = ctx;
  const attempts: AttemptResult[] = [];
  const warnings: string[] = [];
  let lanes: AttemptLanes | null = null;
  let lanesFrom: number | null = null;
  const launched = new Map<Step, Promise<Outcome>>();
  let preparing: Promise<unknown> = Promise.resolve();
  const launch = (step: Step, attemptLanes: AttemptLanes | null): Promise<Outcome> => {
    const prepared = preparing.then(() => prepareAttempt(ctx, step));
    preparing = prepared.catch(() => undefined);
    return prepared.then((prep) => refineAttempt(ctx, prep, attemptLanes)).then(
      (result): Outcome => ({ ok: true, result }),
      (error: unknown): Outcome => ({ ok: false, error: error instanceof Error ? error : new Error(String(error)) }),
    );
  };
  let plan = firstPlan;
  let reason = 'first';
  try {
    for (let index = 0; index < plan.length; index++) {
      const step = plan[index];
      if (lanes) {
        for (let j = index; j < Math.min(plan.length, index + lanes.lanes); j++) if (!launched.has(plan[j])) launched.set(plan[j], launch(plan[j], lanes));
      }
      const outcome = await (launched.get(step) ?? launch(step, null));
      if (!outcome.ok) {
        const decision = decide(plan, index, { ok: false, message: outcome.error.message }, { width2Given: options.width2 !== undefined, width1: ctx.width1, refine: options.refine, threshold: threshold() });
        if (decision.warning) warnings.push(decision.warning);
        reason = decision.reason;
        plan = decision.plan;
        continue;
      }
      const result = outcome.result;
      result.report.reason = reason;
      attempts.push(result);
      const residual = result.report.refinedResidual;
      const decision = decide(plan, index, { ok: true, width2: result.report.width2, refinedResidual: residual }, { width2Given: options.width2 !== undefined, width1: ctx.width1, refine: options.refine, threshold: threshold() });
      if (result.report.ranIn === 'lane') ctx.run.step('refine', 1, 1, `attempt ${index} (lane): relative residual ${residual?.toExponential(2)}`);
      if (decision.stop) break;
      reason = decision.reason;
      plan = decision.plan;
      if (decision.warning) {
        warnings.push(decision.warning);
        // lanes from here on, when they pay: the refinement just failed was long enough
        const wanted = options.parallelAttempts === true || (options.parallelAttempts === 'auto' && result.refineSeconds >= LANES_FROM_SECONDS);
        // (model 'general' refines in the main thread: its fit has no lane worker)
        if (!lanes && options.model === 'paper' && options.threads > 1 && wanted && ctx.fitData !== null) {
          lanes = createAttemptLanes({ lanes: options.threads });
          lanesFrom = index + 1;
        }
      }
    }
  } finally {
    // attempts launched beyond the one that ended the run: their lanes end with the pool, their
    // preparation at its next stage
    ctx.stopped = true;
    ctx.run.seal();
    await Promise.all([preparing, lanes?.close()]);
  }
  return { attempts, warnings, lanes: lanes?.lanes ?? 0, lanesFrom };
}
