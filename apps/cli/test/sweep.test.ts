import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.ts';
import { parseSeeds, parseSizes } from '../src/commands/sweep.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const grid = ['sweep', '--sizes', '6x4x2', '--activations', 'tanh', '--shift-stds', '0.3', '--seeds', '1-2', '--workers', '2', '--score-points', '500'];

describe('nnid sweep', () => {
  it('writes one line per run, skips finished runs on a rerun, and reruns a torn last line', async () => {
    const out = join(dir, 'runs.jsonl');
    const first = await run([...grid, '--out', out]);
    expect(first.err).toEqual([]);
    expect(first.out[0]).toBe(`sweep: 2 runs in the grid, 0 already in ${out}, 2 to run on 2 worker(s)`);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((r) => r.id).sort()).toEqual(['d6-m4-m2-tanh-tanh-s0p3-n0-p0-seed1', 'd6-m4-m2-tanh-tanh-s0p3-n0-p0-seed2']);
    for (const r of lines) {
      expect(r.error).toBeNull();
      expect(r.before.firstLayer.count).toBe(4);
      expect(r.queries.total).toBeGreaterThan(0);
      expect(typeof r.seconds.total).toBe('number');
    }
    expect(first.out.some((l) => l.startsWith('| 6,4,2 tanh/tanh s=0.3 noise=0 | 2 |'))).toBe(true);

    const second = await run([...grid, '--out', out]);
    expect(second.out[0]).toBe(`sweep: 2 runs in the grid, 2 already in ${out}, 0 to run on 2 worker(s)`);

    // a sweep killed while writing leaves a torn line: it is cut off and that run is done again
    const text = readFileSync(out, 'utf8').split('\n');
    writeFileSync(out, text[0] + '\n');
    appendFileSync(out, text[1].slice(0, 40));
    const third = await run([...grid, '--out', out]);
    expect(third.out[0]).toBe(`sweep: 2 runs in the grid, 1 already in ${out}, 1 to run on 2 worker(s)`);
    const after = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(after).toHaveLength(2);
    // the rerun gives the same figures as the first run (same seed, any worker)
    const again = after.find((r) => r.id === lines[1].id)!;
    const original = lines.find((r) => r.id === lines[1].id)!;
    expect(again.before).toEqual(original.before);
    expect(again.after).toEqual(original.after);
  });

  it('rejects a bad grid with one line and exit 2', async () => {
    const r = await run(['sweep', '--sizes', '10x12x3']);
    expect(r.code).toBe(2);
    expect(r.err).toEqual(["nnid sweep: --sizes: '10x12x3' needs m1 <= m0 <= d"]);
    expect(() => parseSizes(['20x10'])).toThrow("--sizes: '20x10' is not d x m0 x m1 such as 20x10x3");
    expect(() => parseSeeds(['5-1'])).toThrow("--seeds: '5-1' is an empty range");
    expect(parseSeeds(['1-3', '2', '7'])).toEqual([1, 2, 3, 7]);
  });
});
