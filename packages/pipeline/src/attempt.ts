/**
 * One attempt of identify, up to the paper's assembled network (the main thread's part): W-hat ->
 * rank-one candidates -> attribution -> missing a_i -> entangled part -> shifts. Each is one stage
 * of the run (stages.ts); the refinement is attempt-refine.ts's.
 */
import { ErrorCodes, NnidError, serializeNetwork, type Float64View, type Network, type NetworkJson, type Oracle } from '@nnid/core';
import { estimateSubspace, type SubspaceReport } from '@nnid/subspace';
import { findRankOne, type RankOneReport, type RankOneResult, type SolverPool } from '@nnid/rank1-solver';
import { attributeCandidates, type AttributionReport } from '@nnid/attribution';
import { recoverShifts, type ShiftRecoveryReport } from '@nnid/shift-recovery';
import { liftRows, pickRows, rowsOf, stageSeed } from './identify-geometry.ts';
import { OPTIONS, valueOf, type ResolvedOptions } from './options.ts';
import type { Step } from './retry-policy.ts';
import type { AttemptLedger, Run } from './stages.ts';
import { ZERO } from './stages.ts';
import { ENTANGLED_PART_FACTOR, entangledPart, type EntangledReport } from './entangled.ts';
import { completeFirstLayer, REOPEN_COHERENCE, type CompletionReport } from './completion.ts';
import { attemptWidth2Source } from './widths.ts';
import { SCALE_START_PARAMETERS } from './hessian-budget.ts';

// From SCALE_START_PARAMETERS on (hessian-budget.ts), identify's start at scale: the completion takes back the first
// search's rows coherent with the others (`REOPEN_COHERENCE`: entangled weights kept as rows) and, with m1 known, the
// entangled part is searched `ENTANGLED_PART_FACTOR` m1 wide. Below it the bits stay. BENCHMARKS.md, ninth and tenth passes.
export { SCALE_START_PARAMETERS } from './hessian-budget.ts';

/** Data paid once and reused by every attempt after (in shared memory where lanes read it). */
export interface PaidData {
  inputs: Float64View;
  values: Float64Array;
}

/** What every attempt of a run shares. */
export interface AttemptContext {
  oracle: Oracle;
  options: ResolvedOptions;
  run: Run;
  /** Hessians in reduced coordinates (packed). */
  hessianStack: Float64View;
  /** d x r basis of range(A), or null (r = d). */
  rangeBasis: Float64View | null;
  reducedDim: number;
  width1: number;
  /** m1 for dimensions and starts when the step gives none (estimated from the spectrum). */
  width2: number;
  gradientAtZero: Float64Array | null;
  solverPool: SolverPool | null;
  /** The shift fit's data, paid by the first attempt, reused by the retries. */
  shiftData: PaidData | null;
  /** The refinement's fresh data, drawn and paid by the first attempt that refines, reused after. */
  refineData: PaidData | null;
  /** What every refinement fits (refineData, and shiftData when reused), in shared memory, made once. */
  fitData: PaidData | null;
  /** Set when identify has its answer: attempts still being prepared stop at their next stage. */
  stopped: boolean;
}

export interface CandidateReport {
  /** In R^d, unit, sign fixed (largest |entry| positive). */
  vector: number[];
  /** The a-posteriori certificate Phi = |P_W(u u^T)|_F^2. */
  phi: number;
  hits: number;
  role: 'first-layer' | 'entangled' | 'skipped' | 'unused';
}

/** The stage reports of an attempt's main-thread part. */
export interface PreparedReport {
  subspaceDimension: number;
  /** m1 of this attempt's network. */
  width2: number;
  subspace: SubspaceReport;
  rankOne: RankOneReport;
  attribution: AttributionReport;
  candidates: CandidateReport[];
  /** margin between the groups (entangled min coherence - first-layer max coherence). */
  attributionMargin: number | null;
  completion: CompletionReport;
  entangled: EntangledReport;
  shifts: ShiftRecoveryReport;
  networkBeforeRefinement: NetworkJson;
  /** Relative residual of the shift fit (paper's pipeline alone) on its data. */
  pipelineResidual: number;
}

/** An attempt up to the paper's assembled network. */
export interface PreparedAttempt {
  step: Step;
  network: Network;
  report: PreparedReport;
  ledger: AttemptLedger;
  width2Source: string;
  started: number;
}

/** An error that ends an attempt prepared after identify had its answer (never reported). */
const STOPPED = 'identify: stopped (an earlier attempt passed the check)';

/** The seed of an attempt: from its step's id, not from when it runs. */
export function attemptSeedOf(options: ResolvedOptions, step: Step): number {
  return stageSeed(options.seed, 100 + step.id);
}

function rolesOf(firstSearch: RankOneResult, attribution: AttributionReport): CandidateReport['role'][] {
  const roles = new Array<CandidateReport['role']>(firstSearch.candidates.shape[0]).fill('unused');
  for (const i of attribution.firstLayer) roles[i] = 'first-layer';
  for (const i of attribution.entangled) roles[i] = 'entangled';
  for (const s of attribution.skipped) roles[s.index] = 'skipped';
  return roles;
}

