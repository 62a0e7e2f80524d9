/**
 * identifyOutputs: a black box with k = 3 outputs (the general model), identified through one
 * projection of its outputs, then the output layer and every weight fitted on all k outputs.
 */
import { describe, expect, it } from 'vitest';
import { generalParameterCount, type Float64View } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { identifyOutputs, scoreGeneral } from '@nnid/pipeline';

describe('identifyOutputs: k = 3 outputs', () => {
  it('tanh (10, 6, 3), scales 0.3-3: exact on all outputs; queries are rows, numbers received rows x k', async () => {
    const truth = randomGeneralNetwork({ inputDim: 10, width1: 6, width2: 3, outputs: 3, activation: 'tanh', seed: 3, directions: 'orthonormal' });
    const box = { inputDim: 10, outputs: 3, identity: 'test-k3', evaluate: async (x: Float64View) => evaluateGeneral(truth, x) };
    const { network, report } = await identifyOutputs(box, { width1: 6, width2: 3, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1, threads: 2 });
    expect(report.check.passed).toBe(true);
    expect(network.outputs).toBe(3);
    expect(scoreGeneral(truth, network).function.gaussian.relativeL2).toBeLessThan(1e-8);
    expect(report.queries.numbersReceived).toBe(3 * report.queries.rows);
    expect(report.parameterCount).toBe(generalParameterCount(truth));
  });
});
