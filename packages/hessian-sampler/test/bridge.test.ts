import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createOracle, randomNetwork } from '@nnid/oracle';
import { exportOnnx, onnxBlackBox } from '@nnid/black-box';
import { createSamplerPool, sampleGradients, sampleHessians, spherePoints } from '@nnid/hessian-sampler';

const dir = mkdtempSync(join(tmpdir(), 'nnid-bridge-'));
const pool = createSamplerPool({ threads: 2 });
afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a black box on the main thread served to the sampler workers (bridge)', () => {
  it('an ONNX black box gives the same bits with 2 threads as with 1, every query counted once', async () => {
    const net = randomNetwork({ inputDim: 12, width1: 6, width2: 3, seed: 4 });
    const path = join(dir, 'net.onnx');
    await exportOnnx(net, path);
    const points = spherePoints(9, 12, 1, 3);
    const one = createOracle(await onnxBlackBox(path));
    const two = createOracle(await onnxBlackBox(path));
    try {
      // batches of 2 points' stencils (91 rows each, r = d = 12): several chunks and batches in flight
      const options = { layout: 'packed', step: 1e-4, maxBatchRows: 200 } as const;
      const a = await sampleHessians(one, points, { ...options, threads: 1 });
      const b = await sampleHessians(two, points, { ...options, pool, bridge: true, chunkSize: 1 });
      expect(a.report.mode).toBe('main-thread');
      expect(b.report.mode).toBe('workers');
      expect(b.report.chunks).toBeGreaterThan(1);
      expect(Array.from(b.hessianStack.data)).toEqual(Array.from(a.hessianStack.data));
      expect(two.counts()).toEqual(one.counts());
      expect(two.counts().total).toBe(9 * 91);
      const g1 = await sampleGradients(one, points, { threads: 1 });
      const g2 = await sampleGradients(two, points, { pool, bridge: true });
      expect(Array.from(g2.gradientStack.data)).toEqual(Array.from(g1.gradientStack.data));
      expect(two.counts()).toEqual(one.counts());
    } finally {
      await one.close?.();
      await two.close?.();
    }
  });

  it("the main thread's errors reach the workers with their code: a budget reached", async () => {
    const net = randomNetwork({ inputDim: 8, width1: 4, width2: 2, seed: 1 });
    const path = join(dir, 'small.onnx');
    await exportOnnx(net, path);
    const oracle = createOracle(await onnxBlackBox(path), { maxQueries: 30 });
    try {
      const failed = await sampleHessians(oracle, spherePoints(4, 8, 1, 1), { pool, bridge: true, chunkSize: 1, maxBatchRows: 45 }).then(
        () => null,
        (e: unknown) => e,
      );
      // 45 rows per point: every task's batch is over the budget of 30, each refused with its code
      const errors = failed instanceof AggregateError ? failed.errors : [failed];
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) expect(e).toMatchObject({ code: 'E_QUERY_BUDGET' });
      expect(oracle.counts().total).toBe(0);
    } finally {
      await oracle.close?.();
    }
  });
});
