import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { matrix, rng, serializeNetwork } from '@nnid/core';
import { httpBlackBox } from '@nnid/black-box';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const net = randomNetwork({ inputDim: 7, width1: 4, width2: 2, activation: 'tanh', seed: 3 });
const netFile = join(dir, 'net.json');
writeFileSync(netFile, JSON.stringify(serializeNetwork(net)));

function points(n: number) {
  const X = matrix(n, 7);
  rng(1).fillNormal(X.data);
  return X;
}

/** Runs main() in this process; `lines` fills as the command prints. */
function start(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const done = main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { out, err, done };
}

/** Waits for the line that names the URL; a child process needs longer (tsx starts and transpiles first). */
async function urlOf(out: string[], waitMs = 2000): Promise<string> {
  for (let i = 0; i < waitMs / 10; i++) {
    const m = out.map((l) => / at (http:\/\/\S+)$/.exec(l)).find(Boolean);
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no URL printed: ${out.join(' | ')}`);
}

describe('nnid serve', () => {
  it('serves the network until SIGINT, with a token, and logs requests', async () => {
    const run = start(['serve', '--network', netFile, '--port', '0', '--token', 'abc', '--max-batch', '10', '--log']);
    const url = await urlOf(run.out);
    expect(run.out[0]).toBe(`serving ${netFile} (d = 7, m0 = 4, m1 = 2, token required) at ${url}`);
    const box = await httpBlackBox(url, { token: 'abc' });
    expect(box.batchSize).toBe(10);
    const X = points(25);
    expect(Array.from(await box.evaluate(X))).toEqual(Array.from(evaluateNetwork(net, X)));
    const denied = await fetch(url, { method: 'POST', body: '{"inputs": []}' });
    expect(denied.status).toBe(401);
    process.emit('SIGINT');
    expect(await run.done).toBe(0);
    expect(run.out.at(-1)).toBe('SIGINT: stopped after 5 requests (25 rows answered)');
    expect(run.err).toEqual([
      expect.stringMatching(/^GET \/ 200 0 rows [\d.]+ ms$/),
      expect.stringMatching(/^POST \/ 200 10 rows [\d.]+ ms$/),
      expect.stringMatching(/^POST \/ 200 10 rows [\d.]+ ms$/),
      expect.stringMatching(/^POST \/ 200 5 rows [\d.]+ ms$/),
      expect.stringMatching(/^POST \/ 401 0 rows [\d.]+ ms — missing bearer token \(send Authorization: Bearer <token>\)$/),
    ]);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('exits 2 with one line for bad input', async () => {
    const cases: [string[], string][] = [
      [['serve', '--port', '0'], 'nnid serve: missing required option --network'],
      [['serve', '--network', netFile], 'nnid serve: missing required option --port'],
      [['serve', '--network', netFile, '--port', '70000'], "nnid serve: --port must be an integer in [0, 65535], got '70000'"],
      [['serve', '--network', netFile, '--port', 'x'], "nnid serve: --port must be an integer >= 0, got 'x'"],
      [['serve', '--network', netFile, '--port', '0', '--noise=-1'], "nnid serve: --noise must be a number >= 0, got '-1'"],
      [['serve', '--network', netFile, '--port', '0', '--max-batch', '0'], "nnid serve: --max-batch must be an integer >= 1, got '0'"],
      [['serve', '--network', netFile, '--port', '0', '--token', ' '], 'nnid serve: --token must not be empty'],
      [['serve', '--network', join(dir, 'x.json'), '--port', '0'], `nnid serve: cannot read ${join(dir, 'x.json')}: no such file [E_FILE_READ]`],
    ];
    for (const [argv, line] of cases) {
      const r = start(argv);
      expect([await r.done, r.err]).toEqual([2, [line]]);
    }
    // A port in use.
    const first = start(['serve', '--network', netFile, '--port', '0']);
    const port = new URL(await urlOf(first.out)).port;
    const second = start(['serve', '--network', netFile, '--port', port]);
    expect([await second.done, second.err]).toEqual([2, [`nnid serve: port ${port} on 127.0.0.1 is in use`]]);
    process.emit('SIGTERM');
    expect(await first.done).toBe(0);
    expect(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')).toBe(0);
  });

  it('runs as `nnid serve` in its own process and stops on SIGTERM', async () => {
    const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'nnid.js');
    const child = spawn(process.execPath, [bin, 'serve', '--network', netFile, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (t: string) => out.push(...t.split('\n').filter(Boolean)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await urlOf(out, 30_000);
      const box = await httpBlackBox(url);
      const X = points(3);
      expect(Array.from(await box.evaluate(X))).toEqual(Array.from(evaluateNetwork(net, X)));
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out.at(-1)).toBe('SIGTERM: stopped after 2 requests (3 rows answered)');
  }, 60_000);
});
