import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.ts';
import { gridSpecs, parseSeeds, parseSizes, runSweep } from '../src/commands/sweep.ts';
import { groupKey } from '../src/sweep/summary.ts';
import { experimentId } from '@nnid/pipeline';

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

  it('writes a crashed run at once (error set, figures null), lists it apart, and a rerun runs it again', async () => {
    const out = join(dir, 'crashes.jsonl');
    const id = (seed: number) => `d6-m4-m2-tanh-tanh-s0p3-n0-p0-seed${seed}`;
    // seed 2 throws inside the worker, seed 3 ends the worker thread; one worker runs them in order
    const crashGrid = ['--sizes', '6x4x2', '--activations', 'tanh', '--shift-stds', '0.3', '--seeds', '1-3', '--score-points', '500'];
    const specs = gridSpecs({ sizes: '6x4x2', activations: 'tanh', 'shift-stds': '0.3', seeds: '2,3,1' });
    const err: string[] = [];
    const fileWhenReported: string[] = [];
    const written = await runSweep(
      specs,
      { out, workers: 1, scorePoints: 500, workerUrl: new URL('./fixtures/crashing-sweep-worker.mjs', import.meta.url).href },
      {
        out: () => {},
        err: (line) => {
          err.push(line);
          fileWhenReported.push(readFileSync(out, 'utf8'));
        },
      },
    );
    expect(err).toEqual([
      `sweep: ${id(2)} crashed: RangeError: injected crash in the worker (written to ${out}; a rerun runs it again)`,
      `sweep: ${id(3)} crashed: worker exited with code: 7 (written to ${out}; a rerun runs it again)`,
    ]);
    // each crash is the last line of the file when it is reported, while the sweep still runs
    // (the thread's death may be reported after seed 1 has ended: no order among the runs is assumed)
    expect(fileWhenReported.map((text) => JSON.parse(text.trim().split('\n').pop()!)).map((r) => [r.id, r.crashed])).toEqual([
      [id(2), true],
      [id(3), true],
    ]);
    expect(written.map((r) => r.id).sort()).toEqual([id(1), id(2), id(3)]);
    const byId = new Map(readFileSync(out, 'utf8').trim().split('\n').map((l) => [JSON.parse(l).id, JSON.parse(l)]));
    const lines = [byId.get(id(2)), byId.get(id(3)), byId.get(id(1))];
    expect(byId.size).toBe(3);
    expect(lines[0]).toMatchObject({
      id: id(2),
      crashed: true,
      error: 'RangeError: injected crash in the worker',
      cause: 'crash: RangeError: injected crash in the worker',
      targetMet: false,
      before: null,
      after: null,
      queries: null,
      seconds: null,
    });
    expect(lines[0].spec.seed).toBe(2);
    expect(lines[1]).toMatchObject({ id: id(3), crashed: true, error: 'worker exited with code: 7', before: null });
    expect(lines[2].error).toBeNull();
    expect(lines[2].crashed).toBeUndefined();

    // the summary keeps crashes out of the table and lists them; the exit code says a run failed
    const report = await run(['sweep', ...crashGrid, '--workers', '1', '--out', out, '--report-only']);
    expect(report.code).toBe(1);
    expect(report.out[0]).toBe(`sweep: 3 runs in the grid, 1 already in ${out} (and 2 crashed: not run again with --report-only), 0 to run on 1 worker(s)`);
    expect(report.out.find((l) => l.startsWith('| 6,4,2 '))).toMatch(/^\| 6,4,2 tanh\/tanh s=0\.3 noise=0 \| 1 \|/);
    expect(report.out.slice(-4)).toEqual([
      'Runs that crashed (no figures; rerunning the same command runs them again):',
      '',
      `- ${id(2)}: RangeError: injected crash in the worker`,
      `- ${id(3)}: worker exited with code: 7`,
    ]);

    // a rerun with the real worker runs the two crashed ids again; their new lines win
    const rerun = await run(['sweep', ...crashGrid, '--workers', '2', '--out', out]);
    expect(rerun.err).toEqual([]);
    expect(rerun.code).toBe(0);
    expect(rerun.out[0]).toBe(`sweep: 3 runs in the grid, 1 already in ${out} (and 2 crashed: run again), 2 to run on 2 worker(s)`);
    expect(rerun.out.some((l) => l.startsWith('| 6,4,2 tanh/tanh s=0.3 noise=0 | 3 |'))).toBe(true);
    expect(rerun.out.some((l) => l.startsWith('Runs that crashed'))).toBe(false);
    const after = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(after).toHaveLength(5);
    expect(after.slice(3).map((r) => r.id).sort()).toEqual([id(2), id(3)]);
    for (const r of after.slice(3)) {
      expect(r.error).toBeNull();
      expect(r.before.firstLayer.count).toBe(4);
    }
    const third = await run(['sweep', ...crashGrid, '--workers', '2', '--out', out]);
    expect(third.out[0]).toBe(`sweep: 3 runs in the grid, 3 already in ${out}, 0 to run on 2 worker(s)`);
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

describe('nnid sweep --query-targets', () => {
  it('adds the target to the grid, the run ids and the summary rows; the default keeps the old ids', () => {
    const plain = gridSpecs({ sizes: '6x4x2', activations: 'tanh', 'shift-stds': '0.3', seeds: '1' });
    expect(plain.map((s) => experimentId(s))).toEqual(['d6-m4-m2-tanh-tanh-s0p3-n0-p0-seed1']);
    expect(plain[0].identify).toBeUndefined();
    const specs = gridSpecs({ sizes: '6x4x2', activations: 'tanh', 'shift-stds': '0.3', seeds: '1', 'query-targets': '12.5,20' });
    expect(specs.map((s) => experimentId(s))).toEqual(['d6-m4-m2-tanh-tanh-s0p3-n0-p0-q12p5-seed1', 'd6-m4-m2-tanh-tanh-s0p3-n0-p0-q20-seed1']);
    expect(specs.map((s) => s.identify?.queryBudget)).toEqual([12.5, 20]);
    expect(groupKey({ spec: specs[0] } as never)).toBe('6,4,2 tanh/tanh s=0.3 noise=0 target=12.5P');
  });

  it('rejects a target that is not > 0, and the old name --query-budgets (it was never a cap)', () => {
    expect(() => gridSpecs({ sizes: '6x4x2', 'query-targets': '0' })).toThrow("--query-targets: '0' is not a number > 0");
    expect(() => gridSpecs({ sizes: '6x4x2', 'query-targets': 'x' })).toThrow("--query-targets: 'x' is not a number >= 0");
    expect(() => gridSpecs({ sizes: '6x4x2', 'query-budgets': '10' })).toThrow(
      '--query-budgets is now --query-targets: a target identify sizes its Hessian stage for, not a cap on the queries',
    );
  });
});

