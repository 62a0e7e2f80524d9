import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACTIVATIONS, parseNetwork, serializeNetwork, toRows } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-generate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('nnid generate', () => {
  it('writes a network file that parses, with the requested sizes and the generator numbers', async () => {
    const file = join(dir, 'net.json');
    const r = await run(['generate', '--input-dim', '20', '--width1', '10', '--width2', '5', '--activation', 'tanh/sigmoid', '--seed', '3', '--out', file]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([`wrote ${file}: d = 20, m0 = 10, m1 = 5, tanh/sigmoid, shift std 0.3, perturbation 0, seed 3 (P = 265 parameters)`]);
    const net = parseNetwork(JSON.parse(readFileSync(file, 'utf8')));
    expect([net.inputDim, net.width1, net.width2]).toEqual([20, 10, 5]);
    expect(net.activation).toEqual({ layer1: 'tanh', layer2: 'sigmoid' });
    const expected = randomNetwork({ inputDim: 20, width1: 10, width2: 5, activation: { layer1: 'tanh', layer2: 'sigmoid' }, seed: 3 });
    expect(toRows(net.A)).toEqual(toRows(expected.A)); // every digit survives the file
    expect(Array.from(net.tau)).toEqual(Array.from(expected.tau));
  });

  it('prints the network when there is no --out, with --shift-std and --perturb applied', async () => {
    const r = await run(['generate', '--input-dim', '6', '--width1', '3', '--width2', '2', '--shift-std', '1', '--perturb', '0.1', '--activation', 'sigmoid']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out.join('\n'));
    expect(json.generator).toEqual({ tool: 'nnid generate', seed: 0, shiftStd: 1, orthogonalityPerturbation: 0.1 });
    expect(serializeNetwork(parseNetwork(json))).toEqual(
      serializeNetwork(randomNetwork({ inputDim: 6, width1: 3, width2: 2, shiftStd: 1, orthogonalityPerturbation: 0.1, activation: 'sigmoid' })),
    );
  });

  const bad: [string, string[], string][] = [
    ['--width2 > --width1', ['--input-dim', '20', '--width1', '5', '--width2', '6'], "nnid generate: --width2 must be <= --width1 (5), got '6'"],
    ['--width1 > --input-dim', ['--input-dim', '4', '--width1', '5', '--width2', '2'], "nnid generate: --width1 must be <= --input-dim (4), got '5'"],
    ['a missing --input-dim', ['--width1', '5', '--width2', '2'], 'nnid generate: missing required option --input-dim'],
    ['a width that is not an integer', ['--input-dim', '8', '--width1', '2.5', '--width2', '2'], "nnid generate: --width1 must be an integer >= 1, got '2.5'"],
    ['an unknown activation', ['--input-dim', '8', '--width1', '5', '--width2', '2', '--activation', 'relu'], `nnid generate: --activation must be one of ${ACTIVATIONS.join(', ')} (both layers) or a layer1/layer2 pair such as tanh/sigmoid, got 'relu'`],
    ['three activations', ['--input-dim', '8', '--width1', '5', '--width2', '2', '--activation', 'tanh/tanh/tanh'], `nnid generate: --activation must be one of ${ACTIVATIONS.join(', ')} (both layers) or a layer1/layer2 pair such as tanh/sigmoid, got 'tanh/tanh/tanh'`],
    ['the old pair form', ['--input-dim', '8', '--width1', '5', '--width2', '2', '--activation', 'tanh,sigmoid'], "nnid generate: --activation: a pair is written layer1/layer2, e.g. tanh/sigmoid, got 'tanh,sigmoid'"],
    ['a negative shift std', ['--input-dim', '8', '--width1', '5', '--width2', '2', '--shift-std=-1'], "nnid generate: --shift-std must be a number >= 0, got '-1'"],
    ['an unwritable --out', ['--input-dim', '8', '--width1', '5', '--width2', '2', '--out', '/nonexistent-dir/net.json'], 'nnid generate: --out: cannot write /nonexistent-dir/net.json: no such directory /nonexistent-dir'],
  ];
  for (const [what, argv, line] of bad) {
    it(`exits 2 with one line on ${what}`, async () => {
      const r = await run(['generate', ...argv]);
      expect(r.code).toBe(2);
      expect(r.out).toEqual([]);
      expect(r.err).toEqual([line]);
    });
  }

  it('--help shows the options and an example', async () => {
    const r = await run(['generate', '--help']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toContain('usage: nnid generate --input-dim D --width1 M0 --width2 M1');
    expect(r.out[0]).toContain('--activation NAME');
    expect(r.out[0]).toContain('example:');
  });
});
