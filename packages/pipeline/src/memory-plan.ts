/**
 * identify's memory plan, made with the query plan before the first query: the peak memory of
 * each stage at the plan's widths and counts, from the arrays each stage allocates (8 bytes a
 * number), against the machine (os.totalmem) or `maxMemory`. A plan whose peak does not fit is
 * refused before any query, naming the stage that holds it and what would fit (fewer Hessians, a
 * smaller refinement set, the matrix-free solver, more memory).
 *
 * The counts follow the stages' code: the sampler's evaluation batches (at most 16384 rows of d
 * numbers per thread, whole stencils), the Hessian stack (H x r(r+1)/2), the SVD of that stack
 * (its copy and both factors), the rank-one search (its k x p matrices, and per thread their
 * unpacked k x n x n form and the blocks of starts), the shift fit's points, and the refinement:
 * dense, its N x P Jacobian, one P x P J^T J per row block, their sum and the Cholesky factor,
 * and the (d + 1)(d + 2)/2 input pairs per point when that table is no larger than J's rows; or
 * matrix-free (refine's networkOperator), N (2 d + 8 m0 + 6 m1) numbers of activations and
 * products, one (d + 1)^2 block per first-layer unit and (m0 + 1)^2 per second-layer unit of the
 * preconditioner, and a few vectors of P.
 */
import { totalmem } from 'node:os';
import { NnidError, ErrorCodes } from '@nnid/core';
import { OPTIONS, valueOf, type ResolvedOptions } from './options.ts';
import type { QueryPlan } from './plan.ts';
import { rangeFitIsDense, rangeParameters, rangeRuleApplies } from './polish-range.ts';

const GiB = 1024 ** 3;
/** The main thread's own footprint (Node, tsx, the modules): measured 0.10 GiB before the first stage. */
export const BASE_BYTES = 0.12 * GiB;
/**
 * A worker thread's footprint (its isolate, tsx, the modules). A run keeps two pools of `threads`
 * workers (the sampler's and the rank-one solver's): measured peaks 0.29 GiB at (100, 50, 20) and
 * 0.55-0.59 GiB at (200, 100, 30) with 2 threads before the refinement.
 */
export const WORKER_BYTES = 0.07 * GiB;
/** The sampler's rows per evaluation batch (@nnid/hessian-sampler's maxBatchRows default). */
const SAMPLER_BATCH_ROWS = 16384;
/** The rank-one solver's starts per block (@nnid/rank1-solver's batch.ts). */
const SOLVER_BLOCK = 32;
/** refine's normal equations: row blocks from N P^2 >= 1e9 (refine's BLOCKED_FROM, ROW_BLOCKS). */
const BLOCKED_FROM = 1e9;
const ROW_BLOCKS = 2;

export type RefineSolver = 'normal-equations' | 'matrix-free';

export interface StageMemory {
  stage: 'gradients' | 'hessians' | 'subspace' | 'rankOne' | 'shifts' | 'refine';
  /** Peak bytes while the stage runs (the process's footprint included). */
  bytes: number;
  /** The arrays that dominate. */
  what: string;
}

export interface MemoryPlan {
  stages: StageMemory[];
  peakBytes: number;
  peakStage: StageMemory['stage'];
  /** The refinement's solver the plan counts with. */
  refineSolver: RefineSolver | null;
  /** The other solver's refinement, for comparison (null without refinement). */
  alternativeRefineBytes: number | null;
  /** The refinement refits the shift fit's points too (reuseShiftData). */
  reusedShiftPoints: boolean;
  limitBytes: number;
  limitSource: 'maxMemory' | 'os.totalmem';
  fits: boolean;
}

/** Bytes of `numbers` float64s. */
const f64 = (numbers: number) => 8 * numbers;

/** Rows of one evaluation batch of the sampler: whole stencils of `perPoint` rows, at most 16384 rows but at least one stencil. */
function batchRows(perPoint: number): number {
  return Math.max(1, Math.floor(SAMPLER_BATCH_ROWS / perPoint)) * perPoint;
}

/** refine's dense normal equations at N points, P parameters, input dimension d. */
export function denseRefineBytes(N: number, P: number, d: number): number {
  const blocks = N * P * P >= BLOCKED_FROM ? ROW_BLOCKS : 1;
  const pairs = ((d + 1) * (d + 2)) / 2;
  return f64(N * d + N * P + (blocks + 2) * P * P + (pairs <= P ? N * pairs : 0));
}

