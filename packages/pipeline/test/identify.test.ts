/**
 * identify() on whole networks, through the oracle alone. Bounds are the figures measured on
 * these exact seeds (d = 20, m0 = 10, m1 = 3, shifts N(0, 0.3^2), 2 threads) with some slack; see
 * the comment at each bound. After refinement every run here is exact.
 */
import { describe, expect, it } from 'vitest';
import { parameterCount, parseNetwork, serializeNetwork, type ActivationName } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, score } from '@nnid/pipeline';

async function run(activation: ActivationName, seed: number) {
  const truth = randomNetwork({ inputDim: 20, width1: 10, width2: 3, activation, seed });
  const oracle = createOracle(networkBlackBox(truth));
  const result = await identify(oracle, { width1: 10, width2: 3, activation: { layer1: activation, layer2: activation }, seed, threads: 2 });
  return { truth, oracle, result, before: score(truth, result.networkBeforeRefinement, { points: 2000 }), after: score(truth, result.network, { points: 2000 }) };
}

describe('identify: whole networks (20, 10, 3), widths given', () => {
  // measured before refinement (paper's pipeline alone):
  //   tanh    a_i median |cos| 0.994 / 0.915 / 0.961, min 0.912 / 0.712 / 0.740; v_l median 0.62 / 0.96 / 0.84
  //   sigmoid a_i median 0.9998 / 0.9989 / 0.9991, min 0.986 / 0.952 / 0.990;   v_l median 0.56 / 0.47 / 0.56
  // after refinement (LM on 4 P): exact (|cos| = 1 to ~1e-15, relative L2 ~1e-15) in all six.
  // Since the sampling design of issue 4 (forward gradients at m0 + 4 points; sigmoid Hessians at
  // radius 3) the figures moved: tanh seed 2 a_i min 0.601 (median 0.949), sigmoid seed 2 a_i
  // min 0.946; the bounds below are those with some slack. Still exact after refinement in all six.
  for (const activation of ['tanh', 'sigmoid'] as const) {
    for (const seed of [1, 2, 3]) {
      it(`${activation}, seed ${seed}: exact after refinement; the pipeline alone within its measured bounds`, async () => {
        const { before, after, result, oracle } = await run(activation, seed);
        expect(after.firstLayer.minCos).toBeGreaterThanOrEqual(1 - 1e-9);
        expect(after.entangled.minCos).toBeGreaterThanOrEqual(1 - 1e-9);
        expect(after.function.sphere.relativeL2).toBeLessThanOrEqual(1e-8);
        expect(after.function.gaussian.relativeL2).toBeLessThanOrEqual(1e-8);
        expect(result.report.check.passed).toBe(true);
        if (activation === 'tanh') {
          expect(before.firstLayer.medianCos).toBeGreaterThan(0.9);
          // the worst unit depends on the rank-one search's path, which rounding steers: 0.601 (seed 2) on one
          // machine's native tier, 0.494 on another's; the refinement makes it exact either way
          expect(before.firstLayer.minCos).toBeGreaterThan(0.4);
          expect(before.entangled.medianCos).toBeGreaterThan(0.6);
        } else {
          expect(before.firstLayer.medianCos).toBeGreaterThan(0.998);
          expect(before.firstLayer.minCos).toBeGreaterThan(0.93);
          expect(before.entangled.medianCos).toBeGreaterThan(0.45);
        }
        // every query is counted, once, in one stage
        const q = result.report.queries;
        expect(q.total).toBe(oracle.counts().total);
        expect(q.noise + q.gradients + q.hessians + q.shifts + q.refine).toBe(q.total);
        expect(q.noise).toBe(45); // the noise estimate (5 lines of 9 points)
        expect(result.report.noise.sigma).toBe(0); // read as exact: the noiseless steps
        expect(result.report.noise.hessianStep).toBe(5e-5);
        expect(result.report.noise.gradientStep).toBe(1e-7);
        expect(result.report.check.threshold).toBe(1e-9);
        expect(q.gradients).toBe(14 * 21); // m0 + 4 forward gradients in R^20
        // forward Hessians in 10 reduced coordinates: 2 (m0 + m1) (what 20 P leaves would buy 50)
        expect(q.hessians).toBe(26 * 66);
        expect(q.multipleOfP).toBeCloseTo(q.total / parameterCount(result.network), 12);
      });
    }
  }
});

