import { describe, expect, it } from 'vitest';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { DEFAULT_GRADIENT_STEP, DEFAULT_STEP, estimateNoise, noiseAwareStep } from '@nnid/hessian-sampler';

describe('estimateNoise: the oracle noise level from 45 queries, without the truth', () => {
  const nets = (['tanh', 'sigmoid'] as const).flatMap((activation) =>
    [1, 2, 3].map((seed) => ({ activation, seed, net: randomNetwork({ inputDim: 20, width1: 10, width2: 3, activation, seed }) })),
  );

  it('a noiseless oracle reads as double rounding (<= 1e-15; measured 7e-17..1.7e-16)', async () => {
    for (const { net, seed } of nets) {
      const oracle = createOracle(networkBlackBox(net));
      const { sigma, queries, report } = await estimateNoise(oracle, { seed });
      expect(sigma).toBeLessThanOrEqual(1e-15);
      expect(queries).toBe(45);
      expect(oracle.counts().total).toBe(45);
      expect(report.byOrder.length).toBe(8);
    }
  });

  // measured on 200 noise seeds of one (30, 20, 10) sigmoid network: sigma-hat / sigma in [0.51, 1.61]
  for (const noise of [1e-8, 1e-6, 1e-4]) {
    it(`noise ${noise}: within a factor 2 of the true std (tanh and sigmoid, 3 networks each)`, async () => {
      for (const { net, seed } of nets) {
        const oracle = createOracle(networkBlackBox(net, { noise, noiseSeed: seed + 10 }));
        const { sigma } = await estimateNoise(oracle, { seed });
        expect(sigma / noise).toBeGreaterThan(0.5);
        expect(sigma / noise).toBeLessThan(2);
      }
    });
  }

  it('names bad options', async () => {
    const oracle = createOracle(networkBlackBox(nets[0].net));
    await expect(estimateNoise(oracle, { order: 9 })).rejects.toThrow('invalid argument. `order` must be an integer in [1, 8]. Value: `9`.');
    await expect(estimateNoise(oracle, { delta: 0 })).rejects.toThrow('invalid argument. `delta` must be a finite number > 0. Value: `0`.');
    await expect(estimateNoise({} as never)).rejects.toThrow('invalid argument. `oracle` must be an Oracle (see createOracle)');
    expect(oracle.counts().total).toBe(0);
  });
});

describe('noiseAwareStep', () => {
  it('is the default step without noise, c sigma^p (times scale) with it, never below the default', () => {
    for (const scheme of ['forward', 'central'] as const) {
      expect(noiseAwareStep('hessian', scheme, 0)).toBe(DEFAULT_STEP[scheme]);
      expect(noiseAwareStep('gradient', scheme, 0)).toBe(DEFAULT_GRADIENT_STEP[scheme]);
      expect(noiseAwareStep('hessian', scheme, 1e-30)).toBe(DEFAULT_STEP[scheme]);
      expect(noiseAwareStep('gradient', scheme, 1e-30)).toBe(DEFAULT_GRADIENT_STEP[scheme]);
    }
    expect(noiseAwareStep('hessian', 'forward', 1e-6)).toBeCloseTo(4e-2, 15);
    expect(noiseAwareStep('hessian', 'central', 1e-8)).toBeCloseTo(4e-2, 15);
    expect(noiseAwareStep('gradient', 'forward', 1e-6)).toBeCloseTo(6e-3, 15);
    expect(noiseAwareStep('gradient', 'central', 1e-6)).toBeCloseTo(3e-2, 15);
    expect(noiseAwareStep('hessian', 'forward', 1e-6, 4)).toBeCloseTo(16e-2, 15);
    expect(() => noiseAwareStep('hessian', 'forward', -1)).toThrow('invalid argument. `sigma` must be a finite number >= 0. Value: `-1`.');
  });
});
