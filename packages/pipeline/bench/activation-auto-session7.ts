/**
 * identify with `activation: 'auto'`: the black box's activations unknown. The sampling, the
 * subspace, the rank-one search and the attribution do not depend on the activation (they find
 * directions); the shift fit and the refinement do. So identify runs once with a probe pair (one
 * attempt; its sampling row: tanh's unless `radius` is given), and the candidates are then tried
 * on the answers it paid, every query asked through one memory of answers (a row is paid once):
 *
 *   screen: each pair, on the directions the probe found, fits everything but those directions
 *           from the shift fit's second layer and from random ones (a few iterations each), on the
 *           probe's refinement data: a residual, an order;
 *   full:   in that order, identify with the pair (sampling where the probe did; its retries redo
 *           the later stages on the same Hessians) until one passes the truth-free check (at most
 *           `FULL_FITS`). When the probe's own pair passed, that is the answer.
 *
 * In the general form sigmoid(t) = (1 + tanh(t / 2)) / 2 makes a sigmoid layer a tanh layer with
 * halved weights and moved biases (the same functions): sigmoid is not a candidate of its own
 * there, and a sigmoid network is returned as its tanh equivalent (exact all the same).
 */
import { ACTIVATIONS, ErrorCodes, invalidArgument, matrix, NnidError, NumericalError, rng, toGeneral, type ActivationName, type Float64View, type GeneralNetwork, type Network, type Oracle, type QueryCache } from '@nnid/core';
import { createOracle } from '@nnid/oracle';
import { fitGeneralNetwork, fitNetwork, fitOutputLayer } from '@nnid/refine';
import { stageSeed } from '../src/identify-geometry.ts';
import type { IdentifyOptions } from '../src/options.ts';
import type { PruneReport } from '../src/prune.ts';
import type { IdentifyReport, IdentifyResult } from '../src/report.ts';

type Pair = { layer1: ActivationName; layer2: ActivationName };

/** identify's options with `activation` unknown ('auto') allowed. */
export type AutoIdentifyOptions = Omit<IdentifyOptions, 'activation'> & { activation: IdentifyOptions['activation'] | 'auto' };

export interface ActivationCandidate {
  layer1: ActivationName;
  layer2: ActivationName;
  /** Relative residual of the screen (a few iterations, directions fixed) on the probe's data (null: no screen, the probe passed). */
  screenResidual: number | null;
  /** Relative residual of identify with this pair (null: not run, a better-screened pair passed first). */
  relativeResidual: number | null;
  /** Whether it passed the truth-free check (null: not run). */
  passed: boolean | null;
}

export interface ActivationSearchReport {
  /** The pair identify ran with to find the directions and pay the data. */
  probe: Pair;
  /** Every candidate screened, in the order of the screen (best first); only the probe's pair when it passed. */
  candidates: ActivationCandidate[];
  /** Pairs not tried because another candidate gives the same functions (general form: sigmoid as tanh). */
  equivalent: string[];
  /** The pair returned, or null when none passed. */
  chosen: Pair | null;
  threshold: number;
  /** Queries paid to the oracle by the whole search (each row once), and answered to its runs (reused rows counted again). */
  queries: { paid: number; answered: number };
  seconds: number;
}

/** identify's result; its report with `activationSearch` (activation 'auto') and `pruning` (model 'general', a width inferred). */
export type AutoIdentifyResult = IdentifyResult & { report: IdentifyReport & { activationSearch?: ActivationSearchReport; pruning?: PruneReport } };

/** The probe pair: what identify runs with before the search. */
export const PROBE: Pair = { layer1: 'tanh', layer2: 'tanh' };
/** Candidates identified in full (with identify's retries), best screen first, before the search gives up. */
export const FULL_FITS = 4;
/** Random second layers of the screen besides the shift fit's, and the iterations of each. */
const SCREEN_STARTS = 1;
const SCREEN_ITERATIONS = 20;
/** Iterations of the screen's fit of every parameter. */
const SCREEN_FREE_ITERATIONS = 40;

