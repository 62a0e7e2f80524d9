import { describe, expect, it } from 'vitest';
import { matrix, parameterCount, rng, type ActivationName, type Network } from '@nnid/core';
import { createOracle, evaluateNetwork, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { gram } from '@nnid/linalg';
import { fitNetwork, FULL_FIT_PLATEAU, layoutOf, packParameters, refineNetwork, unpackParameters, UPPER_FIT_PLATEAU } from '@nnid/refine';
import { perturb } from './helpers.ts';
import { residualsAndJacobian } from '../src/params.ts';
import { inputPairs, normalMatrix, pairCount } from '../src/blocks.ts';

/** Largest parameter difference and relative L2 function error on N(0, I) points. */
function distance(truth: Network, other: Network): { parameters: number; relativeL2: number } {
  const layout = layoutOf(truth);
  const a = packParameters(truth, layout);
  const b = packParameters(other, layout);
  let parameters = 0;
  for (let k = 0; k < a.length; k++) parameters = Math.max(parameters, Math.abs(a[k] - b[k]));
  const X = matrix(2000, truth.inputDim);
  rng(77).fillNormal(X.data);
  const f = evaluateNetwork(truth, X);
  const g = evaluateNetwork(other, X);
  let num = 0;
  let den = 0;
  for (let i = 0; i < f.length; i++) {
    num += (f[i] - g[i]) ** 2;
    den += f[i] ** 2;
  }
  return { parameters, relativeL2: Math.sqrt(num / den) };
}

/** factor P inputs from N(0, I) and the oracle's answers: data already paid for. */
async function paidData(oracle: ReturnType<typeof createOracle>, truth: Network, factor: number, seed: number) {
  const inputs = matrix(factor * parameterCount(truth), truth.inputDim);
  rng(seed).fillNormal(inputs.data);
  return { inputs, values: await oracle.evaluate(inputs) };
}

/** Adds relative Gaussian noise of size `eps` to every parameter. */
describe('residualsAndJacobian', () => {
  for (const [l1, l2] of [['tanh', 'tanh'], ['sigmoid', 'tanh'], ['tanh', 'sigmoid']] as [ActivationName, ActivationName][]) {
    it(`the analytic Jacobian matches central differences (${l1}, ${l2})`, () => {
      const net = randomNetwork({ inputDim: 6, width1: 4, width2: 2, activation: { layer1: l1, layer2: l2 }, seed: 3 });
      const layout = layoutOf(net);
      const p = packParameters(net, layout);
      const n = 5;
      const X = new Float64Array(n * 6);
      rng(1).fillNormal(X);
      const y = new Float64Array(n);
      const r = new Float64Array(n);
      const J = new Float64Array(n * layout.size);
      residualsAndJacobian(p, layout, X, y, r, J);
      const h = 1e-6;
      let worst = 0;
      for (let k = 0; k < layout.size; k++) {
        const plus = Float64Array.from(p);
        const minus = Float64Array.from(p);
        plus[k] += h;
        minus[k] -= h;
        const rp = new Float64Array(n);
        const rm = new Float64Array(n);
        residualsAndJacobian(plus, layout, X, y, rp);
        residualsAndJacobian(minus, layout, X, y, rm);
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs((rp[i] - rm[i]) / (2 * h) - J[i * layout.size + k]));
      }
      expect(worst).toBeLessThan(1e-8);
    });
  }
});

