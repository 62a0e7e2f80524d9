import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeNetwork } from '@nnid/core';
import { evaluateNetwork, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { rng } from '@nnid/core';
import { exportOnnx, openOracleFromSpec, openQueryStore, ORACLE_ADAPTERS, QueryStoreError, serveNetwork, TOKEN_ENV, type OracleAdapter } from '../src/index.ts';
import { gaussianPoints, json, scriptedServer } from './helpers.ts';
import { rejection } from '@nnid/testing';

const dir = mkdtempSync(join(tmpdir(), 'nnid-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const net = randomNetwork({ inputDim: 16, width1: 8, width2: 4, activation: 'tanh', seed: 21 });
const netFile = join(dir, 'net.json');
writeFileSync(netFile, JSON.stringify(serializeNetwork(net)));

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

    // Restarted (same port): the same sequence pays for the 300 rows not yet stored, plus the
    // 4 stored queries asked again before the store is trusted (they count against the budget).
    const second = await serveNetwork(net, { port });
    const run2 = await openOracleFromSpec(second.url, { storeDir, http, maxQueries: 304 });
    expect(run2.storeCheck).toEqual({ stored: 200, checked: 4, paid: 4, maxDifference: 0, threshold: expect.any(Number) });
    const values = await run2.evaluate(X);
    expect(run2.counts()).toEqual({ total: 500, paid: 300, reused: 200 });
    expect(second.rowsAnswered()).toBe(304);
    expect(Array.from(values)).toEqual(Array.from(evaluateNetwork(net, X)));
    await run2.close();

    // Once more: nothing to pay but the check; a budget smaller than the check is refused.
    const e3 = await rejection(openOracleFromSpec(second.url, { storeDir, http, maxQueries: 3 }));
    expect(e3.message).toBe('query budget exceeded: 0 queries used, 4 more requested, budget 3. Raise the budget (--max-queries) or lower the sampling counts.');
    const run3 = await openOracleFromSpec(second.url, { storeDir, http, maxQueries: 4 });
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

describe('stored answers that went stale', () => {
  /** A POST-only service (its identity is its URL) whose model the test swaps; `noise` > 0 adds fresh noise to every answer. */
  async function service(noise = 0) {
    let model = net;
    let requests = 0;
    const server = await scriptedServer((_i, method, body, res) => {
      if (method === 'GET') return json(res, 404, { error: 'POST only' });
      const X = { data: Float64Array.from(body.inputs.flat()), offset: 0, shape: [body.inputs.length, 16], strides: [16, 1] };
      const y = Array.from(evaluateNetwork(model, X));
      // Noise that differs at every request (seeded by the request's number: a repeatable test).
      const stream = rng(1000 + requests++);
      json(res, 200, { outputs: y.map((v) => v + noise * stream.normal()) });
    });
    return { server, deploy: (other: typeof net) => void (model = other) };
  }
  const other = randomNetwork({ inputDim: 16, width1: 8, width2: 4, activation: 'tanh', seed: 23 });

  it('another model deployed at the same URL: the store is refused before any answer comes from it', async () => {
    const { server, deploy } = await service();
    const storeDir = join(dir, 'stale-store');
    const X = gaussianPoints(200, 16, 12);
    try {
      const first = await openOracleFromSpec(server.url, { storeDir, inputDim: 16 });
      expect(first.storeCheck).toEqual({ stored: 0, checked: 0, paid: 0, maxDifference: 0, threshold: 0, skipped: 'empty' });
      await first.evaluate(X);
      await first.close();
      // Same model: the check passes (4 queries paid) and the rerun is answered by the store.
      const same = await openOracleFromSpec(server.url, { storeDir, inputDim: 16 });
      expect(same.storeCheck).toMatchObject({ stored: 200, checked: 4, paid: 4, maxDifference: 0 });
      await same.evaluate(X);
      expect(same.counts()).toEqual({ total: 200, paid: 0, reused: 200 });
      await same.close();

      deploy(other);
      const e = await rejection(openOracleFromSpec(server.url, { storeDir, inputDim: 16 }));
      expect(e).toBeInstanceOf(QueryStoreError);
      expect([e.code, (e as QueryStoreError).reason, (e as QueryStoreError).path]).toEqual(['E_ORACLE', 'stale', join(storeDir, 'queries.mdb')]);
      expect(e.message).toMatch(
        new RegExp(
          `^the query store ${join(storeDir, 'queries.mdb')} holds answers that ${server.url} no longer gives \\(another model deployed there\\?\\): ` +
            'of 4 stored queries asked again, the largest difference is [0-9.e-]+ \\(noise level [0-9.e-]+\\); pass --no-store, or --store with a fresh directory$',
        ),
      );
      // The check's answers were compared, not stored: the old answers are untouched.
      const store = openQueryStore(storeDir);
      const out = new Float64Array(200);
      expect(store.lookup(`http:${server.url}`, X, out, new Uint8Array(200))).toBe(200);
      expect(Array.from(out)).toEqual(Array.from(evaluateNetwork(net, X)));
      await store.close();
      // Without the store, the new model answers.
      const fresh = await openOracleFromSpec(server.url, { inputDim: 16 });
      expect(Array.from(await fresh.evaluate(X))).toEqual(Array.from(evaluateNetwork(other, X)));
      await fresh.close();
    } finally {
      await server.close();
    }
  });

  it('a noisy service: answers that differ by its own noise pass (the repeat measures it)', async () => {
    const { server } = await service(1e-3);
    const storeDir = join(dir, 'noisy-store');
    try {
      const first = await openOracleFromSpec(server.url, { storeDir, inputDim: 16 });
      await first.evaluate(gaussianPoints(100, 16, 13));
      await first.close();
      const again = await openOracleFromSpec(server.url, { storeDir, inputDim: 16 });
      expect(again.storeCheck).toMatchObject({ stored: 100, checked: 4, paid: 8 });
      expect(again.storeCheck!.maxDifference).toBeGreaterThan(1e-5);
      expect(again.storeCheck!.maxDifference).toBeLessThanOrEqual(again.storeCheck!.threshold);
      await again.close();
    } finally {
      await server.close();
    }
  });
});

describe('the adapter table', () => {
  it('one row adds a kind of black box; kind forces a row; inputDim is checked against what the box declares', async () => {
    const constant: OracleAdapter = {
      kind: 'const',
      description: 'a constant (const:VALUE)',
      matches: (spec) => spec.startsWith('const:'),
      open: async (spec, c) => ({
        inputDim: c.inputDim ?? 1,
        identity: spec,
        evaluate: async (X) => new Float64Array(X.shape[0]).fill(Number(spec.slice(6))),
      }),
    };
    const adapters = [...ORACLE_ADAPTERS, constant];
    const storeDir = join(dir, 'const-store');
    const oracle = await openOracleFromSpec('const:7', { adapters, inputDim: 3, storeDir });
    expect([oracle.kind, oracle.inputDim]).toEqual(['const', 3]);
    expect(Array.from(await oracle.evaluate(gaussianPoints(2, 3, 1)))).toEqual([7, 7]);
    await oracle.close();
    let e = await rejection(openOracleFromSpec('const:7'));
    expect(e.message).toBe('invalid argument. `oracle` must be a network file (.json), an ONNX model (.onnx) or an http(s):// URL. Value: `const:7`.');

    // --network names a file by any name: kind 'network' opens it without looking at the extension.
    const bare = join(dir, 'net-without-extension');
    writeFileSync(bare, JSON.stringify(serializeNetwork(net)));
    const byKind = await openOracleFromSpec(bare, { kind: 'network' });
    expect(byKind.identity).toBe(networkBlackBox(net).identity);
    await byKind.close();
    e = await rejection(openOracleFromSpec(netFile, { inputDim: 15 }));
    expect([e.code, e.message]).toEqual(['E_DIMENSION_MISMATCH', `${netFile} takes inputs of dimension 16, but inputDim = 15 was requested`]);
    e = await rejection(openOracleFromSpec(netFile, { kind: 'grpc' }));
    expect(e.message).toBe('invalid argument. `kind` must be one of network, onnx, http. Value: `grpc`.');
  });
});
