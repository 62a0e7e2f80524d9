/**
 * identify (model 'general') and identifyOutputs on a matrix of the generator's general networks
 * (randomGeneralNetwork: W1's rows of random directions, rows of W1 and W2 scaled 0.3-3, biases
 * N(0, 0.25), C and c N(0, 1)): each activation, mixed layers, k = 1 and k = 3, widths given and
 * inferred. Exact = the truth-free check passed and relative L2 <= 1e-8 on 10^4 Gaussian and
 * sphere points (scoreGeneral), with the widths of the truth.
 *
 * The networks are small (d = 8, m0 = 4, m1 = 2) so that each case takes seconds; the seeds are
 * ones the method reaches on both linalg tiers. Not here because not reached: a GELU first layer
 * (gelu, gelu_tanh: the Hessian stages' directions reach |cos| 0.45-0.86 only; gelu_tanh seed 1 is
 * exact on the native tier, not on the TypeScript one), sigmoid/sigmoid networks whose attempts end far
 * (BENCHMARKS.md, "The general network"). softplus seed 2 and sigmoid seed 8 are reached by the second
 * pass (second-pass.ts) after every attempt failed near the truth; silu/tanh seed 3 and gelu/gelu seed 2
 * by the signs fit of the refinement's random second layers (refine-stages.ts, fitGeneralSigns).
 */
import { describe, expect, it } from 'vitest';
import { generalParameterCount, type ActivationName, type GeneralNetwork } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identify, identifyOutputs, scoreGeneral } from '@nnid/pipeline';

interface Case {
  layer1: ActivationName;
  layer2: ActivationName;
  outputs: 1 | 3;
  widths: 'given' | 'inferred';
  seed: number;
}

const CASES: Case[] = [
  { layer1: 'tanh', layer2: 'tanh', outputs: 1, widths: 'given', seed: 1 },
  { layer1: 'sigmoid', layer2: 'sigmoid', outputs: 1, widths: 'given', seed: 1 },
  { layer1: 'softplus', layer2: 'softplus', outputs: 1, widths: 'given', seed: 1 },
  { layer1: 'silu', layer2: 'silu', outputs: 1, widths: 'given', seed: 1 },
  { layer1: 'arctan', layer2: 'arctan', outputs: 1, widths: 'given', seed: 1 },
  { layer1: 'tanh', layer2: 'gelu', outputs: 1, widths: 'given', seed: 1 },
  { layer1: 'tanh', layer2: 'tanh', outputs: 3, widths: 'given', seed: 1 },
  { layer1: 'tanh', layer2: 'tanh', outputs: 1, widths: 'inferred', seed: 1 },
  // exact through the second pass (second-pass.ts): every attempt's check failed near the truth (5.9e-3, 1.6e-6)
  { layer1: 'softplus', layer2: 'softplus', outputs: 1, widths: 'given', seed: 2 },
  { layer1: 'sigmoid', layer2: 'sigmoid', outputs: 1, widths: 'given', seed: 8 },
  // a first layer whose rows' signs are part of the function: exact since the random second layers
  // start at b1 = 0 through fitGeneralSigns (before: 4.6e-3, the signs the stages found kept; silu/tanh seed 3 below)
  { layer1: 'gelu', layer2: 'gelu', outputs: 1, widths: 'given', seed: 2 },
];

function check(truth: GeneralNetwork, found: GeneralNetwork): void {
  expect([found.width1, found.width2, found.outputs]).toEqual([truth.width1, truth.width2, truth.outputs]);
  const scored = scoreGeneral(truth, found);
  expect(scored.function.gaussian.relativeL2).toBeLessThan(1e-8);
  expect(scored.function.sphere.relativeL2).toBeLessThan(1e-8);
  expect(scored.firstLayer.minCos).toBeGreaterThan(1 - 1e-8);
}

describe("identify, model 'general': the generator's networks (8, 4, 2), scales 0.3-3", () => {
  for (const c of CASES) {
    it(`${c.layer1}/${c.layer2}, k = ${c.outputs}, widths ${c.widths}, seed ${c.seed}: exact`, async () => {
      const activation = { layer1: c.layer1, layer2: c.layer2 };
      const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: c.outputs, activation, seed: c.seed });
      const widths = c.widths === 'given' ? { width1: 4, width2: 2 } : {};
      if (c.outputs === 1) {
        const { networkGeneral, report } = await identify(createOracle(generalBlackBox(truth)), { ...widths, activation, seed: 1, threads: 2, model: 'general' });
        expect(report.check.passed).toBe(true);
        check(truth, networkGeneral!);
        expect(report.parameterCount).toBe(generalParameterCount(truth));
      } else {
        const box = { inputDim: 8, outputs: c.outputs, identity: `matrix-${c.seed}`, evaluate: async (x: Parameters<typeof evaluateGeneral>[1]) => evaluateGeneral(truth, x) };
        const { network, report } = await identifyOutputs(box, { ...widths, activation, seed: 1, threads: 2 });
        expect(report.check.passed).toBe(true);
        check(truth, network);
        expect(report.queries.numbersReceived).toBe(report.queries.rows * c.outputs);
      }
    });
  }

  it('silu/tanh seed 3: exact through the signs fit (before: 1.2e-1), the same bits with 1 and 2 threads', async () => {
    const activation = { layer1: 'silu', layer2: 'tanh' } as const;
    const truth = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, activation, seed: 3 });
    const run = (threads: number) => identify(createOracle(generalBlackBox(truth)), { width1: 4, width2: 2, activation, seed: 1, threads, model: 'general' });
    const [one, two] = [await run(1), await run(2)];
    expect(two.report.check.passed).toBe(true);
    check(truth, two.networkGeneral!);
    expect(Array.from(one.networkGeneral!.W1.data)).toEqual(Array.from(two.networkGeneral!.W1.data));
    expect(Array.from(one.networkGeneral!.W2.data)).toEqual(Array.from(two.networkGeneral!.W2.data));
    expect(Array.from(one.networkGeneral!.b1)).toEqual(Array.from(two.networkGeneral!.b1));
    expect(Array.from(one.networkGeneral!.C.data)).toEqual(Array.from(two.networkGeneral!.C.data));
  });
});
