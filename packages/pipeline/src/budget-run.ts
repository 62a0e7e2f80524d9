/**
 * identify's side of `maxQueries` and `refinementData` (budget.ts plans the counts): the floor
 * checked before the first query when m0 is known, the counts lowered in the resolved options, the
 * stencils' answers recorded while the gradients and Hessians are sampled, and the refinement's data
 * assembled before the attempts from what is already paid plus only the fresh points it needs.
 * Without either option it does nothing: same queries, same bits.
 */
import { InvalidArgumentError, type QueryCounts, type Oracle } from '@nnid/core';
import type { PaidData } from './attempt.ts';
import { planWithinBudget, type BudgetPlan } from './budget.ts';
import type { ResolvedOptions } from './options.ts';
import { freshPoints, recordingOracle, stackPaid, type RecordingOracle } from './paid-data.ts';
import { stageSeed } from './identify-geometry.ts';
import type { Run } from './stages.ts';

/** Stream of a budgeted run's fresh refinement points (not the default refinement's: that one is drawn lazily, as before). */
const FRESH_KEY = 15;

export class RunBudget {
  /** The plan made (after range(A) when m0 was unknown), or null without maxQueries. */
  plan: BudgetPlan | null = null;
  private readonly recorder: RecordingOracle | null;
  /** The options as given (the plan lowers the live ones' counts). */
  private readonly given: ResolvedOptions;

  constructor(
    private readonly oracle: Oracle,
    private readonly options: ResolvedOptions,
    private readonly countsAtStart: QueryCounts,
  ) {
    this.given = { ...options };
    const max = options.maxQueries;
    this.recorder = max !== undefined && options.refitStencils ? recordingOracle(oracle) : null;
    if (max !== undefined && options.width1 !== undefined) {
      // m0 known: the floor is checked (and the counts lowered) before the first query
      this.apply(planWithinBudget(this.given, max, { inputDim: oracle.inputDim, width1: options.width1, reducedDim: options.reduceToRange ? options.width1 : oracle.inputDim, paidFitPoints: this.paidFitPoints() }), true);
    }
    if (this.recorder) this.recorder.recording = true;
  }

  /** The oracle the gradients and Hessians query through (it records their stencils under a budget). */
  get samplingOracle(): Oracle {
    return this.recorder?.oracle ?? this.oracle;
  }

  /** The counts lowered: the plan to announce changed. */
  get binding(): boolean {
    return this.plan?.binding ?? false;
  }

  private paidFitPoints(): number {
    return this.options.refinementData ? this.options.refinementData.values.length : 0;
  }

  private apply(plan: BudgetPlan, beforeRun = false): void {
    this.plan = plan;
    if (!plan.binding && this.paidFitPoints() === 0) return;
    const c = plan.counts;
    // planned after range(A), the gradients are paid: their count stays
    if (beforeRun) this.options.gradientPoints = c.gradientPoints;
    this.options.hessianPoints = c.hessianPoints;
    this.options.shiftDataPoints = c.shiftDataPoints;
    this.options.refineDataPoints = c.refineDataPoints;
  }

  /**
   * Whether `rows` more, paid before range(A) (the gradients' central completion), leave the floor
   * of every m0 within maxQueries: that of m0 = r = d, the largest. Always true without a budget.
   */
  allowsBeforeRange(rows: number, gradientPoints: number): boolean {
    const max = this.options.maxQueries;
    if (max === undefined) return true;
    const d = this.oracle.inputDim;
    const queries = this.oracle.counts().paid - this.countsAtStart.paid + rows;
    try {
      planWithinBudget(this.given, max, { inputDim: d, width1: d, reducedDim: d, paid: { queries, gradientPoints }, paidFitPoints: this.paidFitPoints() });
      return true;
    } catch (e) {
      // the floor does not fit (planWithinBudget's refusal); anything else is a fault
      if (e instanceof InvalidArgumentError) return false;
      throw e;
    }
  }

  /** After range(A): the rest of the run planned on what it paid (noise, gradients). */
  afterRange(width1: number, reducedDim: number, gradientPoints: number): void {
    const max = this.options.maxQueries;
    if (max === undefined) {
      if (this.paidFitPoints() > 0) {
        // no cap, answers in hand: the default plan with fewer fresh refinement points
        this.apply(planWithinBudget(this.given, Number.MAX_SAFE_INTEGER, { inputDim: this.oracle.inputDim, width1, reducedDim, paidFitPoints: this.paidFitPoints() }));
      }
      return;
    }
    const paid = { queries: this.oracle.counts().paid - this.countsAtStart.paid, gradientPoints };
    this.apply(planWithinBudget(this.given, max, { inputDim: this.oracle.inputDim, width1, reducedDim, paid, paidFitPoints: this.paidFitPoints() }));
  }

  /**
   * The refinement's data, paid here (stage 'refine') when the run is budgeted or was given answers:
   * those answers, the stencils' (when the budget bound) and the fresh points planned. null: the
   * default, drawn by the first attempt that refines.
   */
  async refineData(run: Run): Promise<PaidData | null> {
    if (this.recorder) this.recorder.recording = false;
    const given = this.options.refinementData;
    if (!this.options.refine || (!this.binding && !given)) return null;
    const parts: PaidData[] = [];
    if (given) parts.push(given);
    const stencils = this.binding ? this.recorder?.recorded() : null;
    if (stencils) parts.push(stencils);
    const n = this.options.refineDataPoints === 'auto' ? 0 : this.options.refineDataPoints;
    if (n > 0) {
      const inputs = freshPoints(n, this.oracle.inputDim, stageSeed(this.options.seed, FRESH_KEY));
      const values = await run.stage('refine', () => this.oracle.evaluate(inputs), { message: `${n} fresh points` });
      parts.push({ inputs, values });
    }
    return parts.length === 0 ? null : stackPaid(parts);
  }
}
