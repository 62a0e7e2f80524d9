import { describe, expect, it } from 'vitest';
import { entangledWeights, matrix, NumericalError, type ActivationName, type Network } from '@nnid/core';
import { createOracle, evaluateNetwork, networkBlackBox, networkGradient, randomNetwork } from '@nnid/oracle';
import { maxDiffArrays } from '@nnid/testing';
import { defaultShiftDataPoints, recoverShifts } from '@nnid/shift-recovery';

/** A copy of the rows of A with the rows of `flip` negated. */
function flipRows(net: Network, flip: number[]) {
  const A = matrix(net.width1, net.inputDim);
  A.data.set(net.A.data.subarray(0, net.width1 * net.inputDim));
  for (const i of flip) for (let t = 0; t < net.inputDim; t++) A.data[i * net.inputDim + t] *= -1;
  return A;
}

describe('recoverShifts with exact A and V', () => {
  const cases: [ActivationName, ActivationName][] = [
    ['tanh', 'tanh'],
    ['sigmoid', 'sigmoid'],
    ['tanh', 'sigmoid'],
    ['sigmoid', 'tanh'],
  ];
  for (const [layer1, layer2] of cases) {
    it(`${layer1}/${layer2}: recovers theta, B and tau to 1e-8 and the function to 1e-10`, async () => {
      const net = randomNetwork({ inputDim: 12, width1: 7, width2: 3, activation: { layer1, layer2 }, seed: 4 });
      const V = entangledWeights(net);
      // flip the sign of V's second row: the gradient at 0 must flip it back
      for (let t = 0; t < 12; t++) V.data[12 + t] *= -1;
      const oracle = createOracle(networkBlackBox(net));
      const { network, theta, tau, report } = await recoverShifts(oracle, net.A, V, { activation: { layer1, layer2 }, seed: 1 });
      expect(report.flipped).toEqual([1]);
      expect(maxDiffArrays(theta, net.theta)).toBeLessThan(1e-8);
      expect(maxDiffArrays(tau, net.tau)).toBeLessThan(1e-8);
      expect(maxDiffArrays(network.B.data, net.B.data)).toBeLessThan(1e-8);
      expect(report.relativeResidual).toBeLessThan(1e-10);
      expect(report.queries).toEqual({ gradient: 24, fit: 200, total: 224 });
      expect(oracle.counts().total).toBe(224);
      expect(JSON.parse(JSON.stringify(report))).toEqual(report);
      const X = matrix(50, 12);
      for (let i = 0; i < X.data.length; i++) X.data[i] = Math.sin(i * 1.7);
      const f = evaluateNetwork(net, X);
      const g = evaluateNetwork(network, X);
      expect(maxDiffArrays(f, g)).toBeLessThan(1e-10);
    });
  }

  it('tanh: a flipped a_i gives the symmetric network (theta_i and column i of B negated)', async () => {
    const net = randomNetwork({ inputDim: 10, width1: 6, width2: 2, seed: 8 });
    const A = flipRows(net, [2]);
    const oracle = createOracle(networkBlackBox(net));
    const { network, theta } = await recoverShifts(oracle, A, entangledWeights(net), {
      activation: { layer1: 'tanh', layer2: 'tanh' },
      seed: 2,
      gradientAtZero: networkGradient(net, new Float64Array(10)),
    });
    expect(Math.abs(theta[2] + net.theta[2])).toBeLessThan(1e-8);
    expect(Math.abs(network.B.data[2] + net.B.data[2])).toBeLessThan(1e-8);
    expect(oracle.counts().total).toBe(160); // 2 P (P = 80 < 100); the gradient was given: no queries for it
  });

  it('sigmoid: a flipped a_i is absorbed by theta_i, column i of B and tau (same function)', async () => {
    const net = randomNetwork({ inputDim: 10, width1: 6, width2: 2, activation: 'sigmoid', seed: 9 });
    const A = flipRows(net, [0, 4]);
    const oracle = createOracle(networkBlackBox(net));
    const { network, report } = await recoverShifts(oracle, A, entangledWeights(net), { activation: { layer1: 'sigmoid', layer2: 'sigmoid' }, seed: 3 });
    expect(report.relativeResidual).toBeLessThan(1e-10);
    // phi1(-t) = 1 - phi1(t): theta_i -> -theta_i, b_li -> -b_li, tau_l -> tau_l + b_li
    expect(Math.abs(network.theta[0] + net.theta[0])).toBeLessThan(1e-7);
    let shift = 0;
    for (const i of [0, 4]) shift += net.B.data[i];
    expect(Math.abs(network.tau[0] - (net.tau[0] + shift))).toBeLessThan(1e-7);
  });
});

describe('defaultShiftDataPoints', () => {
  it('is max(200, 4 (m0 + 2 m1)), or max(4 (m0 + 2 m1), 2 P) below P = 100', () => {
    expect(defaultShiftDataPoints(10, 3)).toBe(200);
    expect(defaultShiftDataPoints(60, 30)).toBe(480);
    expect(defaultShiftDataPoints(10, 3, 10)).toBe(200); // P = 143: the grid's smallest network
    expect(defaultShiftDataPoints(6, 2, 10)).toBe(160); // P = 80
    expect(defaultShiftDataPoints(1, 1, 2)).toBe(12); // P = 5: 4 per unknown
  });
});

