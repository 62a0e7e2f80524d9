/**
 * Finite-difference Hessians and gradients at sample points, through an Oracle, in worker threads
 * when the oracle's black box can be rebuilt in a worker.
 */
import { availableParallelism } from 'node:os';
import {
  checkChoice,
  checkInteger,
  checkPositive,
  checkView,
  invalidArgument,
  isShared,
  matrix,
  toDescriptor,
  type Float64View,
  type Oracle,
  type ViewLike,
} from '@nnid/core';
import { serveBlackBox } from '@nnid/oracle';
import { runChunk, type ChunkJob, type WorkerTask } from './chunk.ts';
import { gaussianPoints, spherePoints } from './points.ts';
import { createSamplerPool, type SamplerPool } from './pool.ts';
import { hessianColumns, stencilRows, type Kind, type Layout, type Scheme } from './stencil.ts';

/** Default steps, chosen on d = 20..50 tanh/sigmoid networks with |x| ~ 1 (see README). */
export const DEFAULT_STEP: Readonly<Record<Scheme, number>> = { forward: 5e-5, central: 1e-3 };
/** Default step of the central-difference gradients. */
export const DEFAULT_GRADIENT_STEP: Readonly<Record<Scheme, number>> = { forward: 1e-7, central: 1e-5 };

/** Points to sample at: a count x inputDim view (or ndarray), or a description drawn with `seed`. */
export type PointsInput = ViewLike | { count: number; distribution?: 'sphere' | 'gaussian'; radius?: number; std?: number };

export interface SampleOptions {
  /** Finite-difference step h. Default DEFAULT_STEP[scheme] (Hessians), DEFAULT_GRADIENT_STEP[scheme] (gradients). */
  step?: number;
  /** Default 'forward' for Hessians, 'central' for gradients. */
  scheme?: Scheme;
  /** Worker threads. Default os.availableParallelism(). 1 runs in the main thread. */
  threads?: number;
  /** Seed of the points when `points` is a description (default 0). */
  seed?: number;
  /** Called with (points done, points in all) as chunks finish. */
  onProgress?: (done: number, total: number) => void;
  /** Orthonormal d x r basis U: derivatives of g(y) = f(x + U y) in r coordinates. */
  basis?: ViewLike;
  /** A pool to run on (not closed here); default: a pool is made and closed for this call. */
  pool?: SamplerPool;
  /** Points per worker task. Default ceil(points / (8 threads)). Results do not depend on it. */
  chunkSize?: number;
  /** Largest batch of queries per evaluation call. Default 16384. */
  maxBatchRows?: number;
  /**
   * An oracle without a worker spec (ONNX, HTTP, the query store) is served to the workers from
   * the main thread (@nnid/oracle's serveBlackBox), which asks it for their batches, several in
   * flight at once. Default false: such an oracle is asked from the main thread alone. The
   * batches are the main thread's (chunks are whole batches), so the answers are the same.
   */
  bridge?: boolean;
}

export interface HessianOptions extends SampleOptions {
  /** 'full': r*r columns; 'packed': r(r+1)/2 (upper triangle, off-diagonal times sqrt 2). Default 'full'. */
  layout?: Layout;
  /** Also return the gradients that the stencil gives for free. Default false. */
  gradients?: boolean;
}

export interface SampleReport {
  kind: Kind;
  scheme: Scheme;
  layout?: Layout;
  step: number;
  points: number;
  inputDim: number;
  /** r: inputDim, or the basis's column count. */
  reducedDim: number;
  queriesPerPoint: number;
  queries: number;
  threads: number;
  /** 'workers': the black box evaluated in worker threads; 'main-thread': through oracle.evaluate. */
  mode: 'workers' | 'main-thread';
  chunks: number;
  seconds: number;
  pointSource?: { distribution: 'sphere' | 'gaussian'; radius?: number; std?: number; seed: number };
  packedOffDiagonalScale?: number;
}

