/**
 * Black boxes with k > 1 outputs over HTTP and in the query store: the protocol's
 * `{"outputs": [[y1..yk], ...]}`, k announced or learnt from the first answer and checked on every
 * answer, k numbers per stored row (format nnid.query-store/v2; v1 stores still read), the store
 * of another k refused, the stale-answer check on all k numbers, the budget in input rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { open } from 'lmdb';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { httpBlackBox, openOracleFromSpec, openQueryStore, QueryStoreError, serveNetwork } from '../src/index.ts';
import { gaussianPoints, json, scriptedServer } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const net = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs: 3, seed: 5 });
const other = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs: 3, seed: 6 });

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** A POST-only service (identity: its URL) answering [[y1..yk], ...] from a network the test swaps; `broken` answers row `broken.row` with 2 numbers. */
async function service() {
  let model = net;
  let broken: { row: number } | undefined;
  const server = await scriptedServer((_i, method, body, res) => {
    if (method === 'GET') return json(res, 404, { error: 'POST only' });
    const n = body.inputs.length;
    const Y = evaluateGeneral(model, { data: Float64Array.from(body.inputs.flat()), offset: 0, shape: [n, 6], strides: [6, 1] }).data;
    const rows = Array.from({ length: n }, (_, r) => Array.from(Y.subarray(r * 3, r * 3 + 3)));
    if (broken && broken.row < n) rows[broken.row] = rows[broken.row].slice(0, 2);
    json(res, 200, { outputs: rows });
  });
  return { server, deploy: (m: typeof net) => void (model = m), breakRow: (row: number) => void (broken = { row }) };
}

describe('HTTP black boxes with k outputs', () => {
  it('nnid serve of a v2 network with k = 3: announces k, answers [[y1, y2, y3], ...] bit for bit; evaluate refuses k > 1', async () => {
    const served = await serveNetwork(net, { port: 0 });
    try {
      const box = await httpBlackBox(served.url, { outputs: 'many' });
      expect([box.inputDim, box.outputs, box.description?.outputs]).toEqual([6, 3, 3]);
      const X = gaussianPoints(40, 6, 1);
      expect(Array.from(await box.evaluateOutputs(X))).toEqual(Array.from(evaluateGeneral(net, X).data));
      await expect(box.evaluate(X)).rejects.toThrow(`${served.url} answers 3 numbers per row: evaluate takes one; use evaluateOutputs (identifyOutputs; nnid identify does)`);
      await box.close();
      // a client asking for one number per row is told which row holds more
      const one = await httpBlackBox(served.url);
      await expect(one.evaluate(X)).rejects.toThrow(`${served.url} answered an array of 3 values for row 0, expected one number (or [number]) per row`);
      await one.close();
    } finally {
      await served.close();
    }
  });

  it('k learnt from the first answer when not announced, then checked on every row: one line naming the row and the count', async () => {
    const { server, breakRow } = await service();
    try {
      const box = await httpBlackBox(server.url, { outputs: 'many', inputDim: 6, batchSize: 16 });
      expect(box.outputs).toBeUndefined();
      const X = gaussianPoints(50, 6, 2);
      expect(Array.from(await box.evaluateOutputs(X))).toEqual(Array.from(evaluateGeneral(net, X).data));
      expect(box.outputs).toBe(3);
      // a server answering the bare array [[y1, y2, y3], ...] (no "outputs" wrapper)
      const bare = await scriptedServer((_i, method, body, res) => {
        if (method === 'GET') return json(res, 404, { error: 'POST only' });
        const n = body.inputs.length;
        const Y = evaluateGeneral(net, { data: Float64Array.from(body.inputs.flat()), offset: 0, shape: [n, 6], strides: [6, 1] }).data;
        json(res, 200, Array.from({ length: n }, (_, r) => Array.from(Y.subarray(r * 3, r * 3 + 3))));
      });
      const bareBox = await httpBlackBox(bare.url, { outputs: 'many', inputDim: 6 });
      expect(Array.from(await bareBox.evaluateOutputs(X))).toEqual(Array.from(evaluateGeneral(net, X).data));
      await bareBox.close();
      await bare.close();
      breakRow(5);
      await expect(box.evaluateOutputs(gaussianPoints(8, 6, 3))).rejects.toThrow(`${server.url} answered 2 numbers for row 5, expected k = 3 (as its first answer held)`);
      await box.close();
    } finally {
      await server.close();
    }
  });
});