/** refine's networkOperator: the second layer is one preconditioner block up to this many parameters (SECOND_LAYER_BLOCK_MAX), per unit past it. */
const SECOND_LAYER_BLOCK_MAX = 3072;

/**
 * refine's matrix-free solver (networkOperator and its preconditioner) at N points: the second
 * layer's whole block is formed as two row parts (its row blocks) before their sum.
 */
export function matrixFreeRefineBytes(N: number, P: number, d: number, m0: number, m1: number): number {
  const Q = m1 * (m0 + 1);
  const second = Q <= SECOND_LAYER_BLOCK_MAX ? 2 * Q * Q : m1 * (m0 + 1) ** 2;
  return f64(N * d + N * (2 * d + 8 * m0 + 6 * m1) + m0 * (d + 1) ** 2 + second + 20 * P);
}

/** refine's 'auto': the dense solver while 8 (N P + 3 P^2) bytes (J, J^T J, the row blocks' copies) stay within 4 GiB (refine's DENSE_MEMORY_LIMIT). */
const AUTO_DENSE_LIMIT = 4 * GiB;

/**
 * The refinement solver a run uses: the option when it names one, else 'auto' as refine resolves
 * it (identify's refinement calls fitNetwork without a solver: dense at (100, 50, 20) on 4 P rows,
 * matrix-free at (200, 100, 30) and (784, 128, 64)). With the refinement in range(A)'s coordinates
 * (polish-range.ts) the fit there is smaller and the finish in R^d is this one: the peak is this.
 */
function refineSolverOf(options: ResolvedOptions, N: number, P: number): RefineSolver {
  const solver = (options as unknown as { solver?: string }).solver;
  if (solver === 'normal-equations' || solver === 'matrix-free') return solver;
  return f64(N * P + 3 * P * P) <= AUTO_DENSE_LIMIT ? 'normal-equations' : 'matrix-free';
}

/** `maxMemory` (checked by the options table), or the machine's memory. */
export function memoryLimit(maxMemory: number | undefined): { bytes: number; source: MemoryPlan['limitSource'] } {
  return maxMemory === undefined ? { bytes: totalmem(), source: 'os.totalmem' } : { bytes: maxMemory, source: 'maxMemory' };
}

/**
 * The memory plan at the query plan's widths and counts, for `threads` threads.
 *
 * @example
 * const memory = planMemory(resolved, planQueries(resolved, { inputDim: d }), memoryLimit(options.maxMemory));
 * if (!memory.fits) throw new NnidError(ErrorCodes.invalidArgument, memoryRefusal(memory, plan));
 */
