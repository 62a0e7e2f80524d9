/**
 * The refinement of one identify() attempt, on data already paid for: (random second layers,)
 * the fit of (theta, B, tau) on the first layer found, then Levenberg–Marquardt on all
 * parameters. A pure function of the start, the data and the options, so that it gives the same
 * bits in the main thread or in a worker thread (see attempt-lanes.ts).
 */
import { matrix, parameterCount, rng, toGeneral, type Float64View, type GeneralNetwork, type Network } from '@nnid/core';
import { fitGeneralFactored, fitGeneralNetwork, fitGeneralSigns, fitNetwork, fitOutputLayer, FULL_FIT_PLATEAU, LINEAR_FLIP, UPPER_FIT_PLATEAU, type FitOptions, type RefineReport } from '@nnid/refine';
import { RANGE_FLOOR_COST, RANGE_FLOOR_RULE, rangeRefinementApplies, refineInRange, type RangePastDense, type RangeRefinementReport } from './polish-range.ts';

export interface RefineStagesOptions {
  /** Seed of the attempt: draws the random second layers. */
  seed: number;
  /** Threads of the full LM's row blocks (the bits do not depend on it). */
  threads: number;
  /** Random second layers tried (fit alone on the first layer found) besides the start's. */
  secondLayerStarts: number;
  /** At most this many iterations of the fit of (theta, B, tau) with A fixed (0: none). */
  upperFitIterations: number;
  /** That fit stops when two accepted steps lower its cost by less than this fraction. */
  upperFitCostTolerance: number;
  /** Iterations of the full LM. */
  maxIterations: number;
  /** The stages in range(A)'s coordinates, then a full fit in R^d (polish-range.ts): 'auto' (default) by rangeRefinementApplies' rule. */
  range?: boolean | 'auto';
  /** The full fit stops at its first accepted step that lowers the cost by less than RANGE_FLOOR_COST (set by refineInRange's fit: polish-range.ts). */
  stopAtFloor?: boolean;
  /** 'auto': where the fit in range(A) would not be dense (polish-range.ts's RANGE_PAST_DENSE by default: 'matrix-free'). */
  rangePastDense?: RangePastDense;
  /** The full fit's solver (refine's; default its 'auto'). */
  solver?: FitOptions['solver'];
  /** The solver of the full fit in range(A) (refine's; default its 'auto': dense while its normal equations fit in 4 GiB, else matrix-free); the finish in R^d takes `solver`. */
  rangeSolver?: FitOptions['solver'];
}

export interface RefineStagesResult {
  network: Network;
  /** The fit of (theta, B, tau) before the full LM (its residual history left out), or null. */
  upperFit: Omit<RefineReport, 'residualHistory'> | null;
  refine: RefineReport;
  /** The fit in range(A)'s coordinates before the full fit (`refine`), when it ran. */
  range?: RangeRefinementReport;
}

/**
 * A full fit stopped by its iteration cap while still converging is continued from where it
 * stopped (the same data, no query): when its last `window` accepted steps lowered the relative
 * residual at least 1 / `factor`-fold, up to `rounds` more fits of `iterations` iterations each.
 * Sigmoid (30, 20, 8) N(0, 1) seed 2: its first attempt reached every row of A and every v_l to
 * |cos| 1.000 and stopped at the 200-iteration cap at 4.7e-7, falling 9x in its last 10 steps; the
 * three attempts after it cost ~3x its CPU (BENCHMARKS.md, "The time table, session 12").
 */
export const CONVERGING_EXTENSION = Object.freeze({ window: 10, factor: 0.5, iterations: 100, rounds: 2 });

/**
 * CONVERGING_EXTENSION's paths: networks with fewer parameters than this, refined in R^d (issue 14's
 * time table; the larger ones are issue 15's, refined in range(A) with their own stopping rules).
 */
export const EXTENSION_BELOW_PARAMETERS = 4000;

/** Whether a fit's report shows a fit cut by its iteration cap while still converging (CONVERGING_EXTENSION). */
export function stillConverging(report: Pick<RefineReport, 'stopReason' | 'residualHistory'>): boolean {
  const h = report.residualHistory;
  const { window, factor } = CONVERGING_EXTENSION;
  return report.stopReason === 'maxIterations' && h.length > window && h[h.length - 1] <= factor * h[h.length - 1 - window];
}

