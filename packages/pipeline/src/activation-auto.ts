/**
 * identify with `activation: 'auto'`: the black box's activations unknown. The sampling, the
 * subspace, the rank-one search and the attribution do not depend on the activation (they find
 * directions); the shift fit and the refinement do. So identify runs once with a probe pair (one
 * attempt; its sampling row: tanh's unless `radius` is given), and the candidates are then tried
 * on the answers it paid, every query asked through one memory of answers (a row is paid once):
 *
 *   screen: each pair, on the directions the probe found, fits everything but those directions
 *           from the shift fit's second layer and from a random one (a few iterations each), on the
 *           probe's refinement data; the best SCREEN_FREE_KEEP then fit every parameter a few
 *           iterations more: a residual, an order;
 *   refits: a run that fails ends far closer than the probe's directions: the pairs that differ
 *           from its pair in one layer are refitted from its network (a near pair such as
 *           gelu_tanh for gelu passes there), and the order takes their residuals;
 *   short:  in that order, identify with the pair on the probe's schedule (one subspace dimension,
 *           m1 grown while it pays; sampling where the probe did, every answer reused) for up to
 *           FULL_FITS pairs besides the probe, which is its own pair's short run;
 *   long:   the LONG_RUNS pairs that came closest, with identify's retries (the later stages
 *           redone on the same Hessians), until one passes the truth-free check. A pair's
 *           closeness is the best of its own runs and of the refits into it from other runs'
 *           networks: a short run is one attempt, and one that lands badly (a sigmoid regressor's
 *           tanh/tanh at 4e-2 while three wrong pairs' came to 3e-4) must not cost the true pair
 *           its retries when a refit into it from a wrong pair's network came as close.
 *   second: when none passed (model 'general'), the second pass (second-pass.ts: W1's directions
 *           from Hessians at beta-free points, new queries) for the SECOND_PASS_PAIRS pairs that
 *           came closest (at most SECOND_PASS_FROM), from the best network of each (a run's or a
 *           refit's), within maxQueries; a network it improves is refitted to the near pairs as a
 *           run's is (no second refit of its own). secondPassPairs 0 (method auto's default) leaves
 *           it out and returns it as `secondPassLater`, run on request (after the fit failed).
 *   When the probe's own pair passed, that is the answer.
 *
 * In the general form sigmoid(t) = (1 + tanh(t / 2)) / 2 makes a sigmoid layer a tanh layer with
 * halved weights and moved biases (the same functions): sigmoid is not a candidate of its own
 * there, and a sigmoid network is returned as its tanh equivalent (exact all the same).
 */
import { ACTIVATIONS, checkInteger, ErrorCodes, invalidArgument, matrix, NnidError, NumericalError, rng, toGeneral, type ActivationName, type Float64View, type GeneralNetwork, type Network, type Oracle, type QueryCache } from '@nnid/core';
import { createOracle } from '@nnid/oracle';
import { fitGeneralNetwork, fitNetwork, fitOutputLayer } from '@nnid/refine';
import { stageSeed } from './identify-geometry.ts';
import type { IdentifyOptions } from './options.ts';
import { pruneInferredWidths, type PruneReport } from './prune.ts';
import { SECOND_PASS_FROM, type DeferredSecondPass } from './second-pass.ts';
import type { IdentifyReport, IdentifyResult } from './report.ts';

type Pair = { layer1: ActivationName; layer2: ActivationName };

/** identify's options with `activation` unknown ('auto') allowed. */
export type AutoIdentifyOptions = Omit<IdentifyOptions, 'activation'> & {
  activation: IdentifyOptions['activation'] | 'auto';
  /**
   * activation 'auto': pairs given the search's second pass when none passed (default
   * SECOND_PASS_PAIRS; 0: none inside the search, the pass returned as the result's secondPassLater:
   * method auto's default, its fit first).
   */
  secondPassPairs?: number;
  /** activation 'auto': a long run only for a pair that came within this relative residual (default LONG_RUN_FROM; Infinity: every long run, as before session 16). */
  longRunFrom?: number;
};

