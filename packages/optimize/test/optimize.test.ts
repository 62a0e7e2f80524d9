import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@nnid/core';
import {
  isSuccess,
  leastSquares,
  normalEquationsStrategy,
  STATUS_TABLE,
  STOP_REASONS,
  type LevenbergMarquardtOptions,
  type NormalEquations,
  type StepStrategy,
  type StopReason,
} from '@nnid/optimize';
import { equationsOf, exponentialFit, rosenbrock } from './problems.ts';

const solve = (eqs: NormalEquations, x0: number[], options: LevenbergMarquardtOptions = {}) => leastSquares(normalEquationsStrategy(eqs), Float64Array.from(x0), options);

describe('leastSquares reaches known minima', () => {
  it('Rosenbrock as residuals: (1, 1) from (-1.2, 1), status 1', async () => {
    const { x, report } = await solve(rosenbrock(), [-1.2, 1], { residualTolerance: 1e-14 });
    expect(Math.abs(x[0] - 1)).toBeLessThan(1e-12);
    expect(Math.abs(x[1] - 1)).toBeLessThan(1e-12);
    expect(report.status).toBe(1);
    expect(report.stopReason).toBe('residual');
    expect(report.success).toBe(true);
    expect(report.cost).toBeLessThan(1e-26);
    expect(report.initialCost).toBeCloseTo(0.5 * (4.4 ** 2 + 2.2 ** 2), 12);
    // the start's linearization and one per accepted step but the last (its residual stopped the fit before linearizing)
    expect(report.njev).toBe(report.acceptedSteps);
    // each iteration evaluated one trial point (J^T J + lambda D is positive definite here)
    expect(report.nfev).toBe(report.njev + report.iterations);
  });

  it('an exponential fit recovers (a, b) = (2, -1.5) from (1, 0), with and without inner steps', async () => {
    for (const innerSteps of [0, 4]) {
      const { eqs, yNorm } = exponentialFit(2, -1.5);
      const { x, report } = await solve(eqs, [1, 0], { residualScale: yNorm, residualTolerance: 1e-14, innerSteps });
      expect(Math.abs(x[0] - 2)).toBeLessThan(1e-12);
      expect(Math.abs(x[1] + 1.5)).toBeLessThan(1e-12);
      expect(report.success).toBe(true);
      expect(report.relativeResidual).toBeLessThanOrEqual(1e-14);
      expect(report.residualHistory[0]).toBe(report.initialRelativeResidual);
      expect(report.residualHistory.length).toBe(report.acceptedSteps + 1);
      if (innerSteps > 0) expect(report.innerSteps).toBeGreaterThan(0);
      else expect(report.innerSteps).toBe(0);
    }
  });

  it("both factorization modes and both damping rules reach the same noisy minimum (to 1e-9)", async () => {
    const minima: Float64Array[] = [];
    for (const factorization of ['reuse', 'per-solve'] as const) {
      for (const decrease of [{ rule: 'nielsen', minFactor: 0.1 }, { rule: 'divide', by: 3, floor: 1e-12 }] as const) {
        const { eqs, yNorm } = exponentialFit(2, -1.5, 1e-3);
        const { x, report } = await leastSquares(normalEquationsStrategy(eqs, { factorization }), Float64Array.of(1, 0), { residualScale: yNorm, damping: { decrease } });
        expect(report.success).toBe(true);
        minima.push(x);
      }
    }
    for (const x of minima) {
      expect(Math.abs(x[0] - minima[0][0])).toBeLessThan(1e-9);
      expect(Math.abs(x[1] - minima[0][1])).toBeLessThan(1e-9);
    }
    // the noise moved the minimum, and the fit is not exact there
    expect(Math.abs(minima[0][0] - 2)).toBeGreaterThan(1e-6);
  });
});

