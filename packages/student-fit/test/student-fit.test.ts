import { describe, expect, it } from 'vitest';
import { matrix, parameterCount, rng, type Network } from '@nnid/core';
import { createOracle, evaluateNetwork, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { describeStageContract, networkArrays, rejection, relativeL2Arrays } from '@nnid/testing';
import { NOISE_THRESHOLD_FACTOR, startNetwork, studentFit } from '@nnid/student-fit';

/** Relative L2 error of `other` against `truth` on 2000 fresh N(0, I) points. */
function relativeL2(truth: Network, other: Network): number {
  const X = matrix(2000, truth.inputDim);
  rng(4242).fillNormal(X.data);
  return relativeL2Arrays(evaluateNetwork(other, X), evaluateNetwork(truth, X));
}

/** Largest |cos| of each true first-layer row with the recovered rows (sign and order free), the smallest over rows. */
function minFirstLayerCos(truth: Network, other: Network): number {
  const d = truth.inputDim;
  const row = (n: Network, i: number) => n.A.data.subarray(n.A.offset + i * d, n.A.offset + (i + 1) * d);
  let worst = 1;
  for (let i = 0; i < truth.width1; i++) {
    let best = 0;
    for (let k = 0; k < other.width1; k++) {
      const a = row(truth, i);
      const b = row(other, k);
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let j = 0; j < d; j++) {
        ab += a[j] * b[j];
        aa += a[j] * a[j];
        bb += b[j] * b[j];
      }
      best = Math.max(best, Math.abs(ab) / Math.sqrt(aa * bb));
    }
    worst = Math.min(worst, best);
  }
  return worst;
}

const net842 = (seed: number) => randomNetwork({ inputDim: 8, width1: 4, width2: 2, seed });

