/**
 * End to end: whole identifications through the three oracles (in-process, ONNX, HTTP on
 * 127.0.0.1), and a server that dies midway through sampling while the query store keeps
 * every answer received.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NnidError, serializeNetwork, toRows, type Network } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { identify, type IdentifyOptions } from '@nnid/pipeline';
import { exportOnnx, openOracleFromSpec, serveNetwork, TOKEN_ENV, type OracleSpecOptions } from '@nnid/black-box';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-black-box-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const net = randomNetwork({ inputDim: 10, width1: 5, width2: 3, activation: 'tanh', seed: 5 });
const netFile = join(dir, 'net.json');
writeFileSync(netFile, JSON.stringify(serializeNetwork(net)));
// The paper's pipeline without refinement: the same queries are asked, in a tenth of the time.
const options: IdentifyOptions = { activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 3, threads: 1, refine: false };

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

    // The first server answers 10 requests (up to 500 rows: the gradients and part of the Hessians), then stops.
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
    // ten requests of at most 50 rows (a stage's last request may be short)
    expect(stored).toBeLessThanOrEqual(500);
    expect(stored).toBeGreaterThan(400);
    expect(stored).toBeGreaterThan(queries.gradients);

    // Restarted on the same port, the same command finishes and pays only for what was not stored.
    const second = await serveNetwork(net, { port });
    try {
      const resumed = await identifyThrough(second.url, { storeDir, http });
      expect(resumed.report.queries.total).toBe(queries.total);
      expect(resumed.report.queries.paid).toBe(queries.paid - stored);
      expect(resumed.report.queries.reused).toBe(queries.reused + stored);
      // ... plus the 4 stored queries asked again before the store is trusted.
      expect(second.rowsAnswered()).toBe(queries.paid - stored + 4);
      expect(weights(resumed.network)).toEqual(weights(reference.network));
    } finally {
      await second.close();
    }
  }, 60_000);
});

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('nnid identify --oracle', () => {
  it('identifies through an HTTP oracle with a token from the environment; the rerun is answered by the store', async () => {
    const served = await serveNetwork(net, { port: 0, token: 'k3y' });
    const saved = process.env[TOKEN_ENV];
    process.env[TOKEN_ENV] = 'k3y';
    try {
      const store = join(dir, 'cli-store');
      const outs = [join(dir, 'r1.json'), join(dir, 'r2.json')];
      const reports = [];
      for (const out of outs) {
        const r = await run(['identify', '--oracle', served.url, '--activation', 'tanh', '--store', store, '--seed', '3', '--threads', '1', '--no-refine', '--quiet', '--out', out]);
        const result = JSON.parse(readFileSync(out, 'utf8'));
        expect(r.code).toBe(result.report.check.passed === false ? 1 : 0);
        expect(r.err).toEqual([]);
        reports.push({ result, out: r.out });
      }
      const [first, second] = reports;
      expect(first.result.report.oracle).toEqual({
        kind: 'http',
        spec: served.url,
        identity: expect.stringMatching(/^http:nnid\.network:d10-m5-m3:/),
        store,
        storeCheck: { stored: 0, checked: 0, paid: 0, maxDifference: 0, threshold: 0, skipped: 'empty' },
        maxQueries: null,
      });
      expect(first.result.report.queries.paid).toBe(first.result.report.queries.total);
      const q = second.result.report.queries;
      expect([q.paid, q.reused]).toEqual([0, first.result.report.queries.total]);
      expect(second.out.find((l) => l.startsWith('identified'))).toMatch(new RegExp(`from ${q.total} queries \\(\\S+ P; 0 paid, ${q.total} from the store, checked by asking 4 again\\)`));
      expect(second.result.A).toEqual(first.result.A);
      // The second run paid only for the check of the store: 4 stored queries asked again.
      expect(second.result.report.oracle.storeCheck).toEqual({ stored: q.total, checked: 4, paid: 4, maxDifference: 0, threshold: expect.any(Number) });
      expect(served.rowsAnswered()).toBe(first.result.report.queries.total + 4);
    } finally {
      if (saved === undefined) delete process.env[TOKEN_ENV];
      else process.env[TOKEN_ENV] = saved;
      await served.close();
    }
  }, 60_000);

  it('identifies through an ONNX model written by nnid export', async () => {
    const model = join(dir, 'cli.onnx');
    expect((await run(['export', '--network', netFile, '--onnx', model])).code).toBe(0);
    const out = join(dir, 'r-onnx.json');
    const r = await run(['identify', '--oracle', model, '--activation', 'tanh', '--seed', '3', '--threads', '1', '--no-refine', '--quiet', '--out', out]);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(r.code).toBe(result.report.check.passed === false ? 1 : 0);
    expect(result.report.oracle).toEqual({ kind: 'onnx', spec: model, identity: expect.stringMatching(/^onnx:sha256:[0-9a-f]{32}$/), store: null, storeCheck: null, maxQueries: null });
    expect(result.report.score).toBeUndefined();
  }, 60_000);

  it('bad input: exit 2 with one line; a budget too small: exit 1 naming the budget', async () => {
    const cases: [string[], string][] = [
      [['identify', '--out', 'x.json'], 'nnid identify: missing required option --network (or --oracle)'],
      [['identify', '--network', netFile, '--oracle', netFile, '--out', 'x.json'], 'nnid identify: give --network or --oracle, not both'],
      [['identify', '--oracle', 'model.pt', '--activation', 'tanh', '--out', 'x.json'], "nnid identify: --oracle must be a network file (.json), an ONNX model (.onnx) or an http(s):// URL, got 'model.pt'"],
      [
        ['identify', '--oracle', 'http://127.0.0.1:9/', '--method', 'fit', '--width1', '2', '--width2', '1', '--out', 'x.json'],
        "nnid identify: --activation is required with an HTTP endpoint and --method fit (the default, auto, needs the pipeline's refinement to tell the candidates apart)",
      ],
      [
        ['identify', '--oracle', 'http://127.0.0.1:9/', '--no-refine', '--out', 'x.json'],
        "nnid identify: --activation is required with an HTTP endpoint and --no-refine (the default, auto, needs the pipeline's refinement to tell the candidates apart)",
      ],
      [['identify', '--oracle', join(dir, 'none.onnx'), '--activation', 'tanh', '--out', 'x.json'], `nnid identify: cannot read ${join(dir, 'none.onnx')}: no such file [E_FILE_READ]`],
      [['identify', '--oracle', netFile, '--store', join(dir, 's'), '--no-store', '--out', 'x.json'], 'nnid identify: give --store or --no-store, not both'],
    ];
    for (const [argv, line] of cases) {
      const r = await run(argv);
      expect([r.code, r.err]).toEqual([2, [line]]);
    }
    const r = await run(['identify', '--oracle', netFile, '--max-queries', '100', '--threads', '1', '--no-refine', '--quiet', '--out', join(dir, 'x.json')]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([expect.stringMatching(/^nnid identify: query budget exceeded: \d+ queries used, \d+ more requested, budget 100\. .* \[E_QUERY_BUDGET\]$/)]);
  }, 60_000);
});