export interface ActivationCandidate {
  layer1: ActivationName;
  layer2: ActivationName;
  /** Relative residual of the screen (a few iterations from the probe's directions, then every parameter for the best) on the probe's data (null: no screen, the probe passed). */
  screenResidual: number | null;
  /** The smallest relative residual of the refits into this pair from other runs' networks (absent: none refitted into it). */
  refitResidual?: number;
  /** Relative residual of identify with this pair (null: not run, a better-screened pair passed first). */
  relativeResidual: number | null;
  /** Whether it passed the truth-free check (null: not run). */
  passed: boolean | null;
}

export interface ActivationSearchReport {
  /** The pair identify ran with to find the directions and pay the data. */
  probe: Pair;
  /** Every candidate screened: the one that passed first, then by the best of their runs' and refits' residuals, then by the screen's; only the probe's pair when it passed. */
  candidates: ActivationCandidate[];
  /** Pairs not tried because another candidate gives the same functions (general form: sigmoid as tanh). */
  equivalent: string[];
  /** The pair returned, or null when none passed. */
  chosen: Pair | null;
  threshold: number;
  /** Queries paid to the oracle by the whole search (each row once), and answered to its runs (reused rows counted again). */
  queries: { paid: number; answered: number };
  seconds: number;
  /** CPU seconds of the process (every thread) by part: the probe, the screen, the short and long runs, the refits from failed runs, the second pass. */
  cpuSeconds: { probe: number; screen: number; shortRuns: number; longRuns: number; refits: number; secondPass: number };
  /** What a rule of the search left out, and why (LONG_RUN_FROM: the long runs when no pair came close); empty: nothing. */
  skipped?: string[];
  /** The second pass per pair it was due for (the closest SECOND_PASS_PAIRS): the residual it started from, where it ended after the widths' pruning (null: it did not run or gained nothing; `note` says which), the queries it paid. */
  secondPass: { layer1: ActivationName; layer2: ActivationName; from: number; residual: number | null; passed: boolean; queries: number; note: string }[];
}

/**
 * identify's result; its report with `activationSearch` (activation 'auto') and `pruning` (model
 * 'general', a width inferred). `secondPassLater`: activation 'auto' with secondPassPairs 0 when no
 * pair passed (model 'general'): the search's second pass for its SECOND_PASS_PAIRS closest pairs,
 * run on request, and the search's result after it.
 */
export type AutoIdentifyResult = IdentifyResult & { report: IdentifyReport & { activationSearch?: ActivationSearchReport; pruning?: PruneReport }; secondPassLater?: () => Promise<AutoIdentifyResult> };

/** The probe pair: what identify runs with before the search. */
export const PROBE: Pair = { layer1: 'tanh', layer2: 'tanh' };
/** Candidates identified in a short run (one subspace dimension, m1 grown while it pays: the probe's schedule), best screen first, besides the probe. */
export const FULL_FITS = 4;
/** Then the pairs that came closest (the best of their short runs and the refits into them) identified with identify's retries, before the search gives up. */
export const LONG_RUNS = 3;
/**
 * A long run goes only to a pair that came within this relative residual (the best of its short
 * run and the refits into it); when the closest pair left is farther, the long runs stop and the
 * report says so (activationSearch.skipped, a warning). Chosen on the held-out float32 exports
 * (BENCHMARKS.md, "The digits classifiers' run time, session 16"): every long run that passed set
 * out from a pair at most 4e-2 away (sklearn tanh diabetes 3.5e-2, session 9's sigmoid regressor
 * 3.96e-2); from 0.2 and farther (torch tanh diabetes, digits PCA 16 k = 2) the long runs, 108 and
 * 300 CPU s, ended within 10% of where they set out, and the fit after the search found the pass.
 */
