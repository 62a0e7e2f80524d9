/**
 * The held-out check: a network that passed the truth-free check on its own data, judged again on
 * fresh points it was not fitted to. The truth-free check judges the data a network was fitted to;
 * with widths inferred, surplus units can fit those data without being the function elsewhere
 * (sklearn sigmoid wine k = 3 float32: widths (11, 5) for (6, 4), its check passed at 9.3e-8 against
 * 4.5e-7 while the relative L2 on N(0, I) was 1.3e-2: BENCHMARKS.md, "The held-out set, session 12"
 * and "The held-out check, session 13"). The set: HELD_OUT_POINTS rows from each of three
 * distributions, the unit sphere and N(0, I_d) (the two the scores use, DESIGN.md section 5) and
 * N(0, HELD_OUT_WIDE^2 I_d) (that miss's error sits at rare points of N(0, I): 100 of them miss it
 * 15-16% of the time, 100 at twice the scale never did in 4,000 draws), paid once, when the first
 * network is judged, and kept for every later one (no row paid twice). A network passes when its
 * relative residual on each is at most HELD_OUT_FACTOR times the check's threshold (float64 black
 * boxes: 10 x 1e-9, the exact criterion's 1e-8; float32: 10 x the noise-aware threshold).
 *
 * @example
 * const set = heldOutSet(oracle, { outputs: 1, seed: 1, points: HELD_OUT_POINTS });
 * const verdict = await set.judge(network, report.check.threshold);
 * verdict.passed; verdict.relativeResidual.wide; set.rowsPaid();
 */
import { checkInteger, checkPositive, matrixFrom, rng, toDense, type Float64View, type GeneralNetwork, type Network, type ViewLike } from '@nnid/core';
import { evaluateGeneral, evaluateNetwork } from '@nnid/oracle';
import { errorBetween } from './score.ts';

/** Rows of the held-out set from each of its three distributions. */
export const HELD_OUT_POINTS = 100;
/** The third distribution's scale: N(0, HELD_OUT_WIDE^2 I_d). */
export const HELD_OUT_WIDE = 2;
/** A network passes when its relative residual on each distribution is at most this times the check's threshold. */
export const HELD_OUT_FACTOR = 10;
/** The stream of the held-out points (rng(seed).split(HELD_OUT_STREAM, distribution, row)): apart from every other draw. */
const HELD_OUT_STREAM = 0x4e1d;

export type HeldOutDistribution = 'sphere' | 'gaussian' | 'wide';
const DISTRIBUTIONS: readonly HeldOutDistribution[] = ['sphere', 'gaussian', 'wide'];

/** One network judged on the held-out set. */
export interface HeldOutCheck {
  /** Rows per distribution. */
  points: number;
  /** Relative residual ||F - F_hat||_F / ||F||_F on each distribution's rows. */
  relativeResidual: Record<HeldOutDistribution, number>;
  /** HELD_OUT_FACTOR times the check's threshold. */
  threshold: number;
  passed: boolean;
  /** Rows paid for this verdict (the set is paid by the first network judged; 0 after). */
  rowsPaid: number;
}

/** The source of the held-out answers: k numbers a row (an Oracle's Float64Array, or a multi-output box's view). */
export interface HeldOutSource {
  readonly inputDim: number;
  evaluate(inputs: Float64View): Promise<Float64Array | ViewLike>;
}

export interface HeldOutSet {
  /** `network` (the paper's form or the general one) judged against `checkThreshold` x HELD_OUT_FACTOR; pays the set on the first call. */
  judge(network: Network | GeneralNetwork, checkThreshold: number): Promise<HeldOutCheck>;
  /** The verdict already given on `network` (the same object), if any. */
  verdict(network: Network | GeneralNetwork): HeldOutCheck | undefined;
  /** Rows paid so far (0 or 3 x points). */
  rowsPaid(): number;
  /** Rows the set costs in all. */
  readonly rows: number;
}

