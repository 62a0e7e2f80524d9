/**
 * nnid identify with a real exporter's ONNX model answering k = 3 numbers per row (PyTorch's
 * exporter, tools/fixtures/make_real_onnx.py group 'outputs'): through identifyOutputs, queries
 * counted as input rows and the numbers received reported; and --activation auto on a v2 file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { matrixFrom, parseNetworkV2, serializeNetworkV2 } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-identify-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const real = (name: string) => new URL(`../../../packages/black-box/test/fixtures/real/${name}`, import.meta.url).pathname;

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('nnid identify --oracle model.onnx with k = 3 outputs', () => {
  it('float64 (8 -> 4 -> 2 -> 3, tanh): exact, written in v2 with 3 outputs, rows and numbers received', async () => {
    const out = join(dir, 'k3.json');
    const r = await run(['identify', '--oracle', real('d8-m4-m2-k3-tanh-torch-float64.onnx'), '--activation', 'tanh', '--width1', '4', '--width2', '2', '--seed', '1', '--threads', '2', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/identified m0 = 4, m1 = 2, k = 3 from (\d+) queries \([\d.]+ P; (\d+) numbers received\)/);
    const [, rows, numbers] = /from (\d+) queries .*; (\d+) numbers received/.exec(r.out.join('\n'))!;
    expect(Number(numbers)).toBe(3 * Number(rows));
    const json = JSON.parse(readFileSync(out, 'utf8'));
    const found = parseNetworkV2(json);
    expect(found.outputs).toBe(3);
    expect(json.report.check.passed).toBe(true);
    // against PyTorch's own answers on the fixture's 16 points
    const meta = JSON.parse(readFileSync(real('d8-m4-m2-k3-tanh-torch-float64.json'), 'utf8')) as { inputs: number[][]; outputs: number[][] };
    const y = evaluateGeneral(found, matrixFrom(Float64Array.from(meta.inputs.flat()), meta.inputs.length, 8)).data;
    const want = meta.outputs.flat();
    let num = 0;
    let den = 0;
    for (let i = 0; i < want.length; i++) {
      num += (y[i] - want[i]) ** 2;
      den += want[i] ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThan(1e-8);
  });

  it('refuses --store for a v2 network file with k > 1 outputs in one line (exit 2: it runs in process; an ONNX model takes --store, outputs-store.test)', async () => {
    const v2 = join(dir, 'k3-v2.json');
    writeFileSync(v2, JSON.stringify(serializeNetworkV2(randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs: 3, activation: 'tanh', seed: 1 }))));
    const r = await run(['identify', '--network', v2, '--method', 'pipeline', '--store', join(dir, 'store'), '--out', join(dir, 'x.json')]);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toContain('--store is not available for a network with k = 3 outputs (it runs in process)');
  });
});

describe('nnid identify --activation auto', () => {
  it('a v2 tanh/tanh file: the pair found, the check passed, the search printed', async () => {
    const net = join(dir, 'auto.json');
    writeFileSync(net, JSON.stringify(serializeNetworkV2(randomGeneralNetwork({ inputDim: 10, width1: 6, width2: 3, activation: 'tanh', seed: 2, directions: 'orthonormal' }))));
    const out = join(dir, 'auto-out.json');
    const r = await run(['identify', '--network', net, '--activation', 'auto', '--width1', '6', '--width2', '3', '--seed', '1', '--threads', '2', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toContain('activation auto: tanh/tanh (residuals: tanh/tanh ');
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.report.activationSearch.chosen).toEqual({ layer1: 'tanh', layer2: 'tanh' });
    expect(json.report.score.afterRefinement.function.gaussian.relativeL2).toBeLessThan(1e-8);
  });

  it('refuses --activation auto with --method fit (exit 2, one line)', async () => {
    const net = join(dir, 'auto.json');
    const r = await run(['identify', '--network', net, '--activation', 'auto', '--method', 'fit', '--width1', '6', '--width2', '3', '--out', join(dir, 'y.json')]);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toContain('--activation auto is available with --method pipeline and refinement only');
  });
});