export const LONG_RUN_FROM = 1e-1;
/** Pairs given the second pass when no pair passed (its Hessians, up to 3 x (m0 + 2), cost 4.9-11 P a pair on the held-out and generator networks measured): the closest, at most SECOND_PASS_FROM. */
export const SECOND_PASS_PAIRS = 2;
/** A second pass's network is refitted to the near pairs only when its residual fell below this fraction of where it started. */
const PASS_MOVED = 0.5;
/** Pairs of the screen's first part (directions fixed) that go on to its second (every parameter). */
const SCREEN_FREE_KEEP = 12;
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
 * The screen of one pair, first part: the best of a few short fits with the first layer's
 * directions fixed (the probe's directions are rough: |cos| 0.8-0.95 measured), from the shift
 * fit's second layer and from random ones.
 */
async function screenFixed(start: Network, data: { inputs: Float64View; values: Float64Array }, model: 'paper' | 'general', seed: number): Promise<{ residual: number; network: GeneralNetwork | Network }> {
  let best: { network: GeneralNetwork | Network; residual: number } | null = null;
  for (let s = 0; s <= SCREEN_STARTS; s++) {
    const candidate = s === 0 ? start : randomSecondLayer(start, stageSeed(seed, s));
    const fitted =
      model === 'general'
        ? await fitGeneralNetwork(fitOutputLayer(toGeneral(candidate), data), data, { fix: 'first-layer-directions', maxIterations: SCREEN_ITERATIONS, innerSteps: 0 })
        : await fitNetwork(candidate, data, { fix: 'first-layer-weights', maxIterations: SCREEN_ITERATIONS, innerSteps: 0 });
    const residual = Number.isFinite(fitted.report.relativeResidual) ? fitted.report.relativeResidual : Infinity;
    if (best === null || residual < best.residual) best = { network: fitted.network, residual };
  }
  return best!;
}

/** The screen's second part, for the pairs the first ranks best: a short fit of every parameter, which separates the true pair (its residual falls by orders) from the others. */
async function screenFree(from: GeneralNetwork | Network, data: { inputs: Float64View; values: Float64Array }, model: 'paper' | 'general'): Promise<{ residual: number }> {
  const free = model === 'general' ? await fitGeneralNetwork(from as GeneralNetwork, data, { maxIterations: SCREEN_FREE_ITERATIONS }) : await fitNetwork(from as Network, data, { maxIterations: SCREEN_FREE_ITERATIONS });
  return { residual: Number.isFinite(free.report.relativeResidual) ? free.report.relativeResidual : Infinity };
}

/** CPU seconds of this process (every thread: the pools' workers too). */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * The screen again, from a run's own network with the activations swapped for `pair` (every
 * parameter, a few iterations, the run's data): its residual, and the run's result carrying the
 * refitted network in case it passes the check.
 */
async function refitFrom(result: IdentifyResult, pair: Pair, model: 'paper' | 'general', maxIterations: number): Promise<{ residual: number; result: IdentifyResult }> {
  const data = result.refinementData!;
  const fitted =
    model === 'general'
      ? await fitGeneralNetwork({ ...result.networkGeneral!, activation: pair }, data, { maxIterations })
      : await fitNetwork({ ...result.network, activation: pair }, data, { maxIterations });
  const residual = Number.isFinite(fitted.report.relativeResidual) ? fitted.report.relativeResidual : Infinity;
  const run = result.report.options.activation;
  return { residual, result: withNetwork(result, fitted.network, residual, [`activation 'auto': the network is the run of ${run.layer1}/${run.layer2} refitted with ${pair.layer1}/${pair.layer2} (its report describes that run)`]) };
}

/** A run's result with another network of its (its check's residual on the run's data, lines said about it); its pair is the network's. */
function withNetwork<R extends IdentifyResult>(result: R, network: GeneralNetwork | Network, residual: number, lines: string[]): R {
  const report = result.report;
  const general = 'W1' in network;
  return {
    ...result,
    ...(general ? { networkGeneral: network } : { network }),
    report: {
      ...report,
      options: { ...report.options, activation: { layer1: network.activation.layer1, layer2: network.activation.layer2 } },
      check: { ...report.check, relativeResidual: residual, passed: residual <= report.check.threshold },
      warnings: [...report.warnings.filter((w) => !w.startsWith('no attempt passed')), ...lines],
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
  identify: (oracle: Oracle, options: IdentifyOptions) => Promise<IdentifyResult & { secondPass?: DeferredSecondPass }>,
  oracle: Oracle,
  options: AutoIdentifyOptions,
): Promise<AutoIdentifyResult> {
  const startedAt = performance.now();
  const cpuAtStart = cpuSeconds();
  const model = options.model ?? 'paper';
  // the candidates are told apart by the refinement's residual
  if (options.refine === false) invalidArgument('refine', "must be true with activation 'auto'", false);
  const secondPassPairs = options.secondPassPairs === undefined ? SECOND_PASS_PAIRS : checkInteger('secondPassPairs', options.secondPassPairs, 0);
  const longRunFrom = options.longRunFrom ?? LONG_RUN_FROM;
  if (typeof longRunFrom !== 'number' || !(longRunFrom > 0)) invalidArgument('longRunFrom', 'must be a number > 0 (Infinity: no bound)', options.longRunFrom);
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
  // progress: one line as each candidate ends (the runs' own stage events pass through as well)
  const note = (message: string, since: number) => options.onProgress?.({ event: 'note', stage: 'activation', done: 1, total: 1, message, seconds: cpuSeconds() - since });
  const outcome = (residual: number, threshold: number) => `residual ${Number.isFinite(residual) ? residual.toExponential(2) : 'none'}, ${residual <= threshold ? 'passed' : 'failed'} (threshold ${threshold.toExponential(2)})`;
  // the probe: directions and paid data (one attempt: its retries would only try its own pair)
  const probe = await run(PROBE, { retryFactors: [] });
  const data = probe.refinementData!;
  const start = probe.networkBeforeRefinement;
  const threshold = probe.report.check.threshold;
  note(`probe ${PROBE.layer1}/${PROBE.layer2}: ${outcome(probe.report.check.relativeResidual ?? Infinity, threshold)}`, cpuAtStart);
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

  const cpuAt = cpuSeconds();
  const cpu = { probe: cpuAt - cpuAtStart, screen: 0, shortRuns: 0, longRuns: 0, refits: 0, secondPass: 0 };
  const secondPassRows: ActivationSearchReport['secondPass'] = [];
  const skipped: string[] = [];
  const probeResidual = probe.report.check.relativeResidual ?? Infinity;
  // the run with the smallest residual so far (a holder: the closures below update it)
  const found: { best: { residual: number; result: IdentifyResult } | null } = { best: null };
  // each pair's closest result (a run's or a refit's), which carries its run's deferred second pass
  type Held = { residual: number; result: IdentifyResult & { secondPass?: DeferredSecondPass } };
  const closestResult = new Map<string, Held>();
  const hold = (residual: number, result: Held['result']) => {
    const a = result.report.options.activation as Pair;
    const key = `${a.layer1}/${a.layer2}`;
    if (Number.isFinite(residual) && residual < (closestResult.get(key)?.residual ?? Infinity)) closestResult.set(key, { residual, result });
    if (found.best === null || residual < found.best.residual) found.best = { residual, result };
  };
  let candidates: ActivationCandidate[];
  // the second pass for the closest `count` pairs (set when none passed, model 'general')
  let secondPassFor: ((count: number) => Promise<void>) | null = null;
  if (probeResidual <= threshold) {
    // the probe's pair passed as it is: no other is tried (no screen)
    candidates = [{ ...PROBE, screenResidual: null, relativeResidual: probeResidual, passed: true }];
    found.best = { residual: probeResidual, result: probe };
  } else {
    // the screen: every pair's short fit with the directions fixed, then the fit of every parameter for the best SCREEN_FREE_KEEP
    const screened: { pair: Pair; residual: number; index: number; network: GeneralNetwork | Network | null }[] = [];
    for (let i = 0; i < pairs.length; i++) {
      const fixed = await orInfinity<{ residual: number; network: GeneralNetwork | Network | null }>(() => screenFixed({ ...start, activation: pairs[i] }, data, model, stageSeed(seed, i)), { residual: Infinity, network: null });
      screened.push({ pair: pairs[i], residual: fixed.residual, index: i, network: fixed.network });
    }
    screened.sort((a, b) => a.residual - b.residual || a.index - b.index);
    for (let j = 0; j < Math.min(SCREEN_FREE_KEEP, screened.length); j++) {
      const from = screened[j].network;
      if (from) screened[j].residual = Math.min(screened[j].residual, (await orInfinity(() => screenFree(from, data, model), { residual: Infinity })).residual);
    }
    screened.sort((a, b) => a.residual - b.residual || a.index - b.index);
    cpu.screen = cpuSeconds() - cpuAt;
    note(`screen of ${screened.length} pairs on the probe's answers: ${screened.slice(0, 3).map((x) => `${x.pair.layer1}/${x.pair.layer2} ${Number.isFinite(x.residual) ? x.residual.toExponential(2) : 'none'}`).join(', ')}${screened.length > 3 ? ', ...' : ''}`, cpuAt);
    candidates = screened.map((s) => ({ ...s.pair, screenResidual: s.residual, relativeResidual: null, passed: null }));
    const indexOf = (pair: Pair) => candidates.findIndex((c) => c.layer1 === pair.layer1 && c.layer2 === pair.layer2);
    const record = (pair: Pair, residual: number, passed: boolean, result: IdentifyResult | null) => {
      const i = indexOf(pair);
      if (candidates[i].relativeResidual === null || residual < candidates[i].relativeResidual!) candidates[i].relativeResidual = residual;
      candidates[i].passed = passed || candidates[i].passed === true;
      if (result) hold(residual, result);
      return passed;
    };
    // the probe is its pair's short run
    record(PROBE, probeResidual, false, probe);
    const ran = new Set<string>([`${PROBE.layer1}/${PROBE.layer2}`]);
    const keyOf = (pair: Pair) => `${pair.layer1}/${pair.layer2}`;
    /** How close a pair came: the best of its runs and of the refits into it. */
    const closest = (c: ActivationCandidate) => Math.min(c.relativeResidual ?? Infinity, c.refitResidual ?? Infinity);
    // a failed run's network is far closer than the probe's (a near pair such as gelu_tanh for gelu
    // fits to ~3e-5): the pairs that differ from its pair in one layer are refitted from it, pair swapped
    // a refit is a refinement: no more iterations than the caller's refinement allows
    const refitIterations = Math.min(SCREEN_FREE_ITERATIONS, options.refineMaxIterations ?? SCREEN_FREE_ITERATIONS);
    const refitNear = async (result: IdentifyResult): Promise<boolean> => {
      const at = cpuSeconds();
      const own = result.report.options.activation as Pair;
      let passedHere = false;
      for (const c of [...candidates]) {
        if (passedHere) break;
        const pair = { layer1: c.layer1, layer2: c.layer2 };
        // a pair that ran (the probe's too) is refitted all the same: from another run's network it starts elsewhere
        if (keyOf(pair) === keyOf(own) || (pair.layer1 !== own.layer1 && pair.layer2 !== own.layer2)) continue;
        const again = await orInfinity(() => refitFrom(result, pair, model, refitIterations), { residual: Infinity, result });
        if (again.residual < (c.refitResidual ?? Infinity)) c.refitResidual = again.residual;
        if (Number.isFinite(again.residual)) hold(again.residual, again.result);
        if (again.residual <= result.report.check.threshold) passedHere = record(pair, again.residual, true, again.result);
      }
      cpu.refits += cpuSeconds() - at;
      note(`refits from ${keyOf(own)}'s network, pair swapped: ${passedHere ? 'one passed' : 'none passed'}`, at);
      // the short runs' order: the closest a pair came yet, in a refit or the screen
      candidates.sort((a, b) => (a.passed ? 0 : 1) - (b.passed ? 0 : 1) || Math.min(a.screenResidual!, a.refitResidual ?? Infinity) - Math.min(b.screenResidual!, b.refitResidual ?? Infinity));
      return passedHere;
    };
    /** One identify run of `pair` on the probe's answers; short: one subspace dimension (m1 grown while it pays), as the probe. */
    const runPair = async (pair: Pair, short: boolean): Promise<IdentifyResult | null> => {
      const at = cpuSeconds();
      ran.add(keyOf(pair));
      const what = `${keyOf(pair)} (${short ? 'short' : 'long'} run)`;
      try {
        const result = await run(pair, short ? { ...pinned, retryFactors: [] } : pinned);
        note(`${what}: ${outcome(result.report.check.relativeResidual ?? Infinity, result.report.check.threshold)}`, at);
        return result;
      } catch (e) {
        // a pair whose every attempt failed numerically is a pair that did not pass
        if (!(e instanceof NnidError) || e.code !== ErrorCodes.numerical) throw e;
        note(`${what}: every attempt failed numerically`, at);
        record(pair, Infinity, false, null);
        return null;
      } finally {
        cpu[short ? 'shortRuns' : 'longRuns'] += cpuSeconds() - at;
      }
    };
    let done = await refitNear(probe);
    // short runs of the best screened pairs, then the full retries for the best of them
    for (let t = 0; !done && t < FULL_FITS; t++) {
      const next = candidates.find((c) => !ran.has(keyOf(c)) && c.passed !== true);
      if (!next) break;
      const pair = { layer1: next.layer1, layer2: next.layer2 };
      const result = await runPair(pair, true);
      if (!result) continue;
      const residual = result.report.check.relativeResidual ?? Infinity;
      if (record(pair, residual, residual <= result.report.check.threshold, result)) break;
      done = await refitNear(result);
    }
    const longRan = new Set<string>();
    // with no retry factors a long run is a short one again: none
    const longRuns = Array.isArray(options.retryFactors) && options.retryFactors.length === 0 ? 0 : LONG_RUNS;
    for (let t = 0; !done && t < longRuns; t++) {
      // the closest pair yet by its runs and the refits into it (a pair refitted but never run included)
      const next = candidates
        .map((c, i) => ({ c, i, k: closest(c) }))
        .filter(({ c, k }) => Number.isFinite(k) && !longRan.has(keyOf(c)))
        .sort((a, b) => a.k - b.k || a.i - b.i)[0]?.c;
      if (!next) break;
      const from = closest(next);
      if (from > longRunFrom) {
        const left = longRuns - t;
        skipped.push(`long runs: ${left} of ${longRuns} not run: the closest pair left, ${keyOf(next)}, came to ${from.toExponential(2)}, above longRunFrom ${longRunFrom} (identify's retries from that far have not reached the check)`);
        note(`long runs: ${left} of ${longRuns} not run (the closest pair left, ${keyOf(next)}, at ${from.toExponential(2)}, above ${longRunFrom})`, cpuSeconds());
        break;
      }
      const pair = { layer1: next.layer1, layer2: next.layer2 };
      longRan.add(keyOf(pair));
      const result = await runPair(pair, false);
      if (!result) continue;
      const residual = result.report.check.relativeResidual ?? Infinity;
      if (record(pair, residual, residual <= result.report.check.threshold, result)) break;
      done = await refitNear(result);
    }
    // none passed: the second pass for the closest pairs, from their best networks, once each
    if (candidates.some((c) => c.passed === true)) done = true;
    const order = () => candidates.sort((a, b) => (a.passed ? 0 : 1) - (b.passed ? 0 : 1) || closest(a) - closest(b) || a.screenResidual! - b.screenResidual!);
    /** The second pass for each of `second` (the closest pairs' best results) until one passes. */
    const secondPassOf = async (second: [string, Held][]) => {
      for (const [key, held] of second) {
        if (done) break;
        const at = cpuSeconds();
        const pair = held.result.report.options.activation as Pair;
        const row = { layer1: pair.layer1, layer2: pair.layer2, from: held.residual, residual: null as number | null, passed: false, queries: 0, note: '' };
        secondPassRows.push(row);
        if (held.residual > SECOND_PASS_FROM || !held.result.secondPass || !held.result.networkGeneral) {
          row.note = held.residual > SECOND_PASS_FROM ? `not run: ${key} came to ${held.residual.toExponential(2)}, above ${SECOND_PASS_FROM}` : 'not run: no deferred pass';
          continue;
        }
        const paidBefore = oracle.counts().paid;
        const queriesLeft = options.maxQueries === undefined ? Infinity : options.maxQueries - (paidBefore - paidAtStart);
        // a pass that fails numerically (e.g. the TypeScript tier's SVD in its output-layer solve) is a pass that gained nothing: the search's result stands
        const pass = await held.result.secondPass({ network: held.result.networkGeneral, residual: held.residual }, queriesLeft).catch((e: unknown) => {
          if (!(e instanceof NnidError) || e.code !== ErrorCodes.numerical) throw e;
          return { attempt: null, warnings: [`failed numerically: ${(e as Error).message}`] };
        });
        row.queries = oracle.counts().paid - paidBefore;
        row.note = pass.warnings.join('; ');
        if (pass.attempt) {
          const residual = pass.attempt.report.refinedResidual!;
          row.residual = residual;
          const improved = withNetwork(held.result, pass.attempt.networkGeneral!, residual, [...pass.warnings, `activation 'auto': ${pass.attempt.report.reason}`]);
          // widths inferred: the pass's network pruned and shrunk as identify's result is
          const result = await pruneInferredWidths(improved, {
            model,
            ...(options.width1 !== undefined ? { width1: options.width1 } : {}),
            ...(options.width2 !== undefined ? { width2: options.width2 } : {}),
            refineMaxIterations: held.result.report.options.refineMaxIterations as number,
          });
          const after = result.report.check.relativeResidual ?? residual;
          row.residual = after;
          row.passed = after <= threshold;
          cpu.secondPass += cpuSeconds() - at;
          note(`second pass ${key}: ${outcome(after, threshold)}`, at);
          if (record(pair, after, row.passed, result)) break;
          // the search's refit from the pass's network stands for the pass's own (no second refit);
          // not from a network the pass hardly moved (its run's was refitted already)
          if (after < PASS_MOVED * held.residual) done = await refitNear(result);
        } else cpu.secondPass += cpuSeconds() - at;
      }
    };
    if (model === 'general' && !done) {
      secondPassFor = async (count: number) => {
        await secondPassOf([...closestResult.entries()].sort((a, b) => a[1].residual - b[1].residual).slice(0, count));
        order();
      };
    }
    if (secondPassFor !== null && secondPassPairs > 0) {
      await secondPassFor(secondPassPairs);
      secondPassFor = null;
    } else order();
  }
  const later = secondPassFor as ((count: number) => Promise<void>) | null;
  const result = finish();
  // secondPassPairs 0 and none passed: the pass for the SECOND_PASS_PAIRS closest pairs on request (method auto, after its fit failed)
  let laterRan = false;
  const secondPassLater = async () => {
    // once: a second call returns the result as it stands (no pass paid twice)
    if (!laterRan) await later!(SECOND_PASS_PAIRS);
    laterRan = true;
    return finish();
  };
  return later ? { ...result, secondPassLater } : result;

  /** The search's result as it stands: its best run's (a refit's, a pass's), with activationSearch (copies: a later pass does not change a report returned before it). */
  function finish(): AutoIdentifyResult {
    // nothing ran to the end: the probe's result stands (failed)
    // the runs' deferred second passes stay inside the search
    const { secondPass: _deferred, ...result } = (found.best?.result ?? probe) as IdentifyResult & { secondPass?: DeferredSecondPass };
    const passed = result.report.check.passed === true;
    const own = result.report.options.activation as Pair;
    const chosen = passed ? { layer1: own.layer1, layer2: own.layer2 } : null;
    const activationSearch: ActivationSearchReport = {
      probe: PROBE,
      candidates: candidates.map((c) => ({ ...c })),
      equivalent,
      chosen,
      threshold,
      queries: { paid: oracle.counts().paid - paidAtStart, answered },
      seconds: (performance.now() - startedAt) / 1000,
      cpuSeconds: { ...cpu },
      secondPass: secondPassRows.map((r) => ({ ...r })),
      skipped: [...skipped],
    };
    const warnings = [...result.report.warnings, ...skipped.map((s) => `activation 'auto': ${s}`)];
    if (!passed) {
      const tried = candidates.filter((c) => c.relativeResidual !== null).map((c) => `${c.layer1}/${c.layer2} ${c.relativeResidual!.toExponential(2)}`);
      warnings.push(`activation 'auto': no candidate pair passed the truth-free check (threshold ${threshold.toExponential(2)}): ${tried.join(', ')}`);
    }
    return {
      ...result,
      report: { ...result.report, seconds: { ...result.report.seconds, total: (performance.now() - startedAt) / 1000 }, warnings, activationSearch },
    };
  }
}
