/**
 * `nnid identify --oracle` against services the project did not write (issue 11, sections 2 and
 * 3): a plain POST-only Python server, an ONNX model with a symbolic input dimension, a server
 * that never answers, a port fetch refuses, credentials in the URL, a service whose model
 * changes between two runs with the default store, a full and a read-only disk under the store.
 * Servers run on 127.0.0.1 and are stopped after their test.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseNetwork, serializeNetwork, type Network } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { onnxModelBytes, serveNetwork } from '@nnid/black-box';
import { score } from '@nnid/pipeline';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-cli-services-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

// ONNX's schema, from the package that depends on it (to write a model with a symbolic dimension).
const onnxProto = createRequire(fileURLToPath(new URL('../../../packages/black-box/package.json', import.meta.url)))('onnx-proto') as OnnxProto;
/** The few parts of onnx-proto's API this file uses. */
interface OnnxProto {
  onnx: {
    ModelProto: { decode(bytes: Uint8Array): any; encode(model: any): { finish(): Uint8Array } };
    TensorShapeProto: { Dimension: { create(fields: { dimParam: string }): any } };
  };
}
const bin = fileURLToPath(new URL('../bin/nnid.js', import.meta.url));
const net = randomNetwork({ inputDim: 10, width1: 5, width2: 3, activation: 'tanh', seed: 5 });
const netFile = join(dir, 'net.json');
writeFileSync(netFile, JSON.stringify(serializeNetwork(net)));
/** The same queries as the in-process runs of black-box.test.ts, without refinement (fast). */
const fast = ['--activation', 'tanh', '--seed', '3', '--threads', '1', '--no-refine', '--quiet'];

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** `nnid ...` in a child process with working directory `cwd` (where the default store lives). */
function runChild(argv: string[], cwd: string): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...argv], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** A POST-only service (GET 404, identity = its URL) answering with `model()`, shaped [n, 1]. */
async function modelService(model: () => Network): Promise<string> {
  return listen(
    createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        if (req.method !== 'POST') {
          res.writeHead(404).end('not found');
          return;
        }
        const inputs: number[][] = JSON.parse(body).inputs;
        const d = inputs[0].length;
        const y = evaluateNetwork(model(), { data: Float64Array.from(inputs.flat()), offset: 0, shape: [inputs.length, d], strides: [d, 1] });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ outputs: Array.from(y, (v) => [v]) }));
      });
    }),
  );
}

/** Starts packages/black-box/test/fixtures/post_only_server.py; undefined without python3. */
async function pythonServer(file: string): Promise<string | undefined> {
  if (spawnSync('python3', ['--version']).status !== 0) return undefined;
  const script = fileURLToPath(new URL('../../../packages/black-box/test/fixtures/post_only_server.py', import.meta.url));
  const child = spawn('python3', [script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  );
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (c: Buffer) => resolve(Number(String(c).trim()))));
  return `http://127.0.0.1:${port}/predict`;
}