export interface HessianResult {
  /** One row per point: r*r (full, row-major H) or r(r+1)/2 (packed) columns. Shared memory. */
  hessianStack: Float64View;
  /** points x r (only with `gradients: true`). */
  gradients?: Float64View;
  /** The points used (count x inputDim). */
  points: Float64View;
  queries: number;
  report: SampleReport;
}

export interface GradientResult {
  /** One row per point, r columns. Shared memory. */
  gradientStack: Float64View;
  points: Float64View;
  queries: number;
  report: SampleReport;
}

function checkOracle(oracle: Oracle): void {
  if (!oracle || typeof oracle.evaluate !== 'function' || typeof oracle.inputDim !== 'number' || typeof oracle.reserve !== 'function') {
    invalidArgument('oracle', 'must be an Oracle (see createOracle)', oracle);
  }
}

function resolvePoints(points: PointsInput, d: number, seed: number): { view: Float64View; source?: SampleReport['pointSource'] } {
  if (points && typeof points === 'object' && 'data' in points) {
    return { view: checkView('points', points, { cols: d, colsName: 'inputDim', minRows: 1, dims: 'count x inputDim' }) };
  }
  const desc = points as Exclude<PointsInput, ViewLike>;
  if (!desc || typeof desc !== 'object') invalidArgument('points', 'must be a Float64View, an ndarray or { count, distribution?, radius?, std? }', points);
  const count = checkInteger('points.count', desc.count);
  const distribution = checkChoice('points.distribution', desc.distribution ?? 'sphere', ['sphere', 'gaussian'] as const);
  if (distribution === 'sphere') {
    const radius = checkPositive('points.radius', desc.radius ?? 1);
    return { view: spherePoints(count, d, radius, seed), source: { distribution, radius, seed } };
  }
  const std = checkPositive('points.std', desc.std ?? 1);
  return { view: gaussianPoints(count, d, std, seed), source: { distribution, std, seed } };
}

