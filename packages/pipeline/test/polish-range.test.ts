import { describe, expect, it } from 'vitest';
import { matrix, rng, type Network } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { fitNetwork, FULL_FIT_PLATEAU } from '@nnid/refine';
import {
  FINISH_DAMPING,
  FINISH_NEAR,
  finishOptions,
  fromRange,
  RANGE_FLOOR_COST,
  RANGE_FLOOR_RATIO,
  RANGE_FLOOR_RULE,
  RANGE_PAST_DENSE,
  rangeFitIsDense,
  rangeParameters,
  rangeRefinementApplies,
  rangeRuleApplies,
  refineInRange,
  rowSpanBasis,
  toRange,
} from '../src/polish-range.ts';
import { refineStages } from '../src/refine-stages.ts';
import { score } from '../src/score.ts';

const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 2, activation: 'tanh', orthogonalityPerturbation: 0.3, seed: 3 });

function points(n: number, d: number, seed: number) {
  const X = matrix(n, d);
  const s = rng(seed);
  for (let i = 0; i < n; i++) s.split(i).fillNormal(X.data.subarray(i * d, (i + 1) * d));
  return X;
}

/** The largest difference between two networks' weights (A, theta, B, tau). */
function largestDifference(x: Network, y: Network): number {
  const fields = (n: Network) => [n.A.data, n.theta, n.B.data, n.tau];
  const [a, b] = [fields(x), fields(y)];
  let worst = 0;
  for (let f = 0; f < a.length; f++) for (let k = 0; k < a[f].length; k++) worst = Math.max(worst, Math.abs(a[f][k] - b[f][k]));
  return worst;
}

