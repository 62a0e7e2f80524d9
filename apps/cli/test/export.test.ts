import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeNetwork } from '@nnid/core';
import { onnxBlackBox } from '@nnid/black-box';
import { randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const netFile = join(dir, 'net.json');
writeFileSync(netFile, JSON.stringify(serializeNetwork(randomNetwork({ inputDim: 9, width1: 5, width2: 3, activation: 'sigmoid', seed: 1 }))));

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('nnid export', () => {
  it('writes an ONNX model that onnxruntime loads, and --check compares it with the network', async () => {
    const model = join(dir, 'model.onnx');
    const r = await run(['export', '--network', netFile, '--onnx', model, '--check']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(new RegExp(`^wrote ${model}: ONNX opset 13, float64, d = 9, m0 = 5, m1 = 3, sigmoid/sigmoid \\(\\d+ bytes\\)$`));
    const diff = Number(/^check: max \|f_onnx - f\| = (\S+) on 1000 points from N\(0, I_9\)$/.exec(r.out[1])![1]);
    expect(diff).toBeLessThan(1e-14);
    const box = await onnxBlackBox(model);
    expect(box.inputDim).toBe(9);
    await box.close();
  });

  it('exits 2 with one line for bad input', async () => {
    const cases: [string[], string][] = [
      [['export', '--onnx', join(dir, 'x.onnx')], 'nnid export: missing required option --network'],
      [['export', '--network', netFile], 'nnid export: missing required option --onnx'],
      [['export', '--network', join(dir, 'none.json'), '--onnx', join(dir, 'x.onnx')], `nnid export: cannot read ${join(dir, 'none.json')}: no such file [E_FILE_READ]`],
      [['export', '--network', netFile, '--onnx', join(dir, 'no', 'x.onnx')], `nnid export: --onnx: cannot write ${join(dir, 'no', 'x.onnx')}: no such directory ${join(dir, 'no')}`],
    ];
    for (const [argv, line] of cases) {
      const r = await run(argv);
      expect([r.code, r.err]).toEqual([2, [line]]);
    }
    const help = await run(['export', '--help']);
    expect(help.code).toBe(0);
    expect(help.out[0]).toMatch(/^usage: nnid export --network net.json --onnx model.onnx/);
  });
});