/** Candidate pairs: every pair of ACTIVATIONS; in the general form without sigmoid (tanh gives the same functions). */
export function candidatePairs(model: 'paper' | 'general'): { pairs: Pair[]; equivalent: string[] } {
  const names = model === 'general' ? ACTIVATIONS.filter((a) => a !== 'sigmoid') : [...ACTIVATIONS];
  const pairs: Pair[] = [];
  for (const layer1 of names) for (const layer2 of names) pairs.push({ layer1, layer2 });
  const equivalent = model === 'general' ? ['sigmoid (either layer): sigmoid(t) = (1 + tanh(t / 2)) / 2, a tanh layer with halved weights and moved biases'] : [];
  return { pairs, equivalent };
}

function randomSecondLayer(net: Network, seed: number): Network {
  const { width1: m0, width2: m1 } = net;
  const B = matrix(m1, m0);
  const stream = rng(seed);
  for (let l = 0; l < m1; l++) stream.split(l).fillSphere(B.data.subarray(l * m0, (l + 1) * m0), 1);
  return { ...net, B, tau: new Float64Array(m1) };
}

/**
 * The screen of one pair: the best of a few short fits with the first layer's directions fixed (the
 * probe's directions are rough: |cos| 0.8-0.95 measured), then a short fit of every parameter from
 * it, which separates the true pair (its residual falls by orders) from the others.
 */
async function screen(start: Network, data: { inputs: Float64View; values: Float64Array }, model: 'paper' | 'general', seed: number): Promise<{ residual: number }> {
  if (model === 'general') {
    let best: { network: GeneralNetwork; residual: number } | null = null;
    for (let s = 0; s <= SCREEN_STARTS; s++) {
      const candidate = s === 0 ? start : randomSecondLayer(start, stageSeed(seed, s));
      const fitted = await fitGeneralNetwork(fitOutputLayer(toGeneral(candidate), data), data, { fix: 'first-layer-directions', maxIterations: SCREEN_ITERATIONS, innerSteps: 0 });
      if (best === null || fitted.report.relativeResidual < best.residual) best = { network: fitted.network, residual: fitted.report.relativeResidual };
    }
    const free = await fitGeneralNetwork(best!.network, data, { maxIterations: SCREEN_FREE_ITERATIONS });
    return { residual: Number.isFinite(free.report.relativeResidual) ? free.report.relativeResidual : Infinity };
  }
  let best: { network: Network; residual: number } | null = null;
  for (let s = 0; s <= SCREEN_STARTS; s++) {
    const candidate = s === 0 ? start : randomSecondLayer(start, stageSeed(seed, s));
    const fitted = await fitNetwork(candidate, data, { fix: 'first-layer-weights', maxIterations: SCREEN_ITERATIONS, innerSteps: 0 });
    if (best === null || fitted.report.relativeResidual < best.residual) best = { network: fitted.network, residual: fitted.report.relativeResidual };
  }
  const free = await fitNetwork(best!.network, data, { maxIterations: SCREEN_FREE_ITERATIONS });
  return { residual: Number.isFinite(free.report.relativeResidual) ? free.report.relativeResidual : Infinity };
}

/**
 * The screen again, from a run's own network with the activations swapped for `pair` (every
 * parameter, a few iterations, the run's data): its residual, and the run's result carrying the
 * refitted network in case it passes the check.
 */
async function refitFrom(result: IdentifyResult, pair: Pair, model: 'paper' | 'general'): Promise<{ residual: number; result: IdentifyResult }> {
  const data = result.refinementData!;
  const fitted =
    model === 'general'
      ? await fitGeneralNetwork({ ...result.networkGeneral!, activation: pair }, data, { maxIterations: SCREEN_FREE_ITERATIONS })
      : await fitNetwork({ ...result.network, activation: pair }, data, { maxIterations: SCREEN_FREE_ITERATIONS });
  const residual = Number.isFinite(fitted.report.relativeResidual) ? fitted.report.relativeResidual : Infinity;
  const report = result.report;
  return {
    residual,
    result: {
      ...result,
      ...(model === 'general' ? { networkGeneral: fitted.network as GeneralNetwork } : { network: fitted.network as Network }),
      report: {
        ...report,
        options: { ...report.options, activation: pair },
        check: { ...report.check, relativeResidual: residual, passed: residual <= report.check.threshold },
        warnings: [...report.warnings.filter((w) => !w.startsWith('no attempt passed')), `activation 'auto': the network is the run of ${report.options.activation.layer1}/${report.options.activation.layer2} refitted with ${pair.layer1}/${pair.layer2} (its report describes that run)`],
      },
    },
  };
}

