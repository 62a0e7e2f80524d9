import { describe, expect, it } from 'vitest';
import { main } from '../src/main.ts';

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('nnid demo', () => {
  it('identifies a small default-style network exactly and prints the score before and after refinement', async () => {
    const r = await run(['demo', '--input-dim', '8', '--width1', '4', '--width2', '2', '--threads', '1']);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe('network: d = 8, m0 = 4, m1 = 2, tanh/tanh, shifts N(0, 0.3^2), seed 1 (P = 46 parameters); identifying it from queries alone on 1 thread(s)');
    const after = r.out.indexOf('after refinement:');
    expect(after).toBeGreaterThan(0);
    const l2 = Number(/relative L2 (\S+)/.exec(r.out[after + 4])![1]);
    expect(r.out[after + 4]).toMatch(/^ {2}f on N\(0, I\)/);
    expect(l2).toBeLessThan(1e-10);
    expect(r.out.some((l) => /^truth-free check: relative residual \S+ \(threshold 1e-9\) -> passed$/.test(l))).toBe(true);
  });

  it('exits 2 with one line for bad input', async () => {
    const r = await run(['demo', '--width1', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toEqual(["nnid demo: --width1 must be an integer >= 1, got '0'"]);
  });
});