describe('identify: the report', () => {
  it('is JSON, resolves every option, keeps the network before refinement, and is the same for 1 and 2 threads', async () => {
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 2, seed: 5 });
    const go = (threads: number) =>
      identify(createOracle(networkBlackBox(truth)), { width1: 6, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 9, threads });
    const one = await go(1);
    const two = await go(2);
    expect(serializeNetwork(two.network)).toEqual(serializeNetwork(one.network));
    expect(serializeNetwork(two.networkBeforeRefinement)).toEqual(serializeNetwork(one.networkBeforeRefinement));
    const report = JSON.parse(JSON.stringify(two.report));
    expect(Object.values(report.options)).not.toContain('auto');
    expect(report.options.gradientPoints).toBe(10);
    expect(report.options.hessianPoints).toBe(16); // 2 (m0 + m1): the 20 P budget would buy 39
    expect(report.options.starts).toBe(80);
    expect(report.options.subspaceDimension).toBe(12);
    expect(report.widths).toEqual({ width1: 6, width1Source: 'given', width2: 2, width2Source: 'given', inputDim: 12, reducedDim: 6 });
    expect(parseNetwork(report.networkBeforeRefinement).width1).toBe(6);
    expect(report.spectrum.hessians.length).toBe(16);
    expect(report.spectrum.gradients.length).toBe(10); // m0 + 4 gradient points
    expect(report.candidates.length).toBeGreaterThan(0);
    for (const c of report.candidates) {
      expect(c.vector.length).toBe(12);
      expect(c.phi).toBeGreaterThanOrEqual(0.9);
    }
    expect(typeof report.attributionMargin).toBe('number');
    for (const stage of ['gradients', 'hessians', 'subspace', 'rankOne', 'attribution', 'shifts', 'refine', 'total']) {
      expect(report.seconds[stage]).toBeGreaterThanOrEqual(0);
    }
    expect(report.threads).toBe(2);
  });

  it('attempt lanes: after a failed check the next attempts refine side by side; the same attempts and bits as one after the other', async () => {
    // The situation is built, not found by search: a check that no refinement can pass (retryResidual
    // 1e-300) makes every planned attempt run, on every tier, so the lanes always have work.
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 2, activation: 'tanh', shiftStd: 1, seed: 10 });
    const go = (threads: number, parallelAttempts: boolean) =>
      identify(createOracle(networkBlackBox(truth)), {
        width1: 6, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 10, threads, parallelAttempts,
        retryResidual: 1e-300, retryFactors: [2, 1, 1.25], refineMaxIterations: 15, upperFitIterations: 5,
      });
    const serial = await go(1, true); // one thread: no lanes whatever the option
    const laned = await go(2, true);
    // subspace dimensions round(1.5 (m0 + m1)) = 12, then 2, 1, 1.25 times 8: 16, 8, 10 -> four attempts
    expect(serial.report.attempts.length).toBe(4);
    expect(serial.report.check.passed).toBe(false);
    expect(serial.report.parallelAttempts).toEqual({ lanes: 0, fromAttempt: null });
    expect(laned.report.parallelAttempts).toEqual({ lanes: 2, fromAttempt: 1 });
    expect(laned.report.attempts.map((a) => a.ranIn)).toEqual(['main', 'lane', 'lane', 'lane']);
    expect(serial.report.attempts.map((a) => a.ranIn)).toEqual(['main', 'main', 'main', 'main']);
    expect(laned.report.attempts.map((a) => a.refinedResidual)).toEqual(serial.report.attempts.map((a) => a.refinedResidual));
    expect(laned.report.attempts.map((a) => a.reason)).toEqual(serial.report.attempts.map((a) => a.reason));
    expect(laned.report.attempts.map((a) => a.networkAfterRefinement)).toEqual(serial.report.attempts.map((a) => a.networkAfterRefinement));
    expect(laned.report.warnings).toEqual(serial.report.warnings);
    expect(serializeNetwork(laned.network)).toEqual(serializeNetwork(serial.network));
    expect(laned.report.queries).toEqual(serial.report.queries);
    expect(laned.report.check.passed).toBe(false);
  });

  it('reads both widths from the black box when not given (range(A), entangled weights found)', async () => {
    const truth = randomNetwork({ inputDim: 20, width1: 10, width2: 3, seed: 1 });
    const { report } = await identify(createOracle(networkBlackBox(truth)), { activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 2 });
    expect(report.widths.width1).toBe(10);
    expect(report.widths.width1Source).toBe('range(A): largest-relative-gap');
    expect(report.widths.width2).toBe(3);
    expect(report.check.passed).toBe(true);
  });

  it('with m1 inferred, adds units while each at least halves the residual (from the units the search finds up to the true 5)', async () => {
    // (20, 20, 5) tanh then sigmoid, shifts N(0, 0.3^2), seed 2 (a widths-auto sweep run): relative
    // residual 1.5e-1 with m1 = 2, 6.3e-3 with 3, 2.9e-3 with 4 (2.2x lower), 1e-16 with 5
    const truth = randomNetwork({ inputDim: 20, width1: 20, width2: 5, activation: { layer1: 'tanh', layer2: 'sigmoid' }, shiftStd: 0.3, seed: 2 });
    const { network, report } = await identify(createOracle(networkBlackBox(truth)), { activation: { layer1: 'tanh', layer2: 'sigmoid' }, seed: 2, threads: 2, parallelAttempts: true });
    // the rule, not the path (how many units the search finds first depends on the tier's rounding): one unit
    // added per attempt, from fewer than 5, each added unit at least halving the residual, until 5 pass the check
    const widths = report.attempts.map((a) => a.width2);
    expect(widths[0]).toBeLessThan(5);
    expect(widths.at(-1)).toBe(5);
    for (let a = 1; a < widths.length; a++) {
      expect(widths[a]).toBe(widths[a - 1] + 1);
      // steps inserted while attempts run in lanes: still in the plan's order, with the plan's seeds
      expect(report.attempts[a].ranIn).toBe('lane');
      if (a < widths.length - 1) expect(report.attempts[a].refinedResidual! * 2).toBeLessThanOrEqual(report.attempts[a - 1].refinedResidual!);
    }
    expect(report.widths.width2).toBe(5);
    expect(report.check.passed).toBe(true);
    const after = score(truth, network, { points: 2000 });
    expect(after.function.sphere.relativeL2).toBeLessThan(1e-12);
    expect(1 - after.entangled.minCos).toBeLessThan(1e-9);
  });

  it('with m1 inferred and no entangled weight found, starts from m1 = 1 and adds units (1 -> 2 -> 3)', async () => {
    const truth = randomNetwork({ inputDim: 10, width1: 10, width2: 3, activation: 'sigmoid', shiftStd: 0.3, seed: 1 });
    const { network, report } = await identify(createOracle(networkBlackBox(truth)), { activation: { layer1: 'sigmoid', layer2: 'sigmoid' }, seed: 1, threads: 1 });
    expect(report.warnings[0]).toContain('no entangled weight passed the a-posteriori check');
    expect(report.attempts.map((a) => a.width2)).toEqual([1, 2, 3]);
    expect(report.check.passed).toBe(true);
    expect(score(truth, network, { points: 2000 }).function.sphere.relativeL2).toBeLessThan(1e-12);
  });

  it('the shift fit keeps first-layer units out of saturation (theta 16 and b_l ~1e11 stopped every LM at 0.49)', async () => {
    // (10, 10, 3) tanh, shifts N(0, 1), seed 12: before the guard of @nnid/shift-recovery the first
    // accepted shift-fit step took theta to 16 and -11 on every attempt, and all seven failed
    const truth = randomNetwork({ inputDim: 10, width1: 10, width2: 3, activation: 'tanh', shiftStd: 1, seed: 12 });
    const { network, report } = await identify(createOracle(networkBlackBox(truth)), { width1: 10, width2: 3, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 12, threads: 1 });
    for (const a of report.attempts) {
      const theta = a.shifts.theta;
      expect(Math.max(...theta.map(Math.abs))).toBeLessThan(4.2); // tanh'(theta) >= 1e-3
    }
    expect(report.check.passed).toBe(true);
    expect(score(truth, network, { points: 2000 }).function.gaussian.relativeL2).toBeLessThan(1e-12);
  });

  it('one first-layer unit (m0 = 1): the entangled weight is +-a_1, exact with the widths given and inferred', async () => {
    // before: "no entangled weight passed the a-posteriori check" on every attempt (each v_l parallel to a_1 was refused)
    const truth = randomNetwork({ inputDim: 4, width1: 1, width2: 1, seed: 3 });
    for (const widths of [{ width1: 1, width2: 1 }, {}]) {
      const { network, report } = await identify(createOracle(networkBlackBox(truth)), { ...widths, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 3, threads: 1 });
      expect(report.widths.width1).toBe(1);
      expect(report.widths.width2).toBe(1);
      expect(report.check.passed).toBe(true);
      const after = score(truth, network, { points: 2000 });
      expect(after.function.gaussian.relativeL2).toBeLessThan(1e-12);
      expect(1 - after.entangled.minCos).toBeLessThan(1e-12);
      expect(report.queries.multipleOfP).toBeLessThan(50); // P = 7: the noise estimate (45) alone is 6.4 P
    }
  });

  it('without refinement returns the paper\'s pipeline alone', async () => {
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 2, seed: 5 });
    const oracle = createOracle(networkBlackBox(truth));
    const { network, networkBeforeRefinement, report } = await identify(oracle, { width1: 6, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 9, threads: 1, refine: false });
    expect(network).toBe(networkBeforeRefinement);
    expect(report.queries.refine).toBe(0);
    expect(report.check.passed).toBeNull();
    expect(report.attempts.length).toBe(1);
  });
});