describe('studentFit', () => {
  it('is exact on (8, 4, 2) and (12, 6, 2) tanh networks at 5 P, the check passing on its own data', async () => {
    for (const [truth, seed] of [
      [net842(3), 3],
      [randomNetwork({ inputDim: 12, width1: 6, width2: 2, seed: 1 }), 1],
    ] as const) {
      const oracle = createOracle(networkBlackBox(truth));
      const { network, report } = await studentFit(oracle, { width1: truth.width1, width2: truth.width2, seed, queryBudget: 5, starts: 8 });
      const P = parameterCount(truth);
      expect(report.check.passed).toBe(true);
      expect(report.check.relativeResidual).toBeLessThanOrEqual(1e-9);
      expect(report.queries).toEqual({ total: 5 * P, paid: 5 * P, reused: 0, multipleOfP: 5, numbersReceived: 5 * P });
      expect(oracle.counts().paid).toBe(5 * P);
      expect(relativeL2(truth, network)).toBeLessThan(1e-8);
      expect(minFirstLayerCos(truth, network)).toBeGreaterThan(1 - 1e-9);
      expect(report.starts.at(-1)?.passed).toBe(true);
      expect(report.starts.slice(0, -1).every((s) => !s.passed)).toBe(true);
      expect(report.chosenStart).toBe(report.starts.length - 1);
    }
  });

  it('follows a noisy black box given its noise: threshold max(1e-9, 3 sigma / rms(data)), so a fit within float32 rounding passes', async () => {
    const truth = net842(3);
    // the network's answers rounded to float32, as a float32 model deployed answers
    const box = networkBlackBox(truth);
    const rounded = { inputDim: box.inputDim, identity: `${box.identity}|float32`, evaluate: async (x: Parameters<typeof box.evaluate>[0]) => Float64Array.from(await box.evaluate(x), Math.fround) };
    const sigma = 3e-8;
    const fits = await Promise.all([0, sigma].map((noise) => studentFit(createOracle(rounded), { width1: 4, width2: 2, seed: 3, queryBudget: 5, starts: 8, noise })));
    const [plain, noisy] = fits;
    // the same data and starts: the same residuals start by start, only the threshold differs
    const chosen = noisy.report.chosenStart;
    expect(noisy.report.starts[chosen].relativeResidual).toBe(plain.report.starts[chosen].relativeResidual);
    expect(plain.report.check.threshold).toBe(1e-9);
    expect(plain.report.check.passed).toBe(false);
    expect(noisy.report.options.noise).toBe(sigma);
    expect(NOISE_THRESHOLD_FACTOR).toBe(3);
    expect(noisy.report.check.threshold).toBeGreaterThan(1e-8);
    expect(noisy.report.check.threshold).toBeLessThan(1e-6);
    expect(noisy.report.check.passed).toBe(true);
    expect(noisy.report.check.relativeResidual).toBeLessThanOrEqual(noisy.report.check.threshold);
    expect(relativeL2(truth, noisy.network)).toBeLessThan(1e-6);
  });

  it('returns the first passing start in start order with 2 threads (start 2 of (8, 4, 2) seed 2), the same bits as 1 thread', async () => {
    const truth = net842(2);
    const run = (threads: number) => studentFit(createOracle(networkBlackBox(truth)), { width1: 4, width2: 2, seed: 2, starts: 6, threads });
    const one = await run(1);
    const two = await run(2);
    expect(one.report.chosenStart).toBe(2);
    expect(two.report.chosenStart).toBe(2);
    expect(Array.from(two.network.A.data)).toEqual(Array.from(one.network.A.data));
    expect(Array.from(two.network.tau)).toEqual(Array.from(one.network.tau));
    const strip = (r: typeof one) => r.report.starts.map(({ seconds: _, ...s }) => s);
    expect(strip(two)).toEqual(strip(one));
    expect(one.report.startsDiscarded).toBe(0);
    expect(two.report.threads).toBe(2);
  });

  it('never pays more than the budget: a batch above it is refused before any query, a budget of exactly N is used whole', async () => {
    const truth = net842(3);
    const P = parameterCount(truth);
    const tight = createOracle(networkBlackBox(truth), { maxQueries: 2 * P });
    const e = await rejection(studentFit(tight, { width1: 4, width2: 2, queryBudget: 5 }));
    expect(e.message).toBe(`query budget exceeded: 0 queries used, ${5 * P} more requested, budget ${2 * P}. Raise the budget (--max-queries) or lower the sampling counts.`);
    expect(tight.counts().paid).toBe(0);
    const exact = createOracle(networkBlackBox(truth), { maxQueries: 3 * P });
    const { report } = await studentFit(exact, { width1: 4, width2: 2, dataPoints: 3 * P, starts: 1 });
    expect(exact.counts().paid).toBe(3 * P);
    expect(report.queries.paid).toBe(3 * P);
  });

  it('says so when it cannot be exact: N <= P fails the check with a warning, even when the data are interpolated', async () => {
    const truth = net842(3);
    const P = parameterCount(truth);
    const { network, report } = await studentFit(createOracle(networkBlackBox(truth)), { width1: 4, width2: 2, seed: 3, queryBudget: 0.8, starts: 2 });
    expect(report.options.dataPoints).toBe(Math.floor(0.8 * P));
    expect(report.check.passed).toBe(false);
    expect(report.starts.every((s) => !s.passed)).toBe(true);
    expect(report.warnings).toEqual([
      `${Math.floor(0.8 * P)} data points <= P = ${P} parameters: a fit can interpolate them without being the network, so the check cannot pass; give more than ${P} queries`,
    ]);
    // the network returned is the best start's, whatever it is worth: not the truth
    expect(relativeL2(truth, network)).toBeGreaterThan(1e-6);
  });

  it('a passing check means an exact network (1.5 P, where starts often stall)', async () => {
    for (const seed of [1, 2]) {
      const truth = net842(seed);
      const { network, report } = await studentFit(createOracle(networkBlackBox(truth)), { width1: 4, width2: 2, seed, queryBudget: 1.5, starts: 3 });
      if (report.check.passed) expect(relativeL2(truth, network)).toBeLessThan(1e-8);
      else expect(report.check.relativeResidual).toBeGreaterThan(1e-9);
    }
  });

  it('draws each start from the seed and its index alone: unit rows, shifts of std 0.3', () => {
    const shape = { inputDim: 8, width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' } } as const;
    const a = startNetwork(shape, 5, 2);
    expect(Array.from(startNetwork(shape, 5, 2).A.data)).toEqual(Array.from(a.A.data));
    expect(Array.from(startNetwork(shape, 5, 3).A.data)).not.toEqual(Array.from(a.A.data));
    for (let i = 0; i < 4; i++) expect(Math.hypot(...a.A.data.subarray(i * 8, i * 8 + 8))).toBeCloseTo(1, 12);
    for (let l = 0; l < 2; l++) expect(Math.hypot(...a.B.data.subarray(l * 4, l * 4 + 4))).toBeCloseTo(1, 12);
  });

  it('refuses bad options with the house template', async () => {
    const oracle = createOracle(networkBlackBox(net842(3)));
    const cases: [Parameters<typeof studentFit>[1], string][] = [
      [{ width1: 0, width2: 1 }, 'invalid argument. `width1` must be a positive integer. Value: `0`.'],
      [{ width1: 9, width2: 1 }, "invalid argument. `width1` must be <= the oracle's inputDim (8). Value: `9`."],
      [{ width1: 4, width2: 5 }, 'invalid argument. `width2` must be <= width1 (4). Value: `5`.'],
      [{ width1: 4, width2: 2, starts: 0 }, 'invalid argument. `starts` must be an integer in [1, 100000]. Value: `0`.'],
      [{ width1: 4, width2: 2, queryBudget: -1 }, 'invalid argument. `queryBudget` must be a finite number > 0. Value: `-1`.'],
      [{ width1: 4, width2: 2, queryBudget: 5, dataPoints: 100 }, 'invalid argument. `dataPoints` must not be given with queryBudget (one or the other). Value: `100`.'],
      [{ width1: 4, width2: 2, queryBudget: 0.001 }, 'invalid argument. `queryBudget` must give at least one data point (P = 46). Value: `0.001`.'],
      [{ width1: 4, width2: 2, activation: 'relu' as never }, "invalid argument. `activation` must be one of 'tanh', 'sigmoid', 'softplus', 'gelu', 'gelu_tanh', 'silu', 'arctan'. Value: `relu`."],
      [{ width1: 4, width2: 2, threads: 0 }, 'invalid argument. `threads` must be an integer in [1, 1024]. Value: `0`.'],
    ];
    for (const [options, message] of cases) expect((await rejection(studentFit(oracle, options))).message).toBe(message);
    expect(oracle.counts().total).toBe(0);
  });
});

describeStageContract({
  name: 'studentFit',
  // the truth rides along so that the contract has arrays to watch (the oracle hides its own)
  inputs: () => {
    const truth = net842(1);
    return { truth, oracle: createOracle(networkBlackBox(truth)) };
  },
  run: (input, { seed, threads }) => studentFit(input.oracle, { width1: 4, width2: 2, seed, starts: 2, threads, maxIterations: 20 }),
  outputs: (r) => networkArrays(r.network),
  report: (r) => r.report,
  threads: true,
  badArguments: (input) => [{ call: () => studentFit(input.oracle, { width1: 4, width2: 2, seed: -1 }), message: 'invalid argument. `seed` must be a nonnegative integer. Value: `-1`.' }],
});
