import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matrixFrom, rowView, serializeNetwork } from '@nnid/core';
import { svd } from '@nnid/linalg';
import { spherePoints } from '@nnid/hessian-sampler';
import { networkHessian, randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-sample-'));
const netFile = join(dir, 'd8-m4-m2-tanh.json');
const net = randomNetwork({ inputDim: 8, width1: 4, width2: 2, seed: 2 });
beforeAll(() => writeFileSync(netFile, JSON.stringify(serializeNetwork(net))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('nnid sample', () => {
  it('prints the spectrum and the queries, and writes the stack as .bin', async () => {
    const bin = join(dir, 'stack.bin');
    const r = await run(['sample', '--network', netFile, '--points', '10', '--threads', '1', '--scheme', 'central', '--seed', '4', '--out', bin, '--quiet']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`network: ${netFile} (d = 8, m0 = 4, m1 = 2, tanh/tanh)`);
    expect(r.out[1]).toMatch(/^sampled 10 Hessians \(central, h = 0\.001\) at points on the sphere of radius 1, seed 4, 1 thread \(main-thread\): 1290 queries \(129 per Hessian\) in [\d.]+ s$/);
    expect(r.out[2]).toBe('singular values of the 10 x 64 Hessian stack (sigma_k / sigma_1):');
    expect(r.out.filter((l) => /^\s+\d+\s+\S+\s+\S+/.test(l))).toHaveLength(10);
    expect(r.out.some((l) => l.endsWith('<- m0 + m1 = 6'))).toBe(true);
    expect(r.out).toContain('queries: 1290');
    expect(r.out[r.out.length - 1]).toBe(`wrote ${bin}: 10 x 64 float64, little-endian, row-major (full layout)`);
    const bytes = readFileSync(bin);
    expect(bytes.length).toBe(10 * 64 * 8);
    const H = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    expect(H[1]).toBe(H[8]); // symmetric rows
    // the printed spectrum is that of the stack written, to the 5 digits printed
    const printed = r.out.filter((l) => /^\s+\d+\s+\S+\s+\S+/.test(l)).map((l) => Number(l.trim().split(/\s+/)[1]));
    const sv = svd(matrixFrom(H, 10, 64)).values;
    expect(printed).toHaveLength(10);
    printed.forEach((s, i) => expect(Math.abs(s - sv[i])).toBeLessThanOrEqual(5e-5 * sv[i]));
    expect(sv[9]).toBeGreaterThan(0); // 10 Hessians of d = 8 span 10 directions
    // The rows are the Hessians at spherePoints(10, 8, radius 1, seed 4): compare with the exact ones.
    const points = spherePoints(10, 8, 1, 4);
    for (let p = 0; p < 10; p++) {
      const exact = networkHessian(net, rowView(points, p)).data;
      let num = 0;
      let den = 0;
      for (let k = 0; k < 64; k++) {
        num += (H[p * 64 + k] - exact[k]) ** 2;
        den += exact[k] ** 2;
      }
      expect(Math.sqrt(num / den)).toBeLessThan(1e-6);
    }
  });

  it('writes the stack, points, spectrum and report as .json (packed layout, 2 workers)', { timeout: 60_000 }, async () => {
    const json = join(dir, 'stack.json');
    const r = await run(['sample', '--network', netFile, '--points', '6', '--threads', '2', '--layout', 'packed', '--out', json, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out[1]).toContain('2 threads (workers): 270 queries (45 per Hessian)');
    const data = JSON.parse(readFileSync(json, 'utf8'));
    expect(data.format).toBe('nnid.hessian-stack/v1');
    expect(data.shape).toEqual([6, 36]);
    expect(data.hessians).toHaveLength(6);
    expect(data.points[0]).toHaveLength(8);
    expect(data.report.queries).toBe(270);
    expect(data.singularValues).toHaveLength(6);
  });

  it('prints min(points, columns) singular values when there are more Hessians than columns', async () => {
    // the former Gram-matrix route printed 40 values here, the last 4 of them rounding noise
    const r = await run(['sample', '--network', netFile, '--points', '40', '--threads', '1', '--layout', 'packed', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out[2]).toBe('singular values of the 40 x 36 Hessian stack (sigma_k / sigma_1):');
    const rows = r.out.filter((l) => /^\s+\d+\s+\S+\s+\S+/.test(l));
    expect(rows).toHaveLength(36);
    expect(rows[35]).toMatch(/^\s+36\s/);
  });

  const bad: [string, string[], string][] = [
    ['a missing --network', ['--points', '3'], 'nnid sample: missing required option --network'],
    ['a file that does not exist', ['--network', '/nonexistent/net.json'], 'nnid sample: cannot read /nonexistent/net.json: no such file [E_FILE_READ]'],
    ['a bad --scheme', ['--network', 'x.json', '--scheme', 'backward'], "nnid sample: --scheme must be one of forward, central, got 'backward'"],
    ['a bad --step', ['--network', 'x.json', '--step', '0'], "nnid sample: --step must be a number > 0, got '0'"],
    ['a bad --points', ['--network', 'x.json', '--points', '0'], "nnid sample: --points must be an integer >= 1, got '0'"],
    ['a bad --out', ['--network', 'x.json', '--out', 'stack.txt'], "nnid sample: --out must end in .bin or .json, got 'stack.txt'"],
  ];
  for (const [what, argv, line] of bad) {
    it(`exits 2 with one line on ${what}`, async () => {
      const r = await run(['sample', ...argv]);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([line]);
    });
  }

  it('exits 2 naming the field of a malformed network file', async () => {
    const file = join(dir, 'bad.json');
    const json = serializeNetwork(randomNetwork({ inputDim: 5, width1: 3, width2: 2 }));
    json.theta = [0.1, 0.2];
    writeFileSync(file, JSON.stringify(json));
    const r = await run(['sample', '--network', file]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual(['nnid sample: invalid network: `theta` has 2 numbers, expected m0 (rows of A) = 3 [E_NETWORK_FORMAT]']);
  });

  it('exits 1 when the query budget is too small, before any query', async () => {
    const r = await run(['sample', '--network', netFile, '--points', '10', '--max-queries', '100', '--threads', '1', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      'nnid sample: query budget exceeded: 0 queries used, 450 more requested, budget 100. Raise the budget (--max-queries) or lower the sampling counts. [E_QUERY_BUDGET]',
    ]);
  });

  it('--help shows the options', async () => {
    const r = await run(['sample', '--help']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toContain('usage: nnid sample --network net.json');
    expect(r.out[0]).toContain('--scheme S');
  });
});
