/**
 * The fit's dead-unit redraws (deadUnitRedraws): a start that stalls with a dead hidden unit (its
 * incoming row and outgoing column at zero: constant and unused, so no gradient moves it) has the
 * unit redrawn and is fitted again. identify's method 'auto' runs them in its fits after a failed
 * pipeline (DEAD_UNIT_REDRAWS); the plain fit does not (the baseline).
 */
import { describe, expect, it } from 'vitest';
import { matrix, rng, serializeNetworkV2, generalParameterCount, type Float64View, type GeneralNetwork } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { relativeL2Arrays } from '@nnid/testing';
import { DEAD_NORM_RATIO, DEAD_UNIT_REDRAWS, studentFitGeneral, type MultiOutputSource } from '@nnid/student-fit';

/** Relative L2 error over the k outputs on 2000 fresh N(0, I) points. */
function error(truth: GeneralNetwork, other: GeneralNetwork): number {
  const X = matrix(2000, truth.inputDim);
  rng(4242).fillNormal(X.data);
  return relativeL2Arrays(evaluateGeneral(other, X).data, evaluateGeneral(truth, X).data);
}

function source(truth: GeneralNetwork): MultiOutputSource & { rows: number } {
  const s = {
    inputDim: truth.inputDim,
    outputs: truth.outputs,
    rows: 0,
    evaluate: async (X: Float64View) => {
      s.rows += X.shape[0];
      return evaluateGeneral(truth, X);
    },
  };
  return s;
}

/** The truth with one unit killed: its incoming row, shift and outgoing column zero. */
function killed(truth: GeneralNetwork, layer: 1 | 2, unit: number): GeneralNetwork {
  const copy = (v: Float64View) => {
    const m = matrix(v.shape[0], v.shape[1]);
    m.data.set(v.data.subarray(v.offset, v.offset + v.shape[0] * v.shape[1]));
    return m;
  };
  const net: GeneralNetwork = { ...truth, W1: copy(truth.W1), b1: truth.b1.slice(), W2: copy(truth.W2), b2: truth.b2.slice(), C: copy(truth.C), c: truth.c.slice() };
  const { inputDim: d, width1: m0, width2: m1, outputs: k } = truth;
  if (layer === 1) {
    net.W1.data.fill(0, unit * d, (unit + 1) * d);
    net.b1[unit] = 0;
    for (let l = 0; l < m1; l++) net.W2.data[l * m0 + unit] = 0;
  } else {
    net.W2.data.fill(0, unit * m0, (unit + 1) * m0);
    net.b2[unit] = 0;
    for (let o = 0; o < k; o++) net.C.data[o * m1 + unit] = 0;
  }
  return net;
}

describe('dead-unit redraws', () => {
  const truth = randomGeneralNetwork({ inputDim: 8, width1: 5, width2: 3, outputs: 2, activation: 'tanh', scales: [0.7, 1.5], seed: 3 });
  const N = 8 * generalParameterCount(truth);
  const options = { width1: 5, width2: 3, activation: 'tanh' as const, dataPoints: N, seed: 1 };

  for (const [layer, unit] of [[2, 1], [1, 3]] as const) {
    it(`layer ${layer}, unit ${unit} dead: without redraws the start stays short of the truth; with them the unit is named, redrawn, exact; the same bits on 1 and 2 threads`, async () => {
      const start = killed(truth, layer, unit);
      const plain = await studentFitGeneral(source(truth), { ...options, starts: 0, startNetworks: [start] });
      expect(plain.report.options.deadUnitRedraws).toBe(0);
      expect(plain.report.check.passed).toBe(false);
      expect(error(truth, plain.network)).toBeGreaterThan(1e-3);
      expect(plain.report.starts[0].deadRedraws).toEqual([]);

      const runOn = async (threads: number) => {
        const s = source(truth);
        return { s, result: await studentFitGeneral(s, { ...options, starts: 1, threads, startNetworks: [start], deadUnitRedraws: DEAD_UNIT_REDRAWS }) };
      };
      const two = await runOn(2);
      const one = await runOn(1);
      const { report, network } = two.result;
      expect(report.options.deadUnitRedraws).toBe(DEAD_UNIT_REDRAWS);
      expect(report.check.passed).toBe(true);
      expect(report.chosenStart).toBe(0);
      const rounds = report.starts[0].deadRedraws;
      expect(rounds.length).toBeGreaterThanOrEqual(1);
      // the first round names the killed unit, in its layer
      expect(layer === 1 ? rounds[0].layer1 : rounds[0].layer2).toContain(unit);
      expect(rounds[rounds.length - 1].relativeResidual).toBeLessThanOrEqual(1e-9);
      expect(error(truth, network)).toBeLessThan(1e-8);
      expect(two.s.rows).toBe(N);
      expect(serializeNetworkV2(one.result.network)).toEqual(serializeNetworkV2(network));
      expect(one.result.report.starts[0].deadRedraws).toEqual(rounds);
    });
  }

  it('a bad count refused before any query', async () => {
    expect(DEAD_NORM_RATIO).toBeLessThan(1);
    const s = source(truth);
    await expect(studentFitGeneral(s, { ...options, deadUnitRedraws: 1.5 })).rejects.toThrow('invalid argument. `deadUnitRedraws` must be an integer in [0, 100]. Value: `1.5`.');
    expect(s.rows).toBe(0);
  });
});
