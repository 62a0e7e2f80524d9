/** identify's option table: defaults, checks in the house template, 'auto' in the report. */
import { describe, expect, it } from 'vitest';
import { OPTIONS, reportOptions, resolveOptions } from '../src/options.ts';

const base = { activation: { layer1: 'sigmoid', layer2: 'tanh' }, seed: 3 } as const;

describe('OPTIONS', () => {
  it('resolves defaults from the table; the radius from the first layer\'s row of SAMPLING', () => {
    const o = resolveOptions({ ...base, threads: 2 }, 20);
    expect(o).toMatchObject({
      width1: undefined,
      width2: undefined,
      threads: 2,
      refine: true,
      queryBudget: 20,
      radius: 3,
      scheme: 'forward',
      starts: 'auto',
      retryFactors: OPTIONS.retryFactors.default,
      threshold: 0.9,
      upperFitIterations: 100,
      parallelAttempts: 'auto',
    });
    expect(resolveOptions({ ...base, activation: { layer1: 'tanh', layer2: 'tanh' } }, 20).radius).toBe(1);
  });

  it('checks each row in the house template, widths against what is checked before them', () => {
    expect(() => resolveOptions({ ...base, width1: 4, width2: 5 }, 8)).toThrow('invalid argument. `width2` must be an integer in [1, 4]. Value: `5`.');
    expect(() => resolveOptions({ ...base, width2: 9 }, 8)).toThrow('invalid argument. `width2` must be an integer in [1, 8]. Value: `9`.');
    expect(() => resolveOptions({ ...base, refine: 'yes' as never }, 8)).toThrow('invalid argument. `refine` must be a boolean. Value: `yes`.');
    expect(() => resolveOptions({ ...base, retryFactors: [1, -1] }, 8)).toThrow('invalid argument. `retryFactors` must be an array of positive numbers.');
    expect(() => resolveOptions({ ...base, refineDataPoints: -1 }, 8)).toThrow('invalid argument. `refineDataPoints` must be a nonnegative integer. Value: `-1`.');
    expect(() => resolveOptions({ ...base, activation: null as never }, 8)).toThrow("invalid argument. `activation` must be { layer1, layer2 }, each one of 'tanh', 'sigmoid', ");
    expect(() => resolveOptions({ ...base, activation: { layer1: 'tanh', layer2: 'swish' } as never }, 8)).toThrow("invalid argument. `activation.layer2` must be one of 'tanh', 'sigmoid', ");
    expect(() => resolveOptions({ ...base, onProgress: 1 as never }, 8)).toThrow('invalid argument. `onProgress` must be a function. Value: `1`.');
  });

  it('reports every row but callbacks, answers given (refinementData) and companion oracles, with the value used where the run resolved it and never "auto"', () => {
    const o = resolveOptions({ ...base, onProgress: () => {} }, 20);
    const reported = reportOptions(o, { starts: 130, gradientPoints: 14 });
    expect(Object.keys(reported).sort()).toEqual(Object.keys(OPTIONS).filter((k) => k !== 'onProgress' && k !== 'refinementData' && k !== 'companions').sort());
    expect(reported.starts).toBe(130);
    expect(reported.gradientPoints).toBe(14);
    expect(reported.width1).toBeNull();
    expect(reported.parallelAttempts).toBe('after a failed attempt that refined >= 1 s (threads > 1)');
    expect(reported.hessianPoints).toBe(OPTIONS.hessianPoints.auto);
    expect(Object.values(reported)).not.toContain('auto');
  });
});
