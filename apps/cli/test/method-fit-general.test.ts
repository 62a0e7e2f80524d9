import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generalParameterCount, parseNetworkV2, serializeNetwork, serializeNetworkV2 } from '@nnid/core';
import { randomGeneralNetwork, randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';
import { thresholdText } from '../src/progress.ts';
import { real } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-method-fit-general-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// (6, 4, 2) tanh/sigmoid, scales 0.3-3, biases and an output layer: k = 1 (P = 41) and k = 3 (P = 47)
const nets = [1, 3].map((k) => {
  const truth = randomGeneralNetwork({ inputDim: 6, width1: 4, width2: 2, outputs: k, activation: { layer1: 'tanh', layer2: 'sigmoid' }, seed: k === 1 ? 2 : 1 });
  const file = join(dir, `net-k${k}.json`);
  writeFileSync(file, JSON.stringify(serializeNetworkV2(truth)));
  return { k, file, P: generalParameterCount(truth) };
});

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const fit = (file: string, out: string, ...more: string[]) => ['identify', '--network', file, '--out', out, '--method', 'fit', '--width1', '4', '--width2', '2', '--quiet', ...more];

describe('nnid identify --method fit on the general model', () => {
  for (const { k, file, P } of nets) {
    it(`fits a v2 file with k = ${k} exactly within --max-queries (v2 result, scored), the same bits on 1 and 2 threads`, async () => {
      const budget = 5 * P;
      const outs = [join(dir, `fit-k${k}-1.json`), join(dir, `fit-k${k}-2.json`)];
      for (const [t, out] of outs.entries()) {
        const r = await run(fit(file, out, '--seed', String(k === 1 ? 2 : 1), '--max-queries', String(budget), '--threads', String(t + 1), '--starts', '8'));
        expect(r.code).toBe(0);
        expect(r.out[0]).toMatch(new RegExp(`^fitted m0 = 4, m1 = 2, k = ${k} \\(student fit, general model, start \\d+ of \\d+ run\\) from ${budget} queries \\(5\\.0 P${k > 1 ? `; ${budget * k} numbers received` : ''}\\) in `));
        expect(r.out[1]).toMatch(/^truth-free check: relative residual \S+ \(threshold 1e-9\): passed$/);
      }
      const [one, two] = outs.map((f) => JSON.parse(readFileSync(f, 'utf8')));
      expect(one.format).toBe('nnid.network/v2');
      expect(one.report.options.model).toBe('general');
      expect(one.report.queries.total).toBe(budget);
      expect(one.report.score.fit.function.gaussian.relativeL2).toBeLessThan(1e-8);
      expect(parseNetworkV2(two).W1.data).toEqual(parseNetworkV2(one).W1.data);
      expect(two.layers).toEqual(one.layers);
    });
  }

  it('never asks more than --max-queries: below P the check fails (exit 1) with a warning', async () => {
    const { file } = nets[1];
    const out = join(dir, 'small.json');
    const r = await run(fit(file, out, '--max-queries', '15', '--threads', '1', '--starts', '1'));
    expect(r.code).toBe(1);
    expect(r.out[1]).toMatch(/FAILED$/);
    expect(r.err).toEqual(['warning: 15 data points x 3 outputs = 45 values <= P = 47 parameters: a fit can interpolate them without being the network, so the check cannot pass; give more than 15 queries']);
    expect(JSON.parse(readFileSync(out, 'utf8')).report.queries.total).toBe(15);
  });

  it('on a float32 ONNX model: the noise probe (45 rows) first within --max-queries, the check\'s threshold following the noise measured', async () => {
    // PyTorch's (8, 4, 2) tanh, k = 3, float32 (8 -> 4 -> 2 -> 3, P = 55); a network file gets no probe (threshold 1e-9 above)
    const out = join(dir, 'f32.json');
    const r = await run(['identify', '--oracle', real('d8-m4-m2-k3-tanh-torch.onnx'), '--out', out, '--method', 'fit', '--width1', '4', '--width2', '2', '--activation', 'tanh', '--max-queries', '400', '--seed', '1', '--threads', '1', '--no-store', '--quiet']);
    const report = JSON.parse(readFileSync(out, 'utf8')).report;
    expect(report.noise.queries).toBe(45);
    expect(report.noise.sigma).toBeGreaterThan(0);
    expect(report.queries.total).toBe(400);
    expect(report.queries.numbersReceived).toBe(1200);
    expect(report.options.dataPoints).toBe(355);
    expect(report.options.noise).toBe(report.noise.sigma);
    // 3 sigma / rms(data): float32's rounding, far above 1e-9
    expect(report.check.threshold).toBeGreaterThan(1e-8);
    expect(report.check.threshold).toBeLessThan(1e-5);
    expect(report.parameterCount).toBe(55);
    expect(r.out[1]).toMatch(/from 400 queries \(7\.3 P; 1200 numbers received\)/);
    expect(r.out[2]).toBe(`truth-free check: relative residual ${report.check.relativeResidual.toExponential(2)} (threshold ${thresholdText(report.check.threshold)}): ${report.check.passed ? 'passed' : 'FAILED'}`);
    expect(report.check.passed).toBe(report.check.relativeResidual <= report.check.threshold);
    expect(r.code).toBe(report.check.passed ? 0 : 1);
  });

  it('--model general fits a v1 file in the general form (v2 result); --model paper with k = 3 is refused (exit 2)', async () => {
    const r = await run(fit(nets[1].file, join(dir, 'x.json'), '--model', 'paper'));
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toContain('a network with k = 3 outputs is fitted as --model general only');
    const v1 = join(dir, 'v1.json');
    writeFileSync(v1, JSON.stringify(serializeNetwork(randomNetwork({ inputDim: 8, width1: 4, width2: 2, seed: 3 }))));
    const out = join(dir, 'g.json');
    const g = await run(fit(v1, out, '--model', 'general', '--seed', '3', '--starts', '8', '--threads', '1'));
    expect(g.code).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.format).toBe('nnid.network/v2');
    expect(json.report.parameterCount).toBe(8 * 4 + 4 + 4 * 2 + 2 + 2 + 1);
    expect(json.report.check.passed).toBe(true);
  });
});
