import { describe, expect, it } from 'vitest';
import { matrix, matrixFrom, NnidError, QueryBudgetError, rowRange, type BlackBox, type Float64View, type QueryCache } from '@nnid/core';
import { blackBoxFromWorkerSpec, createOracle, evaluateNetwork, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { randomMatrix } from '@nnid/testing';

const net = randomNetwork({ inputDim: 8, width1: 5, width2: 3, seed: 11 });

/** n points from N(0, I_8). */
const points = (n: number, seed = 1): Float64View => randomMatrix(n, 8, seed);

/** Reverses the row order of a batch (a new dense matrix). */
function reversed(X: Float64View): Float64View {
  const [n, d] = X.shape;
  const out = matrix(n, d);
  for (let r = 0; r < n; r++) out.data.set(X.data.subarray((n - 1 - r) * d, (n - r) * d), r * d);
  return out;
}

/** A QueryCache in memory, keyed by identity and the exact bits of the row. */
class MemoryCache implements QueryCache {
  readonly store = new Map<string, number>();
  puts = 0;
  private key(identity: string, inputs: Float64View, r: number): string {
    const d = inputs.shape[1];
    const row = new Float64Array(d);
    for (let j = 0; j < d; j++) row[j] = inputs.data[inputs.offset + r * inputs.strides[0] + j * inputs.strides[1]];
    return identity + ':' + Buffer.from(row.buffer).toString('hex');
  }
  lookup(identity: string, inputs: Float64View, out: Float64Array, found: Uint8Array): number {
    let n = 0;
    for (let r = 0; r < inputs.shape[0]; r++) {
      const v = this.store.get(this.key(identity, inputs, r));
      if (v !== undefined) {
        out[r] = v;
        found[r] = 1;
        n++;
      }
    }
    return n;
  }
  async put(identity: string, inputs: Float64View, rows: ArrayLike<number>, values: ArrayLike<number>): Promise<void> {
    this.puts++;
    for (let k = 0; k < rows.length; k++) this.store.set(this.key(identity, inputs, rows[k]), values[k]);
  }
  async close(): Promise<void> {}
}

describe('createOracle', () => {
  it('answers as the network and counts every query', async () => {
    const oracle = createOracle(networkBlackBox(net));
    const X = points(7);
    expect(Array.from(await oracle.evaluate(X))).toEqual(Array.from(evaluateNetwork(net, X)));
    await oracle.evaluate(points(3, 2));
    expect(oracle.counts()).toEqual({ total: 10, paid: 10, reused: 0 });
    oracle.recordExternal(5);
    expect(oracle.counts()).toEqual({ total: 15, paid: 15, reused: 0 });
  });

  it('throws QueryBudgetError before a batch that would exceed the budget, and asks nothing', async () => {
    let asked = 0;
    const box = networkBlackBox(net);
    const counting: BlackBox = { ...box, evaluate: (x) => ((asked += x.shape[0]), box.evaluate(x)) };
    const oracle = createOracle(counting, { maxQueries: 100 });
    await oracle.evaluate(points(90));
    const err = await oracle.evaluate(points(20)).catch((e) => e);
    expect(err).toBeInstanceOf(QueryBudgetError);
    expect(err.code).toBe('E_QUERY_BUDGET');
    expect(err.message).toBe(
      'query budget exceeded: 90 queries used, 20 more requested, budget 100. Raise the budget (--max-queries) or lower the sampling counts.',
    );
    expect(asked).toBe(90);
    expect(oracle.counts().paid).toBe(90);
    await oracle.evaluate(points(10)); // exactly up to the budget is allowed
    expect(() => oracle.reserve(1)).toThrow('query budget exceeded: 100 queries used, 1 more requested, budget 100.');
  });

  it('reserve checks work that workers will do; recordExternal counts it', () => {
    const oracle = createOracle(networkBlackBox(net), { maxQueries: 50 });
    expect(() => oracle.reserve(50)).not.toThrow();
    expect(() => oracle.reserve(51)).toThrow(QueryBudgetError);
    oracle.recordExternal(30);
    expect(() => oracle.reserve(21)).toThrow('query budget exceeded: 30 queries used, 21 more requested, budget 50.');
  });

  it('concurrent batches cannot both pass the budget', async () => {
    const oracle = createOracle(networkBlackBox(net), { maxQueries: 15 });
    const results = await Promise.allSettled([oracle.evaluate(points(10)), oracle.evaluate(points(10))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(oracle.counts().paid).toBe(10);
  });

  it('rejects a non-finite answer naming the row and the value (E_ORACLE_OUTPUT)', async () => {
    const bad: BlackBox = { inputDim: 8, identity: 'bad', evaluate: async (x) => Float64Array.from({ length: x.shape[0] }, (_, i) => (i === 3 ? NaN : 0)) };
    const err = await createOracle(bad).evaluate(points(5)).catch((e) => e);
    expect(err).toBeInstanceOf(NnidError);
    expect(err.code).toBe('E_ORACLE_OUTPUT');
    expect(err.message).toBe('black box answered `NaN` for row 3 of the batch, expected a finite number');
    const short: BlackBox = { inputDim: 8, identity: 'short', evaluate: async () => new Float64Array(4) };
    await expect(createOracle(short).evaluate(points(5))).rejects.toThrow('black box answered 4 values for a batch of 5 rows');
  });

  it('rejects a batch of the wrong width (E_DIMENSION_MISMATCH)', async () => {
    const err = await createOracle(networkBlackBox(net)).evaluate(matrix(2, 7)).catch((e) => e);
    expect(err.code).toBe('E_DIMENSION_MISMATCH');
    expect(err.message).toBe('invalid argument. `inputs` must have inputDim = 8 columns. Value: `7`.');
  });

  it('with a cache: hits are reused, misses are paid and stored, the budget counts only paid ones', async () => {
    const cache = new MemoryCache();
    const box = networkBlackBox(net);
    const oracle = createOracle(box, { cache, maxQueries: 12 });
    expect(oracle.workerSpec).toBeUndefined();
    const X = points(10);
    const first = await oracle.evaluate(rowRange(X, 0, 6));
    expect(oracle.counts()).toEqual({ total: 6, paid: 6, reused: 0 });
    expect(cache.store.size).toBe(6);
    const all = await oracle.evaluate(X); // rows 0..5 found, 6..9 asked
    expect(oracle.counts()).toEqual({ total: 16, paid: 10, reused: 6 });
    expect(Array.from(all)).toEqual(Array.from(evaluateNetwork(net, X)));
    expect(Array.from(all.subarray(0, 6))).toEqual(Array.from(first));
    // a second oracle on the same store pays nothing for them
    const again = createOracle(box, { cache, maxQueries: 0 });
    await again.evaluate(reversed(X));
    expect(again.counts()).toEqual({ total: 10, paid: 0, reused: 10 });
    await expect(again.evaluate(points(1, 99))).rejects.toThrow(QueryBudgetError);
  });

  it('rejects a bad budget', () => {
    expect(() => createOracle(networkBlackBox(net), { maxQueries: -1 })).toThrow('invalid argument. `maxQueries` must be a nonnegative integer. Value: `-1`.');
  });
});

describe('networkBlackBox', () => {
  it('noise depends only on (noiseSeed, the bits of x): same across order and batch split', async () => {
    const box = networkBlackBox(net, { noise: 0.01, noiseSeed: 3 });
    const X = points(40);
    const whole = await box.evaluate(X);
    const rev = await box.evaluate(reversed(X));
    for (let r = 0; r < 40; r++) expect(rev[39 - r]).toBe(whole[r]);
    const parts = [...(await box.evaluate(rowRange(X, 0, 13))), ...(await box.evaluate(rowRange(X, 13, 40)))];
    expect(parts).toEqual(Array.from(whole));
    const exact = evaluateNetwork(net, X);
    const diffs = Array.from(whole, (v, r) => v - exact[r]);
    const sd = Math.sqrt(diffs.reduce((s, v) => s + v * v, 0) / 40);
    expect(sd).toBeGreaterThan(0.005);
    expect(sd).toBeLessThan(0.02);
    const other = await networkBlackBox(net, { noise: 0.01, noiseSeed: 4 }).evaluate(X);
    expect(other[0]).not.toBe(whole[0]);
  });

  it('the identity is stable, and changes with the numbers and the noise settings', () => {
    const id = networkBlackBox(net).identity;
    expect(networkBlackBox(randomNetwork({ inputDim: 8, width1: 5, width2: 3, seed: 11 })).identity).toBe(id);
    expect(networkBlackBox(randomNetwork({ inputDim: 8, width1: 5, width2: 3, seed: 12 })).identity).not.toBe(id);
    expect(networkBlackBox(net, { noise: 0.1 }).identity).not.toBe(id);
    expect(networkBlackBox(net, { noise: 0.1, noiseSeed: 1 }).identity).not.toBe(networkBlackBox(net, { noise: 0.1 }).identity);
  });

  it('a black box rebuilt from a structured clone of workerSpec answers bit for bit the same', async () => {
    const box = networkBlackBox(net, { noise: 1e-3, noiseSeed: 8 });
    const copy = blackBoxFromWorkerSpec(structuredClone(box.workerSpec()));
    const X = points(20);
    expect(Array.from(await copy.evaluate(X))).toEqual(Array.from(await box.evaluate(X)));
    expect(copy.identity).toBe(box.identity);
  });

  it('rejects a bad worker spec and bad noise settings', () => {
    expect(() => blackBoxFromWorkerSpec({ kind: 'x' })).toThrow("invalid argument. `spec` must be a worker spec of kind 'nnid.network-black-box/v1'. Value: `x`.");
    expect(() => networkBlackBox(net, { noise: NaN })).toThrow('invalid argument. `noise` must be a finite number >= 0. Value: `NaN`.');
    expect(() => networkBlackBox(net, { noiseSeed: 1.5 })).toThrow('invalid argument. `noiseSeed` must be a nonnegative integer. Value: `1.5`.');
  });

  it('evaluates a single 1-d point', async () => {
    const x = points(1).data;
    expect((await networkBlackBox(net).evaluate({ data: x, offset: 0, shape: [8], strides: [1] }))[0]).toBe(
      evaluateNetwork(net, matrixFrom(x, 1, 8))[0],
    );
  });
});