describe('identify: a noisy oracle (noise 1e-6, (20, 10, 3), shifts N(0, 0.3^2))', () => {
  // measured: sigma-hat 0.89e-6 / 1.02e-6; relative L2 after refinement 3.7e-7, 9.0e-7 (tanh),
  // 6.0e-8, 5.2e-7 (sigmoid); the check's threshold 3 sigma-hat / rms(data) ~2e-6
  for (const activation of ['tanh', 'sigmoid'] as const) {
    it(`${activation}: noise estimated, steps widened, relative L2 <= 1e-5 after refinement, the check passes at the noise floor`, async () => {
      const truth = randomNetwork({ inputDim: 20, width1: 10, width2: 3, activation, shiftStd: 0.3, seed: 1 });
      const oracle = createOracle(networkBlackBox(truth, { noise: 1e-6, noiseSeed: 1 }));
      const { network, report } = await identify(oracle, { width1: 10, width2: 3, activation: { layer1: activation, layer2: activation }, seed: 1, threads: 1 });
      const after = score(truth, network, { points: 2000 });
      expect(after.function.sphere.relativeL2).toBeLessThanOrEqual(1e-5);
      expect(after.function.gaussian.relativeL2).toBeLessThanOrEqual(1e-5);
      expect(report.noise.source).toBe('estimated');
      expect(report.noise.sigma).toBeGreaterThan(0.5e-6);
      expect(report.noise.sigma).toBeLessThan(2e-6);
      expect(report.queries.noise).toBe(45);
      const scale = activation === 'sigmoid' ? 4 : 1;
      expect(report.noise.hessianStep).toBeCloseTo(scale * 4 * Math.cbrt(report.noise.sigma), 12);
      expect(report.noise.gradientStep).toBeCloseTo(scale * 6 * Math.sqrt(report.noise.sigma), 12);
      expect(report.check.noiseFloor).toBe(true);
      expect(report.check.threshold).toBeGreaterThan(1e-6);
      expect(report.check.passed).toBe(true);
    });
  }

  it('a known noise level is used as given (no estimate); noise 0 on an exact oracle gives the same network as the estimate', async () => {
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 2, seed: 5 });
    const go = (noise?: number) =>
      identify(createOracle(networkBlackBox(truth)), { width1: 6, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 9, threads: 1, ...(noise !== undefined ? { noise } : {}) });
    const auto = await go();
    const zero = await go(0);
    expect(serializeNetwork(zero.network)).toEqual(serializeNetwork(auto.network));
    expect(zero.report.queries.noise).toBe(0);
    expect(zero.report.queries.total).toBe(auto.report.queries.total - 45);
    expect(zero.report.noise).toEqual({ sigma: 0, source: 'given', estimate: null, gradientStep: 1e-7, hessianStep: 5e-5 });
    const given = await go(1e-6);
    expect(given.report.noise.hessianStep).toBeCloseTo(4e-2, 15);
    expect(given.report.noise.gradientStep).toBeCloseTo(6e-3, 15);
    expect(given.report.queries.noise).toBe(0);
  });
});

