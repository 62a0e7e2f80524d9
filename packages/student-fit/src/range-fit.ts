/**
 * The student fit in range(A)'s coordinates, for budgets below the pipeline's floor (identify's
 * method 'auto'). f(x) depends on x only through A x, so every gradient of f lies in range(A^T),
 * an m0-dimensional subspace of R^d. The fit pays, in one batch of N queries:
 *
 * - g = width1 + 2 forward-difference gradients (step h = 1e-6) at the first g of its Gaussian
 *   points: g d stencil points; their top m0 right singular vectors are an orthonormal basis U of
 *   range(A^T) (the gap sigma_m0 / sigma_{m0+1} reported);
 * - N - g d Gaussian points N(0, I_d) (rows 0 .. N - g d - 1 of the seed's points, as the plain fit's).
 *
 * Then the student fit (the same engine, starts and solver as studentFit) on every answer with the
 * inputs projected, z = U^T x: its first layer is m0 x m0 instead of m0 x d (at (30, 20, 8) 588
 * parameters instead of 788), a smaller search space for the same answers; and, where the values
 * alone leave no more per unknown than the plain fit, (N - g d) / (P - m0 (d - m0)) <= N / P, on
 * the gradients as derivative equations, w (grad_z f(z_j) - U^T g_j) at their g centres (m0 rows
 * each, weight w = gradientWeight, default 2): g d stencil queries give g m0 equations. Its first start whose
 * residual is <= reducedThreshold (1e-4: the basis is exact to the differences' O(h), so the
 * reduced residual is not 1e-9) is lifted, A = A_r U^T, and fitted in the full coordinates on the
 * same answers (one start of the same solver): the truth-free check is the full fit's, as the plain
 * fit's. When that full fit fails (a reduced local minimum near the threshold: sigmoid (20, 10, 3)
 * at 3 P had one at 8e-5), the reduced starts after the lifted one go on, until `starts` have run.
 * Every fit here redraws a stalled start's saturated units (unitRedraws, default UNIT_REDRAWS): below
 * the floor the closest starts stall with every true row found but one, taken by a row of norm 10-20.
 *
 * The plain fit runs instead: before any query (report.range absent) where range(A)'s coordinates
 * leave no more equations per unknown, (N - g d [+ g m0 with derivative rows]) / (P - m0 (d - m0))
 * <= N / P (e.g. width1 = inputDim), or the lifted fit no more Gaussian points than P, N - g d <= P;
 * after them, on every answer paid (report.range.reduced null, a warning), where the gap is below
 * 1e3 (range(A) not found: a float32 or noisy black box).
 *
 * @example
 * const { network, report } = await studentFitInRange(oracle, { width1: 20, width2: 8, dataPoints: 2364, starts: 16, threads: 2 });
 * report.range?.gap;          // ~1e5 on a float64 network: range(A) found
 * report.range?.reduced;      // the starts in range(A)'s coordinates, the one lifted
 */
import { checkInteger, checkPositive, invalidArgument, matrixFrom, toDense, allocFloat64, type GeneralNetwork, type Network, type Oracle } from '@nnid/core';
import { svd } from '@nnid/linalg';
import { generalLayoutOf, layoutOf, unpackGeneral, unpackParameters } from '@nnid/refine';
import { startGeneral, startNetwork, type StudentModel, type StudentShape } from './start.ts';
import { fit, gaussianPoints, type MultiOutputSource, type StartReport, type StudentFitOptions, type StudentFitReport } from './student-fit.ts';

export interface RangeFitOptions extends Omit<StudentFitOptions, 'startNetworks' | 'answers'> {
  /** Model 'paper' (default) or 'general' (one output). */
  model?: StudentModel;
  /** Forward-difference gradients for range(A) (default width1 + 2). */
  gradients?: number;
  /** Their step (default 1e-6). */
  gradientStep?: number;
  /** A start in range(A)'s coordinates is lifted when its residual is at most this (default 1e-4). */
  reducedThreshold?: number;
  /** The gradients' derivative rows in the reduced fit: their weight against the value rows' 1 (default DERIVATIVE_WEIGHT = 2); 0: values only. */
  gradientWeight?: number;
}

