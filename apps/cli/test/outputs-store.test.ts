/**
 * k > 1 outputs everywhere in the CLI (issue 13, issue 16's leftovers): `nnid identify --oracle
 * model.onnx --store DIR` with a model answering k = 3 numbers per row keeps them in the query
 * store (nnid.query-store/v2, k numbers per row) and a rerun pays nothing; `nnid serve` of a v2
 * network with k = 3 outputs, then `nnid identify --oracle http://...`; the ONNX exports nnid
 * reads and cannot identify refused before any query; convert and score of a real export with
 * BatchNormalization folded.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNetworkV2, serializeNetworkV2 } from '@nnid/core';
import { randomGeneralNetwork } from '@nnid/oracle';
import { scoreGeneral } from '@nnid/pipeline';
import { main } from '../src/main.ts';
import { real, run } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-outputs-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const variety = (name: string) => new URL(`../../../packages/black-box/test/fixtures/variety/${name}`, import.meta.url).pathname;

describe('nnid identify --oracle model.onnx --store DIR with k = 3 outputs', () => {
  it('the first run stores k = 3 numbers per row; the rerun answers every query from the store, same network', async () => {
    const store = join(dir, 'onnx-store');
    const model = real('d8-m4-m2-k3-tanh-torch-float64.onnx');
    const args = ['identify', '--oracle', model, '--activation', 'tanh', '--width1', '4', '--width2', '2', '--method', 'pipeline', '--store', store, '--seed', '1', '--threads', '2', '--quiet'];
    const first = await run([...args, '--out', join(dir, 'first.json')]);
    expect(first.err).toEqual([]);
    expect(first.code).toBe(0);
    const [, rows, numbers] = /identified m0 = 4, m1 = 2, k = 3 from (\d+) queries \([\d.]+ P; (\d+) numbers received\)/.exec(first.out.join('\n'))!;
    expect(Number(numbers)).toBe(3 * Number(rows));
    const second = await run([...args, '--out', join(dir, 'second.json')]);
    expect(second.code).toBe(0);
    expect(second.out.join('\n')).toContain(`from ${rows} queries`);
    expect(second.out.join('\n')).toContain(`; 0 paid, ${rows} from the store`);
    const a = JSON.parse(readFileSync(join(dir, 'first.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(dir, 'second.json'), 'utf8'));
    expect(b.report.check.passed).toBe(true);
    expect(b.report.oracle.outputs).toBe(3);
    expect(b.report.oracle.queries).toEqual({ total: Number(rows), paid: 0, reused: Number(rows) });
    expect(serializeNetworkV2(parseNetworkV2(b))).toEqual(serializeNetworkV2(parseNetworkV2(a)));
  });

  it('--method fit takes the store too: the student fit of all k = 3 outputs on stored rows', async () => {
    const r = await run(['identify', '--oracle', real('d8-m4-m2-k3-tanh-torch-float64.onnx'), '--activation', 'tanh', '--method', 'fit', '--width1', '4', '--width2', '2', '--max-queries', '300', '--store', join(dir, 'fit-store'), '--seed', '1', '--threads', '1', '--out', join(dir, 'fit.json'), '--quiet']);
    expect(r.err).toEqual([]);
    expect([0, 1]).toContain(r.code);
    const json = JSON.parse(readFileSync(join(dir, 'fit.json'), 'utf8'));
    expect(json.layers[2].weight.length).toBe(3);
    expect(json.report.oracle.store).toBe(join(dir, 'fit-store'));
  });
});

describe('nnid serve of a v2 network with k = 3 outputs, identified through HTTP', () => {
  it('identify --oracle http://...: k = 3 learnt from the description, answers stored, exact', async () => {
    const net = randomGeneralNetwork({ inputDim: 8, width1: 4, width2: 2, outputs: 3, activation: 'tanh', seed: 4, directions: 'orthonormal' });
    const netFile = join(dir, 'k3.json');
    writeFileSync(netFile, JSON.stringify(serializeNetworkV2(net)));
    const out: string[] = [];
    const serving = main(['serve', '--network', netFile, '--port', '0'], { out: (l) => out.push(l), err: () => undefined });
    let url: string | undefined;
    for (let i = 0; i < 500 && !url; i++) {
      url = out.map((l) => / at (http:\/\/\S+)$/.exec(l)?.[1]).find(Boolean);
      if (!url) await new Promise((r) => setTimeout(r, 10));
    }
    expect(url).toBeDefined();
    try {
      const result = join(dir, 'http-k3.json');
      const r = await run(['identify', '--oracle', url!, '--activation', 'tanh', '--width1', '4', '--width2', '2', '--method', 'pipeline', '--store', join(dir, 'http-store'), '--seed', '1', '--threads', '2', '--out', result, '--quiet']);
      expect(r.err).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.out.join('\n')).toMatch(/identified m0 = 4, m1 = 2, k = 3 from \d+ queries \([\d.]+ P; \d+ numbers received\)/);
      const json = JSON.parse(readFileSync(result, 'utf8'));
      expect(json.report.oracle.kind).toBe('http');
      expect(json.report.oracle.outputs).toBe(3);
      const s = scoreGeneral(net, parseNetworkV2(json), { points: 2000, seed: 1 });
      expect(s.function.sphere.relativeL2).toBeLessThan(1e-8);
      expect(s.function.gaussian.relativeL2).toBeLessThan(1e-8);
    } finally {
      process.emit('SIGINT');
      expect(await serving).toBe(0);
    }
  });
});

describe('ONNX exports nnid reads and cannot identify: refused before any query, one line (exit 2)', () => {
  const cases = [
    ['refuse-elu.onnx', "the activation after layer 1 is ELU (node '/1/Elu'), which is not twice differentiable at 0"],
    ['refuse-softmax.onnx', "the last layer is followed by Softmax (node '/1/Softmax'), a nonlinear function of all k logits together"],
    ['refuse-one-hidden.onnx', 'the model has 2 linear layers (1 hidden): nnid takes two hidden layers and a linear output layer'],
  ] as const;
  for (const [name, why] of cases) {
    it(name, async () => {
      const r = await run(['identify', '--oracle', variety(name), '--out', join(dir, 'never.json'), '--threads', '1']);
      expect(r.code).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toContain(`--oracle cannot import ${variety(name)}: ${why}`);
      expect(r.out.filter((l) => !l.startsWith('defaults: '))).toEqual([]);
    });
  }
});

describe('nnid convert and score on a real export with BatchNormalization in eval', () => {
  it('convert folds it (v2 answers as the model), score --truth model.onnx against the converted file: 0 error', async () => {
    const model = variety('opset13-batchnorm.onnx');
    const v2 = join(dir, 'bn.json');
    const c = await run(['convert', '--in', model, '--out', v2]);
    expect(c.code).toBe(0);
    expect(c.out[0]).toContain('d = 5, m0 = 4, m1 = 3, k = 1, tanh/tanh');
    const s = await run(['score', '--truth', model, '--recovered', v2, '--points', '500', '--json']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.out.join('\n')).function.gaussian.relativeL2).toBe(0);
  });
});

describe('nnid export of a v2 network with k = 3 outputs', () => {
  it('float64 and float32 ONNX models answering [n, 3], checked by onnxruntime', async () => {
    const net = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 3, outputs: 3, activation: { layer1: 'tanh', layer2: 'silu' }, seed: 2 });
    const netFile = join(dir, 'export-k3.json');
    writeFileSync(netFile, JSON.stringify(serializeNetworkV2(net)));
    for (const float32 of [false, true]) {
      const model = join(dir, float32 ? 'k3-32.onnx' : 'k3-64.onnx');
      const r = await run(['export', '--network', netFile, '--onnx', model, '--check', ...(float32 ? ['--float32'] : [])]);
      expect(r.err).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.out[0]).toMatch(new RegExp(`^wrote ${model}: ONNX opset 13, ${float32 ? 'float32' : 'float64'}, d = 6, m0 = 4, m1 = 3, k = 3, tanh/silu \\(\\d+ bytes\\)$`));
      const diff = Number(/^check: max \|f_onnx - f\| = (\S+) on 1000 points from N\(0, I_6\) \(all 3 outputs\)$/.exec(r.out[1])![1]);
      expect(diff).toBeLessThanOrEqual(float32 ? 1e-4 : 1e-12);
      if (!float32) expect(diff).toBeLessThanOrEqual(1e-13);
    }
  });
});