/** Directions r x d (row i = column i of U), after checking U^T U = I. */
function resolveBasis(basis: ViewLike | undefined, d: number): { dirs: Float64Array | null; r: number } {
  if (basis === undefined) return { dirs: null, r: d };
  basis = checkView('basis', basis, { rows: d, rowsName: 'inputDim', dims: 'inputDim x r' });
  const r = basis.shape[1];
  checkInteger('basis.shape[1]', r, 1, d);
  const dirs = new Float64Array(r * d);
  for (let i = 0; i < r; i++) {
    for (let k = 0; k < d; k++) dirs[i * d + k] = basis.data[basis.offset + k * basis.strides[0] + i * basis.strides[1]];
  }
  let worst = 0;
  for (let i = 0; i < r; i++) {
    for (let j = i; j < r; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += dirs[i * d + k] * dirs[j * d + k];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  if (worst > 1e-8) invalidArgument('basis', `must have orthonormal columns (max |U^T U - I| = ${worst.toExponential(2)})`, `${d} x ${r}`);
  return { dirs, r };
}

interface Plan {
  kind: Kind;
  scheme: Scheme;
  layout: Layout;
  step: number;
  threads: number;
  points: Float64View;
  dirs: Float64Array | null;
  r: number;
  out: Float64View;
  grads: Float64View | null;
  chunkSize?: number;
  maxBatchRows: number;
  pool?: SamplerPool;
  onProgress?: (done: number, total: number) => void;
  bridge: boolean;
}

async function execute(oracle: Oracle, plan: Plan): Promise<{ queries: number; mode: 'workers' | 'main-thread'; chunks: number }> {
  const n = plan.points.shape[0];
  const perPoint = stencilRows(plan.kind, plan.scheme, plan.r);
  const total = n * perPoint;
  const spec = typeof oracle.workerSpec === 'function' ? oracle.workerSpec() : undefined;
  // In-process black box: the whole budget is checked before any query.
  if (spec !== undefined) oracle.reserve(total);
  const job = (start: number, end: number): ChunkJob => ({
    kind: plan.kind,
    scheme: plan.scheme,
    layout: plan.layout,
    dirs: plan.dirs,
    reducedDim: plan.r,
    step: plan.step,
    points: plan.points,
    start,
    end,
    out: plan.out,
    grads: plan.grads,
    maxBatchRows: plan.maxBatchRows,
  });
  let done = 0;
  const progress = (k: number) => {
    done += k;
    plan.onProgress?.(done, n);
  };

  const bridged = spec === undefined && plan.bridge && plan.threads > 1;
  if ((spec === undefined && !bridged) || plan.threads === 1) {
    // Main thread: large batches through oracle.evaluate (counted, budgeted, cached there). The
    // combination is O(r^2) per point, as cheap as writing the stencil: workers would not pay.
    const queries = await runChunk(job(0, n), (batch) => oracle.evaluate(batch), progress);
    return { queries, mode: 'main-thread', chunks: 1 };
  }

  let chunkSize = plan.chunkSize ?? Math.max(1, Math.ceil(n / (8 * plan.threads)));
  // served from the main thread: chunks of whole batches, so the black box gets the main thread's batches
  const perBatch = Math.max(1, Math.floor(plan.maxBatchRows / perPoint));
  if (bridged) chunkSize = Math.ceil(chunkSize / perBatch) * perBatch;
  const service = bridged ? serveBlackBox(oracle) : null;
  const points = isShared(plan.points) ? plan.points : copyShared(plan.points);
  const tasks: WorkerTask[] = [];
  for (let start = 0; start < n; start += chunkSize) {
    const end = Math.min(n, start + chunkSize);
    tasks.push({
      spec: service ? null : spec,
      bridge: service ? service.spec : null,
      kind: plan.kind,
      scheme: plan.scheme,
      layout: plan.layout,
      dirs: plan.dirs,
      reducedDim: plan.r,
      step: plan.step,
      points: toDescriptor(points),
      out: toDescriptor(plan.out),
      grads: plan.grads ? toDescriptor(plan.grads) : null,
      start,
      end,
      maxBatchRows: plan.maxBatchRows,
    });
  }
  const pool = plan.pool ?? createSamplerPool({ threads: plan.threads });
  let queries = 0;
  try {
    await pool.run(tasks, (i, q, ok) => {
      queries += q;
      // served queries went through oracle.evaluate, counted there
      if (!service) oracle.recordExternal(q);
      if (ok) progress(tasks[i].end - tasks[i].start);
    });
  } finally {
    if (!plan.pool) await pool.close();
    service?.close();
  }
  return { queries, mode: 'workers', chunks: tasks.length };
}

function bridgeOption(options: SampleOptions): boolean {
  if (options.bridge !== undefined && typeof options.bridge !== 'boolean') invalidArgument('bridge', 'must be a boolean', options.bridge);
  return options.bridge ?? false;
}

function copyShared(view: Float64View): Float64View {
  const [r, c] = view.shape;
  const out = matrix(r, c, { shared: true });
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out.data[i * c + j] = view.data[view.offset + i * view.strides[0] + j * view.strides[1]];
  return out;
}

function common(oracle: Oracle, options: SampleOptions, defaultScheme: Scheme) {
  checkOracle(oracle);
  if (options === null || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const scheme = checkChoice('scheme', options.scheme ?? defaultScheme, ['forward', 'central'] as const);
  const threads = options.pool ? options.pool.threads : checkInteger('threads', options.threads ?? availableParallelism(), 1, 1024);
  const seed = checkInteger('seed', options.seed ?? 0, 0);
  if (options.chunkSize !== undefined) checkInteger('chunkSize', options.chunkSize);
  const maxBatchRows = checkInteger('maxBatchRows', options.maxBatchRows ?? 16384);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') invalidArgument('onProgress', 'must be a function', options.onProgress);
  const { dirs, r } = resolveBasis(options.basis, oracle.inputDim);
  return { scheme, threads, seed, maxBatchRows, dirs, r };
}

/**
 * Finite-difference Hessians of the oracle's f at each point (or of g(y) = f(x + U y) with a
 * `basis` U: r x r Hessians U^T H U from O(r^2) queries each).
 *
 * Queries per Hessian: forward (r+1)(r+2)/2, central 2r^2 + 1.
 *
 * @example
 * const { hessianStack, queries } = await sampleHessians(oracle, { count: 60, radius: 1 }, { scheme: 'central', seed: 3 });
 */
export async function sampleHessians(oracle: Oracle, points: PointsInput, options: HessianOptions = {}): Promise<HessianResult> {
  const started = performance.now();
  const { scheme, threads, seed, maxBatchRows, dirs, r } = common(oracle, options, 'forward');
  const layout = checkChoice('layout', options.layout ?? 'full', ['full', 'packed'] as const);
  const step = checkPositive('step', options.step ?? DEFAULT_STEP[scheme]);
  const { view, source } = resolvePoints(points, oracle.inputDim, seed);
  const n = view.shape[0];
  const out = matrix(n, hessianColumns(layout, r), { shared: true });
  const grads = options.gradients ? matrix(n, r, { shared: true }) : null;
  const run = await execute(oracle, {
    kind: 'hessian',
    scheme,
    layout,
    step,
    threads,
    points: view,
    dirs,
    r,
    out,
    grads,
    chunkSize: options.chunkSize,
    maxBatchRows,
    pool: options.pool,
    onProgress: options.onProgress,
    bridge: bridgeOption(options),
  });
  const report: SampleReport = {
    kind: 'hessian',
    scheme,
    layout,
    step,
    points: n,
    inputDim: oracle.inputDim,
    reducedDim: r,
    queriesPerPoint: stencilRows('hessian', scheme, r),
    queries: run.queries,
    threads,
    mode: run.mode,
    chunks: run.chunks,
    seconds: (performance.now() - started) / 1000,
    ...(source ? { pointSource: source } : {}),
    ...(layout === 'packed' ? { packedOffDiagonalScale: Math.SQRT2 } : {}),
  };
  return { hessianStack: out, ...(grads ? { gradients: grads } : {}), points: view, queries: run.queries, report };
}

/**
 * Finite-difference gradients at each point (central: 2r queries each, forward: r + 1), or of
 * g(y) = f(x + U y) with a `basis`.
 *
 * @example
 * const { gradientStack } = await sampleGradients(oracle, spherePoints(40, d, 1, 1), { threads: 2 });
 */
export async function sampleGradients(oracle: Oracle, points: PointsInput, options: SampleOptions = {}): Promise<GradientResult> {
  const started = performance.now();
  const { scheme, threads, seed, maxBatchRows, dirs, r } = common(oracle, options, 'central');
  const step = checkPositive('step', options.step ?? DEFAULT_GRADIENT_STEP[scheme]);
  const { view, source } = resolvePoints(points, oracle.inputDim, seed);
  const n = view.shape[0];
  const out = matrix(n, r, { shared: true });
  const run = await execute(oracle, {
    kind: 'gradient',
    scheme,
    layout: 'full',
    step,
    threads,
    points: view,
    dirs,
    r,
    out,
    grads: null,
    chunkSize: options.chunkSize,
    maxBatchRows,
    pool: options.pool,
    onProgress: options.onProgress,
    bridge: bridgeOption(options),
  });
  const report: SampleReport = {
    kind: 'gradient',
    scheme,
    step,
    points: n,
    inputDim: oracle.inputDim,
    reducedDim: r,
    queriesPerPoint: stencilRows('gradient', scheme, r),
    queries: run.queries,
    threads,
    mode: run.mode,
    chunks: run.chunks,
    seconds: (performance.now() - started) / 1000,
    ...(source ? { pointSource: source } : {}),
  };
  return { gradientStack: out, points: view, queries: run.queries, report };
}