/** Subspace -> rank-one -> attribution (+ completion, + entangled part) -> shifts: the paper's network. */
export async function prepareAttempt(ctx: AttemptContext, step: Step): Promise<PreparedAttempt> {
  const { oracle, options, run, hessianStack, rangeBasis, width1: m0 } = ctx;
  const k = step.subspaceDimension;
  const width2Given = step.width2;
  const m1 = step.width2 ?? ctx.width2;
  const started = performance.now();
  const ledger: AttemptLedger = { seconds: {}, queries: { ...ZERO } };
  const checkStopped = () => {
    if (ctx.stopped) throw new NnidError(ErrorCodes.numerical, STOPPED);
  };
  const seed = attemptSeedOf(options, step);
  // small searches run in the main thread (same results): a worker pool costs more to start
  const solver = ctx.solverPool ? { pool: ctx.solverPool } : { threads: 1 };
  const starts = valueOf(options.starts, OPTIONS.starts, { width1: m0, width2: m1 });

  const subspace = await run.stage('subspace', () => estimateSubspace(hessianStack, { layout: 'packed', dimension: k }), { message: `dimension ${k}`, attempt: ledger });
  const firstSearch = await run.stage('rankOne', () => findRankOne(subspace.subspace.basis, { ...solver, starts, seed, threshold: options.threshold }), {
    message: `${starts} starts`,
    attempt: ledger,
  });
  checkStopped();
  const attribution = await run.stage(
    'attribution',
    () =>
      attributeCandidates(firstSearch.candidates, {
        width1: m0,
        ...(width2Given !== undefined ? { width2: width2Given } : {}),
        certificates: firstSearch.certificates,
      }),
    { attempt: ledger },
  );
  // from SCALE_START_PARAMETERS on, the first search's rows coherent with the others are searched again (an entangled weight kept as a row)
  const atScale = (oracle.inputDim + 1 + m1) * m0 + m1 >= SCALE_START_PARAMETERS;
  const reopen = atScale ? { reopenCoherence: REOPEN_COHERENCE } : {};
  const completed = await run.stage('completion', () => completeFirstLayer(ctx.hessianStack, attribution.firstLayerWeights, { width1: m0, subspaceDimension: k, width2: m1, seed, solver, ...reopen }), {
    attempt: ledger,
  });
  checkStopped();
  const firstLayer = completed.firstLayer; // reduced coordinates
  // model 'general', m1 inferred: the attribution's count can exceed m0 (52 entangled candidates
  // on an (8, 4, 2) network: its refinement ran 455 s); m1 <= m0, so then the spectrum's estimate
  const entangledWidth = width2Given ?? (options.model === 'general' && attribution.entangled.length > m0 ? m1 : undefined);
  // and the entangled part wider (its top m1 directions miss the weak v_l); only with m1 known: with m1 inferred the
  // count of v_l it finds is m1's estimate, and the wider part was not measured for that
  const wide = atScale && entangledWidth !== undefined ? { partFactor: ENTANGLED_PART_FACTOR } : {};
  const entangled = await run.stage('entangled', () => entangledPart(ctx, { firstLayer, firstSearch, attribution, width2Given: entangledWidth, seed, solver, ...wide }), { attempt: ledger });
  checkStopped();

  // back to R^d
  const Ahat = liftRows(firstLayer, rangeBasis);
  const Vhat = liftRows(entangled.weights, rangeBasis);
  const shifts = await run.stage(
    'shifts',
    () =>
      recoverShifts(oracle, Ahat, Vhat, {
        activation: options.activation,
        seed: stageSeed(seed, 3),
        ...(ctx.gradientAtZero ? { gradientAtZero: ctx.gradientAtZero } : {}),
        dataPoints: options.shiftDataPoints,
        ...(ctx.shiftData ? { data: ctx.shiftData } : {}),
      }),
    { attempt: ledger },
  );
  ctx.shiftData ??= shifts.data;

  const roles = rolesOf(firstSearch, attribution.report);
  const lifted = liftRows(firstSearch.candidates, rangeBasis);
  const candidates: CandidateReport[] = [];
  for (let i = 0; i < firstSearch.candidates.shape[0]; i++) {
    candidates.push({ vector: rowsOf(pickRows(lifted, [i]))[0], phi: firstSearch.certificates[i], hits: firstSearch.hits[i], role: roles[i] });
  }
  const width2 = entangled.weights.shape[0];
  return {
    step,
    network: shifts.network,
    report: {
      subspaceDimension: k,
      width2,
      subspace: subspace.report,
      rankOne: firstSearch.report,
      attribution: attribution.report,
      candidates,
      attributionMargin: attribution.report.margin,
      completion: completed.report,
      entangled: entangled.report,
      shifts: shifts.report,
      networkBeforeRefinement: serializeNetwork(shifts.network),
      pipelineResidual: shifts.report.relativeResidual,
    },
    ledger,
    width2Source: attemptWidth2Source(options, width2Given),
    started,
  };
}
