/**
 * End to end: whole identifications through the three oracles (in-process, ONNX, HTTP on
 * 127.0.0.1), and a server that dies midway through sampling while the query store keeps
 * every answer received.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NnidError, serializeNetwork, toRows, type Network } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { identify, type IdentifyOptions } from '@nnid/pipeline';
import { exportOnnx, openOracleFromSpec, serveNetwork, type OracleSpecOptions } from '@nnid/black-box';

const dir = mkdtempSync(join(tmpdir(), 'nnid-black-box-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const net = randomNetwork({ inputDim: 10, width1: 5, width2: 3, activation: 'tanh', seed: 5 });
const netFile = join(dir, 'net.json');
writeFileSync(netFile, JSON.stringify(serializeNetwork(net)));
const options: IdentifyOptions = { activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 3, threads: 1 };

async function identifyThrough(spec: string, specOptions: OracleSpecOptions = {}) {
  const oracle = await openOracleFromSpec(spec, specOptions);
  try {
    return await identify(oracle, options);
  } finally {
    await oracle.close();
  }
}

function weights(n: Network) {
  return { A: toRows(n.A), theta: Array.from(n.theta), B: toRows(n.B), tau: Array.from(n.tau) };
}

describe('identification through real black boxes', () => {
  it('the in-process and HTTP oracles give the same network, bit for bit; ONNX sees the same data to rounding', async () => {
    const onnxFile = join(dir, 'net.onnx');
    await exportOnnx(net, onnxFile);
    const served = await serveNetwork(net, { port: 0 });
    try {
      const local = await identifyThrough(netFile);
      const http = await identifyThrough(served.url);
      const onnx = await identifyThrough(onnxFile);
      expect(weights(http.network)).toEqual(weights(local.network));
      expect(weights(http.networkBeforeRefinement)).toEqual(weights(local.networkBeforeRefinement));
      expect(http.report.queries).toEqual(local.report.queries);
      expect(http.report.spectrum).toEqual(local.report.spectrum);
      // ONNX answers differ from the network's by ~1e-15 (another summation order): the same
      // points are asked, and what the pipeline measures from them agrees to finite-difference
      // rounding (1e-15 / step^2). Later discrete choices may still differ, so networks are not compared.
      expect(onnx.report.queries.gradients).toBe(local.report.queries.gradients);
      expect(onnx.report.queries.hessians).toBe(local.report.queries.hessians);
      const [a, b] = [onnx.report.spectrum.hessians, local.report.spectrum.hessians];
      expect(a.length).toBe(b.length);
      for (let k = 0; k < a.length; k++) expect(Math.abs(a[k] - b[k])).toBeLessThan(1e-6 * b[0]);
    } finally {
      await served.close();
    }
  }, 60_000);

  it('a server stopped midway through sampling: identify fails, the store keeps every answer, the rerun pays only for the rest', async () => {
    const http = { batchSize: 50, concurrency: 1, retries: 1, backoffMs: 5 };
    // Reference: a clean run through HTTP with its own store.
    const clean = await serveNetwork(net, { port: 0 });
    const reference = await identifyThrough(clean.url, { storeDir: join(dir, 'store-reference'), http });
    await clean.close();
    const queries = reference.report.queries;
    expect(queries.total).toBe(queries.paid + queries.reused);

    // The first server answers 10 requests (500 rows: the gradients and part of the Hessians), then stops.
    let answered = 0;
    let first: Awaited<ReturnType<typeof serveNetwork>> | undefined;
    first = await serveNetwork(net, {
      port: 0,
      onRequest: (e) => {
        if (e.rows > 0 && ++answered === 10) void first!.close();
      },
    });
    const port = first.port;
    const storeDir = join(dir, 'store-fault');
    const failure = await identifyThrough(first.url, { storeDir, http }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(NnidError);
    expect((failure as NnidError).code).toBe('E_ORACLE_UNAVAILABLE');
    expect((failure as Error).message).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/ rows \\d+–\\d+: connection failed \\(ECONNREFUSED\\), after 1 retry$`));
    const stored = first.rowsAnswered();
    expect(stored).toBe(500);
    expect(stored).toBeGreaterThan(queries.gradients);

    // Restarted on the same port, the same command finishes and pays only for what was not stored.
    const second = await serveNetwork(net, { port });
    try {
      const resumed = await identifyThrough(second.url, { storeDir, http });
      expect(resumed.report.queries.total).toBe(queries.total);
      expect(resumed.report.queries.paid).toBe(queries.paid - stored);
      expect(resumed.report.queries.reused).toBe(queries.reused + stored);
      expect(second.rowsAnswered()).toBe(queries.paid - stored);
      expect(weights(resumed.network)).toEqual(weights(reference.network));
    } finally {
      await second.close();
    }
  }, 60_000);
});