describe('the plateau rule', () => {
  it('stops a fit sitting at a minimum far above `above` as stalled, and only there', async () => {
    // noise 0.1: the minimum's relative residual is ~0.1; costTolerance 0 and the 50-step rule off, so only the plateau can stop it early
    const { eqs, yNorm } = exponentialFit(2, -1.5, 0.1);
    const base = { residualScale: yNorm, costTolerance: 0, stallWindow: 0, maxIterations: 60 };
    const free = await solve(eqs, [1, 0], base);
    expect(free.report.relativeResidual).toBeGreaterThan(1e-2);
    const plateau = await solve(eqs, [1, 0], { ...base, plateau: { window: 3, factor: 0.99, above: 1e-3 } });
    expect(plateau.report.stopReason).toBe('stalled');
    expect(plateau.report.acceptedSteps).toBeLessThan(free.report.acceptedSteps);
    const h = plateau.report.residualHistory;
    expect(h[h.length - 1]).toBeGreaterThan(0.99 * h[h.length - 4]);
    // the same path up to where it stopped
    expect(h).toEqual(free.report.residualHistory.slice(0, h.length));
    // above the minimum's residual: never fires
    const high = await solve(eqs, [1, 0], { ...base, plateau: { window: 3, factor: 0.99, above: 0.5 } });
    expect(high.report.stopReason).toBe(free.report.stopReason);
    expect(high.x).toEqual(free.x);
  });
});

describe('the floor rule', () => {
  it('stops at the first accepted step at or below `below` whose last move lowered the residual by less than `factor`, on the same path', async () => {
    // noise 1e-3: the fit converges to its minimum's residual (~1e-3 relative, a floor) and then creeps
    const { eqs, yNorm } = exponentialFit(2, -1.5, 1e-3);
    const base = { residualScale: yNorm, costTolerance: 0, stallWindow: 0, maxIterations: 30, innerSteps: 2 };
    const steps: { rel: number; lastRatio: number; innerSteps: number; lambda: number; refused: number }[] = [];
    const plain = await solve(eqs, [1, 0], { ...base, onProgress: (_, rel, step) => steps.push({ rel, ...step }) });
    const floor = await solve(eqs, [1, 0], { ...base, floor: { below: 1e-2, factor: 0.5 } });
    expect(floor.report.stopReason).toBe('cost');
    expect(floor.report.success).toBe(true);
    const h = floor.report.residualHistory;
    expect(h.length).toBeLessThan(plain.report.residualHistory.length);
    expect(h).toEqual(plain.report.residualHistory.slice(0, h.length));
    // StepInfo: one per accepted step; the stop is the first step at or below 1e-2 whose last move was above 0.5
    expect(steps.length).toBe(plain.report.acceptedSteps);
    const at = steps.findIndex((s) => s.rel <= 1e-2 && s.lastRatio > 0.5);
    expect(at).toBe(h.length - 2);
    for (const s of steps) {
      expect(s.lambda).toBeGreaterThan(0);
      expect(s.lastRatio).toBeGreaterThan(0);
      expect(s.lastRatio).toBeLessThanOrEqual(1);
      expect(s.innerSteps).toBeLessThanOrEqual(2);
    }
    // on the floor: the minimum's residual to 1e-6 of it
    expect(Math.abs(h[h.length - 1] - plain.report.relativeResidual)).toBeLessThan(1e-6 * plain.report.relativeResidual);
    // a floor below the minimum's residual never fires: the plain fit's path and point
    const low = await solve(eqs, [1, 0], { ...base, floor: { below: 1e-4, factor: 0.5 } });
    expect(low.report.stopReason).toBe(plain.report.stopReason);
    expect(low.x).toEqual(plain.x);
    await expect(solve(eqs, [1, 0], { floor: { below: 1e-4, factor: 1 } })).rejects.toThrow('invalid argument. `floor.factor` must be a number in (0, 1). Value: `1`.');
    await expect(solve(eqs, [1, 0], { floor: { below: 0, factor: 0.5 } })).rejects.toThrow('invalid argument. `floor.below` must be a finite number > 0. Value: `0`.');
  });
});

describe('costSteps', () => {
  it('1 stops at the first accepted step below costTolerance, one accepted step before the default 2, on the same path', async () => {
    // noise 1e-3: the fit sits at its minimum's residual (a floor) after a few steps
    const { eqs, yNorm } = exponentialFit(2, -1.5, 1e-3);
    const base = { residualScale: yNorm, costTolerance: 1e-6 };
    const two = await solve(eqs, [1, 0], base);
    const one = await solve(eqs, [1, 0], { ...base, costSteps: 1 });
    expect(two.report.stopReason).toBe('cost');
    expect(one.report.stopReason).toBe('cost');
    expect(one.report.acceptedSteps).toBe(two.report.acceptedSteps - 1);
    expect(one.report.residualHistory).toEqual(two.report.residualHistory.slice(0, one.report.residualHistory.length));
    await expect(solve(eqs, [1, 0], { ...base, costSteps: 0 })).rejects.toThrow('invalid argument. `costSteps` must be a positive integer. Value: `0`.');
  });
});

