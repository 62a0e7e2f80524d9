import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNetwork, serializeNetwork } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-method-fit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const net = join(dir, 'net.json');
// (12, 6, 2) tanh: P = 92; the fit's start 0 is exact at 5 P with --seed 1
writeFileSync(net, JSON.stringify(serializeNetwork(randomNetwork({ inputDim: 12, width1: 6, width2: 2, activation: 'tanh', seed: 1 }))));
const P = 92;

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const fit = (out: string, ...more: string[]) => ['identify', '--network', net, '--out', out, '--method', 'fit', '--width1', '6', '--width2', '2', '--seed', '1', '--quiet', ...more];

describe('nnid identify --method fit', () => {
  it('fits the network exactly within --max-queries, the same bits on 1 and 2 threads', async () => {
    const files = [join(dir, 'fit1.json'), join(dir, 'fit2.json')];
    for (const [t, file] of files.entries()) {
      const r = await run(fit(file, '--max-queries', String(5 * P), '--threads', String(t + 1), '--starts', '4'));
      expect(r.code).toBe(0);
      expect(r.out[0]).toMatch(new RegExp(`^fitted m0 = 6, m1 = 2 \\(student fit, start \\d+ of \\d+ run\\) from ${5 * P} queries \\(5\\.0 P\\) in \\d+\\.\\d\\d s on ${t + 1} thread\\(s\\); wrote `));
      expect(r.out[1]).toMatch(/^truth-free check: relative residual \S+ \(threshold 1e-9\): passed$/);
    }
    const [one, two] = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
    expect(one.report.method).toBe('fit');
    expect(one.report.options.starts).toBe(4);
    expect(one.report.queries.paid).toBe(5 * P);
    expect(one.report.oracle.maxQueries).toBe(5 * P);
    expect(one.report.check.passed).toBe(true);
    expect(one.report.score.fit.function.gaussian.relativeL2).toBeLessThan(1e-8);
    expect(one.report.score.fit.firstLayer.minCos).toBeGreaterThan(0.999999);
    expect(parseNetwork(two).A.data).toEqual(parseNetwork(one).A.data);
    expect(two.B).toEqual(one.B);
    expect(two.tau).toEqual(one.tau);
  });

  it('says so when the budget is too small to be exact (exit 1, the check FAILED, never above the budget)', async () => {
    const out = join(dir, 'small.json');
    const r = await run(fit(out, '--max-queries', '60', '--threads', '1', '--starts', '2'));
    expect(r.code).toBe(1);
    expect(r.out[1]).toMatch(/^truth-free check: relative residual \S+ \(threshold 1e-9\): FAILED$/);
    expect(r.err).toEqual([
      `warning: 60 data points <= P = ${P} parameters: a fit can interpolate them without being the network, so the check cannot pass; give more than ${P} queries`,
    ]);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.report.queries.paid).toBe(60);
    expect(json.report.check.passed).toBe(false);
  });

  it('answers a rerun from the --store: nothing paid, the same network', async () => {
    const store = join(dir, 'store');
    const [a, b] = [join(dir, 'store1.json'), join(dir, 'store2.json')];
    expect((await run(fit(a, '--store', store, '--starts', '1', '--threads', '1'))).code).toBe(0);
    const r = await run(fit(b, '--store', store, '--starts', '1', '--threads', '1'));
    expect(r.code).toBe(0);
    const [first, second] = [a, b].map((f) => JSON.parse(readFileSync(f, 'utf8')));
    expect(first.report.queries).toMatchObject({ total: 5 * P, paid: 5 * P, reused: 0 });
    expect(second.report.queries).toMatchObject({ total: 5 * P, paid: 0, reused: 5 * P });
    expect(second.A).toEqual(first.A);
  });

  it('--method pipeline is the default, explicit', async () => {
    const out = join(dir, 'pipeline.json');
    const r = await run(['identify', '--network', net, '--out', out, '--method', 'pipeline', '--width1', '6', '--width2', '2', '--threads', '1', '--no-refine', '--quiet']);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).report.format).toBe('nnid.identify-report/v1');
  });

  it('exits 2 with one line for bad input, before any query', async () => {
    const out = join(dir, 'never.json');
    const base = ['identify', '--network', net, '--out', out];
    const cases: [string[], string][] = [
      [[...base, '--method', 'student'], "nnid identify: --method must be one of pipeline, fit, auto, got 'student'"],
      [[...base, '--method', 'fit', '--width1', '6'], "nnid identify: --method fit needs --width1 and --width2 (the student network's shape)"],
      [[...base, '--starts', '3'], 'nnid identify: --starts is an option of --method fit'],
      [[...base, '--method', 'fit', '--width1', '6', '--width2', '2', '--starts', '0'], "nnid identify: --starts must be an integer >= 1, got '0'"],
      [[...base, '--method', 'fit', '--width1', '6', '--width2', '2', '--no-refine'], 'nnid identify: --no-refine is an option of --method pipeline'],
      [[...base, '--method', 'fit', '--width1', '6', '--width2', '2', '--report', join(dir, 'r.html')], 'nnid identify: --report is an option of --method pipeline'],
    ];
    for (const [argv, line] of cases) {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([line]);
    }
    expect(existsSync(out)).toBe(false);
  });
});