/** One report for a fit and its continuation: counts and seconds summed, the histories joined, the rest the continuation's. */
function joinReports(first: RefineReport, more: RefineReport): RefineReport {
  return {
    ...more,
    iterations: first.iterations + more.iterations,
    acceptedSteps: first.acceptedSteps + more.acceptedSteps,
    innerSteps: first.innerSteps + more.innerSteps,
    refusedSteps: first.refusedSteps + more.refusedSteps,
    nfev: first.nfev + more.nfev,
    njev: first.njev + more.njev,
    seconds: first.seconds + more.seconds,
    initialCost: first.initialCost,
    initialRelativeResidual: first.initialRelativeResidual,
    residualHistory: [...first.residualHistory, ...more.residualHistory.slice(1)],
  };
}

/** `net` with a random second layer: B's rows uniform on the unit sphere, tau = 0 (unsaturated units). */
function randomSecondLayer(net: Network, stream: ReturnType<typeof rng>): Network {
  const { width1: m0, width2: m1 } = net;
  const B = matrix(m1, m0);
  for (let l = 0; l < m1; l++) stream.split(l).fillSphere(B.data.subarray(l * m0, (l + 1) * m0), 1);
  return { ...net, B, tau: new Float64Array(m1) };
}

/** Refines the pipeline's network `start` on `data` (no queries). */
export async function refineStages(
  start: Network,
  data: { inputs: Float64View; values: Float64Array },
  options: RefineStagesOptions,
  onProgress?: (iteration: number, relativeResidual: number) => void,
): Promise<RefineStagesResult> {
  const solver = (s: FitOptions['solver']) => (s === undefined ? {} : { solver: s });
  if (rangeRefinementApplies(start, options.range, data.values.length, options.rangePastDense)) {
    const { rangeSolver, solver: _finishSolver, ...rest } = options;
    return refineInRange(start, data, (net, reduced) => refineStages(net, reduced, { ...rest, range: false, stopAtFloor: true, ...solver(rangeSolver) }, onProgress), (lifted, finish) =>
      fitNetwork(lifted, data, { threads: options.threads, maxIterations: options.maxIterations, ...solver(options.solver), ...finish, ...(onProgress ? { onProgress } : {}) }),
    );
  }
  let current = start;
  if (options.secondLayerStarts > 0) {
    // the second layer is where the pipeline is weakest (v_l): fit (B, tau) alone on the
    // first layer found, from the pipeline's second layer and from random ones, keep the best
    const stream = rng(options.seed).split(11);
    let bestResidual = Infinity;
    for (let s = 0; s <= options.secondLayerStarts; s++) {
      const candidate = s === 0 ? start : randomSecondLayer(start, stream.split(s));
      const fitted = await fitNetwork(candidate, data, { fix: 'first-layer', maxIterations: 50 });
      if (fitted.report.relativeResidual < bestResidual) {
        bestResidual = fitted.report.relativeResidual;
        current = fitted.network;
      }
    }
  }
  let upperFit: RefineStagesResult['upperFit'] = null;
  if (options.upperFitIterations > 0) {
    // stops on its plateau (refine's UPPER_FIT_PLATEAU): past it the full fit, whose first step moves A, does the rest
    const upper = await fitNetwork(current, data, { fix: 'first-layer-weights', maxIterations: options.upperFitIterations, costTolerance: options.upperFitCostTolerance, innerSteps: 0, plateau: UPPER_FIT_PLATEAU });
    const { residualHistory: _h, ...rest } = upper.report;
    upperFit = rest;
    current = upper.network;
  }
  // h6 (issue 14, narrow edit): the full fit stops on a plateau far from any fit (refine's FULL_FIT_PLATEAU), a failed attempt ~34 J^T J sooner
  const floor = options.stopAtFloor ? { costTolerance: RANGE_FLOOR_COST, costSteps: 1, floor: RANGE_FLOOR_RULE } : {};
  const fullOptions = { threads: options.threads, maxIterations: options.maxIterations, plateau: FULL_FIT_PLATEAU, ...floor, ...solver(options.solver), ...(onProgress ? { onProgress } : {}) };
  let refined = await fitNetwork(current, data, fullOptions);
  // issue 14's time table: a network below EXTENSION_BELOW_PARAMETERS refined in R^d (the fit in range(A)'s coordinates sets stopAtFloor)
  if (!options.stopAtFloor && parameterCount(start) < EXTENSION_BELOW_PARAMETERS) {
    for (let round = 0; round < CONVERGING_EXTENSION.rounds && stillConverging(refined.report); round++) {
      const more = await fitNetwork(refined.network, data, { ...fullOptions, maxIterations: CONVERGING_EXTENSION.iterations });
      refined = { ...more, report: joinReports(refined.report, more.report) };
    }
  }
  return { network: refined.network, upperFit, refine: refined.report };
}