/** report.range of studentFitInRange. */
export interface RangeStageReport {
  gradients: number;
  step: number;
  /** The derivative rows' weight (0: values only) and their count in the reduced fit, g m0 (0 with weight 0 or without it). */
  gradientWeight: number;
  derivativeRows: number;
  /** Queries of the gradients' stencils (g d; their g centres are data points). */
  stencilQueries: number;
  dimension: number;
  /** sigma_m0 / sigma_{m0+1} of the gradient stack: large (~1e5 in float64) when range(A) is found. */
  gap: number;
  singularValues: number[];
  /** The fit in range(A)'s coordinates: its parameter count, starts (as report.starts), the one lifted; null when range(A) was not found (gap < 1e3: the plain fit ran on every answer). */
  reduced: null | {
    parameterCount: number;
    /** Every start run in range(A)'s coordinates, in start order. */
    starts: StartReport[];
    /** The start whose lift was returned. */
    lifted: number;
    /** Lifted starts fitted in the full coordinates (more than one when a lift failed and starts were left). */
    fullFits: number;
    relativeResidual: number;
    threshold: number;
    passed: boolean;
    seconds: number;
  };
}

export interface RangeFitResult {
  network: Network | GeneralNetwork;
  /** The full fit's report (report.starts: its one start, from the lifted network), report.range the rest. */
  report: StudentFitReport;
}

/**
 * The derivative rows' default weight against the value rows' 1. Measured (bench range-fit.ts, tanh
 * N(0, 0.3^2) (30, 20, 8) 3 P, networks 1001-1003, 6 starts): weight 1 exact on 2 of 3 (the third 0
 * of 14 starts), 2 on 3 of 3 (at starts 1, 6, 2), 3 on 2 of 3, 10 on 0 of 3.
 */
export const DERIVATIVE_WEIGHT = 2;

/**
 * Redraw rounds per start (StudentFitOptions.unitRedraws) in every fit studentFitInRange runs. A
 * start that stalls with saturated first-layer units has them redrawn: measured on tanh N(0, 0.3^2)
 * (30, 20, 8) 3 P network 1005, where 16 starts stalled at 1e-2..1e-1, its two closest starts
 * (1.4e-2, 1.9e-2: one or two rows of norm 14-19, every other true row matched) passed after 1 and
 * 2 rounds, 14 and 18 iterations.
 */
export const UNIT_REDRAWS = 3;

/** sigma_m0 / sigma_{m0+1} below this: range(A) not found (subspace's estimateRange default; float64 networks give ~1e5). */
const MIN_GAP = 1e3;

const INITIALIZATION = 'in range(A) coordinates (from width1 + 2 forward-difference gradients): rows of A_r and B uniform on the unit sphere, theta and tau ~ N(0, 0.3^2); the reduced fit lifted, A = A_r U^T';

/** A source whose answers are all in hand (the fit never asks it). */
function inHand(inputDim: number): MultiOutputSource {
  return {
    inputDim,
    outputs: 1,
    evaluate: () => {
      throw new Error('student fit: every answer is in hand');
    },
  };
}

