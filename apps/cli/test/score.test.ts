import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeNetwork } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-score-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const truth = join(dir, 'truth.json');
const other = join(dir, 'other.json');
writeFileSync(truth, JSON.stringify(serializeNetwork(randomNetwork({ inputDim: 8, width1: 4, width2: 2, activation: 'tanh', seed: 1 }))));
writeFileSync(other, JSON.stringify({ ...serializeNetwork(randomNetwork({ inputDim: 8, width1: 4, width2: 2, activation: 'tanh', seed: 2 })), report: {} }));

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('nnid score', () => {
  it('scores a network against itself as exact', async () => {
    const r = await run(['score', '--truth', truth, '--recovered', truth, '--points', '500']);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^a_i \(layer 1\)\s+n=4\s+min\|cos\| 1\s+median\|cos\| 1\s+\|cos\|>=0.999: 100%/);
    expect(r.out[2]).toBe('f on sphere      relative L2 0.00e+0   max error 0.00e+0');
  });

  it('reports large errors for another network, as JSON on request', async () => {
    const r = await run(['score', '--truth', truth, '--recovered', other, '--points', '500', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out.join('\n'));
    expect(s.firstLayer.minCos).toBeLessThan(0.99);
    expect(s.function.gaussian.relativeL2).toBeGreaterThan(0.1);
    expect(s.function.points).toBe(500);
  });

  it('exits 2 with one line for bad input', async () => {
    expect((await run(['score', '--truth', truth])).err).toEqual(['nnid score: missing required option --recovered']);
    const r = await run(['score', '--truth', truth, '--recovered', truth, '--points', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toEqual(["nnid score: --points must be an integer >= 1, got '0'"]);
    // parse errors name the command once
    expect((await run(['score', '--depth', '3'])).err[0]).toMatch(/^nnid score: Unknown option '--depth'\./);
    expect((await run(['score', 'extra'])).err).toEqual(["nnid score: unexpected argument 'extra' (see nnid score --help)"]);
  });
});
