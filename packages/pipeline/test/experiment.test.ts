import { describe, expect, it } from 'vitest';
import { experimentId, runExperiment } from '@nnid/pipeline';

describe('runExperiment', () => {
  const spec = { inputDim: 8, width1: 4, width2: 2, activation: { layer1: 'tanh', layer2: 'tanh' }, shiftStd: 0.3, noise: 0, seed: 1 } as const;

  it('identifies and scores one network: exact, before and after figures, queries', async () => {
    const r = await runExperiment(spec, { scorePoints: 500 });
    expect(r.id).toBe('d8-m4-m2-tanh-tanh-s0p3-n0-p0-seed1');
    expect(r.error).toBeNull();
    expect(r.exact).toBe(true);
    expect(r.checkPassed).toBe(true);
    expect(r.after!.function.gaussian.relativeL2).toBeLessThan(1e-8);
    expect(r.before!.firstLayer.count).toBe(4);
    expect((r.queries as { total: number }).total).toBeGreaterThan(0);
  });

  it('a run whose identify throws is recorded with its error and no figures (not as a perfect "before")', async () => {
    const r = await runExperiment({ ...spec, identify: { threshold: 2 } }, { scorePoints: 10 });
    expect(r.id).toBe(experimentId({ ...spec, identify: { threshold: 2 } }));
    expect(r.error).toBe('invalid argument. `threshold` must be a number in [0, 1]. Value: `2`.');
    expect(r.before).toBeNull();
    expect(r.after).toBeNull();
    expect(r.targetMet).toBe(false);
    expect(r.cause).toBe('error: invalid argument. `threshold` must be a number in [0, 1]. Value: `2`.');
  });
});
