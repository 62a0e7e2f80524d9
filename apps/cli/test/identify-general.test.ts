/**
 * nnid identify on the general form (nnid.network/v2, k = 1): a v2 network file is identified as
 * --model general and the result written in v2; a real exporter's ONNX model (scikit-learn's
 * MLPRegressor, float64) through --oracle --model general; nnid score on v2 files; bad input.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNetworkV2, serializeNetworkV2 } from '@nnid/core';
import { randomGeneralNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-identify-general-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const net = join(dir, 'net-v2.json');
writeFileSync(net, JSON.stringify(serializeNetworkV2(randomGeneralNetwork({ inputDim: 10, width1: 6, width2: 3, activation: 'tanh', seed: 3, directions: 'orthonormal' }))));
const net3 = join(dir, 'net-v2-k3.json');
writeFileSync(net3, JSON.stringify(serializeNetworkV2(randomGeneralNetwork({ inputDim: 10, width1: 6, width2: 3, outputs: 3, activation: 'tanh', seed: 3, directions: 'orthonormal' }))));
const sklearn = new URL('../../../packages/black-box/test/fixtures/real/d10-m8-m4-k1-tanh-sklearn-diabetes-float64.onnx', import.meta.url).pathname;

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('nnid identify --model general', () => {
  it('a v2 network file: identified in the general form, written in v2, scored against the file', async () => {
    const out = join(dir, 'result.json');
    const r = await run(['identify', '--network', net, '--out', out, '--width1', '6', '--width2', '3', '--threads', '2', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^defaults: --method auto \(/);
    expect(r.out[2]).toMatch(/^truth-free check: relative residual \S+ \(threshold 1e-9\): passed$/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(parseNetworkV2(json).outputs).toBe(1);
    expect(json.report.options.model).toBe('general');
    expect(json.report.score.afterRefinement.function.gaussian.relativeL2).toBeLessThan(1e-8);
    const s = await run(['score', '--truth', net, '--recovered', out]);
    expect(s.code).toBe(0);
    expect(s.out[0]).toMatch(/^W1 directions {4}n=6 /);
  });

  it("scikit-learn's MLPRegressor (10 -> 8 -> 4 -> 1, tanh) exported to ONNX in float64: exact", async () => {
    const out = join(dir, 'sklearn.json');
    const r = await run(['identify', '--oracle', sklearn, '--model', 'general', '--activation', 'tanh', '--width1', '8', '--width2', '4', '--out', out, '--threads', '2', '--quiet']);
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.format).toBe('nnid.network/v2');
    expect(json.report.check.passed).toBe(true);
    expect(json.report.check.relativeResidual).toBeLessThan(1e-12);
  });

  it('a v2 file with k = 3 outputs: all three fitted, queries as rows, numbers received', async () => {
    const out = join(dir, 'k3.json');
    const r = await run(['identify', '--network', net3, '--out', out, '--width1', '6', '--width2', '3', '--threads', '2', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^defaults: --method auto \(/);
    expect(r.out[1]).toMatch(/, k = 3 from (\d+) queries \(\d+\.\d P; \d+ numbers received\)/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(parseNetworkV2(json).outputs).toBe(3);
    expect(json.report.queries.numbersReceived).toBe(3 * json.report.queries.rows);
    expect(json.report.score.afterRefinement.function.gaussian.relativeL2).toBeLessThan(1e-8);
  });

  it('exits 2 with one line for bad input', async () => {
    const cases: [string[], string][] = [
      [['identify', '--network', net3, '--out', join(dir, 'x.json'), '--no-refine'], 'nnid identify: a network with k = 3 outputs is identified as --model general only (with refinement, not --method fit)'],
      [['identify', '--network', net, '--out', join(dir, 'x.json'), '--model', 'torch'], "nnid identify: --model must be one of paper, general, got 'torch'"],
      [['identify', '--network', net, '--out', join(dir, 'x.json'), '--no-refine'], 'nnid identify: --no-refine is not available with --model general (the general form is fitted by the refinement)'],
    ];
    for (const [argv, line] of cases) {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([line]);
    }
  });
});
