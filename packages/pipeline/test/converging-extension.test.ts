import { describe, expect, it } from 'vitest';
import { matrix, rng, type Network } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { fitNetwork, FULL_FIT_PLATEAU } from '@nnid/refine';
import { CONVERGING_EXTENSION, refineStages, stillConverging } from '../src/refine-stages.ts';

const history = (...xs: number[]) => xs;
const fall = (n: number, from: number, ratio: number) => Array.from({ length: n }, (_, i) => from * ratio ** i);

describe('stillConverging: a fit cut by its iteration cap while its residual still falls', () => {
  it('only a maxIterations stop whose last window fell at least 1 / factor-fold counts', () => {
    const { window, factor } = CONVERGING_EXTENSION;
    // falling 10% a step: 0.9^window = 0.35 <= factor
    const converging = fall(window + 5, 1e-3, 0.9);
    expect(stillConverging({ stopReason: 'maxIterations', residualHistory: converging })).toBe(true);
    // the same history with any other stop: the fit ended for its own reason
    for (const stopReason of ['stalled', 'cost', 'step', 'residual', 'lambda'] as const) expect(stillConverging({ stopReason, residualHistory: converging })).toBe(false);
    // a crawl (2% a step: 0.98^10 = 0.82 > factor) and a flat end are not continued
    expect(stillConverging({ stopReason: 'maxIterations', residualHistory: fall(window + 5, 1e-3, 0.98) })).toBe(false);
    expect(stillConverging({ stopReason: 'maxIterations', residualHistory: [...fall(20, 1e-2, 0.5), ...Array(window).fill(1e-8)] })).toBe(false);
    // a history shorter than the window is not judged
    expect(stillConverging({ stopReason: 'maxIterations', residualHistory: history(1e-3, 1e-6) })).toBe(false);
  });
});

describe('refineStages continues a full fit cut while converging, from where it stopped', () => {
  const truth = randomNetwork({ inputDim: 10, width1: 5, width2: 2, activation: 'sigmoid', shiftStd: 1, seed: 5 });
  const X = matrix(300, 10);
  const s = rng(1);
  for (let i = 0; i < 300; i++) s.split(i).fillNormal(X.data.subarray(i * 10, (i + 1) * 10));
  const data = { inputs: X, values: evaluateNetwork(truth, X) };
  const bump = rng(2);
  const perturb = (v: Float64Array) => v.map((x) => x + 0.6 * bump.normal());
  const start: Network = { ...truth, A: { ...truth.A, data: perturb(Float64Array.from(truth.A.data)) }, theta: perturb(truth.theta), B: { ...truth.B, data: perturb(Float64Array.from(truth.B.data)) }, tau: perturb(truth.tau) };
  const cap = 3;
  const options = (threads: number) => ({ seed: 1, threads, secondLayerStarts: 0, upperFitIterations: 0, upperFitCostTolerance: 1e-4, maxIterations: cap });

  it('a cut fit still converging is continued: its history starts with the cut fit\'s, ends no higher, and the same on 1 and 2 threads', async () => {
    const cut = await fitNetwork(start, data, { threads: 1, maxIterations: cap, plateau: FULL_FIT_PLATEAU });
    expect(cut.report.stopReason).toBe('maxIterations');
    expect(stillConverging(cut.report)).toBe(false); // 3 steps: shorter than the window
    // a cap past the window while the fit still falls fast (it converges after 22 accepted steps)
    const cap2 = 18;
    const cut2 = await fitNetwork(start, data, { threads: 1, maxIterations: cap2, plateau: FULL_FIT_PLATEAU });
    expect(cut2.report.stopReason).toBe('maxIterations');
    expect(stillConverging(cut2.report)).toBe(true);
    const one = await refineStages(start, data, { ...options(1), maxIterations: cap2 });
    const two = await refineStages(start, data, { ...options(2), maxIterations: cap2 });
    // never discards what the cut fit reached: the continuation starts at its end
    expect(one.refine.residualHistory.slice(0, cut2.report.residualHistory.length)).toEqual(cut2.report.residualHistory);
    expect(one.refine.relativeResidual).toBeLessThanOrEqual(cut2.report.relativeResidual);
    expect(one.refine.iterations).toBeGreaterThan(cap2);
    expect(one.refine.relativeResidual).toBeLessThan(1e-12);
    expect(Array.from(two.network.A.data)).toEqual(Array.from(one.network.A.data));
    expect(two.refine.residualHistory).toEqual(one.refine.residualHistory);
  });

  it('a fit that stops for its own reason is not continued: the same bits as the fit alone', async () => {
    const free = await refineStages(start, data, { ...options(1), maxIterations: 200 });
    const plain = await fitNetwork(start, data, { threads: 1, maxIterations: 200, plateau: FULL_FIT_PLATEAU });
    expect(free.refine.stopReason).not.toBe('maxIterations');
    expect(free.refine.residualHistory).toEqual(plain.report.residualHistory);
    expect(Array.from(free.network.A.data)).toEqual(Array.from(plain.network.A.data));
  });
});