/** A candidate's fit that fails numerically (a start whose features are degenerate: an SVD that does not converge) scores Infinity. */
async function orInfinity<T>(fit: () => Promise<T>, failed: T): Promise<T> {
  try {
    return await fit();
  } catch (e) {
    if (e instanceof NumericalError) return failed;
    throw e;
  }
}

/** Answers kept in memory by the exact bits of each row: the candidates' runs reuse what the probe paid. */
function memoryCache(): QueryCache {
  const answers = new Map<string, number>();
  const keyOf = (identity: string, inputs: Float64View, r: number) => {
    const d = inputs.shape[1];
    const parts = [identity];
    for (let j = 0; j < d; j++) parts.push(inputs.data[inputs.offset + r * inputs.strides[0] + j * inputs.strides[1]].toString(36));
    return parts.join(',');
  };
  return {
    lookup(identity, inputs, out, found) {
      let n = 0;
      for (let r = 0; r < inputs.shape[0]; r++) {
        const v = answers.get(keyOf(identity, inputs, r));
        if (v !== undefined) {
          out[r] = v;
          found[r] = 1;
          n++;
        }
      }
      return n;
    },
    async put(identity, inputs, rows, values) {
      for (let i = 0; i < rows.length; i++) answers.set(keyOf(identity, inputs, rows[i]), values[i]);
    },
    async close() {},
  };
}

/**
 * identify with the activations found: `options.activation` 'auto' (see the file's doc); any other
 * value is identify's. The result's report gains `activationSearch` (every candidate's residual);
 * when none passes, the result is the best candidate's, its check failed and a warning lists them.
 */
