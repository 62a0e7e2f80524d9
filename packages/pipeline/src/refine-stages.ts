/**
 * The refinement of one identify() attempt, on data already paid for: (random second layers,)
 * the fit of (theta, B, tau) on the first layer found, then Levenberg–Marquardt on all
 * parameters. A pure function of the start, the data and the options, so that it gives the same
 * bits in the main thread or in a worker thread (see attempt-lanes.ts).
 */
import { matrix, rng, toGeneral, type Float64View, type GeneralNetwork, type Network } from '@nnid/core';
import { fitGeneralNetwork, fitNetwork, fitOutputLayer, type RefineReport } from '@nnid/refine';

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
}

export interface RefineStagesResult {
  network: Network;
  /** The fit of (theta, B, tau) before the full LM (its residual history left out), or null. */
  upperFit: Omit<RefineReport, 'residualHistory'> | null;
  refine: RefineReport;
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
    const upper = await fitNetwork(current, data, { fix: 'first-layer-weights', maxIterations: options.upperFitIterations, costTolerance: options.upperFitCostTolerance, innerSteps: 0 });
    const { residualHistory: _h, ...rest } = upper.report;
    upperFit = rest;
    current = upper.network;
  }
  const refined = await fitNetwork(current, data, { threads: options.threads, maxIterations: options.maxIterations, ...(onProgress ? { onProgress } : {}) });
  return { network: refined.network, upperFit, refine: refined.report };
}

export interface GeneralStagesResult {
  network: GeneralNetwork;
  /** The fit with the directions of W1's rows fixed (their norms free), before the full LM (its residual history left out), or null. */
  upperFit: Omit<RefineReport, 'residualHistory'> | null;
  refine: RefineReport;
}

/**
 * Second layers tried by the general refinement besides the shift fit's: random ones (as
 * randomSecondLayer). Measured on (10, 6, 3) tanh networks with the true directions of W1: the
 * shift fit's second layer (fitted to the paper's form, C = 1^T, c = 0) led the fit to a local
 * minimum, about 4 in 10 random second layers to the exact network.
 */
export const GENERAL_SECOND_LAYER_STARTS = 8;
/** Iterations of each start's directions fit before the best is carried on. */
const GENERAL_START_ITERATIONS = 30;

/**
 * The refinement of identify's model 'general' (f = C phi2(W2 phi1(W1 x + b1) + b2) + c, k = 1):
 * the pipeline's network in the general form with (C, c) from linear least squares on the data
 * (f is linear in them); a fit with the directions of W1's rows fixed (the Hessian stages' part)
 * and everything else free, their norms included, from the shift fit's second layer and from
 * random ones (the best carried on); then every weight and bias.
 */
export async function refineGeneralStages(
  start: Network,
  data: { inputs: Float64View; values: Float64Array },
  options: Pick<RefineStagesOptions, 'seed' | 'upperFitIterations' | 'upperFitCostTolerance' | 'maxIterations'>,
  onProgress?: (iteration: number, relativeResidual: number) => void,
): Promise<GeneralStagesResult> {
  let current = fitOutputLayer(toGeneral(start), data);
  let upperFit: GeneralStagesResult['upperFit'] = null;
  if (options.upperFitIterations > 0) {
    const stream = rng(options.seed).split(12);
    let best: { network: GeneralNetwork; residual: number } | null = null;
    for (let s = 0; s <= GENERAL_SECOND_LAYER_STARTS; s++) {
      const candidate = s === 0 ? current : fitOutputLayer(toGeneral(randomSecondLayer(start, stream.split(s))), data);
      const fitted = await fitGeneralNetwork(candidate, data, {
        fix: 'first-layer-directions',
        maxIterations: Math.min(GENERAL_START_ITERATIONS, options.upperFitIterations),
        costTolerance: options.upperFitCostTolerance,
        innerSteps: 0,
      });
      if (best === null || fitted.report.relativeResidual < best.residual) best = { network: fitted.network, residual: fitted.report.relativeResidual };
    }
    const upper = await fitGeneralNetwork(best!.network, data, { fix: 'first-layer-directions', maxIterations: options.upperFitIterations, costTolerance: options.upperFitCostTolerance, innerSteps: 0 });
    const { residualHistory: _h, ...rest } = upper.report;
    upperFit = rest;
    current = upper.network;
  }
  const refined = await fitGeneralNetwork(current, data, { maxIterations: options.maxIterations, ...(onProgress ? { onProgress } : {}) });
  return { network: refined.network, upperFit, refine: refined.report };
}