describe('recoverShifts data reuse', () => {
  it('returns its fit data; given back as `data` it pays no fit query and gives the same network', async () => {
    const net = randomNetwork({ inputDim: 10, width1: 6, width2: 2, seed: 8 });
    const V = entangledWeights(net);
    const first = await recoverShifts(createOracle(networkBlackBox(net)), net.A, V, { activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 2 });
    expect(first.data.inputs.shape).toEqual([160, 10]); // 2 P: a small network (P = 80)
    expect(first.data.values.length).toBe(160);
    const oracle = createOracle(networkBlackBox(net));
    const again = await recoverShifts(oracle, net.A, V, { activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 99, data: first.data });
    expect(again.report.queries).toEqual({ gradient: 20, fit: 0, total: 20 });
    expect(maxDiffArrays(again.network.B.data, first.network.B.data)).toBe(0);
    expect(maxDiffArrays(again.theta, first.theta)).toBe(0);
  });
  it('refuses a start where phi1\'(theta_i) underflows (b_l would be infinite) with a NumericalError', async () => {
    // tanh'(40) = 0 in double precision: b_l = lambda_l w_l / phi1'(theta) is infinite there
    const net = randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 1 });
    const error = await recoverShifts(createOracle(networkBlackBox(net)), net.A, entangledWeights(net), {
      activation: { layer1: 'tanh', layer2: 'tanh' },
      seed: 1,
      initialTheta: [40, 0, 0, 0],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NumericalError);
    expect((error as Error).message).toBe('shift recovery: the starting network gives non-finite values');
  });

  it("the saturation guard (the solver's acceptance hook) refuses steps past phi1'(theta_i) = 1e-3 phi1'(0)", async () => {
    // a unit truly at theta 6 (tanh'(6) = 2.5e-5): the fit may not follow it past the floor
    const net = randomNetwork({ inputDim: 8, width1: 5, width2: 2, seed: 3 });
    net.theta[0] = 6;
    const { theta, report } = await recoverShifts(createOracle(networkBlackBox(net)), net.A, entangledWeights(net), {
      activation: { layer1: 'tanh', layer2: 'tanh' },
      seed: 1,
      initialTheta: [3.5, 0, 0, 0, 0],
    });
    expect(report.refusedSteps).toBeGreaterThan(0);
    expect(theta[0]).toBeGreaterThan(4);
    expect(1 - Math.tanh(theta[0]) ** 2).toBeGreaterThanOrEqual(1e-3);
    expect(report.relativeResidual).toBeGreaterThan(1e-3);
    expect(report.message.length).toBeGreaterThan(0);
    expect(report.nfev).toBeGreaterThan(report.njev);
  });

  it('names bad data', async () => {
    const net = randomNetwork({ inputDim: 10, width1: 6, width2: 2, seed: 8 });
    const bad = { inputs: matrix(5, 9), values: new Float64Array(5) };
    await expect(recoverShifts(createOracle(networkBlackBox(net)), net.A, entangledWeights(net), { activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 2, data: bad })).rejects.toThrow(
      'invalid argument. `data` must be n x 10 inputs with n >= 1 values. Value: `[5,9]`.',
    );
  });
});

describe('recoverShifts input checks', () => {
  const net = randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 1 });
  const oracle = createOracle(networkBlackBox(net));
  const act = { layer1: 'tanh', layer2: 'tanh' } as const;
  it('names the bad argument', async () => {
    await expect(recoverShifts(oracle, matrix(4, 5), entangledWeights(net), { activation: act, seed: 1 })).rejects.toThrow(
      'invalid argument. `firstLayerWeights` must have inputDim = 6 columns. Value: `5`.',
    );
    await expect(recoverShifts(oracle, net.A, entangledWeights(net), { activation: { layer1: 'relu', layer2: 'tanh' } as never, seed: 1 })).rejects.toThrow(
      "invalid argument. `activation.layer1` must be one of 'tanh', 'sigmoid', 'softplus', 'gelu', 'gelu_tanh', 'silu', 'arctan'. Value: `relu`.",
    );
    await expect(recoverShifts(oracle, net.A, entangledWeights(net), { activation: act, seed: -1 })).rejects.toThrow(
      'invalid argument. `seed` must be a nonnegative integer. Value: `-1`.',
    );
    await expect(recoverShifts(oracle, matrix(4, 6), entangledWeights(net), { activation: act, seed: 1 })).rejects.toThrow(
      'invalid argument. `firstLayerWeights[0]` must be a nonzero finite vector. Value: `0`.',
    );
    await expect(recoverShifts(oracle, net.A, entangledWeights(net), { activation: act, seed: 1, gradientAtZero: [1, 2] })).rejects.toThrow(
      '`gradientAtZero` has 2 numbers, expected inputDim = 6',
    );
  });
});