export async function identifyActivationAuto(
  identify: (oracle: Oracle, options: IdentifyOptions) => Promise<IdentifyResult>,
  oracle: Oracle,
  options: AutoIdentifyOptions,
): Promise<AutoIdentifyResult> {
  const startedAt = performance.now();
  const model = options.model ?? 'paper';
  // the candidates are told apart by the refinement's residual
  if (options.refine === false) invalidArgument('refine', "must be true with activation 'auto'", false);
  const paidAtStart = oracle.counts().paid;
  // every run asks the user's oracle through one memory of answers: a row is paid once
  const cache = memoryCache();
  let answered = 0;
  const run = async (pair: Pair, extra: Partial<IdentifyOptions>) => {
    const inner = createOracle(oracle, { cache });
    const result = await identify(inner, { ...options, ...extra, activation: pair });
    answered += inner.counts().total;
    return result;
  };
  // the probe: directions and paid data (one attempt: its retries would only try its own pair)
  const probe = await run(PROBE, { retryFactors: [] });
  const data = probe.refinementData!;
  const start = probe.networkBeforeRefinement;
  const threshold = probe.report.check.threshold;
  const { pairs, equivalent } = candidatePairs(model);
  const seed = stageSeed(options.seed, 0xac7);
  // the candidates sample where the probe did (the 'auto' radius and noisy steps follow the activation)
  const used = probe.report.options;
  const pinned: Partial<IdentifyOptions> = {
    radius: used.radius as number,
    noise: probe.report.noise.sigma,
    ...(probe.report.noise.sigma > 0 && typeof used.step === 'number' ? { step: used.step } : {}),
    ...(probe.report.noise.sigma > 0 && typeof used.gradientStep === 'number' ? { gradientStep: used.gradientStep } : {}),
  };

  const screened: { pair: Pair; residual: number; index: number }[] = [];
  const probeResidual = probe.report.check.relativeResidual ?? Infinity;
  let best: { at: number; residual: number; result: IdentifyResult } | null = null;
  let candidates: ActivationCandidate[];
  if (probeResidual <= threshold) {
    // the probe's pair passed as it is: no other is tried (no screen)
    candidates = [{ ...PROBE, screenResidual: null, relativeResidual: probeResidual, passed: true }];
    best = { at: 0, residual: probeResidual, result: probe };
  } else {
    for (let i = 0; i < pairs.length; i++) {
      const { residual } = await orInfinity(() => screen({ ...start, activation: pairs[i] }, data, model, stageSeed(seed, i)), { residual: Infinity });
      screened.push({ pair: pairs[i], residual, index: i });
    }
    screened.sort((a, b) => a.residual - b.residual || a.index - b.index);
    candidates = screened.map((s) => ({ ...s.pair, screenResidual: s.residual, relativeResidual: null, passed: null }));
    for (let t = 0; t < Math.min(FULL_FITS, candidates.length); t++) {
      let result: IdentifyResult;
      try {
        result = await run(screened[t].pair, pinned);
      } catch (e) {
        // a pair whose every attempt failed numerically is a pair that did not pass
        if (!(e instanceof NnidError) || e.code !== ErrorCodes.numerical) throw e;
        candidates[t].relativeResidual = Infinity;
        candidates[t].passed = false;
        continue;
      }
      const residual = result.report.check.relativeResidual ?? Infinity;
      candidates[t].relativeResidual = residual;
      candidates[t].passed = residual <= result.report.check.threshold;
      if (best === null || residual < best.residual) best = { at: t, residual, result };
      if (candidates[t].passed) break;
      // a failed run's network is far closer than the probe's (a near pair such as gelu_tanh for gelu
      // fits to ~3e-5): the candidates after it are screened again from it, pair swapped, and reordered
      let refitted: IdentifyResult | null = null;
      for (let u = t + 1; u < candidates.length && refitted === null; u++) {
        const again = await orInfinity(() => refitFrom(result, screened[u].pair, model), { residual: Infinity, result });
        candidates[u].screenResidual = Math.min(candidates[u].screenResidual!, again.residual);
        if (again.residual <= result.report.check.threshold) {
          // that refit is the answer: it passes the check on the same data
          candidates[u].relativeResidual = again.residual;
          candidates[u].passed = true;
          refitted = again.result;
          best = { at: u, residual: again.residual, result: refitted };
        }
      }
      if (refitted) break;
      const rest = candidates.slice(t + 1).sort((a, b) => a.screenResidual! - b.screenResidual!);
      candidates.splice(t + 1, rest.length, ...rest);
      screened.splice(t + 1, rest.length, ...rest.map((c) => ({ pair: { layer1: c.layer1, layer2: c.layer2 }, residual: c.screenResidual!, index: 0 })));
    }
  }
  // nothing ran to the end: the probe's result stands (failed)
  const { result } = best ?? { result: probe };
  const passed = result.report.check.passed === true;
  const chosen = passed && best ? { layer1: candidates[best.at].layer1, layer2: candidates[best.at].layer2 } : null;
  const activationSearch: ActivationSearchReport = {
    probe: PROBE,
    candidates,
    equivalent,
    chosen,
    threshold,
    queries: { paid: oracle.counts().paid - paidAtStart, answered },
    seconds: (performance.now() - startedAt) / 1000,
  };
  const warnings = [...result.report.warnings];
  if (!passed) {
    const tried = candidates.filter((c) => c.relativeResidual !== null).map((c) => `${c.layer1}/${c.layer2} ${c.relativeResidual!.toExponential(2)}`);
    warnings.push(`activation 'auto': no candidate pair passed the truth-free check (threshold ${threshold.toExponential(2)}): ${tried.join(', ')}`);
  }
  return {
    ...result,
    report: { ...result.report, seconds: { ...result.report.seconds, total: (performance.now() - startedAt) / 1000 }, warnings, activationSearch },
  };
}