describe('refineNetwork', () => {
  for (const act of ['tanh', 'sigmoid'] as ActivationName[]) {
    it(`recovers a d=20, m0=10, m1=3 ${act} network exactly from weights perturbed by 0.05`, async () => {
      const truth = randomNetwork({ inputDim: 20, width1: 10, width2: 3, activation: act, seed: 11 });
      const oracle = createOracle(networkBlackBox(truth));
      const start = perturb(truth, 0.05, 2);
      expect(distance(truth, start).parameters).toBeGreaterThan(0.05);
      const { network, report } = await refineNetwork(oracle, start, { seed: 5 });
      const after = distance(truth, network);
      expect(report.converged).toBe(true);
      expect(report.queries).toBe(2 * parameterCount(truth));
      expect(oracle.counts().total).toBe(report.queries);
      expect(report.relativeResidual).toBeLessThan(1e-12);
      expect(report.residualHistory[0]).toBeGreaterThan(1e-3);
      // the solver's report (@nnid/optimize): status table, counts, seconds, JSON
      expect(report.success).toBe(true);
      expect(report.status).toBeGreaterThan(0);
      // the start's linearization and one per accepted step but the last (its residual stopped the fit)
      expect(report.stopReason).toBe('residual');
      expect(report.njev).toBe(report.acceptedSteps);
      expect(report.nfev).toBeGreaterThan(report.njev);
      expect(report.seconds).toBeGreaterThan(0);
      expect(report.seconds).toBeLessThan(600);
      expect(JSON.parse(JSON.stringify(report))).toEqual(report);
      // from a nearby start LM returns to the very same parameters (no permutation or sign flip)
      expect(after.parameters).toBeLessThan(1e-9);
      expect(after.relativeL2).toBeLessThan(1e-12);
    });
  }

  it('fits extra, already-paid data without new queries', async () => {
    const truth = randomNetwork({ inputDim: 8, width1: 5, width2: 2, activation: 'tanh', seed: 2 });
    const oracle = createOracle(networkBlackBox(truth));
    const { inputs, values } = await paidData(oracle, truth, 3, 9);
    const paid = oracle.counts().total;
    const { network, report } = await refineNetwork(oracle, perturb(truth, 0.02, 4), { seed: 1, dataPoints: 0, extraData: { inputs, values } });
    expect(oracle.counts().total).toBe(paid);
    expect(report.queries).toBe(0);
    expect(distance(truth, network).relativeL2).toBeLessThan(1e-12);
  });

  it('fitNetwork: the same fit on data in hand, without an oracle: the bits of refineNetwork with the data as extraData', async () => {
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 3, activation: 'sigmoid', seed: 5 });
    const oracle = createOracle(networkBlackBox(truth));
    const { inputs, values } = await paidData(oracle, truth, 4, 12);
    const start = perturb(truth, 0.03, 7);
    const viaOracle = await refineNetwork(oracle, start, { seed: 1, dataPoints: 0, extraData: { inputs, values }, rowBlocks: 2 });
    const inHand = await fitNetwork(start, { inputs, values }, { rowBlocks: 2 });
    expect(inHand.report.queries).toBe(0);
    expect(inHand.report.residualHistory).toEqual(viaOracle.report.residualHistory);
    expect(Array.from(inHand.network.A.data)).toEqual(Array.from(viaOracle.network.A.data));
    expect(Array.from(inHand.network.B.data)).toEqual(Array.from(viaOracle.network.B.data));
    expect(inHand.report.relativeResidual).toBeLessThan(1e-12);
    expect(distance(truth, inHand.network).parameters).toBeLessThan(1e-9);
  });

  it("solver 'matrix-free' (CG on J v, J^T w; no J^T J) reaches the dense solver's network to 1e-10, all parameters or A fixed", async () => {
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 3, activation: 'tanh', seed: 5 });
    const oracle = createOracle(networkBlackBox(truth));
    const data = await paidData(oracle, truth, 3, 12);
    const start = perturb(truth, 0.03, 7);
    for (const fix of ['none', 'first-layer-weights'] as const) {
      const dense = await fitNetwork(start, data, { fix });
      // A fixed: a nonzero minimum, where the two stop on the cost rule ~1e-8 from it; CG to 1e-10 at every step ('fixed') takes the dense solver's path
      const free = await fitNetwork(start, data, { fix, solver: 'matrix-free', ...(fix === 'none' ? {} : { matrixFree: { forcing: 'fixed' as const } }) });
      expect(free.report.strategy).toBe('matrix-free-cg');
      expect(free.report.success).toBe(true);
      expect(free.report.strategyStats!.cgIterations).toBeGreaterThan(0);
      const layout = layoutOf(truth);
      const a = packParameters(dense.network, layout);
      const b = packParameters(free.network, layout);
      expect(Math.max(...a.map((v, k) => Math.abs(v - b[k])))).toBeLessThan(1e-10);
      if (fix === 'none') expect(distance(truth, free.network).parameters).toBeLessThan(1e-9);
      else expect(Array.from(free.network.A.data)).toEqual(Array.from(start.A.data));
    }
    await expect(fitNetwork(start, data, { solver: 'matrix-free', rowBlocks: 2 })).rejects.toThrow("invalid argument. `rowBlocks` must be 1 or 'auto' with solver 'matrix-free'. Value: `2`.");
    await expect(fitNetwork(start, data, { solver: 'lsqr' as 'matrix-free' })).rejects.toThrow("invalid argument. `solver` must be one of 'normal-equations', 'matrix-free', 'auto'. Value: `lsqr`.");
  });

  it('the plateau rule (FULL_FIT_PLATEAU) stops a fit stuck far from the data as stalled, and leaves a converging fit as it was', async () => {
    const truth = randomNetwork({ inputDim: 8, width1: 5, width2: 2, activation: 'tanh', seed: 2 });
    const oracle = createOracle(networkBlackBox(truth));
    const data = await paidData(oracle, truth, 3, 4);
    // A fixed 30% off: the fit's minimum is far above 1e-3; costTolerance 0 and the 50-step rule off keep it going without the plateau rule
    const wrong = perturb(truth, 0.3, 9);
    const base = { fix: 'first-layer-weights' as const, costTolerance: 0, stallWindow: 0, maxIterations: 80 };
    const long = await fitNetwork(wrong, data, base);
    const short = await fitNetwork(wrong, data, { ...base, plateau: FULL_FIT_PLATEAU });
    expect(long.report.relativeResidual).toBeGreaterThan(1e-3);
    expect(short.report.stopReason).toBe('stalled');
    expect(short.report.acceptedSteps).toBeLessThan(long.report.acceptedSteps);
    expect(short.report.residualHistory).toEqual(long.report.residualHistory.slice(0, short.report.residualHistory.length));
    // from 3% off the fit converges; the rule changes nothing there
    const start = perturb(truth, 0.03, 7);
    const plain = await fitNetwork(start, data, {});
    const ruled = await fitNetwork(start, data, { plateau: FULL_FIT_PLATEAU });
    expect(ruled.report.stopReason).toBe(plain.report.stopReason);
    expect(Array.from(packParameters(ruled.network, layoutOf(truth)))).toEqual(Array.from(packParameters(plain.network, layoutOf(truth))));
    expect(distance(truth, ruled.network).parameters).toBeLessThan(1e-9);
  });

  it('the fit of (theta, B, tau) stops on its plateau (UPPER_FIT_PLATEAU) where A holds it, and the full fit from there reaches the truth', async () => {
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 3, activation: 'tanh', seed: 2 });
    const oracle = createOracle(networkBlackBox(truth));
    const data = await paidData(oracle, truth, 4, 4);
    // every parameter 10% off: with A fixed the fit levels off at A's error; costTolerance 0 and the 50-step rule off keep it crawling
    const start = perturb(truth, 0.1, 9);
    const base = { fix: 'first-layer-weights' as const, costTolerance: 0, stallWindow: 0, maxIterations: 60, innerSteps: 0 };
    const long = await fitNetwork(start, data, base);
    const short = await fitNetwork(start, data, { ...base, plateau: UPPER_FIT_PLATEAU });
    expect(short.report.stopReason).toBe('stalled');
    expect(short.report.acceptedSteps).toBeLessThan(long.report.acceptedSteps);
    expect(short.report.residualHistory).toEqual(long.report.residualHistory.slice(0, short.report.residualHistory.length));
    expect(short.report.relativeResidual).toBeLessThan(1.01 * long.report.relativeResidual);
    const full = await fitNetwork(short.network, data, { plateau: FULL_FIT_PLATEAU });
    expect(distance(truth, full.network).parameters).toBeLessThan(1e-9);
    // A exact: the fit converges to the truth, the rule does not stop it short
    const exactA = await fitNetwork({ ...start, A: truth.A }, data, { fix: 'first-layer-weights', plateau: UPPER_FIT_PLATEAU, innerSteps: 0 });
    expect(exactA.report.stopReason).not.toBe('stalled');
    expect(distance(truth, exactA.network).parameters).toBeLessThan(1e-9);
  });

  it('fitNetwork: names data of the wrong shape', async () => {
    const truth = randomNetwork({ inputDim: 8, width1: 5, width2: 2, activation: 'tanh', seed: 2 });
    const inputs = matrix(10, 7);
    await expect(fitNetwork(truth, { inputs, values: new Float64Array(10) })).rejects.toThrow(
      'invalid argument. `data.inputs` must have inputDim = 8 columns. Value: `7`.',
    );
    await expect(fitNetwork(truth, { inputs: matrix(10, 8), values: new Float64Array(9) })).rejects.toThrow(
      'invalid argument. `data.values` must hold one value per row of data.inputs (10). Value: `9`.',
    );
  });

  // fix: what is kept bit for bit, where the perturbed (free) parameters start, how many are fitted
  const fixes = [
    { fix: 'first-layer', fits: '(B, tau) alone', keeps: 'A and theta', from: 'offB', parameters: 6 * 3 + 3, stream: 8 },
    { fix: 'first-layer-weights', fits: '(theta, B, tau)', keeps: 'A', from: 'offTheta', parameters: 6 + 6 * 3 + 3, stream: 9 },
  ] as const;
  for (const f of fixes) {
    for (const act of ['tanh', 'sigmoid'] as ActivationName[]) {
      it(`fix: '${f.fix}' fits ${f.fits}, keeps ${f.keeps} bit for bit (${act})`, async () => {
        const truth = randomNetwork({ inputDim: 10, width1: 6, width2: 3, activation: act, seed: 4 });
        const oracle = createOracle(networkBlackBox(truth));
        const layout = layoutOf(truth);
        const p = packParameters(truth, layout);
        const s = rng(f.stream);
        for (let k = layout[f.from]; k < layout.size; k++) p[k] += 0.05 * s.normal();
        const start = unpackParameters(p, layout);
        const { network, report } = await refineNetwork(oracle, start, { seed: 3, fix: f.fix });
        expect(report.parameters).toBe(f.parameters);
        expect(Array.from(network.A.data)).toEqual(Array.from(start.A.data));
        if (f.fix === 'first-layer') expect(Array.from(network.theta)).toEqual(Array.from(start.theta));
        expect(report.relativeResidual).toBeLessThan(1e-12);
        expect(distance(truth, network).parameters).toBeLessThan(1e-9);
      });
    }
  }

  it('row blocks: the same bits with 1 and 2 threads, and an exact fit', async () => {
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 3, activation: 'tanh', seed: 6 });
    const layout = layoutOf(truth);
    const p = packParameters(truth, layout);
    const s = rng(10);
    for (let k = 0; k < layout.size; k++) p[k] += 0.02 * s.normal();
    const start = unpackParameters(p, layout);
    const runs = [];
    for (const threads of [1, 2]) {
      runs.push(await refineNetwork(createOracle(networkBlackBox(truth)), start, { seed: 2, rowBlocks: 3, threads }));
    }
    expect(runs[0].report.residualHistory).toEqual(runs[1].report.residualHistory);
    expect(Array.from(runs[0].network.A.data)).toEqual(Array.from(runs[1].network.A.data));
    expect(Array.from(runs[0].network.tau)).toEqual(Array.from(runs[1].network.tau));
    expect(runs[0].report.relativeResidual).toBeLessThan(1e-12);
    expect(distance(truth, runs[0].network).parameters).toBeLessThan(1e-9);
  });

  it('inner steps: exact with and without them; each kept one lowered the cost', async () => {
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 3, activation: 'sigmoid', shiftStd: 1, seed: 4 });
    const start = perturb(truth, 0.05, 12);
    const plain = await refineNetwork(createOracle(networkBlackBox(truth)), start, { seed: 3, innerSteps: 0 });
    const inner = await refineNetwork(createOracle(networkBlackBox(truth)), start, { seed: 3 });
    expect(plain.report.innerSteps).toBe(0);
    expect(inner.report.innerSteps).toBeGreaterThan(0);
    for (const { report, network } of [plain, inner]) {
      expect(report.relativeResidual).toBeLessThan(1e-12);
      expect(distance(truth, network).relativeL2).toBeLessThan(1e-10);
      const h = report.residualHistory;
      for (let k = 1; k < h.length; k++) expect(h[k]).toBeLessThan(h[k - 1]);
    }
    await expect(refineNetwork(createOracle(networkBlackBox(truth)), start, { seed: 3, innerSteps: -1 })).rejects.toThrow(
      'invalid argument. `innerSteps` must be a nonnegative integer. Value: `-1`.',
    );
  });

  it("J^T J's (A, theta) block from the inputs' pair products equals J^T J of the Jacobian", () => {
    for (const [d, m0, m1] of [[4, 3, 2], [9, 7, 3]]) {
      const net = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', shiftStd: 1, seed: d });
      const layout = layoutOf(net);
      const P = layout.size;
      const n = 3 * P;
      const X = new Float64Array(n * d);
      rng(d + 1).fillNormal(X);
      const J = new Float64Array(n * P);
      residualsAndJacobian(packParameters(net, layout), layout, X, new Float64Array(n), new Float64Array(n), J);
      const expected = gram({ data: J, offset: 0, shape: [n, P], strides: [P, 1] }).data;
      const got = new Float64Array(P * P);
      normalMatrix(J, n, layout, inputPairs(X, n, d, new Float64Array(n * pairCount(d + 1))), got);
      let scale = 0;
      for (const v of expected) scale = Math.max(scale, Math.abs(v));
      for (let k = 0; k < P * P; k++) expect(Math.abs(got[k] - expected[k])).toBeLessThan(1e-13 * scale);
    }
  });

  it('rejects row blocks with a fixed first layer', async () => {
    const truth = randomNetwork({ inputDim: 8, width1: 5, width2: 2, activation: 'tanh', seed: 2 });
    await expect(refineNetwork(createOracle(networkBlackBox(truth)), truth, { seed: 1, rowBlocks: 2, fix: 'first-layer' })).rejects.toThrow(
      "invalid argument. `rowBlocks` must be 1 or 'auto' with fix 'first-layer'. Value: `2`.",
    );
  });

  it("stops as 'stalled' when a window of accepted steps does not lower the residual enough", async () => {
    const truth = randomNetwork({ inputDim: 8, width1: 5, width2: 2, activation: 'tanh', seed: 2 });
    const far = randomNetwork({ inputDim: 8, width1: 5, width2: 2, activation: 'tanh', seed: 99 });
    const { report } = await refineNetwork(createOracle(networkBlackBox(truth)), far, { seed: 1, maxIterations: 1000, stallWindow: 10, stallFactor: 0.5 });
    const h = report.residualHistory;
    expect(report.stopReason).toBe('stalled');
    expect(report.status).toBe(-2);
    expect(report.message).toBe('Stalled: the last `stallWindow` accepted steps lowered the relative residual by less than `stallFactor` while it is above `stallAbove`.');
    expect(report.converged).toBe(false);
    expect(h.length).toBeGreaterThan(10);
    expect(h[h.length - 1]).toBeGreaterThan(0.5 * h[h.length - 11]);
    expect(report.relativeResidual).toBeGreaterThan(1e-6);
  });

  it('initialDamping: from a start next to the minimum, a small lambda reaches the default fit\'s network (to 1e-10) in fewer linearizations, dense and matrix-free', async () => {
    const truth = randomNetwork({ inputDim: 12, width1: 6, width2: 3, activation: 'tanh', seed: 5 });
    const oracle = createOracle(networkBlackBox(truth));
    const data = await paidData(oracle, truth, 3, 13);
    const start = perturb(truth, 1e-6, 9);
    const layout = layoutOf(truth);
    const dense = await fitNetwork(start, data);
    const a = packParameters(dense.network, layout);
    for (const solver of ['normal-equations', 'matrix-free'] as const) {
      const near = await fitNetwork(start, data, { solver, initialDamping: 1e-9 });
      expect(near.report.success).toBe(true);
      expect(near.report.relativeResidual).toBeLessThan(1e-14);
      if (solver === 'normal-equations') expect(near.report.njev).toBeLessThan(dense.report.njev);
      const b = packParameters(near.network, layout);
      expect(Math.max(...a.map((v, k) => Math.abs(v - b[k])))).toBeLessThan(1e-10);
    }
    await expect(fitNetwork(start, data, { initialDamping: 0 })).rejects.toThrow('invalid argument. `initialDamping` must be a finite number > 0. Value: `0`.');
  });

  it('rejects a stallFactor outside (0, 1)', async () => {
    const truth = randomNetwork({ inputDim: 8, width1: 5, width2: 2, activation: 'tanh', seed: 2 });
    await expect(refineNetwork(createOracle(networkBlackBox(truth)), truth, { seed: 1, stallFactor: 1.5 })).rejects.toThrow(
      'invalid argument. `stallFactor` must be a number in (0, 1). Value: `1.5`.',
    );
  });

  it('rejects an unknown fix', async () => {
    const truth = randomNetwork({ inputDim: 8, width1: 5, width2: 2, activation: 'tanh', seed: 2 });
    await expect(refineNetwork(createOracle(networkBlackBox(truth)), truth, { seed: 1, fix: 'second-layer' as never })).rejects.toThrow(
      "invalid argument. `fix` must be one of 'none', 'first-layer', 'first-layer-weights'. Value: `second-layer`.",
    );
  });

  it('rejects a network of another input dimension', async () => {
    const truth = randomNetwork({ inputDim: 8, width1: 5, width2: 2, activation: 'tanh', seed: 2 });
    const other = randomNetwork({ inputDim: 7, width1: 5, width2: 2, activation: 'tanh', seed: 2 });
    await expect(refineNetwork(createOracle(networkBlackBox(truth)), other, { seed: 1 })).rejects.toThrow(
      "invalid argument. `initial.inputDim` must equal the oracle's inputDim 8. Value: `7`.",
    );
  });
});