describe('nnid identify against services the project did not write', () => {
  it('a plain POST-only Python server (GET 501, answers [n, 1]) with --input-dim: identified exactly', async (ctx) => {
    const url = await pythonServer(netFile);
    if (!url) return ctx.skip('python3 is not installed');
    const out = join(dir, 'python.json');
    let r = await run(['identify', '--oracle', url, '--no-store', ...fast, '--out', out]);
    expect([r.code, r.err]).toEqual([
      2,
      [`nnid identify: ${url} does not announce its input dimension (GET answered HTTP 501): pass it (--input-dim D; inputDim in the API) [E_INVALID_ARGUMENT]`],
    ]);
    expect(existsSync(out)).toBe(false);
    r = await run(['identify', '--oracle', url, '--input-dim', '10', '--no-store', '--activation', 'tanh', '--model', 'paper', '--seed', '3', '--threads', '1', '--quiet', '--out', out]);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect([r.code, r.err, result.report.check.passed]).toEqual([0, [], true]);
    expect(result.report.oracle).toMatchObject({ kind: 'http', spec: url, identity: `http:${url}`, store: null, storeCheck: null });
    const s = score(net, parseNetwork(result));
    expect(s.function.gaussian.relativeL2).toBeLessThan(1e-8);
  }, 120_000);

  it('an ONNX model with a symbolic input dimension: one line asking for --input-dim, then it works', async () => {
    const model = onnxProto.onnx.ModelProto.decode(onnxModelBytes(net));
    model.graph!.input![0].type!.tensorType!.shape!.dim![1] = onnxProto.onnx.TensorShapeProto.Dimension.create({ dimParam: 'features' });
    const file = join(dir, 'symbolic.onnx');
    writeFileSync(file, onnxProto.onnx.ModelProto.encode(model).finish());
    const out = join(dir, 'symbolic.json');
    let r = await run(['identify', '--oracle', file, ...fast, '--out', out]);
    expect([r.code, r.err]).toEqual([2, [`nnid identify: cannot use ${file}: input 'x' has a symbolic dimension 'features'; pass it (--input-dim D; inputDim in the API) [E_FILE_READ]`]]);
    r = await run(['identify', '--oracle', file, '--input-dim', '10', ...fast, '--out', out]);
    expect(r.err).toEqual([]);
    expect(JSON.parse(readFileSync(out, 'utf8')).inputDim).toBe(10);
    // A wrong dimension is found at the first query: the model refuses the batch.
    r = await run(['identify', '--oracle', file, '--input-dim', '11', ...fast, '--out', out]);
    expect([r.code, r.err]).toEqual([1, [expect.stringMatching(/^nnid identify: ONNX model symbolic\.onnx failed on rows 0–\d+: .*\[E_ORACLE\]$/)]]);
  }, 60_000);

  it('a server that never answers: exit 1 within --timeout, one line', async () => {
    const url = await listen(createServer(() => {}));
    const started = Date.now();
    const r = await run(['identify', '--oracle', url, '--input-dim', '4', '--timeout', '1', '--no-store', ...fast, '--out', join(dir, 'hung.json')]);
    expect([r.code, r.err]).toEqual([1, [`nnid identify: ${url} description (GET): no answer within the timeout of 1 s; raise it with --timeout (timeoutMs) [E_ORACLE_UNAVAILABLE]`]]);
    expect(Date.now() - started).toBeLessThan(15_000);
    for (const [flag, value, line] of [
      ['--timeout', '0', "--timeout must be a number of seconds > 0, got '0'"],
      ['--timeout', 'soon', "--timeout must be a number of seconds > 0, got 'soon'"],
      ['--retries', '-1', "--retries must be an integer >= 0, got '-1'"],
      ['--input-dim', '0', "--input-dim must be an integer >= 1, got '0'"],
    ]) {
      const bad = await run(['identify', '--oracle', url, `${flag}=${value}`, ...fast, '--out', join(dir, 'bad.json')]);
      expect([bad.code, bad.err]).toEqual([2, [`nnid identify: ${line}`]]);
    }
  }, 60_000);

  it('a port fetch refuses (6000, 6665-6669, 10080, ...) and credentials in the URL: identified; no secret in the output or the report', async (ctx) => {
    let served: Awaited<ReturnType<typeof serveNetwork>> | undefined;
    for (const port of [6000, 6665, 6666, 6667, 6668, 6669, 10080, 5060]) {
      served = await serveNetwork(net, { port }).catch(() => undefined);
      if (served) break;
    }
    if (!served) return ctx.skip('every port fetch refuses is taken here');
    closers.push(() => served!.close());
    const url = `http://ann:pw-s3cret@127.0.0.1:${served.port}/?api_key=k3y-s3cret`;
    const out = join(dir, 'bad-port.json');
    const r = await run(['identify', '--oracle', url, '--no-store', ...fast, '--out', out]);
    expect([r.code, r.err]).toEqual([0, []]);
    const text = readFileSync(out, 'utf8');
    expect(text).not.toMatch(/s3cret/);
    expect(r.out.join('\n')).not.toMatch(/s3cret/);
    expect(JSON.parse(text).report.oracle.spec).toBe(`http://***@127.0.0.1:${served.port}/?api_key=***`);
    const bad = await run(['identify', '--oracle', 'http://ann:pw-s3cret@[::1', ...fast, '--out', out]);
    expect([bad.code, bad.err]).toEqual([2, ['nnid identify: invalid argument. `url` must be an http:// or https:// URL. Value: `http://***@[::1`. [E_INVALID_ARGUMENT]']]);
  }, 60_000);
});

