/**
 * studentFitInRange: the fit in range(A)'s coordinates (gradients paid in the same batch), lifted and
 * fitted in the full ones, the gradients fitted as derivative equations; the plain fit where those
 * coordinates give no more equations per unknown or the lifted fit no more Gaussian points than P.
 */
import { describe, expect, it } from 'vitest';
import { matrix, parameterCount, rng, serializeNetwork, type Network } from '@nnid/core';
import { createOracle, evaluateNetwork, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { relativeL2Arrays } from '@nnid/testing';
import { studentFit, studentFitInRange } from '@nnid/student-fit';

/** Relative L2 error <= 1e-8 on 2000 fresh N(0, I) points. */
function exact(truth: Network, other: Network): boolean {
  const X = matrix(2000, truth.inputDim);
  rng(4242).fillNormal(X.data);
  return relativeL2Arrays(evaluateNetwork(other, X), evaluateNetwork(truth, X)) <= 1e-8;
}

describe('studentFitInRange', () => {
  // (16, 4, 2) tanh at 2.5 P = 195 queries: 96 stencil points, 99 Gaussian ones for 30 unknowns in
  // range(A)'s coordinates (3.3 per unknown) against 195 for P = 78 (2.5) in the plain fit
  const truth = randomNetwork({ inputDim: 16, width1: 4, width2: 2, seed: 5 });
  const P = parameterCount(truth);
  const N = Math.floor(2.5 * P);
  const options = { width1: 4, width2: 2, dataPoints: N, starts: 3, seed: 5 };

  it('exact at 2.5 P where the plain fit is not; the budget paid exactly; the same bits on 1 and 2 threads', async () => {
    const plainOracle = createOracle(networkBlackBox(truth), { maxQueries: N });
    const plain = await studentFit(plainOracle, { ...options, threads: 1 });
    // the precondition: on this network and budget the plain fit's 3 starts fail
    expect(plain.report.check.passed).toBe(false);
    expect(exact(truth, plain.network)).toBe(false);

    const runOn = async (threads: number) => {
      const oracle = createOracle(networkBlackBox(truth), { maxQueries: N });
      return { oracle, result: await studentFitInRange(oracle, { ...options, threads }) };
    };
    const two = await runOn(2);
    const one = await runOn(1);
    const { report } = two.result;
    expect(report.check.passed).toBe(true);
    expect(exact(truth, two.result.network as Network)).toBe(true);
    expect(two.oracle.counts().paid).toBe(N);
    expect(report.queries.paid).toBe(N);
    expect(report.range!.stencilQueries).toBe(6 * 16);
    expect(report.range!.gap).toBeGreaterThan(1e3);
    // the values alone give 99 / 30 = 3.3 per unknown, more than the plain fit's 2.5: no derivative rows
    expect(report.range!.derivativeRows).toBe(0);
    expect(report.range!.reduced!.parameterCount).toBe(P - 4 * 12);
    expect(serializeNetwork(one.result.network as Network)).toEqual(serializeNetwork(two.result.network as Network));
  });

  it('the derivative rows where the values alone are too few: (20, 10, 3) at 2 P exact where the plain fit is not; the same bits on 1 and 2 threads', async () => {
    // 486 queries: 12 gradients (240 stencil points) and 246 Gaussian points; in range(A)'s coordinates
    // 143 unknowns: values alone 246 / 143 = 1.7 per unknown (the plain fit's 2.0 is more), with the
    // 12 x 10 derivative rows 2.6
    const net = randomNetwork({ inputDim: 20, width1: 10, width2: 3, seed: 3 });
    const n = 2 * parameterCount(net);
    const runOn = async (threads: number, gradientWeight?: number) => {
      const oracle = createOracle(networkBlackBox(net), { maxQueries: n });
      return { oracle, result: await studentFitInRange(oracle, { width1: 10, width2: 3, dataPoints: n, starts: 3, seed: 3, threads, gradientWeight }) };
    };
    const values = await runOn(1, 0);
    // the precondition: values only, the plain fit runs (report.range absent) and its 3 starts fail
    expect(values.result.report.range).toBeUndefined();
    expect(values.result.report.check.passed).toBe(false);
    expect(exact(net, values.result.network as Network)).toBe(false);
    const two = await runOn(2);
    const one = await runOn(1);
    expect(two.result.report.range!.derivativeRows).toBe(12 * 10);
    expect(two.result.report.check.passed).toBe(true);
    expect(exact(net, two.result.network as Network)).toBe(true);
    expect(two.oracle.counts().paid).toBe(n);
    expect(two.result.report.queries.paid).toBe(n);
    expect(serializeNetwork(one.result.network as Network)).toEqual(serializeNetwork(two.result.network as Network));
  });

  it('the plain fit where the lifted fit would have no more Gaussian points than P (2 P at (16, 4, 2): 60 against P = 78); refused over the budget before any query', async () => {
    const oracle = createOracle(networkBlackBox(truth), { maxQueries: 2 * P });
    const { report } = await studentFitInRange(oracle, { ...options, dataPoints: 2 * P, threads: 1 });
    expect(report.range).toBeUndefined();
    expect(report.options.initialization).toBe('rows of A and B uniform on the unit sphere, theta and tau ~ N(0, 0.3^2)');
    expect(oracle.counts().paid).toBe(2 * P);

    const small = createOracle(networkBlackBox(truth), { maxQueries: N - 1 });
    await expect(studentFitInRange(small, { ...options, threads: 1 })).rejects.toThrow(`budget ${N - 1}`);
    expect(small.counts().total).toBe(0);
  });

  it('range(A) not found (noise 1e-6 fills the spectrum of the differences): the plain fit on every answer paid, said', async () => {
    const oracle = createOracle(networkBlackBox(truth, { noise: 1e-6, noiseSeed: 1 }), { maxQueries: N });
    const { report } = await studentFitInRange(oracle, { ...options, threads: 1, checkThreshold: 1e-4 });
    expect(report.range!.gap).toBeLessThan(1e3);
    expect(report.range!.reduced).toBeNull();
    expect(report.range!.derivativeRows).toBe(0);
    expect(report.warnings.some((w) => w.startsWith('range(A) not found (gap '))).toBe(true);
    expect(report.options.dataPoints).toBe(N);
    expect(oracle.counts().paid).toBe(N);
    expect(report.queries.paid).toBe(N);
  });
});
