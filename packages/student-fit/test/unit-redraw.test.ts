/**
 * The fit's unit redraws (unitRedraws): a start that stalls with a saturated first-layer unit (a row
 * norm far above the others': a step fitting a region another unit should) has that row redrawn and
 * is fitted again. studentFitInRange runs them by default (UNIT_REDRAWS), studentFit not (the baseline).
 */
import { describe, expect, it } from 'vitest';
import { matrix, parameterCount, rng, serializeNetwork, type Network } from '@nnid/core';
import { createOracle, evaluateNetwork, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { relativeL2Arrays } from '@nnid/testing';
import { SATURATED_NORM_RATIO, studentFit, studentFitInRange, UNIT_REDRAWS } from '@nnid/student-fit';

/** Relative L2 error on 2000 fresh N(0, I) points. */
function error(truth: Network, other: Network): number {
  const X = matrix(2000, truth.inputDim);
  rng(4242).fillNormal(X.data);
  return relativeL2Arrays(evaluateNetwork(other, X), evaluateNetwork(truth, X));
}

describe('unit redraws', () => {
  // (10, 6, 3) tanh at 5 P; the warm start is the truth with its first row replaced by a row of norm
  // 15 (SATURATED_NORM_RATIO x the median is 5): alone it stalls at a relative residual ~1e-1
  const truth = randomNetwork({ inputDim: 10, width1: 6, width2: 3, seed: 2 });
  const N = 5 * parameterCount(truth);
  const saturated: Network = { ...truth, A: matrix(6, 10) };
  saturated.A.data.set(truth.A.data);
  rng(102).fillSphere(saturated.A.data.subarray(0, 10), 15);
  const options = { width1: 6, width2: 3, dataPoints: N, seed: 2, startNetworks: [saturated] };

  it('a start stalled with a saturated unit: the unit redrawn, exact; the budget paid exactly; the same bits on 1 and 2 threads', async () => {
    expect(15).toBeGreaterThan(SATURATED_NORM_RATIO);
    const plainOracle = createOracle(networkBlackBox(truth), { maxQueries: N });
    const plain = await studentFit(plainOracle, { ...options, starts: 0 });
    // the precondition: without redraws the start stalls far from the truth
    expect(plain.report.options.unitRedraws).toBe(0);
    expect(plain.report.check.passed).toBe(false);
    expect(error(truth, plain.network)).toBeGreaterThan(1e-2);
    expect(plain.report.starts[0].redraws).toBe(0);

    const runOn = async (threads: number) => {
      const oracle = createOracle(networkBlackBox(truth), { maxQueries: N });
      return { oracle, result: await studentFit(oracle, { ...options, starts: 2, threads, unitRedraws: 2 }) };
    };
    const two = await runOn(2);
    const one = await runOn(1);
    const { report, network } = two.result;
    expect(report.check.passed).toBe(true);
    expect(report.chosenStart).toBe(0);
    expect(report.starts[0].redraws).toBeGreaterThanOrEqual(1);
    expect(error(truth, network)).toBeLessThan(1e-8);
    expect(two.oracle.counts().paid).toBe(N);
    expect(report.queries.paid).toBe(N);
    expect(serializeNetwork(one.result.network)).toEqual(serializeNetwork(network));
  });

  it('studentFitInRange redraws by default; a bad count refused', async () => {
    const oracle = createOracle(networkBlackBox(truth), { maxQueries: N });
    const { report } = await studentFitInRange(oracle, { width1: 6, width2: 3, dataPoints: N, seed: 2, starts: 1 });
    expect(report.options.unitRedraws).toBe(UNIT_REDRAWS);
    const bad = createOracle(networkBlackBox(truth), { maxQueries: N });
    await expect(studentFit(bad, { width1: 6, width2: 3, dataPoints: N, unitRedraws: -1 })).rejects.toThrow('invalid argument. `unitRedraws` must be an integer in [0, 100]. Value: `-1`.');
    expect(bad.counts().total).toBe(0);
  });
});