describe('the default store and a model deployed at the same URL', () => {
  it('the second run re-checks 4 stored queries; after another model is deployed it refuses the store (exit 2, one line naming it)', async () => {
    let model = net;
    const url = await modelService(() => model);
    const cwd = join(dir, 'project');
    mkdirSync(cwd);
    const argv = ['identify', '--oracle', url, '--input-dim', '10', ...fast];
    const first = await runChild([...argv, '--out', 'r1.json'], cwd);
    expect([first.signal, first.stderr]).toEqual([null, '']);
    const r1 = JSON.parse(readFileSync(join(cwd, 'r1.json'), 'utf8'));
    expect(r1.report.oracle).toMatchObject({ store: '.nnid-store', storeCheck: { stored: 0, checked: 0, skipped: 'empty' } });
    expect(existsSync(join(cwd, '.nnid-store', 'queries.mdb'))).toBe(true);

    const second = await runChild([...argv, '--out', 'r2.json'], cwd);
    expect([second.signal, second.stderr]).toEqual([null, '']);
    const r2 = JSON.parse(readFileSync(join(cwd, 'r2.json'), 'utf8'));
    expect(r2.report.oracle.storeCheck).toMatchObject({ stored: r1.report.queries.total, checked: 4, paid: 4, maxDifference: 0 });
    expect([r2.report.queries.paid, r2.report.queries.reused]).toEqual([0, r1.report.queries.total]);
    expect(r2.A).toEqual(r1.A);

    model = randomNetwork({ inputDim: 10, width1: 5, width2: 3, activation: 'tanh', seed: 6 });
    const third = await runChild([...argv, '--out', 'r3.json'], cwd);
    // stdout: the defaults line alone (printed before the black box is opened), no result
    expect([third.code, third.signal, third.stdout]).toEqual([2, null, "defaults: --model paper (--no-refine takes the paper's form only); --width1, --width2 inferred (m0 from the gradients' spectrum; m1 from the entangled weights)\n"]);
    expect(third.stderr).toMatch(
      new RegExp(
        `^nnid identify: the query store \\.nnid-store/queries\\.mdb holds answers that ${url.replace(/[.]/g, '\\.')} no longer gives \\(another model deployed there\\?\\): ` +
          'of 4 stored queries asked again, the largest difference is [0-9.e-]+ \\(noise level [0-9.e-]+\\); pass --no-store, or --store with a fresh directory \\[E_ORACLE\\]\\n$',
      ),
    );
    expect(existsSync(join(cwd, 'r3.json'))).toBe(false);
    // What the line says to do works: the new model is identified.
    const fresh = await run([...argv, '--no-store', '--out', join(cwd, 'r3.json')]);
    expect(fresh.err).toEqual([]);
    expect(JSON.parse(readFileSync(join(cwd, 'r3.json'), 'utf8')).A).not.toEqual(r1.A);
  }, 120_000);
});

describe('a full or read-only disk under the store', () => {
  /** A tmpfs of `size` (undefined where mounting is not allowed). */
  function tmpfs(size: string): { dir: string; readOnly(): void; unmount(): void } | undefined {
    if (process.env.NNID_TEST_NO_MOUNT) return undefined;
    const mnt = mkdtempSync(join(tmpdir(), 'nnid-cli-tmpfs-'));
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt]).status !== 0) {
      rmSync(mnt, { recursive: true, force: true });
      return undefined;
    }
    return {
      dir: mnt,
      readOnly: () => void spawnSync('mount', ['-o', 'remount,ro', mnt]),
      unmount() {
        spawnSync('umount', [mnt]);
        rmSync(mnt, { recursive: true, force: true });
      },
    };
  }
  const pattern = (store: string) =>
    new RegExp(
      `^nnid identify: cannot write to the query store ${store.replace(/[.]/g, '\\.')}/queries\\.mdb: (no space left on the disk \\(\\d+ KiB free\\)|the disk refused the write \\(EIO: full, read-only or failing\\)); ` +
        'the answers stored before stay readable; pass --no-store, or --store DIR on a writable disk with free space \\[E_FILE_WRITE\\]$',
    );

  it('a full disk midway: exit 2 with one line (no SIGBUS, no stack); a read-only one: exit 2 with one line', async () => {
    const served = await serveNetwork(net, { port: 0 });
    closers.push(() => served.close());
    const fs = tmpfs('256k');
    if (fs) {
      try {
        const store = join(fs.dir, 'store');
        const r = await run(['identify', '--oracle', served.url, '--store', store, ...fast, '--out', join(dir, 'full.json')]);
        expect(r.code).toBe(2);
        expect(r.err).toEqual([expect.stringMatching(pattern(store))]);
        fs.readOnly();
        const ro = await run(['identify', '--oracle', served.url, '--store', join(fs.dir, 'other'), ...fast, '--out', join(dir, 'ro.json')]);
        expect([ro.code, ro.err]).toEqual([
          2,
          [`nnid identify: cannot open the query store in ${join(fs.dir, 'other')}: the file system is read-only (EROFS); pass --no-store, or --store DIR on a writable disk with free space [E_FILE_READ]`],
        ]);
      } finally {
        fs.unmount();
      }
      return;
    }
    // Where no tmpfs can be mounted: the kernel's file size limit refuses the writes past 256 KiB.
    const cwd = join(dir, 'limited');
    mkdirSync(cwd);
    const child = await new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
      const p = spawn('bash', ['-c', 'ulimit -f 256 && exec "$0" "$@"', process.execPath, bin, 'identify', '--oracle', served.url, '--store', 'store', ...fast, '--out', 'full.json'], {
        cwd,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      p.stderr.on('data', (c: Buffer) => (stderr += c));
      p.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    });
    expect([child.code, child.signal]).toEqual([2, null]);
    expect(child.stderr.trimEnd()).toMatch(pattern('store'));
  }, 120_000);
});
