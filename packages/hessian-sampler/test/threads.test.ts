import { afterAll, describe, expect, it } from 'vitest';
import { NnidError, QueryBudgetError, type BlackBox, type Oracle } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { createSamplerPool, sampleGradients, sampleHessians, spherePoints } from '@nnid/hessian-sampler';
import { bytes, randomBasis } from '@nnid/testing';

const d = 12;
const net = randomNetwork({ inputDim: d, width1: 8, width2: 4, seed: 21 });
const points = spherePoints(13, d, 1, 5);
const pool4 = createSamplerPool({ threads: 4 });
const pool2 = createSamplerPool({ threads: 2 });
afterAll(async () => {
  await pool4.close();
  await pool2.close();
});

/** The same black box without a worker spec (as a remote one would be). */
function remote(box: BlackBox): BlackBox {
  return { inputDim: box.inputDim, identity: box.identity, evaluate: (x) => box.evaluate(x) };
}

describe('determinism across threads', () => {
  for (const scheme of ['forward', 'central'] as const) {
    it(`${scheme}: byte-identical stacks (and gradients) for threads 1, 2 and 4, any chunking, noisy or not`, async () => {
      for (const noise of [0, 1e-9]) {
        const box = networkBlackBox(net, { noise, noiseSeed: 3 });
        const run = (threads: number, extra: object = {}) => sampleHessians(createOracle(box), points, { scheme, threads, gradients: true, ...extra });
        const one = await run(1);
        expect(one.report.mode).toBe('main-thread');
        // threads: 2 makes (and closes) its own pool once per scheme; the noisy run reuses one
        const two = noise === 0 ? await run(2) : await run(2, { pool: pool2 });
        expect(two.report.mode).toBe('workers');
        const four = await run(4, { pool: pool4, chunkSize: 3 });
        const fourOther = await run(4, { pool: pool4, chunkSize: 1 });
        const viaRemote = await sampleHessians(createOracle(remote(box)), points, { scheme, threads: 2, gradients: true, maxBatchRows: 50 });
        expect(viaRemote.report.mode).toBe('main-thread');
        for (const other of [two, four, fourOther, viaRemote]) {
          expect(bytes(other.hessianStack).equals(bytes(one.hessianStack))).toBe(true);
          expect(bytes(other.gradients!).equals(bytes(one.gradients!))).toBe(true);
          expect(other.queries).toBe(one.queries);
        }
      }
    });
  }

  it('reduced (basis) Hessians and gradients are byte-identical across threads too', async () => {
    const U = randomBasis(d, 5, 2);
    const box = networkBlackBox(net);
    const h1 = await sampleHessians(createOracle(box), points, { basis: U, threads: 1, layout: 'packed' });
    const h4 = await sampleHessians(createOracle(box), points, { basis: U, pool: pool4, layout: 'packed' });
    expect(bytes(h4.hessianStack).equals(bytes(h1.hessianStack))).toBe(true);
    const g1 = await sampleGradients(createOracle(box), points, { basis: U, threads: 1 });
    const g4 = await sampleGradients(createOracle(box), points, { basis: U, pool: pool4 });
    expect(bytes(g4.gradientStack).equals(bytes(g1.gradientStack))).toBe(true);
  });

  it('queries evaluated in workers are counted by the oracle, and progress reaches the end', async () => {
    const oracle = createOracle(networkBlackBox(net));
    const seen: number[] = [];
    const { queries, report } = await sampleHessians(oracle, points, { pool: pool4, scheme: 'central', onProgress: (done, total) => seen.push(done / total) });
    expect(queries).toBe(13 * (2 * d * d + 1));
    expect(oracle.counts()).toEqual({ total: queries, paid: queries, reused: 0 });
    expect(report.chunks).toBeGreaterThan(1);
    expect(seen[seen.length - 1]).toBe(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });
});

describe('budget and failures', () => {
  it('a sampling that would exceed the budget fails before any query', async () => {
    const oracle = createOracle(networkBlackBox(net), { maxQueries: 1000 });
    const perPoint = ((d + 1) * (d + 2)) / 2;
    const err = await sampleHessians(oracle, points, { pool: pool4 }).catch((e) => e);
    expect(err).toBeInstanceOf(QueryBudgetError);
    expect(err.message).toBe(
      `query budget exceeded: 0 queries used, ${13 * perPoint} more requested, budget 1000. Raise the budget (--max-queries) or lower the sampling counts.`,
    );
    expect(oracle.counts().total).toBe(0);
  });

  it('several failing worker tasks surface together as an AggregateError of coded errors; one as itself', async () => {
    const good = createOracle(networkBlackBox(net));
    const broken: Oracle = { ...good, workerSpec: () => ({ kind: 'not-a-network' }) };
    const err = await sampleHessians(broken, points, { threads: 2, chunkSize: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(AggregateError);
    expect(err.message).toBe('3 of 3 sampling tasks failed');
    for (const e of err.errors) {
      expect(e).toBeInstanceOf(NnidError);
      expect(e.code).toBe('E_INVALID_ARGUMENT');
      expect(e.message).toBe("invalid argument. `spec` must be a worker spec of kind 'nnid.network-black-box/v1'. Value: `not-a-network`.");
    }
    const single = await sampleHessians(broken, points, { threads: 2, chunkSize: 13 }).catch((e) => e);
    expect(single).toBeInstanceOf(NnidError);
    expect(single.code).toBe('E_INVALID_ARGUMENT');
    expect(good.counts().paid).toBe(0); // the tasks failed before asking anything
  });
});

describe('options are checked at the surface', () => {
  const oracle = createOracle(networkBlackBox(net));
  const cases: [string, Parameters<typeof sampleHessians>[2], string][] = [
    ['step', { step: 0 }, 'invalid argument. `step` must be a finite number > 0. Value: `0`.'],
    ['scheme', { scheme: 'backward' as never }, "invalid argument. `scheme` must be one of 'forward', 'central'. Value: `backward`."],
    ['layout', { layout: 'tri' as never }, "invalid argument. `layout` must be one of 'full', 'packed'. Value: `tri`."],
    ['threads', { threads: 0 }, 'invalid argument. `threads` must be an integer in [1, 1024]. Value: `0`.'],
    ['seed', { seed: -2 }, 'invalid argument. `seed` must be a nonnegative integer. Value: `-2`.'],
    ['chunkSize', { chunkSize: 1.5 }, 'invalid argument. `chunkSize` must be a positive integer. Value: `1.5`.'],
  ];
  for (const [name, options, message] of cases) {
    it(`rejects a bad ${name}`, async () => {
      await expect(sampleHessians(oracle, points, options)).rejects.toThrow(message);
    });
  }

  it('rejects a basis whose columns are not orthonormal, and points of the wrong width', async () => {
    const U = randomBasis(d, 3, 1);
    U.data[0] += 1e-3;
    await expect(sampleHessians(oracle, points, { basis: U })).rejects.toThrow(/^invalid argument. `basis` must have orthonormal columns \(max \|U\^T U - I\| = .*\)\. Value: `12 x 3`\.$/);
    const err = await sampleHessians(oracle, spherePoints(2, d + 1, 1, 1)).catch((e) => e);
    expect(err.code).toBe('E_DIMENSION_MISMATCH');
    expect(err.message).toBe('invalid argument. `points` must have inputDim = 12 columns. Value: `13`.');
  });
});
