import { describe, expect, it } from 'vitest';
import { generalParameterCount, matrix, rng, type GeneralNetwork } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { rejection } from '@nnid/testing';
import { studentFitGeneral } from '@nnid/student-fit';

/** ||F - F_hat||_F / ||F||_F over the k outputs on 2000 fresh N(0, I) points. */
function relativeL2(truth: GeneralNetwork, other: GeneralNetwork): number {
  const X = matrix(2000, truth.inputDim);
  rng(4242).fillNormal(X.data);
  const f = evaluateGeneral(truth, X).data;
  const g = evaluateGeneral(other, X).data;
  let num = 0;
  let den = 0;
  for (let i = 0; i < f.length; i++) {
    num += (f[i] - g[i]) ** 2;
    den += f[i] ** 2;
  }
  return Math.sqrt(num / den);
}

type Pair = { layer1: 'tanh' | 'sigmoid'; layer2: 'tanh' | 'sigmoid' };
const net642 = (activation: Pair, outputs: number, seed: number) => randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs, activation, seed });
const multi = (truth: GeneralNetwork) => ({ inputDim: truth.inputDim, outputs: truth.outputs, evaluate: async (x: Parameters<typeof evaluateGeneral>[1]) => evaluateGeneral(truth, x).data });

describe('studentFitGeneral', () => {
  const cases: [Pair, number, number][] = [
    [{ layer1: 'tanh', layer2: 'tanh' }, 1, 1],
    [{ layer1: 'tanh', layer2: 'sigmoid' }, 1, 2],
    [{ layer1: 'sigmoid', layer2: 'tanh' }, 1, 1],
    [{ layer1: 'tanh', layer2: 'tanh' }, 3, 2],
    [{ layer1: 'tanh', layer2: 'sigmoid' }, 3, 1],
    [{ layer1: 'sigmoid', layer2: 'tanh' }, 3, 3],
  ];
  for (const [activation, k, seed] of cases) {
    it(`is exact on a (6, 4, 2) ${activation.layer1}/${activation.layer2} network with k = ${k} (scales 0.3-3, biases, output layer) at 5 P`, async () => {
      const truth = net642(activation, k, seed);
      const P = generalParameterCount(truth);
      const source = k === 1 ? createOracle(generalBlackBox(truth)) : multi(truth);
      const { network, report } = await studentFitGeneral(source, { width1: 4, width2: 2, activation, seed, queryBudget: 5, starts: 8 });
      expect(report.check.passed).toBe(true);
      expect(report.check.relativeResidual).toBeLessThanOrEqual(1e-9);
      expect(report.parameterCount).toBe(P);
      expect(report.queries.total).toBe(Math.floor(5 * P));
      expect(report.queries.numbersReceived).toBe(Math.floor(5 * P) * k);
      expect(report.widths).toEqual({ inputDim: 6, width1: 4, width2: 2, outputs: k });
      expect(network.outputs).toBe(k);
      expect(relativeL2(truth, network)).toBeLessThan(1e-8);
    });
  }

  it('gives the same bits for 1 and 2 threads (k = 1 and k = 3)', async () => {
    for (const k of [1, 3]) {
      const truth = net642({ layer1: 'tanh', layer2: 'tanh' }, k, 2);
      const run = (threads: number) =>
        studentFitGeneral(k === 1 ? createOracle(generalBlackBox(truth)) : multi(truth), { width1: 4, width2: 2, activation: 'tanh', seed: 2, queryBudget: 5, starts: 4, threads });
      const one = await run(1);
      const two = await run(2);
      expect(two.report.chosenStart).toBe(one.report.chosenStart);
      for (const key of ['W1', 'W2', 'C'] as const) expect(Array.from(two.network[key].data)).toEqual(Array.from(one.network[key].data));
      expect(Array.from(two.network.c)).toEqual(Array.from(one.network.c));
      const strip = (r: typeof one) => r.report.starts.map(({ seconds: _, ...s }) => s);
      expect(strip(two)).toEqual(strip(one));
    }
  });

  it('asks at most maxQueries rows of a k-output source, and fails its check below P values', async () => {
    const truth = net642({ layer1: 'tanh', layer2: 'tanh' }, 3, 1);
    let rows = 0;
    const counted = { inputDim: 6, outputs: 3, evaluate: async (x: Parameters<typeof evaluateGeneral>[1]) => ((rows += x.shape[0]), evaluateGeneral(truth, x).data) };
    const e = await rejection(studentFitGeneral(counted, { width1: 4, width2: 2, queryBudget: 5, maxQueries: 100 }));
    expect(e.message).toBe("invalid argument. `maxQueries` must allow the fit's 235 data points (queryBudget or dataPoints ask for them). Value: `100`.");
    expect(rows).toBe(0);
    const { report } = await studentFitGeneral(counted, { width1: 4, width2: 2, dataPoints: 15, maxQueries: 15, starts: 1 });
    expect(rows).toBe(15);
    expect(report.check.passed).toBe(false);
    expect(report.warnings).toEqual(['15 data points x 3 outputs = 45 values <= P = 47 parameters: a fit can interpolate them without being the network, so the check cannot pass; give more than 15 queries']);
  });

  it('refuses a source that is neither an Oracle nor answers n x k', async () => {
    expect((await rejection(studentFitGeneral(null as never, { width1: 4, width2: 2 }))).message).toBe(
      'invalid argument. `source` must be an Oracle (createOracle) or { inputDim, outputs, evaluate }. Value: `null`.',
    );
    const wrong = { inputDim: 6, outputs: 3, evaluate: async (x: { shape: readonly number[] }) => new Float64Array(x.shape[0]) };
    expect((await rejection(studentFitGeneral(wrong, { width1: 4, width2: 2, dataPoints: 60 }))).message).toBe('invalid argument. `source.evaluate` must answer 60 x 3 numbers. Value: `60`.');
  });
});
