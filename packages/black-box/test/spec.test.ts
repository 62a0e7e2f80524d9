import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NnidError, serializeNetwork } from '@nnid/core';
import { evaluateNetwork, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { exportOnnx, openOracleFromSpec, openQueryStore, serveNetwork, TOKEN_ENV } from '../src/index.ts';
import { gaussianPoints } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const net = randomNetwork({ inputDim: 16, width1: 8, width2: 4, activation: 'tanh', seed: 21 });
const netFile = join(dir, 'net.json');
writeFileSync(netFile, JSON.stringify(serializeNetwork(net)));

async function rejection(promise: Promise<unknown>): Promise<NnidError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NnidError);
  return error as NnidError;
}

describe('openOracleFromSpec', () => {
  it('the same network answers the same through the in-process, ONNX and HTTP oracles', async () => {
    const onnxFile = join(dir, 'net.onnx');
    await exportOnnx(net, onnxFile);
    const served = await serveNetwork(net, { port: 0 });
    const X = gaussianPoints(3000, 16, 8);
    const ref = evaluateNetwork(net, X);
    const answers: Record<string, Float64Array> = {};
    for (const spec of [netFile, onnxFile, served.url]) {
      const oracle = await openOracleFromSpec(spec, { maxQueries: 3000 });
      answers[oracle.kind] = await oracle.evaluate(X);
      expect(oracle.counts()).toEqual({ total: 3000, paid: 3000, reused: 0 });
      await oracle.close();
    }
    await served.close();
    expect(Array.from(answers.network)).toEqual(Array.from(ref));
    expect(Array.from(answers.http)).toEqual(Array.from(ref));
    let maxAbs = 0;
    for (let i = 0; i < ref.length; i++) maxAbs = Math.max(maxAbs, Math.abs(answers.onnx[i] - ref[i]));
    expect(maxAbs).toBeLessThan(4 * 5 * 2 ** -52);
  });

  it('a server dying midway: the run fails, every answer received is kept, the rerun pays only for the rest', async () => {
    const storeDir = join(dir, 'fault-store');
    const X = gaussianPoints(500, 16, 9);
    // The first server stops after answering 4 requests of 50 rows.
    let answered = 0;
    let first: Awaited<ReturnType<typeof serveNetwork>> | undefined;
    first = await serveNetwork(net, {
      port: 0,
      onRequest: (e) => {
        if (e.rows > 0 && ++answered === 4) void first!.close();
      },
    });
    const port = first.port;
    const http = { batchSize: 50, concurrency: 1, retries: 2, backoffMs: 5 };
    const run1 = await openOracleFromSpec(first.url, { storeDir, http, maxQueries: 500 });
    const e = await rejection(run1.evaluate(X));
    expect(e.code).toBe('E_ORACLE_UNAVAILABLE');
    expect(e.message).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/ rows 200–249: connection failed \\(ECONNREFUSED\\), after 2 retries$`));
    expect(first.rowsAnswered()).toBe(200);
    expect(run1.store!.count(run1.identity)).toBe(200);
    await run1.close();

    // Restarted (same port): the same sequence pays for the 300 rows not yet stored.
    const second = await serveNetwork(net, { port });
    const run2 = await openOracleFromSpec(second.url, { storeDir, http, maxQueries: 300 });
    const values = await run2.evaluate(X);
    expect(run2.counts()).toEqual({ total: 500, paid: 300, reused: 200 });
    expect(second.rowsAnswered()).toBe(300);
    expect(Array.from(values)).toEqual(Array.from(evaluateNetwork(net, X)));
    await run2.close();

    // Once more: nothing to pay, and a budget of 0 paid queries is enough.
    const run3 = await openOracleFromSpec(second.url, { storeDir, http, maxQueries: 0 });
    await run3.evaluate(X);
    expect(run3.counts()).toEqual({ total: 500, paid: 0, reused: 500 });
    await run3.close();
    await second.close();
  });

  it('the budget limits paid queries', async () => {
    const storeDir = join(dir, 'budget-store');
    const X = gaussianPoints(100, 16, 10);
    const a = await openOracleFromSpec(netFile, { storeDir, maxQueries: 60 });
    await a.evaluate({ ...X, shape: [60, 16] });
    await a.close();
    const b = await openOracleFromSpec(netFile, { storeDir, maxQueries: 39 });
    const e = await rejection(b.evaluate(X));
    expect([e.code, e.message]).toEqual([
      'E_QUERY_BUDGET',
      'query budget exceeded: 0 queries used, 40 more requested, budget 39. Raise the budget (--max-queries) or lower the sampling counts.',
    ]);
    await b.close();
  });

  it('takes the token from NNID_ORACLE_TOKEN; the option wins over it', async () => {
    const served = await serveNetwork(net, { port: 0, token: 'tok' });
    const saved = process.env[TOKEN_ENV];
    try {
      process.env[TOKEN_ENV] = 'tok';
      const a = await openOracleFromSpec(served.url);
      expect((await a.evaluate(gaussianPoints(2, 16, 1))).length).toBe(2);
      await a.close();
      const e = await rejection(openOracleFromSpec(served.url, { token: 'other' }));
      expect([e.code, e.message]).toEqual(['E_ORACLE', `${served.url} description (GET): HTTP 401 Unauthorized: wrong bearer token (check the token: --oracle-token or NNID_ORACLE_TOKEN)`]);
      delete process.env[TOKEN_ENV];
      const missing = await rejection(openOracleFromSpec(served.url, { http: { retries: 0 } }));
      expect(missing.message).toMatch(/HTTP 401 Unauthorized: missing bearer token/);
    } finally {
      if (saved === undefined) delete process.env[TOKEN_ENV];
      else process.env[TOKEN_ENV] = saved;
      await served.close();
    }
  });

  it('names what is wrong with a spec', async () => {
    let e = await rejection(openOracleFromSpec('model.pt'));
    expect(e.message).toBe('invalid argument. `oracle` must be a network file (.json), an ONNX model (.onnx) or an http(s):// URL. Value: `model.pt`.');
    e = await rejection(openOracleFromSpec(join(dir, 'none.json')));
    expect([e.code, e.message]).toEqual(['E_FILE_READ', `cannot read ${join(dir, 'none.json')}: no such file`]);
    e = await rejection(openOracleFromSpec(join(dir, 'none.onnx'), { noise: 0.1 }));
    expect(e.message).toBe('invalid argument. `noise` applies to in-process networks (.json) only; a real black box has its own noise. Value: `0.1`.');
    const noisy = await openOracleFromSpec(netFile, { noise: 1e-3, seed: 4 });
    const X = gaussianPoints(3, 16, 2);
    expect(Array.from(await noisy.evaluate(X))).toEqual(Array.from(await networkBlackBox(net, { noise: 1e-3, noiseSeed: 4 }).evaluate(X)));
    await noisy.close();
  });

  it('keeps stores of different oracles apart', async () => {
    const storeDir = join(dir, 'shared-store');
    const other = randomNetwork({ inputDim: 16, width1: 8, width2: 4, activation: 'tanh', seed: 22 });
    const otherFile = join(dir, 'other.json');
    writeFileSync(otherFile, JSON.stringify(serializeNetwork(other)));
    const X = gaussianPoints(50, 16, 3);
    for (const [file, network] of [[netFile, net], [otherFile, other]] as const) {
      const oracle = await openOracleFromSpec(file, { storeDir });
      expect(Array.from(await oracle.evaluate(X))).toEqual(Array.from(evaluateNetwork(network, X)));
      expect(oracle.counts().paid).toBe(50);
      await oracle.close();
    }
    const store = openQueryStore(storeDir);
    expect(store.count(networkBlackBox(net).identity)).toBe(50);
    expect(store.count(networkBlackBox(other).identity)).toBe(50);
    await store.close();
  });
});