describe('every status is reachable, with its message', () => {
  const cases: [StopReason, () => Promise<{ report: { status: number; stopReason: StopReason; message: string; success: boolean } }>][] = [
    ['residual', () => solve(rosenbrock(), [-1.2, 1], { residualTolerance: 1e-14 })],
    ['cost', () => { const { eqs, yNorm } = exponentialFit(2, -1.5, 1e-3); return solve(eqs, [1, 0], { residualScale: yNorm, costTolerance: 1e-3 }); }],
    ['step', () => { const { eqs, yNorm } = exponentialFit(2, -1.5, 1e-3); return solve(eqs, [1, 0], { residualScale: yNorm, costTolerance: 0, stepTest: 'size', stepTolerance: 1e-6 }); }],
    ['maxIterations', () => solve(rosenbrock(), [-1.2, 1], { maxIterations: 2 })],
    // costTolerance 0: a step kept tiny by the growing damping is not taken for a stationary point
    ['lambda', () => solve(rosenbrock(), [-1.2, 1], { costTolerance: 0, acceptStep: () => false })],
    ['stalled', async () => {
      const { eqs, yNorm } = exponentialFit(2, -1.5, 1e-3);
      const near = await solve(eqs, [1, 0], { residualScale: yNorm, costTolerance: 0, maxIterations: 50 });
      const start = Float64Array.from(near.x, (v) => v * (1 + 1e-6));
      return solve(eqs, Array.from(start), { residualScale: yNorm, stallWindow: 1, stallFactor: 0.999, stallAbove: 0 });
    }],
    ['nonFiniteStart', () => solve(equationsOf({ m: 1, residual: (x) => Float64Array.of(Math.log(x[0])), jacobian: (x) => Float64Array.of(1 / x[0]) }), [-1])],
  ];
  for (const [reason, run] of cases) {
    it(`${reason}: status ${STATUS_TABLE[reason].status}`, async () => {
      const { report } = await run();
      expect(report.stopReason).toBe(reason);
      expect(report.status).toBe(STATUS_TABLE[reason].status);
      expect(report.message).toBe(STATUS_TABLE[reason].message);
      expect(report.success).toBe(report.status > 0);
    });
  }

  it('the table: seven distinct codes -3..3 and messages; success is status > 0', () => {
    expect(STOP_REASONS).toEqual(['nonFiniteStart', 'stalled', 'lambda', 'maxIterations', 'residual', 'cost', 'step']);
    expect(STOP_REASONS.map((r) => STATUS_TABLE[r].status)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    expect(new Set(STOP_REASONS.map((r) => STATUS_TABLE[r].message)).size).toBe(7);
    expect(STOP_REASONS.filter(isSuccess)).toEqual(['residual', 'cost', 'step']);
    expect(STATUS_TABLE.maxIterations.message).toBe('The maximum number of iterations is exceeded.');
  });

  it('maxIterations 0: one linearization, nothing else', async () => {
    const { x, report } = await solve(rosenbrock(), [-1.2, 1], { maxIterations: 0 });
    expect(Array.from(x)).toEqual([-1.2, 1]);
    expect(report).toMatchObject({ status: 0, iterations: 0, nfev: 1, njev: 1, acceptedSteps: 0 });
  });

  it('a strategy that never solves stops on lambda after the doubling factors pass the ceiling', async () => {
    const base = normalEquationsStrategy(rosenbrock());
    const never: StepStrategy = { ...base, solve: () => null };
    const { report } = await leastSquares(never, Float64Array.of(-1.2, 1), { damping: { initial: 1, ceiling: 1e6 } });
    // 1 * 2 * 4 * 8 * 16 * 32 = 32768; * 64 = 2.1e6 > 1e6 after 6 raises
    expect(report).toMatchObject({ stopReason: 'lambda', iterations: 6, nfev: 1, finalLambda: 2 ** 21 });
  });
});

describe('the acceptance hook', () => {
  it('refuses steps past a bound: the fit stays inside, the refusals are counted', async () => {
    const seen: [number[], number[]][] = [];
    const { x, report } = await solve(rosenbrock(), [-1.2, 0], {
      maxIterations: 100,
      acceptStep: (trial, current) => {
        seen.push([Array.from(trial), Array.from(current)]);
        return trial[1] <= 0.5;
      },
    });
    expect(report.refusedSteps).toBeGreaterThan(0);
    expect(x[1]).toBeLessThanOrEqual(0.5);
    // the hook is asked about actual moves only
    for (const [trial, current] of seen) expect(trial).not.toEqual(current);
    // constrained: the unconstrained minimum (1, 1) is out of reach
    expect(report.cost).toBeGreaterThan(1e-3);
  });

  it('refusing every step ends on lambda with the start returned unchanged', async () => {
    const { x, report } = await solve(rosenbrock(), [-1.2, 1], { costTolerance: 0, acceptStep: () => false });
    expect(Array.from(x)).toEqual([-1.2, 1]);
    expect(report.stopReason).toBe('lambda');
    expect(report.acceptedSteps).toBe(0);
    // the hook is asked only about steps that lower the cost
    expect(report.refusedSteps).toBeGreaterThan(0);
    expect(report.refusedSteps).toBeLessThanOrEqual(report.iterations);
    expect(report.finalLambda).toBeGreaterThan(1e20);
    expect(report.success).toBe(false);
  });
});

describe('the contract', () => {
  it('does not modify x0 or the options', async () => {
    const x0 = Float64Array.of(-1.2, 1);
    const options = { residualTolerance: 1e-14, damping: { initial: 1e-3, decrease: { rule: 'nielsen' as const, minFactor: 0.1 } }, innerSteps: 2 };
    const before = JSON.stringify(options);
    const { x } = await leastSquares(normalEquationsStrategy(rosenbrock()), x0, options);
    expect(Array.from(x0)).toEqual([-1.2, 1]);
    expect(x).not.toBe(x0);
    expect(JSON.stringify(options)).toBe(before);
  });

  it('the same start and options give the same bits', async () => {
    const a = await solve(exponentialFit(2, -1.5, 1e-3).eqs, [1, 0], { innerSteps: 3 });
    const b = await solve(exponentialFit(2, -1.5, 1e-3).eqs, [1, 0], { innerSteps: 3 });
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect({ ...a.report, seconds: 0 }).toEqual({ ...b.report, seconds: 0 });
  });

  it('the report survives JSON', async () => {
    const { report } = await solve(rosenbrock(), [-1.2, 1], { residualTolerance: 1e-14 });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(report.strategy).toBe('normal-equations');
    expect(report.seconds).toBeGreaterThanOrEqual(0);
  });

  it('names bad arguments in the house template', async () => {
    const eqs = rosenbrock();
    const cases: [unknown, unknown, string][] = [
      [Float64Array.of(), {}, 'invalid argument. `x0` must be a nonempty Float64Array. Value: `0`.'],
      [Float64Array.of(1, 1), { maxIterations: -1 }, 'invalid argument. `maxIterations` must be a nonnegative integer. Value: `-1`.'],
      [Float64Array.of(1, 1), { stallFactor: 1.5 }, 'invalid argument. `stallFactor` must be a number in (0, 1). Value: `1.5`.'],
      [Float64Array.of(1, 1), { stepTest: 'tiny' }, "invalid argument. `stepTest` must be one of 'size-and-prediction', 'size'. Value: `tiny`."],
      [Float64Array.of(1, 1), { damping: { decrease: { rule: 'nielsen', minFactor: 2 } } }, 'invalid argument. `damping.decrease.minFactor` must be a number in (0, 1). Value: `2`.'],
      [Float64Array.of(1, 1), { damping: { decrease: { rule: 'divide', by: 1, floor: 0 } } }, 'invalid argument. `damping.decrease.by` must be a number > 1. Value: `1`.'],
      [Float64Array.of(1, 1), { acceptStep: 3 }, 'invalid argument. `acceptStep` must be a function. Value: `3`.'],
      [Float64Array.of(1, 1), { plateau: { window: 10, factor: 1.2, above: 0 } }, 'invalid argument. `plateau.factor` must be a number in (0, 1). Value: `1.2`.'],
    ];
    for (const [x0, options, message] of cases) {
      const error = await leastSquares(normalEquationsStrategy(eqs), x0 as Float64Array, options as LevenbergMarquardtOptions).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toBe(message);
    }
    expect(() => normalEquationsStrategy(eqs, { factorization: 'lu' as 'reuse' })).toThrow("invalid argument. `factorization` must be one of 'reuse', 'per-solve'. Value: `lu`.");
  });
});
