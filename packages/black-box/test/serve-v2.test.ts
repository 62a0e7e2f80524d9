/** serveNetwork of a general network (nnid.network/v2, one output): answers as evaluateGeneral; noise refused (k > 1: outputs.test.ts). */
import { describe, expect, it } from 'vitest';
import { matrix, rng } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { httpBlackBox, serveNetwork } from '@nnid/black-box';

describe('serveNetwork, nnid.network/v2', () => {
  it('a one-output general network answers over HTTP as evaluateGeneral does, bit for bit', async () => {
    const net = randomGeneralNetwork({ inputDim: 5, width1: 4, width2: 2, activation: { layer1: 'gelu', layer2: 'tanh' }, seed: 3 });
    const served = await serveNetwork(net, { port: 0 });
    try {
      const box = await httpBlackBox(served.url);
      expect(box.inputDim).toBe(5);
      const X = matrix(7, 5);
      rng(1).fillNormal(X.data);
      expect(Array.from(await box.evaluate(X))).toEqual(Array.from(evaluateGeneral(net, X).data));
      await box.close?.();
    } finally {
      await served.close();
    }
  });

  it('refuses noise in the house template', async () => {
    const net = randomGeneralNetwork({ inputDim: 5, width1: 4, width2: 2, seed: 3 });
    await expect(serveNetwork(net, { port: 0, noise: 0.1 })).rejects.toThrow('invalid argument. `noise` must be 0 for a general network (nnid.network/v2). Value: `0.1`.');
  });
});
