import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACTIVATIONS, parseNetwork, serializeNetwork } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-identify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const net = join(dir, 'net.json');
writeFileSync(net, JSON.stringify(serializeNetwork(randomNetwork({ inputDim: 12, width1: 6, width2: 2, activation: 'tanh', seed: 5 }))));

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('nnid identify', () => {
  it('writes the recovered network with its report, scored against the file it was given', async () => {
    const out = join(dir, 'result.json');
    const r = await run(['identify', '--network', net, '--out', out, '--width1', '6', '--width2', '2', '--seed', '9', '--threads', '1', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^identified m0 = 6, m1 = 2 from \d+ queries \(\d+\.\d P\) in \d+\.\d\d s on 1 thread\(s\); wrote /);
    expect(r.out[1]).toMatch(/^truth-free check: relative residual \S+ \(threshold 1e-9\): passed$/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    const recovered = parseNetwork(json);
    expect(recovered.width1).toBe(6);
    expect(json.report.format).toBe('nnid.identify-report/v1');
    expect(json.report.activationSource).toBe('network file');
    expect(json.report.score.afterRefinement.function.gaussian.relativeL2).toBeLessThan(1e-8);
    expect(json.report.score.beforeRefinement.firstLayer.count).toBe(6);
    expect(json.report.queries.total).toBeGreaterThan(0);
  });

  it('--no-refine gives the paper\'s pipeline alone', async () => {
    const out = join(dir, 'plain.json');
    const r = await run(['identify', '--network', net, '--out', out, '--width1', '6', '--width2', '2', '--threads', '1', '--no-refine', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out.length).toBe(1);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.report.queries.refine).toBe(0);
    expect(json.report.score.afterRefinement).toBeUndefined();
  });

  it('exits 2 with one line for bad input', async () => {
    const cases: [string[], string][] = [
      [['identify', '--out', 'x.json'], 'nnid identify: missing required option --network (or --oracle)'],
      [['identify', '--network', net], 'nnid identify: missing required option --out'],
      [['identify', '--network', net, '--out', 'x.json', '--width1', '0'], "nnid identify: --width1 must be an integer >= 1, got '0'"],
      [['identify', '--network', net, '--out', 'x.json', '--width1', '13'], "nnid identify: --width1 must be <= the input dimension (12), got '13'"],
      [['identify', '--network', net, '--out', 'x.json', '--width1', '3', '--width2', '4'], "nnid identify: --width2 must be <= --width1 (3), got '4'"],
      [['identify', '--network', net, '--out', 'x.json', '--activation', 'relu'], `nnid identify: --activation must be one of ${ACTIVATIONS.join(', ')} (both layers) or a layer1/layer2 pair such as tanh/sigmoid, got 'relu'`],
      [['identify', '--network', net, '--out', 'x.json', '--activation', 'sigmoid,tanh'], "nnid identify: --activation: a pair is written layer1/layer2, e.g. sigmoid/tanh, got 'sigmoid,tanh'"],
      [['identify', '--network', join(dir, 'missing.json'), '--out', 'x.json'], `nnid identify: cannot read ${join(dir, 'missing.json')}: no such file [E_FILE_READ]`],
    ];
    for (const [argv, line] of cases) {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toEqual([line]);
    }
  });
});