/** The held-out points of one distribution (rows x d, row-major). */
export function heldOutPoints(distribution: HeldOutDistribution, rows: number, inputDim: number, seed: number): Float64Array {
  const out = new Float64Array(rows * inputDim);
  const root = rng(seed).split(HELD_OUT_STREAM, DISTRIBUTIONS.indexOf(distribution));
  for (let i = 0; i < rows; i++) {
    const row = out.subarray(i * inputDim, (i + 1) * inputDim);
    const s = root.split(i);
    if (distribution === 'sphere') s.fillSphere(row, 1);
    else {
      s.fillNormal(row);
      if (distribution === 'wide') for (let j = 0; j < inputDim; j++) row[j] *= HELD_OUT_WIDE;
    }
  }
  return out;
}

const isGeneral = (net: Network | GeneralNetwork): net is GeneralNetwork => 'W1' in net;

/**
 * The held-out set of `source` (k = `outputs` numbers a row), drawn from `seed`, paid when the first
 * network is judged.
 */
export function heldOutSet(source: HeldOutSource, options: { outputs: number; seed: number; points?: number }): HeldOutSet {
  const k = checkInteger('outputs', options.outputs, 1);
  const points = checkInteger('points', options.points ?? HELD_OUT_POINTS, 1);
  const seed = checkInteger('seed', options.seed, 0);
  const d = source.inputDim;
  let set: { inputs: Float64View; values: Float64Array }[] | null = null;
  let paid = 0;
  const verdicts = new WeakMap<object, HeldOutCheck>();
  const pay = async () => {
    const out: { inputs: Float64View; values: Float64Array }[] = [];
    for (const distribution of DISTRIBUTIONS) {
      const inputs = matrixFrom(heldOutPoints(distribution, points, d, seed), points, d);
      const raw = await source.evaluate(inputs);
      paid += points;
      const values = raw instanceof Float64Array ? raw : toDense(raw).data;
      if (values.length !== points * k) throw new Error(`the held-out check: the black box answered ${values.length} numbers for ${points} rows, expected ${points} x ${k}`);
      out.push({ inputs, values });
    }
    return out;
  };
  return {
    rows: 3 * points,
    rowsPaid: () => paid,
    verdict: (network) => verdicts.get(network),
    async judge(network, checkThreshold) {
      checkPositive('checkThreshold', checkThreshold);
      const known = verdicts.get(network);
      if (known && known.threshold === HELD_OUT_FACTOR * checkThreshold) return { ...known, rowsPaid: 0 };
      const before = paid;
      set ??= await pay();
      const relative = {} as Record<HeldOutDistribution, number>;
      for (const [i, distribution] of DISTRIBUTIONS.entries()) {
        const { inputs, values } = set[i];
        const predicted = isGeneral(network) ? toDense(evaluateGeneral(network, inputs)).data : evaluateNetwork(network, inputs);
        relative[distribution] = errorBetween(values, predicted).relativeL2;
      }
      const threshold = HELD_OUT_FACTOR * checkThreshold;
      const verdict = { points, relativeResidual: relative, threshold, passed: DISTRIBUTIONS.every((x) => relative[x] <= threshold), rowsPaid: paid - before };
      verdicts.set(network, verdict);
      return verdict;
    },
  };
}

/** One line for a verdict: each distribution's residual against the threshold. */
export function heldOutText(check: HeldOutCheck): string {
  const r = check.relativeResidual;
  return `held-out check on ${check.points} fresh points from each of the unit sphere, N(0, I) and N(0, ${HELD_OUT_WIDE ** 2} I): relative residual ${r.sphere.toExponential(2)} / ${r.gaussian.toExponential(2)} / ${r.wide.toExponential(2)} (threshold ${check.threshold.toExponential(2)}, ${HELD_OUT_FACTOR} x the check's): ${check.passed ? 'passed' : 'FAILED'}`;
}