describe('the query store with k outputs', () => {
  it('stores k numbers per row (format v2), reads back bit for bit after reopening, short and hashed keys', async () => {
    const path = join(dir, 'k3');
    for (const d of [6, 300]) {
      let store = openQueryStore(path);
      const X = gaussianPoints(5, d, 4);
      const values = Float64Array.from({ length: 15 }, (_, i) => i / 7 - 1);
      await store.putOutputs(`box-${d}`, 3, X, [0, 1, 2, 3, 4], values);
      await store.close();
      store = openQueryStore(path);
      const out = new Float64Array(15);
      const found = new Uint8Array(5);
      expect(store.lookupOutputs(`box-${d}`, 3, X, out, found)).toBe(5);
      expect(Array.from(out)).toEqual(Array.from(values));
      expect([store.outputsOf(`box-${d}`), store.count(`box-${d}`), store.outputsOf('none')]).toEqual([3, 5, undefined]);
      const sample = store.sampleOutputs(`box-${d}`, d, 3, 2);
      expect(sample.values.length).toBe(6);
      await store.close();
    }
  });

  it('a store written for k = 1 asked for k = 3 (and the reverse) refuses with one line; a v1 store (no format record) still reads', async () => {
    const path = join(dir, 'mixed');
    const X = gaussianPoints(4, 6, 5);
    let store = openQueryStore(path);
    await store.put('one', X, [0, 1, 2, 3], [1, 2, 3, 4]);
    await store.putOutputs('three', 3, X, [0], [1, 2, 3]);
    const file = join(path, 'queries.mdb');
    expect(() => store.lookupOutputs('one', 3, X, new Float64Array(12), new Uint8Array(4))).toThrow(
      `the query store ${file} holds answers of 1 number per row for one, which now answers 3 numbers per row; pass --no-store, or --store with a fresh directory`,
    );
    await expect(store.putOutputs('one', 3, X, [0], [1, 2, 3])).rejects.toThrow(QueryStoreError);
    expect(() => store.lookup('three', X, new Float64Array(4), new Uint8Array(4))).toThrow(
      `the query store ${file} holds answers of 3 numbers per row for three, which now answers 1 number per row; pass --no-store, or --store with a fresh directory`,
    );
    await store.close();

    // A store as nnid wrote it before k > 1 (no record, 8-byte values): read as k = 1.
    const oldPath = join(dir, 'v1');
    const raw = open<Buffer, Buffer>({ path: join(oldPath, 'queries.mdb'), keyEncoding: 'binary', encoding: 'binary', compression: false });
    const prefix = createHash('sha256').update('old').digest().subarray(0, 16);
    raw.transactionSync(() => {
      for (let r = 0; r < 4; r++) {
        const value = Buffer.alloc(8);
        value.writeDoubleLE(r + 0.5, 0);
        raw.putSync(Buffer.concat([prefix, Buffer.from(X.data.buffer, r * 48, 48)]), value);
      }
    });
    await raw.close();
    store = openQueryStore(oldPath);
    const out = new Float64Array(4);
    expect([store.lookup('old', X, out, new Uint8Array(4)), store.count('old'), store.outputsOf('old')]).toEqual([4, 4, 1]);
    expect(Array.from(out)).toEqual([0.5, 1.5, 2.5, 3.5]);
    expect(() => store.checkOutputs('old', 3, 'http://x/')).toThrow(`holds answers of 1 number per row for http://x/, which now answers 3 numbers per row`);
    await store.close();
  });

  it('openOracleFromSpec with outputs many: a rerun pays only the check, a redeployed model stops the run, a k = 1 store is refused, the budget counts rows', async () => {
    const { server, deploy } = await service();
    const storeDir = join(dir, 'spec-store');
    const X = gaussianPoints(60, 6, 6);
    try {
      const first = await openOracleFromSpec(server.url, { storeDir, inputDim: 6, outputs: 'many' });
      // k not announced: one row of zeros asked when it opened
      expect([first.outputs, first.paidAtOpen]).toEqual([3, 1]);
      await expect(first.evaluate(X)).rejects.toThrow('answers 3 numbers per row: evaluate takes one');
      expect(Array.from(await first.evaluateOutputs(X))).toEqual(Array.from(evaluateGeneral(net, X).data));
      expect(first.counts()).toEqual({ total: 60, paid: 60, reused: 0 });
      await first.close();

      const again = await openOracleFromSpec(server.url, { storeDir, inputDim: 6, outputs: 'many' });
      expect(again.storeCheck).toMatchObject({ stored: 60, checked: 4, paid: 4, maxDifference: 0 });
      expect(again.paidAtOpen).toBe(5);
      expect(Array.from(await again.evaluateOutputs(X))).toEqual(Array.from(evaluateGeneral(net, X).data));
      expect(again.counts()).toEqual({ total: 60, paid: 0, reused: 60 });
      await again.close();

      deploy(other);
      const e = await rejection(openOracleFromSpec(server.url, { storeDir, inputDim: 6, outputs: 'many' }));
      expect([e instanceof QueryStoreError, (e as QueryStoreError).reason]).toEqual([true, 'stale']);
      expect(e.message).toMatch(/^the query store .* holds answers that .* no longer gives \(another model deployed there\?\): of 4 stored queries asked again/);
      deploy(net);

      // the budget counts input rows (the probe and the check included)
      const budgeted = await openOracleFromSpec(server.url, { storeDir: join(dir, 'budget-store'), inputDim: 6, outputs: 'many', maxQueries: 30 });
      await expect(budgeted.evaluateOutputs(X)).rejects.toThrow('query budget exceeded: 0 queries used, 60 more requested, budget 29.');
      await budgeted.evaluateOutputs(gaussianPoints(29, 6, 7));
      expect(budgeted.counts()).toEqual({ total: 29, paid: 29, reused: 0 });
      await budgeted.close();
    } finally {
      await server.close();
    }

    // a store holding one number per row for this URL, asked for k = 3
    const single = await scriptedServer((_i, method, body, res) => {
      if (method === 'GET') return json(res, 404, { error: 'POST only' });
      json(res, 200, { outputs: body.inputs.map(() => 1) });
    });
    try {
      const oneDir = join(dir, 'one-store');
      const k1 = await openOracleFromSpec(single.url, { storeDir: oneDir, inputDim: 6 });
      await k1.evaluate(gaussianPoints(3, 6, 8));
      await k1.close();
      const store = openQueryStore(oneDir);
      // the same URL's answers, as if another (k = 3) model answered there now
      await expect(store.putOutputs(`http:${single.url}`, 3, gaussianPoints(1, 6, 9), [0], [1, 2, 3])).rejects.toThrow(
        `the query store ${join(oneDir, 'queries.mdb')} holds answers of 1 number per row for http:${single.url}, which now answers 3 numbers per row`,
      );
      await store.close();
    } finally {
      await single.close();
    }
  });

  it('serve a k = 3 network, identify-style use through the spec: k announced (no probe), answers stored k per row', async () => {
    const served = await serveNetwork(net, { port: 0 });
    const storeDir = join(dir, 'served-store');
    try {
      const oracle = await openOracleFromSpec(served.url, { storeDir, outputs: 'many' });
      expect([oracle.outputs, oracle.paidAtOpen, oracle.inputDim]).toEqual([3, 0, 6]);
      const X = gaussianPoints(20, 6, 10);
      await oracle.evaluateOutputs(X);
      expect(oracle.store?.outputsOf(oracle.identity)).toBe(3);
      expect(oracle.store?.count(oracle.identity)).toBe(20);
      await oracle.close();
    } finally {
      await served.close();
    }
  });
});