describe('polish-range: the refinement in the coordinates of range(A)', () => {
  it('U spans the rows of A with orthonormal columns; the network and data there give the same values; fromRange undoes toRange', () => {
    const U = rowSpanBasis(truth.A);
    expect(U.shape).toEqual([12, 6]);
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        let s = 0;
        for (let t = 0; t < 12; t++) s += U.data[t * 6 + i] * U.data[t * 6 + j];
        expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-14);
      }
    }
    const X = points(50, 12, 1);
    const y = evaluateNetwork(truth, X);
    const reduced = toRange(truth, U, { inputs: X, values: y });
    expect(reduced.network.inputDim).toBe(6);
    const yReduced = evaluateNetwork(reduced.network, reduced.data.inputs);
    for (let n = 0; n < 50; n++) expect(Math.abs(yReduced[n] - y[n])).toBeLessThan(1e-13);
    const back = fromRange(reduced.network, U);
    for (let k = 0; k < truth.A.data.length; k++) expect(Math.abs(back.A.data[k] - truth.A.data[k])).toBeLessThan(1e-14);
  });

  it('a fit in range coordinates from a 2% perturbation, lifted back, is the truth (relative L2 <= 1e-10)', async () => {
    const U = rowSpanBasis(truth.A);
    const X = points(400, 12, 2);
    const reduced = toRange(truth, U, { inputs: X, values: evaluateNetwork(truth, X) });
    const s = rng(7);
    const bump = (v: Float64Array) => v.map((x) => x + 0.02 * s.normal());
    const start: Network = {
      ...reduced.network,
      A: { ...reduced.network.A, data: bump(reduced.network.A.data) },
      theta: bump(reduced.network.theta),
      B: { ...reduced.network.B, data: bump(Float64Array.from(reduced.network.B.data)) },
      tau: bump(reduced.network.tau),
    };
    const fitted = await fitNetwork(start, reduced.data, { maxIterations: 100 });
    const lifted = fromRange(fitted.network, U);
    expect(lifted.inputDim).toBe(12);
    const err = score(truth, lifted, { points: 2000 }).function.gaussian.relativeL2;
    expect(err).toBeLessThan(1e-10);
  });

  /** 400 Gaussian points of the truth and a start whose rows leave the span by 1e-6 (moved by `inside` in it). */
  function spanStart(inside = 1e-2) {
    const X = points(400, 12, 4);
    const data = { inputs: X, values: evaluateNetwork(truth, X) };
    const U = rowSpanBasis(truth.A);
    const s = rng(8);
    // A moved 1e-2 inside range(A) (what the Hessian stages give: rows lifted from r coordinates) and 1e-6 out of it (the range estimate's error)
    const A = matrix(6, 12);
    for (let i = 0; i < 6; i++) {
      for (let t = 0; t < 12; t++) {
        let move = 0;
        for (let j = 0; j < 6; j++) move += U.data[t * 6 + j] * s.normal();
        A.data[i * 12 + t] = truth.A.data[i * 12 + t] + inside * move + 1e-6 * s.normal();
      }
    }
    const bump = (v: Float64Array) => v.map((x) => x + inside * s.normal());
    const start: Network = { ...truth, A, theta: bump(truth.theta), B: { ...truth.B, data: bump(Float64Array.from(truth.B.data)) }, tau: bump(truth.tau) };
    const options = { seed: 1, threads: 1, secondLayerStarts: 0, upperFitIterations: 20, upperFitCostTolerance: 1e-3, maxIterations: 100 };
    return { data, start, options };
  }

  it('refineStages in range(A) then in R^d reaches the same exact network as in R^d alone (weights to 1e-10), from a start whose rows leave the span by 1e-6', async () => {
    const { data, start, options } = spanStart();
    const full = await refineStages(start, data, { ...options, range: false });
    const ranged = await refineStages(start, data, { ...options, range: true });
    expect(full.range).toBeUndefined();
    expect(ranged.range!.dimension).toBe(6);
    expect(ranged.range!.parameters).toEqual({ range: 6 * 6 + 6 + 2 * 6 + 2, full: 6 * 12 + 6 + 2 * 6 + 2 });
    // the fit in range(A) cannot leave the start's span: its residual is the span's error, the finish in R^d removes it
    expect(ranged.range!.relativeResidual).toBeGreaterThan(1e-9);
    expect(ranged.refine.relativeResidual).toBeLessThan(1e-12);
    expect(largestDifference(full.network, truth)).toBeLessThan(1e-10);
    expect(largestDifference(ranged.network, truth)).toBeLessThan(1e-10);
  });

  it('the fit in range(A) stops at its first step on the span\'s floor (RANGE_FLOOR_COST), on the path of the default rule', async () => {
    const { data, start, options } = spanStart();
    const reduced = toRange(start, rowSpanBasis(start.A), data);
    const plain = await refineStages(reduced.network, reduced.data, { ...options, range: false });
    const floor = await refineStages(reduced.network, reduced.data, { ...options, range: false, stopAtFloor: true });
    const h = floor.refine.residualHistory;
    expect(floor.refine.stopReason).toBe('cost');
    expect(h.length).toBeLessThan(plain.refine.residualHistory.length);
    expect(h).toEqual(plain.refine.residualHistory.slice(0, h.length));
    // on the floor: the span's error (1e-6 out of it), its last step lowered the cost by less than RANGE_FLOOR_COST, every one before by more
    expect(h[h.length - 1]).toBeGreaterThan(1e-9);
    const drops = h.slice(1).map((r, k) => 1 - (r / h[k]) ** 2);
    expect(drops[drops.length - 1]).toBeLessThan(RANGE_FLOOR_COST);
    for (const d of drops.slice(0, -1)) expect(d).toBeGreaterThanOrEqual(RANGE_FLOOR_COST);
  });

  it('RANGE_FLOOR_RULE: on the span\'s floor the fit in range(A) stops a linearization sooner than by RANGE_FLOOR_COST alone, on its path; the finish reaches the same network (weights to 1e-10)', async () => {
    // rows on the truth's up to the span's error (1e-6): the first step reaches the floor
    const { data, start, options } = spanStart(0);
    const U = rowSpanBasis(start.A);
    const reduced = toRange(start, U, data);
    const rangeOptions = { maxIterations: 100, plateau: FULL_FIT_PLATEAU, costTolerance: RANGE_FLOOR_COST, costSteps: 1 };
    const ratios: number[] = [];
    const ruled = await fitNetwork(reduced.network, reduced.data, { ...rangeOptions, floor: RANGE_FLOOR_RULE, onProgress: (_, __, step) => ratios.push(step.lastRatio) });
    const plain = await fitNetwork(reduced.network, reduced.data, rangeOptions);
    expect(RANGE_FLOOR_RULE).toEqual({ below: FINISH_NEAR, factor: RANGE_FLOOR_RATIO });
    expect(ruled.report.stopReason).toBe('cost');
    expect(ruled.report.njev).toBeLessThan(plain.report.njev);
    const h = ruled.report.residualHistory;
    expect(h).toEqual(plain.report.residualHistory.slice(0, h.length));
    // it stopped at its first step within FINISH_NEAR whose last move lowered the residual by less than RANGE_FLOOR_RATIO
    expect(h[h.length - 1]).toBeLessThanOrEqual(FINISH_NEAR);
    expect(h[h.length - 1]).toBeGreaterThan(1e-9);
    expect(ratios[ratios.length - 1]).toBeGreaterThan(RANGE_FLOOR_RATIO);
    for (let k = 0; k < ratios.length - 1; k++) expect(h[k + 1] > FINISH_NEAR || ratios[k] <= RANGE_FLOOR_RATIO).toBe(true);
    // refineStages' fit in range(A) (stopAtFloor) takes the rule: the same steps
    const staged = await refineStages(reduced.network, reduced.data, { ...options, upperFitIterations: 0, range: false, stopAtFloor: true });
    expect(staged.refine.residualHistory).toEqual(h);
    // the finish from either: the same network, the truth's
    const finish = async (net: Network, rel: number) => fitNetwork(fromRange(net, U), data, { maxIterations: 100, ...finishOptions(rel) });
    const a = await finish(ruled.network, ruled.report.relativeResidual);
    const b = await finish(plain.network, plain.report.relativeResidual);
    expect(a.report.relativeResidual).toBeLessThan(1e-14);
    expect(largestDifference(a.network, b.network)).toBeLessThan(1e-10);
    expect(largestDifference(a.network, truth)).toBeLessThan(1e-10);
  });

  it('the finish in R^d from the span\'s floor starts at FINISH_DAMPING: the default finish\'s network (weights to 1e-10) in fewer linearizations; finishOptions gates it by FINISH_NEAR', async () => {
    // rows on the truth's up to the span's error (1e-6): the fit in range(A) ends on that floor
    const { data, start, options } = spanStart(0);
    const fit = (net: Network, reduced: typeof data) => refineStages(net, reduced, { ...options, range: false, stopAtFloor: true });
    const damped: { iterations?: number } = {};
    const ranged = await refineInRange(start, data, fit, (lifted, finish) => fitNetwork(lifted, data, { maxIterations: 100, ...finish }));
    const plain = await refineInRange(start, data, fit, async (lifted, finish) => {
      damped.iterations = Object.keys(finish).length;
      return fitNetwork(lifted, data, { maxIterations: 100 });
    });
    // the fit in range(A) ended on the span's floor, within FINISH_NEAR: the finish was given FINISH_DAMPING
    expect(ranged.range.relativeResidual).toBeLessThan(FINISH_NEAR);
    expect(damped.iterations).toBe(1);
    expect(ranged.refine.relativeResidual).toBeLessThan(1e-14);
    expect(plain.refine.relativeResidual).toBeLessThan(1e-14);
    expect(ranged.refine.njev).toBeLessThan(plain.refine.njev);
    expect(largestDifference(ranged.network, plain.network)).toBeLessThan(1e-10);
    expect(largestDifference(ranged.network, truth)).toBeLessThan(1e-10);
    expect(finishOptions(FINISH_NEAR)).toEqual({ initialDamping: FINISH_DAMPING });
    expect(finishOptions(6.4e-7)).toEqual({ initialDamping: FINISH_DAMPING });
    expect(finishOptions(2 * FINISH_NEAR)).toEqual({});
    expect(finishOptions(1e-2)).toEqual({});
  });

  it('the fit in range(A) matrix-free reaches the dense fit\'s minimum there (the same floor; weights to 5e-10); refineStages takes it by rangeSolver and finishes on the truth as the dense path does', async () => {
    // rows on the truth's up to the span's error (1e-6): the minimum in range(A) is that floor, not zero
    const near = spanStart(0);
    const reduced = toRange(near.start, rowSpanBasis(near.start.A), near.data);
    const dense = await fitNetwork(reduced.network, reduced.data, { maxIterations: 200, solver: 'normal-equations' });
    const free = await fitNetwork(reduced.network, reduced.data, { maxIterations: 200, solver: 'matrix-free' });
    expect(dense.report.strategy).toBe('normal-equations');
    expect(free.report.strategy).toBe('matrix-free-cg');
    expect(dense.report.relativeResidual).toBeGreaterThan(1e-9);
    expect(Math.abs(free.report.relativeResidual - dense.report.relativeResidual)).toBeLessThan(1e-6 * dense.report.relativeResidual);
    // (measured 7.8e-14 native, 1.4e-10 typescript: the weights at a nonzero minimum are set to ~1e-10 by either solver's stop)
    expect(largestDifference(free.network, dense.network)).toBeLessThan(5e-10);
    // identify's path from a start 1e-2 off: the fit in range(A) (stopped on the span's floor), lifted, the finish in R^d
    const { data, start, options } = spanStart();
    const byDense = await refineStages(start, data, { ...options, range: true });
    const byFree = await refineStages(start, data, { ...options, range: true, rangeSolver: 'matrix-free' });
    expect(byDense.range!.strategy).toBe('normal-equations');
    expect(byFree.range!.strategy).toBe('matrix-free-cg');
    expect(byFree.refine.strategy).toBe('normal-equations');
    for (const r of [byDense, byFree]) {
      // the fit in range(A) cannot leave the start's span; the finish in R^d does the rest
      expect(r.range!.relativeResidual).toBeGreaterThan(1e-9);
      expect(r.refine.relativeResidual).toBeLessThan(1e-12);
    }
    expect(largestDifference(byFree.network, byDense.network)).toBeLessThan(1e-10);
    expect(largestDifference(byFree.network, truth)).toBeLessThan(1e-10);
  });

  it("the gate: past the dense limit the fit in range(A) runs matrix-free (RANGE_PAST_DENSE), at (200, 100, 30) and (784, 128, 64); 'skip' refines them in R^d as before; dense and small sizes unchanged", () => {
    expect(RANGE_PAST_DENSE).toBe('matrix-free');
    const ladder = {
      small: { inputDim: 100, width1: 50, parameters: 6070, rank: 50 },
      mid: { inputDim: 200, width1: 100, parameters: 23130, rank: 100 },
      moon: { inputDim: 784, width1: 128, parameters: 108736, rank: 128 },
    };
    expect([rangeParameters(ladder.small), rangeParameters(ladder.mid), rangeParameters(ladder.moon)]).toEqual([3570, 13130, 24768]);
    // on the refinement's rows (3-4 P): dense at (100, 50, 20) only
    expect(rangeFitIsDense(ladder.small, 4 * 6070)).toBe(true);
    expect(rangeFitIsDense(ladder.mid, 3 * 23130)).toBe(false);
    expect(rangeFitIsDense(ladder.moon, 4 * 108736)).toBe(false);
    for (const pastDense of ['matrix-free', 'skip'] as const) expect(rangeRuleApplies(ladder.small, 4 * 6070, pastDense)).toBe(true);
    expect(rangeRuleApplies(ladder.mid, 3 * 23130)).toBe(true);
    expect(rangeRuleApplies(ladder.mid, 3 * 23130, 'skip')).toBe(false);
    expect(rangeRuleApplies(ladder.moon, 4 * 108736)).toBe(true);
    expect(rangeRuleApplies(ladder.moon, 4 * 108736, 'skip')).toBe(false);
    // below 4,000 parameters or d < 2 r: never, whatever the rows
    expect(rangeRuleApplies({ inputDim: 50, width1: 30, parameters: 1840, rank: 30 }, 1e9)).toBe(false);
    expect(rangeRuleApplies({ inputDim: 60, width1: 50, parameters: 4070, rank: 50 }, 1e9)).toBe(false);
    const mid = randomNetwork({ inputDim: 200, width1: 100, width2: 30, activation: 'tanh', seed: 1 });
    expect(rangeRefinementApplies(mid, 'auto', 3 * 23130)).toBe(true);
    expect(rangeRefinementApplies(mid, 'auto', 3 * 23130, 'skip')).toBe(false);
    expect(rangeRefinementApplies(mid, false, 3 * 23130)).toBe(false);
  });

  it("rangeRefinementApplies: 'auto' from P >= 4,000 where d >= 2 r (past the dense limit: RANGE_PAST_DENSE), true / false as given", () => {
    expect(rangeRefinementApplies(truth)).toBe(false);
    expect(rangeRefinementApplies(truth, true)).toBe(true);
    const big = randomNetwork({ inputDim: 100, width1: 50, width2: 20, activation: 'tanh', seed: 1 });
    expect(rangeRefinementApplies(big)).toBe(true);
    expect(rangeRefinementApplies(big, false)).toBe(false);
    const square = randomNetwork({ inputDim: 60, width1: 50, width2: 20, activation: 'tanh', seed: 1 });
    expect(rangeRefinementApplies(square)).toBe(false);
    // given the fit's rows: dense (3,570 parameters on 4 P rows) or not (13,130 on 4 P rows: matrix-free since session 17, skipped before)
    expect(rangeRefinementApplies(big, 'auto', 4 * 6070)).toBe(true);
    const mid = randomNetwork({ inputDim: 200, width1: 100, width2: 30, activation: 'tanh', seed: 1 });
    expect(rangeRefinementApplies(mid)).toBe(true);
    expect(rangeRefinementApplies(mid, 'auto', 4 * 23130)).toBe(true);
    expect(rangeRefinementApplies(mid, 'auto', 4 * 23130, 'skip')).toBe(false);
    expect(rangeRefinementApplies(mid, true, 4 * 23130)).toBe(true);
  });

  it('refuses a basis of the wrong size in the house template', () => {
    const U = rowSpanBasis(truth.A);
    expect(() => fromRange(truth, U)).toThrow('invalid argument. `U` must have the network\'s inputDim = 12 columns. Value: `6`.');
    const X = points(5, 6, 3);
    expect(() => toRange({ ...truth, inputDim: 6 }, U, { inputs: X, values: new Float64Array(5) })).toThrow('invalid argument. `U` must have inputDim = 6 rows. Value: `12`.');
  });
});