export interface GeneralStagesResult {
  network: GeneralNetwork;
  /** The fit with the directions of W1's rows fixed (their norms free), before the full LM (its residual history left out), or null. */
  upperFit: Omit<RefineReport, 'residualHistory'> | null;
  refine: RefineReport;
  /** Starts tried (factored fits from the pipeline's pattern, then random second layers) and full fits run until one passed `goodResidual`. */
  starts: { factored: number; random: number; fullFits: number };
  /** Second-layer units removed after the fit passed (`pruneUnits`): each one's removal and refit still passed. */
  prunedUnits: number;
}

/**
 * Second layers tried by the general refinement besides the shift fit's: random ones (as
 * randomSecondLayer). Measured on (10, 6, 3) tanh networks with the true directions of W1: the
 * shift fit's second layer (fitted to the paper's form, C = 1^T, c = 0) led the fit to a local
 * minimum, about 4 in 10 random second layers to the exact network.
 */
export const GENERAL_SECOND_LAYER_STARTS = 8;
/**
 * Starts of the factored fit (W1 = diag(s) A, W2 = diag(lambda) B diag(r), B the shift fit's
 * second layer: the entangled weights fix W2's rows up to that scaling): the first from the
 * pipeline's network, the others with the rows' norms s_i drawn log-normally (r_i = 1 / s_i)
 * and, for a LINEAR_FLIP first layer, their signs after the second start (for tanh, arctan (odd) and
 * sigmoid (sigmoid(-t) = 1 - sigmoid(t)) the next layer absorbs a flip: no sign to draw).
 * Measured with the true A and B (10, 6, 3): the small fit has local minima in (s, b1) too, so
 * several starts.
 */
export const GENERAL_FACTORED_STARTS = 6;
/** Iterations of each start's short fit before the starts are ranked. */
const GENERAL_START_ITERATIONS = 30;
/** Full fits (directions fit, then every weight and bias) from the starts in order (see refineGeneralStages), until one passes. */
export const GENERAL_FULL_FITS = 3;

type Ranked = { network: GeneralNetwork; residual: number };

/**
 * The refinement of identify's model 'general' (f = C phi2(W2 phi1(W1 x + b1) + b2) + c, k = 1),
 * on the data (no queries): starts ranked by a short fit's residual — the factored fit
 * (fitGeneralFactored: the Hessian stages' directions A and the shift fit's second layer as the
 * pattern of W2, row norms, biases, output layer free) from a few scales, and the fit with the
 * directions of W1's rows fixed from the shift fit's and random second layers ((C, c) by linear
 * least squares first: f is linear in them; for a LINEAR_FLIP first layer the random ones start at
 * b1 = 0 and go through fitGeneralSigns first, which chooses each row's sign); then from the
 * directions fit's best start, the directions fit and a Levenberg-Marquardt on every weight and
 * bias; while that ends above `goodResidual`, the same from the factored fit's best start, then the
 * others by residual (up to GENERAL_FULL_FITS), the smallest residual kept.
 */
