/**
 * nnid identify --method auto and --max-queries on every path: the oracle never pays more than the
 * budget (report.oracle and report.queries), the pipeline plans within it and refuses below its
 * floor (exit 2, one line naming the floor), auto picks the fit there, and is exact on small tanh
 * networks with the same bits on 1 and 2 threads.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeNetwork } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-method-auto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function networkFile(name: string, d: number, m0: number, m1: number, seed: number): { file: string; P: number } {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(serializeNetwork(randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', seed }))));
  return { file, P: d * m0 + m0 + m0 * m1 + m1 };
}

const small = networkFile('d10.json', 10, 6, 3, 1);
const medium = networkFile('d20.json', 20, 10, 3, 3);

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('nnid identify --method auto', () => {
  for (const [name, net, widths] of [
    ['(10, 6, 3)', small, ['6', '3']],
    ['(20, 10, 3)', medium, ['10', '3']],
  ] as const) {
    it(`${name} tanh: exact, the same bits on 1 and 2 threads; report.method says what ran`, async () => {
      const files = [join(dir, `auto-${widths[0]}-1.json`), join(dir, `auto-${widths[0]}-2.json`)];
      for (const [t, file] of files.entries()) {
        const r = await run(['identify', '--network', net.file, '--out', file, '--method', 'auto', '--width1', widths[0], '--width2', widths[1], '--seed', '1', '--threads', String(t + 1), '--quiet']);
        expect(r.code).toBe(0);
        expect(r.out[0]).toMatch(new RegExp(`^identified m0 = ${widths[0]}, m1 = ${widths[1]} by (pipeline|fit) \\(method auto: pipeline (passed|failed)`));
        expect(r.out[1]).toMatch(/^truth-free check: relative residual \S+ \(threshold 1e-9\): passed$/);
      }
      const [one, two] = files.map(read);
      expect(one.report.format).toBe('nnid.identify-auto-report/v1');
      expect(one.report.method.tried[0].method).toBe('pipeline');
      expect(one.report.method.tried[0].why).toContain('no budget given');
      expect(one.report.score.afterRefinement.function.gaussian.relativeL2).toBeLessThan(1e-8);
      expect(one.A).toEqual(two.A);
      expect(one.B).toEqual(two.B);
      expect(one.theta).toEqual(two.theta);
      expect(one.tau).toEqual(two.tau);
    });
  }

  it('below the pipeline floor: the fit on all of --max-queries, never more paid', async () => {
    const out = join(dir, 'auto-fit.json');
    const B = 5 * small.P;
    const r = await run(['identify', '--network', small.file, '--out', out, '--method', 'auto', '--width1', '6', '--width2', '3', '--seed', '1', '--threads', '2', '--max-queries', String(B), '--quiet']);
    expect([0, 1]).toContain(r.code);
    const json = read(out);
    expect(json.report.method.tried[0].method).toBe('fit');
    expect(r.err[0]).toMatch(/^method auto: fit: maxQueries \d+ \(5\.00 P\) is below the pipeline's floor \d+ \(\d+\.\d\d P\): the fit on all of it$/);
    expect(json.report.queries.paid).toBeLessThanOrEqual(B);
    // a passed check is an exact network, a failed one says so
    expect(json.report.check.passed).toBe(json.report.score.afterRefinement.function.gaussian.relativeL2 <= 1e-8);
    expect(r.code).toBe(json.report.check.passed ? 0 : 1);
  });
});

describe('nnid identify --max-queries on the pipeline path', () => {
  it('plans within the budget: never more paid, the plan says it bound', async () => {
    const out = join(dir, 'pipeline-budget.json');
    const B = 8 * medium.P;
    const r = await run(['identify', '--network', medium.file, '--out', out, '--width1', '10', '--width2', '3', '--seed', '1', '--threads', '2', '--max-queries', String(B), '--quiet']);
    expect([0, 1]).toContain(r.code);
    const json = read(out);
    expect(json.report.queries.paid).toBeLessThanOrEqual(B);
    expect(json.report.budget.binding).toBe(true);
    expect(json.report.budget.maxQueries).toBe(B);
    expect(json.report.check.passed).toBe(json.report.score.afterRefinement.function.gaussian.relativeL2 <= 1e-8);
  });

  it('below its floor: exit 2 and one line naming the floor, before any query', async () => {
    const out = join(dir, 'never.json');
    const B = 5 * medium.P;
    const r = await run(['identify', '--network', medium.file, '--out', out, '--width1', '10', '--width2', '3', '--seed', '1', '--threads', '1', '--max-queries', String(B), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain("invalid argument. `maxQueries` must be at least 1398 = 5.75 P, the floor of the paper's pipeline at (d, m0, m1) = (20, 10, 3)");
    expect(r.err[0]).toContain(`Value: \`${B}\`.`);
  });

  it('bad --method: exit 2, one line', async () => {
    const r = await run(['identify', '--network', small.file, '--out', join(dir, 'x.json'), '--method', 'best', '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toEqual(["nnid identify: --method must be one of pipeline, fit, auto, got 'best'"]);
  });
});