export function planMemory(options: ResolvedOptions, plan: QueryPlan, limit: { bytes: number; source: MemoryPlan['limitSource'] }): MemoryPlan {
  const { inputDim: d, width1: m0, width2: m1, reducedDim: r } = plan.widths;
  const P = plan.parameterCount;
  const threads = options.threads;
  const base = BASE_BYTES + (threads > 1 ? 2 * threads * WORKER_BYTES : 0);
  const stages: StageMemory[] = [];
  // gradients: the stack and, per thread, a batch of stencils (d + 1 rows of d numbers each, forward)
  const g = plan.queries.gradients > 0 ? Math.round(plan.queries.gradients / (d + 1)) : 0;
  if (g > 0) {
    const batch = batchRows(d + 1);
    stages.push({ stage: 'gradients', bytes: base + f64(2 * g * d + threads * batch * d), what: `${threads} x ${batch} stencil rows of ${d}` });
  }
  // Hessians: the points, the stack and, per thread, a batch of stencils
  const H = plan.hessianPoints;
  const p = (r * (r + 1)) / 2;
  const hBatch = batchRows(plan.queriesPerHessian);
  const stack = f64(H * p);
  stages.push({ stage: 'hessians', bytes: base + f64(H * d) + stack + threads * f64(hBatch * d), what: `${threads} x ${hBatch} stencil rows of ${d}; the stack ${H} x ${p}` });
  // subspace: the SVD of the stack (its copy, both factors)
  const q = Math.min(H, p);
  stages.push({ stage: 'subspace', bytes: base + stack + f64(H * p + p * q + H * q + 3 * q * q), what: `the SVD of ${H} x ${p}` });
  // rank-one search: k x p matrices (basis and search copy), per thread W unpacked and a block's buffers
  const k = Math.min(valueOf(options.subspaceDimension, OPTIONS.subspaceDimension, { width1: m0, width2: m1, maxDim: q }), q);
  const starts = valueOf(options.starts, OPTIONS.starts, { width1: m0, width2: m1 });
  const solverThreads = threads;
  stages.push({
    stage: 'rankOne',
    bytes: base + stack + f64(2 * k * p + 2 * starts * r) + solverThreads * f64(k * r * r + 4 * SOLVER_BLOCK * p + r * r),
    what: `${k} x ${p} matrices; ${solverThreads} x their ${k} x ${r} x ${r} unpacked form`,
  });
  // the shift fit: its points (a few m0 + m1)
  const shiftPoints = plan.queries.shifts;
  stages.push({ stage: 'shifts', bytes: base + stack + f64(3 * shiftPoints * d), what: `${shiftPoints} points of ${d}` });
  // refinement: its data (fresh points, plus the shift fit's when reused)
  let refineSolver: RefineSolver | null = null;
  let alternativeRefineBytes: number | null = null;
  if (options.refine) {
    const N = plan.queries.refine + (options.reuseShiftData ? shiftPoints : 0);
    const dense = denseRefineBytes(N, P, d);
    const free = matrixFreeRefineBytes(N, P, d, m0, m1);
    refineSolver = refineSolverOf(options, N, P);
    const bytes = refineSolver === 'normal-equations' ? dense : free;
    alternativeRefineBytes = base + stack + (refineSolver === 'normal-equations' ? free : dense);
    // the refinement in range(A)'s coordinates first where identify's rule takes it (polish-range.ts; r the plan's
    // reduced dimension, at most m0): the data X U (N x r) beside X, and the fit there on P - m0 (d - r) parameters,
    // dense or matrix-free as refine's 'auto' takes it (matrix-free at (200, 100, 30) and (784, 128, 64): RANGE_PAST_DENSE)
    const rank = Math.min(r, m0);
    const shape = { inputDim: d, width1: m0, parameters: P, rank };
    const inRange = rangeRuleApplies(shape, N);
    const Pr = rangeParameters(shape);
    const rangeDense = rangeFitIsDense(shape, N);
    const rangeFit = inRange ? f64(N * d) + (rangeDense ? denseRefineBytes(N, Pr, rank) : matrixFreeRefineBytes(N, Pr, rank, m0, m1)) : 0;
    // the fit of (theta, B, tau) before the full one (upperFitIterations): fitNetwork's 'auto' on
    // F = m0 + m1 (m0 + 1) parameters, dense up to 4 GiB (measured: 3.5 GB RSS at (200, 100, 30),
    // where the full fit is matrix-free in 1.5 GiB); in range(A), on X U beside X
    const Fu = m0 + m1 * (m0 + 1);
    const upperData = N * d + (inRange ? N * rank : 0);
    const upper = options.upperFitIterations > 0 ? (f64(N * Fu + 3 * Fu * Fu) <= AUTO_DENSE_LIMIT ? f64(upperData + N * Fu + 3 * Fu * Fu) : free) : 0;
    const most = Math.max(bytes, upper, rangeFit);
    stages.push({
      stage: 'refine',
      bytes: base + stack + most,
      what:
        most === bytes
          ? refineSolver === 'normal-equations'
            ? `J ${N} x ${P} and J^T J ${P} x ${P} (dense)`
            : `${N} points' activations and products (matrix-free)`
          : most === upper
            ? `the fit of (theta, B, tau) first: J ${N} x ${Fu} and J^T J (dense)`
            : `the fit in range(A) first: ${Pr} parameters on ${N} points (${rangeDense ? 'dense' : 'matrix-free'})`,
    });
  }
  const peak = stages.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return {
    stages,
    peakBytes: peak.bytes,
    peakStage: peak.stage,
    refineSolver,
    alternativeRefineBytes,
    reusedShiftPoints: options.reuseShiftData,
    limitBytes: limit.bytes,
    limitSource: limit.source,
    fits: peak.bytes <= limit.bytes,
  };
}

