/**
 * Warm starts (startNetworks): given networks run first as starts 0 .. w - 1, then the random
 * starts with the streams they have without warm starts. A start at the truth passes at once; a
 * network of another shape is refused in the house template. Answers in hand (`answers`) are the
 * first data points: only the others are asked.
 */
import { describe, expect, it } from 'vitest';
import { matrix, rng, toGeneral } from '@nnid/core';
import { createOracle, evaluateNetwork, generalBlackBox, networkBlackBox, randomGeneralNetwork, randomNetwork } from '@nnid/oracle';
import { studentFit, studentFitGeneral } from '@nnid/student-fit';

const tanh = { layer1: 'tanh', layer2: 'tanh' } as const;

describe('studentFit startNetworks', () => {
  it("the paper's form: a warm start at the truth is start 0 and passes; the random starts keep their streams", async () => {
    const truth = randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 3 });
    const options = { width1: 4, width2: 2, activation: tanh, seed: 5, queryBudget: 4, starts: 2, maxIterations: 20 };
    const warm = await studentFit(createOracle(networkBlackBox(truth)), { ...options, startNetworks: [truth] });
    expect(warm.report.warmStarts).toBe(1);
    expect(warm.report.chosenStart).toBe(0);
    expect(warm.report.check.passed).toBe(true);
    expect(warm.report.starts[0].initialRelativeResidual).toBeLessThan(1e-14);
    // the random starts after a warm one that fails are those of a run without it
    const far = { ...truth, theta: truth.theta.map((t) => t + 3) };
    const cold = await studentFit(createOracle(networkBlackBox(truth)), options);
    const after = await studentFit(createOracle(networkBlackBox(truth)), { ...options, startNetworks: [far] });
    expect(after.report.starts.length).toBe(1 + cold.report.starts.length);
    expect(after.report.starts.slice(1).map((s) => s.relativeResidual)).toEqual(cold.report.starts.map((s) => s.relativeResidual));
  });

  it('the general model: a v1 or a general network as a warm start; the same bits on 1 and 2 threads', async () => {
    const truth = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs: 1, activation: tanh, seed: 2 });
    const options = { width1: 4, width2: 2, activation: tanh, seed: 1, queryBudget: 4, starts: 2, maxIterations: 30 };
    const one = await studentFitGeneral(createOracle(generalBlackBox(truth)), { ...options, threads: 1, startNetworks: [truth] });
    const two = await studentFitGeneral(createOracle(generalBlackBox(truth)), { ...options, threads: 2, startNetworks: [truth] });
    expect(one.report.chosenStart).toBe(0);
    expect(one.report.check.passed).toBe(true);
    expect(Array.from(two.network.W1.data)).toEqual(Array.from(one.network.W1.data));
    const v1 = randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 4 });
    const fromV1 = await studentFitGeneral(createOracle(generalBlackBox(toGeneral(v1))), { ...options, startNetworks: [v1] });
    expect(fromV1.report.starts[0].initialRelativeResidual).toBeLessThan(1e-14);
  });

  it('a network of another shape or activation, or a general one for the paper form: refused in the house template', async () => {
    const truth = randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 3 });
    const oracle = () => createOracle(networkBlackBox(truth));
    const other = randomNetwork({ inputDim: 6, width1: 3, width2: 2, seed: 3 });
    await expect(studentFit(oracle(), { width1: 4, width2: 2, activation: tanh, startNetworks: [other] })).rejects.toThrow(
      "invalid argument. `startNetworks[0]` must have the fit's shape (d, m0, m1, k) = (6, 4, 2, 1). Value: `(6, 3, 2, 1)`.",
    );
    const sig = randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 3, activation: 'sigmoid' });
    await expect(studentFit(oracle(), { width1: 4, width2: 2, activation: tanh, startNetworks: [sig] })).rejects.toThrow(
      "invalid argument. `startNetworks[0]` must have the fit's activations tanh/tanh. Value: `sigmoid/sigmoid`.",
    );
    await expect(studentFit(oracle(), { width1: 4, width2: 2, activation: tanh, startNetworks: [toGeneral(truth)] })).rejects.toThrow(
      "invalid argument. `startNetworks[0]` must be a v1 network for the paper's form (a general network needs model 'general'). Value: `general network`.",
    );
  });
});

describe('studentFit answers', () => {
  it('answers in hand are the first data points: only N - n are asked; the fit is exact on them', async () => {
    const truth = randomNetwork({ inputDim: 6, width1: 4, width2: 2, seed: 3 });
    const n = 60;
    const inputs = matrix(n, 6);
    for (let i = 0; i < n; i++) rng(9).split(i).fillSphere(inputs.data.subarray(i * 6, (i + 1) * 6), 1);
    const answers = { inputs, values: evaluateNetwork(truth, inputs) };
    const oracle = createOracle(networkBlackBox(truth));
    const { report } = await studentFit(oracle, { width1: 4, width2: 2, activation: tanh, seed: 2, dataPoints: 160, starts: 6, answers, startNetworks: [truth] });
    expect(report.answersInHand).toBe(n);
    expect(oracle.counts().paid).toBe(100);
    expect(report.queries.paid).toBe(100);
    expect(report.check.passed).toBe(true);
    await expect(studentFit(createOracle(networkBlackBox(truth)), { width1: 4, width2: 2, activation: tanh, dataPoints: 160, answers: { inputs: matrix(3, 5), values: new Float64Array(3) } })).rejects.toThrow(
      'invalid argument. `answers.inputs` must be n x 6. Value: `[3, 5]`.',
    );
  });
});
