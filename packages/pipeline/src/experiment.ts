/**
 * One experiment of a sweep: generate a random network as in the paper, identify it through the
 * oracle alone, and score the result before and after refinement against the truth.
 *
 * @example
 * const record = await runExperiment({ inputDim: 20, width1: 10, width2: 3,
 *   activation: { layer1: 'tanh', layer2: 'tanh' }, shiftStd: 0.3, noise: 0, seed: 1 });
 * record.exact; record.after.function.gaussian.relativeL2;
 */
import { parameterCount, type ActivationName, type QueryCounts } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify } from './identify.ts';
import type { IdentifyOptions } from './options.ts';
import type { IdentifyReport } from './report.ts';
import { score, type Score } from './score.ts';

export interface ExperimentSpec {
  inputDim: number;
  width1: number;
  width2: number;
  activation: { layer1: ActivationName; layer2: ActivationName };
  /** Std of the shifts theta and tau. */
  shiftStd: number;
  /** Std of the oracle's additive Gaussian noise (0: noiseless). */
  noise: number;
  /** Move A away from orthogonality by this much (0: orthonormal rows). */
  perturb?: number;
  seed: number;
  /** Give the widths to identify (default true); false lets identify read them from the spectrum. */
  widthsGiven?: boolean;
  /** Threads inside the run (default 1: a sweep runs one experiment per worker). */
  threads?: number;
  /** Further options for identify (e.g. refine: false). */
  identify?: Partial<Omit<IdentifyOptions, 'activation' | 'seed' | 'threads' | 'onProgress'>>;
}

/** The figures of DESIGN.md section 5 for one run, before and after refinement. */
export interface ExperimentRecord {
  id: string;
  spec: ExperimentSpec;
  parameterCount: number;
  /** Every a_i and v_l with |cos| >= 1 - 1e-9 and relative L2 <= 1e-8 on both distributions. */
  exact: boolean;
  /** exact for a noiseless oracle; relative L2 <= max(1e-8, 10 noise) on both distributions otherwise. */
  targetMet: boolean;
  /** The truth-free check of the report passed (its verdict, not knowing the truth). */
  checkPassed: boolean | null;
  /** The check passed but the target was missed: a silent wrong answer. */
  silentFailure: boolean;
  /** Why the target was missed, when it was (from the figures). */
  cause: string | null;
  /** null when identify threw (see `error`). */
  before: Score | null;
  after: Score | null;
  /** The report's queries; the oracle's counts when identify threw. */
  queries: IdentifyReport['queries'] | QueryCounts;
  seconds: Record<string, number>;
  attempts: number;
  warnings: string[];
  error: string | null;
  wallSeconds: number;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : String(x).replace('.', 'p'));

/** A stable, readable id of an experiment: d20-m10-m3-tanh-tanh-s0p3-n0-p0-seed1. */
export function experimentId(spec: ExperimentSpec): string {
  return [
    `d${spec.inputDim}`,
    `m${spec.width1}`,
    `m${spec.width2}`,
    spec.activation.layer1,
    spec.activation.layer2,
    `s${fmt(spec.shiftStd)}`,
    `n${spec.noise === 0 ? 0 : spec.noise.toExponential(0).replace('+', '')}`,
    `p${fmt(spec.perturb ?? 0)}`,
    spec.widthsGiven === false ? 'wauto' : null,
    spec.identify?.refine === false ? 'norefine' : null,
    spec.identify?.queryBudget !== undefined ? `q${fmt(spec.identify.queryBudget)}` : null,
    `seed${spec.seed}`,
  ]
    .filter((x) => x !== null)
    .join('-');
}

function causeOf(s: Score, tolerance: number): string {
  const causes: string[] = [];
  if (s.firstLayer.minCos < 1 - 1e-9) causes.push(`a_i min|cos| 1 - ${(1 - s.firstLayer.minCos).toExponential(1)}`);
  if (s.entangled.minCos < 1 - 1e-9) causes.push(`v_l min|cos| 1 - ${(1 - s.entangled.minCos).toExponential(1)}`);
  const worst = Math.max(s.function.sphere.relativeL2, s.function.gaussian.relativeL2);
  if (worst > tolerance) causes.push(`relative L2 ${worst.toExponential(1)}`);
  return causes.join('; ');
}

/** Runs one experiment. Errors are caught into the record (`error`), so a sweep never loses a run. */
export async function runExperiment(spec: ExperimentSpec, options: { scorePoints?: number } = {}): Promise<ExperimentRecord> {
  const started = performance.now();
  const id = experimentId(spec);
  const points = options.scorePoints ?? 10_000;
  const truth = randomNetwork({
    inputDim: spec.inputDim,
    width1: spec.width1,
    width2: spec.width2,
    activation: spec.activation,
    shiftStd: spec.shiftStd,
    orthogonalityPerturbation: spec.perturb ?? 0,
    seed: spec.seed,
  });
  const oracle = createOracle(networkBlackBox(truth, spec.noise > 0 ? { noise: spec.noise, noiseSeed: spec.seed } : {}));
  const base = { id, spec, parameterCount: parameterCount(truth) };
  try {
    const widths = spec.widthsGiven === false ? {} : { width1: spec.width1, width2: spec.width2 };
    const result = await identify(oracle, {
      ...spec.identify,
      ...widths,
      activation: spec.activation,
      seed: spec.seed,
      threads: spec.threads ?? 1,
    });
    const before = score(truth, result.networkBeforeRefinement, { points });
    const refined = spec.identify?.refine !== false;
    const after = refined ? score(truth, result.network, { points }) : null;
    const final = after ?? before;
    const tolerance = spec.noise > 0 ? Math.max(1e-8, 10 * spec.noise) : 1e-8;
    const exact =
      final.firstLayer.minCos >= 1 - 1e-9 &&
      final.entangled.minCos >= 1 - 1e-9 &&
      final.function.sphere.relativeL2 <= 1e-8 &&
      final.function.gaussian.relativeL2 <= 1e-8;
    const targetMet =
      spec.noise > 0
        ? final.function.sphere.relativeL2 <= tolerance && final.function.gaussian.relativeL2 <= tolerance
        : exact;
    const checkPassed = result.report.check.passed;
    return {
      ...base,
      exact,
      targetMet,
      checkPassed,
      silentFailure: !targetMet && checkPassed === true,
      cause: targetMet ? null : causeOf(final, tolerance),
      before,
      after,
      queries: result.report.queries,
      seconds: result.report.seconds,
      attempts: result.report.attempts.length,
      warnings: result.report.warnings,
      error: null,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    return {
      ...base,
      exact: false,
      targetMet: false,
      checkPassed: null,
      silentFailure: false,
      cause: `error: ${message}`,
      before: null,
      after: null,
      queries: oracle.counts(),
      seconds: {},
      attempts: 0,
      warnings: [],
      error: message,
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await oracle.close();
  }
}