const gb = (bytes: number) => `${(bytes / GiB).toFixed(bytes < 10 * GiB ? 2 : 1)} GiB`;

/** One line: each stage's peak and the plan's, against the limit. */
export function describeMemoryPlan(memory: MemoryPlan): string {
  return (
    `memory: peak ${gb(memory.peakBytes)} at ${memory.peakStage} (limit ${gb(memory.limitBytes)}, ${memory.limitSource}): ` +
    memory.stages.map((s) => `${s.stage} ${gb(s.bytes)}`).join(', ') +
    (memory.refineSolver ? ` (refine ${memory.refineSolver})` : '')
  );
}

/** The refinement's rows: its fresh points and the shift fit's when reused. */
function refineRows(plan: QueryPlan, memory: MemoryPlan): number {
  return plan.queries.refine + (memory.reusedShiftPoints ? plan.queries.shifts : 0);
}
const denseBytes = (plan: QueryPlan, N: number) => denseRefineBytes(N, plan.parameterCount, plan.widths.inputDim);
const freeBytes = (plan: QueryPlan, N: number) => matrixFreeRefineBytes(N, plan.parameterCount, plan.widths.inputDim, plan.widths.width1, plan.widths.width2);

/**
 * Why a plan that does not fit is refused, and what would fit: the matrix-free refinement, a
 * refinement set small enough (refineDataPoints), fewer Hessians (hessianPoints), or the memory it
 * needs (maxMemory, a larger machine).
 */
export function memoryRefusal(memory: MemoryPlan, plan: QueryPlan): string {
  const peak = memory.stages.find((s) => s.stage === memory.peakStage)!;
  const { inputDim: d, width1: m0, width2: m1 } = plan.widths;
  const P = plan.parameterCount;
  const ways: string[] = [];
  if (memory.peakStage === 'refine') {
    // each solver's refinement is linear in its points N: the largest N that fits, for both
    const around = peak.bytes - (memory.refineSolver === 'normal-equations' ? denseBytes : freeBytes)(plan, refineRows(plan, memory));
    const largest = (bytes: (plan: QueryPlan, N: number) => number) => {
      const fixed = around + bytes(plan, 0);
      const perPoint = bytes(plan, 1) - bytes(plan, 0);
      return Math.floor((memory.limitBytes - fixed) / perPoint) - (refineRows(plan, memory) - plan.queries.refine);
    };
    const N = plan.queries.refine;
    const solvers: [RefineSolver, (plan: QueryPlan, N: number) => number][] = [
      ['normal-equations', denseBytes],
      ['matrix-free', freeBytes],
    ];
    for (const [solver, bytes] of memory.refineSolver === 'normal-equations' ? solvers : solvers.reverse()) {
      const maxN = largest(bytes);
      const name = solver === memory.refineSolver ? '' : `solver: '${solver}'`;
      if (maxN >= N) {
        if (name) ways.push(`${name} (its refinement needs ${gb(around + bytes(plan, refineRows(plan, memory)))})`);
      } else if (maxN >= 1) ways.push(`${name ? `${name} with ` : ''}refineDataPoints <= ${maxN} (${(maxN / P).toFixed(2)} P; the plan has ${N})`);
    }
    ways.push('refine: false');
  } else {
    ways.push(`fewer Hessians (hessianPoints; the plan has ${plan.hessianPoints}, the floor is m0 + m1 + 2 = ${m0 + m1 + 2})`);
    if (memory.peakStage !== 'subspace') ways.push('threads: 1');
  }
  ways.push(`more memory (maxMemory >= ${gb(memory.peakBytes)}, or a larger machine)`);
  return (
    `identify: the plan needs ${gb(memory.peakBytes)} at its peak (${memory.peakStage}: ${peak.what}), more than the ${gb(memory.limitBytes)} ` +
    `${memory.limitSource === 'maxMemory' ? 'of maxMemory' : 'of this machine (os.totalmem)'} at (${d}, ${m0}, ${m1}), P = ${P}. What would fit: ${ways.join('; ')}.`
  );
}

/** Throws the refusal when the plan does not fit. */
export function checkMemoryPlan(memory: MemoryPlan, plan: QueryPlan): void {
  if (!memory.fits) throw new NnidError(ErrorCodes.invalidArgument, memoryRefusal(memory, plan));
}