export async function refineGeneralStages(
  start: Network,
  data: { inputs: Float64View; values: Float64Array },
  options: Pick<RefineStagesOptions, 'seed' | 'upperFitIterations' | 'upperFitCostTolerance' | 'maxIterations'> & {
    goodResidual?: number;
    pruneUnits?: boolean;
    /** Random second layers run through the directions fit and the full fit each, after the ranked full fits failed (default 0; the second pass's re-refinement: second-pass.ts). */
    extraFullFits?: number;
  },
  onProgress?: (iteration: number, relativeResidual: number) => void,
): Promise<GeneralStagesResult> {
  const general = toGeneral(start);
  const goodResidual = options.goodResidual ?? 0;
  const counts = { factored: 0, random: 0, fullFits: 0 };
  // a first layer whose rows' signs are part of the function: the random second layers start at
  // b1 = 0, and fitGeneralSigns chooses each row's sign before the directions fit
  const signed = LINEAR_FLIP.has(start.activation.layer1);
  const ranked: Ranked[] = [];
  if (options.upperFitIterations > 0) {
    const short = Math.min(GENERAL_START_ITERATIONS, options.upperFitIterations);
    const factoredStream = rng(options.seed).split(13);
    const { width1: m0, width2: m1, inputDim: d } = start;
    for (let s = 0; s < GENERAL_FACTORED_STARTS; s++) {
      const draw = factoredStream.split(s);
      const W1 = matrix(m0, d);
      const W2 = matrix(m1, m0);
      for (let i = 0; i < m0; i++) {
        const flip = s >= 2 && signed && draw.uniform() < 0.5 ? -1 : 1;
        const scale = s === 0 ? 1 : flip * Math.exp(0.8 * draw.normal());
        for (let j = 0; j < d; j++) W1.data[i * d + j] = scale * start.A.data[start.A.offset + i * start.A.strides[0] + j * start.A.strides[1]];
        for (let l = 0; l < m1; l++) W2.data[l * m0 + i] = start.B.data[start.B.offset + l * start.B.strides[0] + i * start.B.strides[1]] / scale;
      }
      const candidate = fitOutputLayer({ ...general, W1, W2 }, data);
      const fitted = await fitGeneralFactored(candidate, data, { maxIterations: 2 * short, costTolerance: options.upperFitCostTolerance, innerSteps: 0 });
      ranked.push({ network: fitted.network, residual: fitted.report.relativeResidual });
      counts.factored++;
    }
    const stream = rng(options.seed).split(12);
    const randomFrom: Network = signed ? { ...start, theta: new Float64Array(start.width1) } : start;
    for (let s = 0; s <= GENERAL_SECOND_LAYER_STARTS; s++) {
      let candidate = fitOutputLayer(toGeneral(s === 0 ? start : randomSecondLayer(randomFrom, stream.split(s))), data);
      if (signed) candidate = (await fitGeneralSigns(candidate, data, { maxIterations: short, costTolerance: options.upperFitCostTolerance, innerSteps: 0 })).network;
      const fitted = await fitGeneralNetwork(candidate, data, { fix: 'first-layer-directions', maxIterations: short, costTolerance: options.upperFitCostTolerance, innerSteps: 0 });
      ranked.push({ network: fitted.network, residual: fitted.report.relativeResidual });
      counts.random++;
    }
    // the directions fit's best start first (the refinement before the factored fit, same bits
    // when it passes), then the factored fit's best, then the rest by residual (stable on ties)
    const byResidual = (a: Ranked, b: Ranked) => a.residual - b.residual;
    const factored = ranked.splice(0, counts.factored).sort(byResidual);
    ranked.sort(byResidual);
    const rest = [...factored.slice(1), ...ranked.slice(1)].sort(byResidual);
    ranked.splice(0, ranked.length, ranked[0], factored[0], ...rest);
  } else {
    ranked.push({ network: fitOutputLayer(general, data), residual: Infinity });
  }
  let best: GeneralStagesResult | null = null;
  for (let f = 0; f < Math.min(GENERAL_FULL_FITS, ranked.length); f++) {
    let current = ranked[f].network;
    let upperFit: GeneralStagesResult['upperFit'] = null;
    if (options.upperFitIterations > 0) {
      const upper = await fitGeneralNetwork(current, data, { fix: 'first-layer-directions', maxIterations: options.upperFitIterations, costTolerance: options.upperFitCostTolerance, innerSteps: 0 });
      const { residualHistory: _h, ...rest } = upper.report;
      upperFit = rest;
      current = upper.network;
    }
    const refined = await fitGeneralNetwork(current, data, { maxIterations: options.maxIterations, ...(onProgress ? { onProgress } : {}) });
    counts.fullFits++;
    if (best === null || refined.report.relativeResidual < best.refine.relativeResidual) best = { network: refined.network, upperFit, refine: refined.report, starts: counts, prunedUnits: 0 };
    if (best.refine.relativeResidual <= goodResidual) break;
  }
  // from directions close to W1's, a random second layer reaches the truth in about 1 of 4 full fits
  // where the ranked starts' short fits mislead (gelu/tanh (8, 4, 2) from the true directions: 5 of 20);
  // with b1 = 0: from the pipeline's theta, gelu/tanh seed 2 with a near network's directions 0 of 12, from 0 3 of 12
  const extraStream = rng(options.seed).split(14);
  const unbiased: Network = { ...start, theta: new Float64Array(start.width1) };
  for (let e = 0; e < (options.extraFullFits ?? 0) && best!.refine.relativeResidual > goodResidual; e++) {
    const upperFitOptions = { maxIterations: Math.max(1, options.upperFitIterations), costTolerance: options.upperFitCostTolerance, innerSteps: 0 };
    let candidate = fitOutputLayer(toGeneral(randomSecondLayer(unbiased, extraStream.split(e))), data);
    if (signed) candidate = (await fitGeneralSigns(candidate, data, upperFitOptions)).network;
    const upper = await fitGeneralNetwork(candidate, data, { fix: 'first-layer-directions', ...upperFitOptions });
    const refined = await fitGeneralNetwork(upper.network, data, { maxIterations: options.maxIterations });
    counts.fullFits++;
    counts.random++;
    if (refined.report.relativeResidual < best!.refine.relativeResidual) {
      const { residualHistory: _h, ...rest } = upper.report;
      best = { network: refined.network, upperFit: rest, refine: refined.report, starts: counts, prunedUnits: 0 };
    }
  }
  return options.pruneUnits && best!.refine.relativeResidual <= goodResidual ? pruneSecondLayer(best!, data, options.maxIterations, goodResidual) : best!;
}

