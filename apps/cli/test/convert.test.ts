/**
 * nnid convert: a PyTorch-exported ONNX model -> v2 -> safetensors -> ONNX, each step the same
 * network (exact in float64); v1 in and out; bad input exits 2 with one line.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { matrixFrom, parseNetworkV2, serializeNetwork, serializeNetworkV2, toGeneral } from '@nnid/core';
import { importOnnx } from '@nnid/black-box';
import { evaluateGeneral, randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const real = (name: string) => new URL(`../../../packages/black-box/test/fixtures/real/${name}`, import.meta.url).pathname;

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('nnid convert', () => {
  it('ONNX (PyTorch, 10 logits) -> v2 -> safetensors -> ONNX: the same network each step, answering as PyTorch did', async () => {
    const onnx = real('d64-m32-m16-k10-tanh-torch-digits.onnx');
    const v2 = join(dir, 'digits.json');
    const st = join(dir, 'digits.safetensors');
    const back = join(dir, 'digits.onnx');
    let r = await run(['convert', '--in', onnx, '--out', v2]);
    expect([r.code, r.err]).toEqual([0, []]);
    expect(r.out).toEqual([`wrote ${v2}: nnid.network/v2, d = 64, m0 = 32, m1 = 16, k = 10, tanh/tanh, P = 2778 (from ONNX float32 ${onnx})`]);
    const net = parseNetworkV2(JSON.parse(readFileSync(v2, 'utf8')));
    const meta = JSON.parse(readFileSync(real('d64-m32-m16-k10-tanh-torch-digits.json'), 'utf8')) as { inputs: number[][]; outputs: number[][] };
    const F = evaluateGeneral(net, matrixFrom(Float64Array.from(meta.inputs.flat()), 16, 64));
    const want = meta.outputs.flat();
    const scale = Math.max(...want.map(Math.abs));
    for (let i = 0; i < want.length; i++) expect(Math.abs(F.data[i] - want[i])).toBeLessThanOrEqual(1e-6 * scale);

    r = await run(['convert', '--in', v2, '--out', st]);
    expect([r.code, r.out[0]]).toEqual([0, `wrote ${st}: safetensors F64, d = 64, m0 = 32, m1 = 16, k = 10, tanh/tanh, P = 2778 (from nnid.network/v2 ${v2})`]);
    r = await run(['convert', '--in', st, '--out', back]);
    expect([r.code, r.out[0]]).toEqual([0, `wrote ${back}: ONNX opset 13 float64, d = 64, m0 = 32, m1 = 16, k = 10, tanh/tanh, P = 2778 (from safetensors float64 ${st})`]);
    expect(serializeNetworkV2((await importOnnx(back)).network)).toEqual(serializeNetworkV2(net));
  });

  it('a PyTorch state_dict with --activation; v1 in, and out with --v1', async () => {
    const st = real('d6-m5-m3-k2-tanh-gelu-torch-float64.safetensors');
    const v2 = join(dir, 'st.json');
    const r = await run(['convert', '--in', st, '--activation', 'tanh/gelu', '--out', v2]);
    expect([r.code, r.out[0]]).toEqual([0, `wrote ${v2}: nnid.network/v2, d = 6, m0 = 5, m1 = 3, k = 2, tanh/gelu, P = 61 (from safetensors float64 ${st})`]);

    const v1 = randomNetwork({ inputDim: 5, width1: 4, width2: 2, activation: 'sigmoid', seed: 3 });
    const v1File = join(dir, 'v1.json');
    writeFileSync(v1File, JSON.stringify(serializeNetwork(v1)));
    const onnx = join(dir, 'v1.onnx');
    expect((await run(['convert', '--in', v1File, '--out', onnx])).code).toBe(0);
    const again = join(dir, 'v1-again.json');
    const r2 = await run(['convert', '--in', onnx, '--out', again, '--v1']);
    expect([r2.code, r2.err]).toEqual([0, []]);
    expect(JSON.parse(readFileSync(again, 'utf8'))).toEqual(JSON.parse(JSON.stringify(serializeNetwork(v1))));
    expect(serializeNetworkV2((await importOnnx(onnx)).network)).toEqual(serializeNetworkV2(toGeneral(v1)));
  });

  it('bad input: exit 2, one line', async () => {
    const st = real('d6-m5-m3-k2-tanh-gelu-torch.safetensors');
    const k2 = join(dir, 'k2.json');
    await run(['convert', '--in', real('d5-m4-m3-k2-gelu-silu-torch-float64.onnx'), '--out', k2]);
    const notModel = join(dir, 'notes.txt');
    writeFileSync(notModel, 'hello, not a model');
    const relu = real('refuse-relu.onnx');
    const cases: [string[], string | RegExp][] = [
      [['convert', '--out', join(dir, 'x.json')], 'nnid convert: missing required option --in'],
      [['convert', '--in', k2, '--out', join(dir, 'x.txt')], `nnid convert: --out ${join(dir, 'x.txt')}: the format is read from the extension: .json (nnid.network/v2), .onnx or .safetensors`],
      [['convert', '--in', k2, '--out', join(dir, 'x.json'), '--float32'], 'nnid convert: --float32 applies to an .onnx or .safetensors output (a .json file holds float64 numbers)'],
      [['convert', '--in', k2, '--out', join(dir, 'x.json'), '--v1'], 'nnid convert: invalid network: `layers[2].weight` has 2 rows (k = 2 outputs): nnid.network/v1 holds one output [E_NETWORK_FORMAT]'],
      [['convert', '--in', k2, '--out', join(dir, 'x.onnx'), '--activation', 'tanh'], `nnid convert: --activation applies to a safetensors input; ${k2} holds its activations`],
      [['convert', '--in', st, '--out', join(dir, 'x.json')], `nnid convert: cannot import ${st}: a state_dict holds no activations: give them (--activation layer1/layer2, e.g. tanh/tanh) [E_NETWORK_FORMAT]`],
      [['convert', '--in', st, '--out', join(dir, 'x.json'), '--activation', 'relu/tanh'], /^nnid convert: invalid argument\. `--activation` must be a smooth activation: relu is piecewise linear: .* \[E_INVALID_ARGUMENT\]$/],
      [['convert', '--in', relu, '--out', join(dir, 'x.json')], new RegExp(`^nnid convert: cannot import ${relu}: the activation after layer 1 is ReLU \\(node '/1/Relu'\\), which is piecewise linear: .* \\[E_NETWORK_FORMAT\\]$`)],
      [['convert', '--in', notModel, '--out', join(dir, 'x.json')], `nnid convert: --in ${notModel}: not a network file nnid reads (JSON nnid.network/v1 or v2, ONNX, safetensors)`],
      [['convert', '--in', join(dir, 'none.json'), '--out', join(dir, 'x.json')], `nnid convert: cannot read ${join(dir, 'none.json')}: no such file [E_FILE_READ]`],
      [['convert', '--in', k2, '--out', k2], `nnid convert: --out ${k2} is the file given as --in: a command never overwrites its own input; choose another file`],
    ];
    for (const [argv, line] of cases) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toHaveLength(1);
      if (typeof line === 'string') expect(r.err[0]).toBe(line);
      else expect(r.err[0]).toMatch(line);
    }
  });
});