/** Fits a student network in range(A)'s coordinates, then in the full ones (see the file's comment). */
export async function studentFitInRange(oracle: Oracle, options: RangeFitOptions): Promise<RangeFitResult> {
  const started = performance.now();
  if (!oracle || typeof oracle.evaluate !== 'function' || typeof oracle.counts !== 'function') invalidArgument('oracle', 'must be an Oracle (createOracle)', oracle);
  if (!options || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const model = options.model ?? 'paper';
  if (model !== 'paper' && model !== 'general') invalidArgument('model', "must be 'paper' or 'general'", model);
  const d = checkInteger('oracle.inputDim', oracle.inputDim);
  const m0 = checkInteger('width1', options.width1);
  const m1 = checkInteger('width2', options.width2);
  const { model: _m, gradients: _g, gradientStep: _h, reducedThreshold: _t, gradientWeight: _w, ...rest } = options;
  const fitOptions = { ...rest, unitRedraws: options.unitRedraws ?? UNIT_REDRAWS };
  // no smaller coordinates (or a width the plain fit refuses): the plain fit
  if (m0 >= d || m1 > m0) return finish(await fit(oracle, fitOptions, model), model);
  const g = checkInteger('gradients', options.gradients ?? m0 + 2, m0);
  const h = checkPositive('gradientStep', options.gradientStep ?? 1e-6);
  const reducedThreshold = checkPositive('reducedThreshold', options.reducedThreshold ?? 1e-4);
  const weight = options.gradientWeight ?? DERIVATIVE_WEIGHT;
  if (!(typeof weight === 'number' && weight >= 0 && Number.isFinite(weight))) invalidArgument('gradientWeight', 'must be a finite number >= 0', weight);
  const P = d * m0 + m0 + m0 * m1 + m1 + (model === 'general' ? m1 + 1 : 0);
  if (options.queryBudget !== undefined && options.dataPoints !== undefined) invalidArgument('dataPoints', 'must not be given with queryBudget (one or the other)', options.dataPoints);
  const N = options.dataPoints !== undefined ? checkInteger('dataPoints', options.dataPoints) : Math.floor(checkPositive('queryBudget', options.queryBudget ?? 5) * P);
  const stencils = g * d;
  // the reduced fit's unknowns: P less the m0 (d - m0) of A outside range(A)'s coordinates
  const reducedP = P - m0 * (d - m0);
  // the coordinates with more equations per unknown: a stencil point repeats its centre to O(h) as a
  // value, but each gradient gives m0 derivative rows in range(A)'s coordinates (weight > 0): at
  // (30, 20, 8) 3 P (2364 - 660 + 440) / 588 = 3.6 against 3.0 (values only 2.9: the plain fit).
  // And more Gaussian points than P: the lifted fit in the full coordinates fits values alone, and
  // with fewer the stencils (h = 1e-6 apart) are all that pins A outside range(A): (16, 4, 2) at 2 P,
  // 60 for P = 78, passed its check 1e-9 at a relative L2 of 1e-7
  // The derivative rows only where the values alone leave no more per unknown than the plain fit
  // (at (30, 20, 8) 3 and 2 P, (20, 10, 3) 2 P): where the values suffice they cost exactness, sigmoid
  // N(0, 1) (30, 20, 8) 5 P network 1002: every one of 6 reduced starts stalled at 4e-5..1e-4 with them
  // (lifted, every full fit failed at 5e-5), exact with values only (BENCHMARKS.md)
  const rows = weight > 0 && (N - stencils) / reducedP <= N / P;
  const equations = N - stencils + (rows ? g * m0 : 0);
  if (N - stencils <= Math.max(P, g) || equations / reducedP <= N / P) return finish(await fit(oracle, fitOptions, model), model);
  const seed = checkInteger('seed', options.seed ?? 0, 0);

  // every query in one batch: the Gaussian points (the first g are the gradients' centres), then the stencils
  const nG = N - stencils;
  const X = allocFloat64(N * d, { shared: true });
  X.set(gaussianPoints(nG, d, seed));
  for (let j = 0; j < g; j++) {
    for (let k = 0; k < d; k++) {
      const row = (nG + j * d + k) * d;
      X.set(X.subarray(j * d, (j + 1) * d), row);
      X[row + k] += h;
    }
  }
  const before = oracle.counts();
  const values = allocFloat64(N, { shared: true });
  const raw = await oracle.evaluate(matrixFrom(X, N, d));
  values.set(raw instanceof Float64Array ? raw : toDense(raw).data);
  const after = oracle.counts();
  const queriesSeconds = (performance.now() - started) / 1000;

  // range(A^T): the top m0 right singular vectors of the g x d gradient stack
  const G = new Float64Array(g * d);
  for (let j = 0; j < g; j++) {
    for (let k = 0; k < d; k++) G[j * d + k] = (values[nG + j * d + k] - values[j]) / h;
  }
  const { values: sigma, right } = svd(matrixFrom(G, g, d));
  const R = toDense(right);
  const r = R.shape[1];
  const gap = m0 < sigma.length ? sigma[m0 - 1] / sigma[m0] : Infinity;
  const rangeStage = { gradients: g, step: h, gradientWeight: weight, derivativeRows: rows ? g * m0 : 0, stencilQueries: stencils, dimension: m0, gap, singularValues: Array.from(sigma) };
  if (!(gap >= MIN_GAP)) {
    // range(A) not found (a float32 or noisy black box: the differences' rounding fills the spectrum):
    // the plain fit on every answer paid, the stencils' too
    const plain = await fit(inHand(d), { ...fitOptions, queryBudget: undefined, dataPoints: N, answers: { inputs: matrixFrom(X, N, d), values } }, model);
    const q = { total: after.total - before.total, paid: after.paid - before.paid, reused: after.reused - before.reused };
    const report: StudentFitReport = {
      ...plain.report,
      queries: { ...q, multipleOfP: q.total / P, numbersReceived: q.total },
      answersInHand: 0,
      warnings: [...plain.report.warnings, `range(A) not found (gap ${gap.toExponential(1)} < ${MIN_GAP}): the plain fit on the ${N} answers paid`],
      range: { ...rangeStage, derivativeRows: 0, reduced: null },
    };
    return { network: toNetwork(plain.parameters, plain.shape, model), report };
  }
  const U = new Float64Array(d * m0); // d x m0, row-major
  for (let i = 0; i < d; i++) for (let c = 0; c < m0; c++) U[i * m0 + c] = R.data[i * r + c];
  const Z = allocFloat64(N * m0, { shared: true });
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < m0; c++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += X[n * d + i] * U[i * m0 + c];
      Z[n * m0 + c] = s;
    }
  }
  // the gradients in range(A)'s coordinates, U^T g_j (at the first g rows: their centres), as derivative rows
  const Gz = new Float64Array(g * m0);
  for (let j = 0; j < g; j++) {
    for (let c = 0; c < m0; c++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += G[j * d + i] * U[i * m0 + c];
      Gz[j * m0 + c] = s;
    }
  }
  const gradients = rows ? { values: Gz, weight } : undefined;

  // the fit in range(A)'s coordinates, then its first passing start lifted and fitted in the full
  // ones; when that fails (a reduced start near 1e-4 can be a local minimum), the starts after it
  const reducedStarted = performance.now();
  const total = checkInteger('starts', options.starts ?? 3, 1, 100_000);
  const reducedStarts: StartReport[] = [];
  let reduced: Awaited<ReturnType<typeof fit>> | null = null;
  let polish: Awaited<ReturnType<typeof fit>> | null = null;
  let polishes = 0;
  let lifted = -1;
  for (let first = 0; first < total; ) {
    const r = await fit(inHand(m0), { ...fitOptions, queryBudget: undefined, dataPoints: N, starts: total - first, checkThreshold: reducedThreshold, answers: { inputs: matrixFrom(Z, N, m0), values, gradients } }, model, first);
    reducedStarts.push(...r.report.starts.map((s) => ({ ...s, start: s.start + first })));
    const full: StudentShape = { ...r.shape, inputDim: d };
    const fullSize = generalLayoutOf(startGeneral(full, 0, 0)).size;
    const p = await fit(inHand(d), { ...fitOptions, queryBudget: undefined, dataPoints: N, starts: 0, threads: 1, onProgress: undefined, startNetworks: [toNetwork(lift(r.parameters, U, d, m0, fullSize), full, model)], answers: { inputs: matrixFrom(X, N, d), values } }, model);
    polishes++;
    if (polish === null || p.report.check.relativeResidual < polish.report.check.relativeResidual) {
      polish = p;
      reduced = r;
      lifted = r.report.chosenStart + first;
    }
    if (p.report.check.passed || !r.report.check.passed) break;
    first += r.report.chosenStart + 1;
  }
  const reducedSeconds = (performance.now() - reducedStarted) / 1000;
  if (!reduced || !polish) throw new Error('student fit: no start ran');
  const rr = reduced.report;
  const report: StudentFitReport = {
    ...polish.report,
    options: { ...polish.report.options, queryBudget: options.dataPoints === undefined ? (options.queryBudget ?? 5) : null, starts: total, threads: rr.options.threads, initialization: INITIALIZATION },
    queries: { total: after.total - before.total, paid: after.paid - before.paid, reused: after.reused - before.reused, multipleOfP: (after.total - before.total) / P, numbersReceived: after.total - before.total },
    seconds: { queries: queriesSeconds, starts: reducedSeconds, total: (performance.now() - started) / 1000 },
    threads: rr.threads,
    warmStarts: 0,
    answersInHand: 0,
    warnings: [...new Set([...rr.warnings, ...polish.report.warnings])],
    range: {
      ...rangeStage,
      reduced: { parameterCount: rr.parameterCount, starts: reducedStarts, lifted, fullFits: polishes, relativeResidual: rr.check.relativeResidual, threshold: reducedThreshold, passed: rr.check.passed, seconds: reducedSeconds },
    },
  };
  return { network: toNetwork(polish.parameters, polish.shape, model), report };
}

/** The reduced parameters [A_r, theta, B, tau, (C, c)] in the full layout: A = A_r U^T. */
function lift(reduced: Float64Array, U: Float64Array, d: number, m0: number, size: number): Float64Array {
  const out = new Float64Array(size);
  for (let i = 0; i < m0; i++) {
    for (let k = 0; k < d; k++) {
      let s = 0;
      for (let c = 0; c < m0; c++) s += reduced[i * m0 + c] * U[k * m0 + c];
      out[i * d + k] = s;
    }
  }
  out.set(reduced.subarray(m0 * m0), m0 * d);
  return out;
}

function toNetwork(parameters: Float64Array, shape: StudentShape, model: StudentModel): Network | GeneralNetwork {
  if (model === 'general') return unpackGeneral(parameters, generalLayoutOf(startGeneral(shape, 0, 0)));
  const layout = layoutOf(startNetwork(shape, 0, 0));
  return unpackParameters(parameters.subarray(0, layout.size), layout);
}

function finish(result: Awaited<ReturnType<typeof fit>>, model: StudentModel): RangeFitResult {
  return { network: toNetwork(result.parameters, result.shape, model), report: result.report };
}