/** `net` without unit l of its second layer (W2's row, b2's entry, C's column). */
function withoutUnit(net: GeneralNetwork, l: number): GeneralNetwork {
  const { width1: m0, width2: m1, outputs: k } = net;
  const W2 = matrix(m1 - 1, m0);
  const C = matrix(k, m1 - 1);
  const b2 = new Float64Array(m1 - 1);
  for (let j = 0, t = 0; j < m1; j++) {
    if (j === l) continue;
    for (let i = 0; i < m0; i++) W2.data[t * m0 + i] = net.W2.data[net.W2.offset + j * net.W2.strides[0] + i * net.W2.strides[1]];
    for (let o = 0; o < k; o++) C.data[o * (m1 - 1) + t] = net.C.data[net.C.offset + o * net.C.strides[0] + j * net.C.strides[1]];
    b2[t] = net.b2[j];
    t++;
  }
  return { ...net, width2: m1 - 1, W2, b2, C };
}

/**
 * Widths inferred (issue 13 item 5): a passing fit may hold a second-layer unit the function does
 * not need (its output weights ~0, or two units sharing one's work), which is not identifiable and
 * must not be reported. Each unit in turn is removed, (C, c) solved and every weight refitted; a
 * removal whose refit still passes is kept, and the units are tried again.
 */
async function pruneSecondLayer(found: GeneralStagesResult, data: { inputs: Float64View; values: Float64Array }, maxIterations: number, goodResidual: number): Promise<GeneralStagesResult> {
  let current = found;
  for (let l = 0; l < current.network.width2 && current.network.width2 > 1; ) {
    const refit = await fitGeneralNetwork(fitOutputLayer(withoutUnit(current.network, l), data), data, { maxIterations });
    if (refit.report.relativeResidual <= goodResidual) {
      current = { ...current, network: refit.network, refine: refit.report, prunedUnits: current.prunedUnits + 1 };
      l = 0;
    } else l++;
  }
  return current;
}
