/**
 * identifyOutputs: a black box with k = 3 outputs (the general model), identified through one
 * projection of its outputs, then the output layer and every weight fitted on all k outputs.
 */
import { describe, expect, it } from 'vitest';
import { generalParameterCount, type Float64View, type Oracle } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identify, identifyOutputs, orthonormalComplement, scoreGeneral } from '@nnid/pipeline';

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

describe('identifyOutputs: every output\'s Hessians in the stack', () => {
  it('a companion that is not an Oracle, or of another input dimension, is refused naming it', async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 1, activation: 'tanh', seed: 1 });
    const options = { activation: { layer1: 'tanh', layer2: 'tanh' } as const, seed: 1, model: 'general' as const };
    await expect(identify(createOracle(generalBlackBox(truth)), { ...options, companions: [{} as Oracle] })).rejects.toThrow('invalid argument. `companions[0]` must be an Oracle (see createOracle). Value: `{}`.');
    const other = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs: 1, activation: 'tanh', seed: 1 });
    await expect(identify(createOracle(generalBlackBox(truth)), { ...options, companions: [createOracle(generalBlackBox(other))] })).rejects.toThrow("invalid argument. `companions[0].inputDim` must be the oracle's 8. Value: `6`.");
  });

  it('orthonormalComplement completes w to an orthonormal basis of R^k', () => {
    for (const w of [Float64Array.of(1), Float64Array.of(0.6, -0.8), Float64Array.of(-0.48, 0.6, 0.64), Float64Array.of(0.5, 0.5, 0.5, 0.5), Float64Array.of(-1, 0, 0)]) {
      const basis = [w, ...orthonormalComplement(w)];
      expect(basis).toHaveLength(w.length);
      for (let i = 0; i < basis.length; i++) for (let j = 0; j < basis.length; j++) {
        const dot = basis[i].reduce((s, x, o) => s + x * basis[j][o], 0);
        expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-15);
      }
    }
  });

  it("'all' pays the rows 'projection' pays up to the attempts, and the stack holds k x points Hessians; exact", async () => {
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 5, width2: 2, outputs: 3, activation: 'tanh', seed: 5, directions: 'orthonormal' });
    const paid: number[][] = [];
    const run = async (outputHessians: 'all' | 'projection') => {
      const rows: number[] = [];
      paid.push(rows);
      const box = { inputDim: 8, outputs: 3, identity: 'test-k3-stack', evaluate: async (x: Float64View) => (rows.push(x.shape[0]), evaluateGeneral(truth, x)) };
      return identifyOutputs(box, { width1: 5, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 2, threads: 1, outputHessians });
    };
    const all = await run('all');
    const projection = await run('projection');
    const stages = (r: typeof all) => r.report.identify.stages;
    expect(stages(all).hessians.queries).toBe(stages(projection).hessians.queries);
    expect(all.report.identify.queries.hessians).toBe(projection.report.identify.queries.hessians);
    expect(all.report.identify.spectrum.hessianRows).toBe(3 * stages(all).hessians.points);
    expect(projection.report.identify.spectrum.hessianRows).toBe(stages(projection).hessians.points);
    expect(all.report.check.passed).toBe(true);
    expect(scoreGeneral(truth, all.network).function.gaussian.relativeL2).toBeLessThan(1e-8);
  });
});