describe('identify: input checks', () => {
  const truth = randomNetwork({ inputDim: 8, width1: 4, width2: 2, seed: 1 });
  const oracle = createOracle(networkBlackBox(truth));
  const act = { layer1: 'tanh', layer2: 'tanh' } as const;
  it('the fit of (theta, B, tau) on the first layer found runs before the full refinement, lowers its cost with A fixed, and the run is exact; without it the check still tells exact from not', async () => {
    // (12, 8, 3) sigmoid, shifts N(0, 0.3^2), seed 2, retry factors [2, 1]. Measured on both tiers: with the upper fit the
    // first attempt is exact; without it the run takes three attempts. How many a run takes depends on the tier's rounding, so
    // that is not asserted: only that the upper fit does its job and that the check is right either way.
    const truth = randomNetwork({ inputDim: 12, width1: 8, width2: 3, activation: 'sigmoid', shiftStd: 0.3, seed: 2 });
    const opts = { width1: 8, width2: 3, activation: { layer1: 'sigmoid', layer2: 'sigmoid' } as const, seed: 2, threads: 1, retryFactors: [2, 1] };
    const without = await identify(createOracle(networkBlackBox(truth)), { ...opts, upperFitIterations: 0 });
    expect(without.report.attempts.every((a) => a.upperFit === null)).toBe(true);
    const exactWithout = score(truth, without.network, { points: 2000 }).function.sphere.relativeL2 <= 1e-8;
    expect(without.report.check.passed).toBe(exactWithout);
    const withFit = await identify(createOracle(networkBlackBox(truth)), opts);
    const up = withFit.report.attempts[0].upperFit!;
    expect(up.parameters).toBe(8 + 8 * 3 + 3);
    expect(up.iterations).toBeLessThanOrEqual(100);
    expect(up.relativeResidual).toBeLessThan(up.initialRelativeResidual);
    expect(withFit.report.check.passed).toBe(true);
    const after = score(truth, withFit.network, { points: 2000 });
    expect(after.firstLayer.minCos).toBeGreaterThanOrEqual(1 - 1e-9);
    expect(after.entangled.minCos).toBeGreaterThanOrEqual(1 - 1e-9);
    expect(after.function.sphere.relativeL2).toBeLessThanOrEqual(1e-8);
  });

  it('names the bad option and its value', async () => {
    await expect(identify(oracle, { activation: act, seed: 1, width1: 9 })).rejects.toThrow('invalid argument. `width1` must be an integer in [1, 8]. Value: `9`.');
    await expect(identify(oracle, { activation: act, seed: 1, width1: 4, width2: 5 })).rejects.toThrow('invalid argument. `width2` must be an integer in [1, 4]. Value: `5`.');
    await expect(identify(oracle, { activation: { layer1: 'relu', layer2: 'tanh' } as never, seed: 1 })).rejects.toThrow(
      'invalid argument. `activation.layer1` must be a smooth activation: relu is piecewise linear',
    );
    await expect(identify(oracle, { activation: act, seed: 1.5 })).rejects.toThrow('invalid argument. `seed` must be a nonnegative integer. Value: `1.5`.');
    await expect(identify(oracle, { activation: act, seed: 1, scheme: 'backward' as never })).rejects.toThrow(
      "invalid argument. `scheme` must be one of 'forward', 'central'. Value: `backward`.",
    );
    await expect(identify({} as never, { activation: act, seed: 1 })).rejects.toThrow('invalid argument. `oracle` must be an Oracle (see createOracle)');
    await expect(identify(oracle, { activation: act, seed: 1, upperFitIterations: 1.5 })).rejects.toThrow(
      'invalid argument. `upperFitIterations` must be a nonnegative integer. Value: `1.5`.',
    );
    await expect(identify(oracle, { activation: act, seed: 1, secondLayerStarts: -1 })).rejects.toThrow(
      'invalid argument. `secondLayerStarts` must be a nonnegative integer. Value: `-1`.',
    );
    await expect(identify(oracle, { activation: act, seed: 1, parallelAttempts: 'yes' as never })).rejects.toThrow(
      "invalid argument. `parallelAttempts` must be 'auto', true or false. Value: `yes`.",
    );
    await expect(identify(oracle, { activation: act, seed: 1, queryBudget: 0 })).rejects.toThrow('invalid argument. `queryBudget` must be a finite number > 0. Value: `0`.');
    await expect(identify(oracle, { activation: act, seed: 1, noise: -1 })).rejects.toThrow('invalid argument. `noise` must be a finite number >= 0. Value: `-1`.');
    await expect(identify(oracle, { activation: act, seed: 1, gradientStep: 0 })).rejects.toThrow('invalid argument. `gradientStep` must be a finite number > 0. Value: `0`.');
    await expect(identify(oracle, { activation: act, seed: 1, noiseThresholdFactor: 0 })).rejects.toThrow(
      'invalid argument. `noiseThresholdFactor` must be a finite number > 0. Value: `0`.',
    );
    expect(oracle.counts().total).toBe(0);
  });
});
