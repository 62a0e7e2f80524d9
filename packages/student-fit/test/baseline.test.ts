import { describe, expect, it } from 'vitest';
import { generalParameterCount, parameterCount } from '@nnid/core';
import { createOracle, networkBlackBox, randomGeneralNetwork, randomNetwork } from '@nnid/oracle';
import { rejection } from '@nnid/testing';
import { baselineFit } from '@nnid/student-fit';

describe('baselineFit', () => {
  it('fits a v1 network within floor(budget P) queries and scores it; a general k = 3 network likewise', async () => {
    const truth = randomNetwork({ inputDim: 8, width1: 4, width2: 2, seed: 3 });
    const b = await baselineFit(truth, { budget: 5, seed: 3, starts: 4 });
    expect(b.exact).toBe(true);
    expect(b.relativeL2).toBeLessThan(1e-8);
    expect(b.passed).toBe(true);
    expect(b.residual).toBeLessThanOrEqual(1e-9);
    expect(b.queries.total).toBe(5 * parameterCount(truth));
    expect(b.report.options.model).toBe('paper');
    const g = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs: 3, activation: 'tanh', seed: 2 });
    const bg = await baselineFit(g, { budget: 5, seed: 2, starts: 4 });
    expect(bg.exact).toBe(true);
    expect(bg.queries.total).toBe(Math.floor(5 * generalParameterCount(g)));
    expect(bg.report.options.model).toBe('general');
  });

  it('on a black box: no score (exact null), the shape required; an inexact fit is never called exact', async () => {
    const truth = randomNetwork({ inputDim: 8, width1: 4, width2: 2, seed: 3 });
    const oracle = createOracle(networkBlackBox(truth));
    const b = await baselineFit(oracle, { budget: 2, width1: 4, width2: 2, seed: 1, starts: 1, maxIterations: 3 });
    expect(b.exact).toBeNull();
    expect(b.relativeL2).toBeNull();
    expect(b.passed).toBe(false);
    expect((await rejection(baselineFit(oracle, { budget: 2 }))).message).toBe(
      'invalid argument. `width1` must be given with width2 for a black box (the fit must be told the shape). Value: `undefined`.',
    );
    const early = await baselineFit(truth, { budget: 5, seed: 3, starts: 1, maxIterations: 2 });
    expect(early.exact).toBe(false);
    expect(early.passed).toBe(false);
  });
});
