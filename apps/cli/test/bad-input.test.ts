/**
 * Issue 11, section 3: the command line never fails badly on bad input. Every case exits with
 * code 2 and one line (no stack), checks its output paths before any query, never overwrites its
 * own input, and writes results atomically (a full disk keeps the earlier file).
 */
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeNetwork } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';
import { checkOutputs, replaceAtomically, writeOutput } from '../src/files.ts';
import { readRecords } from '../src/sweep/records.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-bad-input-'));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) spawnSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
});
const net = join(dir, 'net.json');
const netText = JSON.stringify(serializeNetwork(randomNetwork({ inputDim: 12, width1: 6, width2: 2, activation: 'tanh', seed: 5 })));
writeFileSync(net, netText);

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

async function expectBad(argv: string[], line: string) {
  const r = await run(argv);
  expect({ code: r.code, err: r.err }).toEqual({ code: 2, err: [line] });
  return r;
}

const bin = new URL('../bin/nnid.js', import.meta.url).pathname;

describe('output paths are checked before any query is paid', () => {
  it('a missing directory, a directory, a file under a file: one line, nothing run', async () => {
    const file = join(dir, 'plain.txt');
    writeFileSync(file, 'x');
    await expectBad(['identify', '--network', net, '--out', join(dir, 'none', 'r.json')], `nnid identify: --out: cannot write ${join(dir, 'none', 'r.json')}: no such directory ${join(dir, 'none')}`);
    await expectBad(['identify', '--network', net, '--out', dir], `nnid identify: --out: cannot write ${dir}: it is a directory`);
    await expectBad(['identify', '--network', net, '--out', join(file, 'r.json')], `nnid identify: --out: cannot write ${join(file, 'r.json')}: ${file} is not a directory`);
    await expectBad(['sample', '--network', net, '--out', join(dir, 'none', 's.bin')], `nnid sample: --out: cannot write ${join(dir, 'none', 's.bin')}: no such directory ${join(dir, 'none')}`);
    await expectBad(['demo', '--out', join(dir, 'none', 'd.json')], `nnid demo: --out: cannot write ${join(dir, 'none', 'd.json')}: no such directory ${join(dir, 'none')}`);
    await expectBad(['generate', '--input-dim', '4', '--width1', '2', '--width2', '1', '--out', `${dir}/`], `nnid generate: --out: cannot write ${dir}/: it names a directory`);
    // the sweep checks --out and --summary before its first run, and refuses one file for both
    const grid = ['sweep', '--sizes', '4x2x1', '--activations', 'tanh', '--shift-stds', '0.3', '--seeds', '1'];
    await expectBad([...grid, '--out', join(dir, 'none', 'x.jsonl')], `nnid sweep: --out: cannot write ${join(dir, 'none', 'x.jsonl')}: no such directory ${join(dir, 'none')}`);
    const runs = join(dir, 'runs.jsonl');
    await expectBad([...grid, '--out', runs, '--summary', join(dir, 'none', 's.md')], `nnid sweep: --summary: cannot write ${join(dir, 'none', 's.md')}: no such directory ${join(dir, 'none')}`);
    await expectBad([...grid, '--out', runs, '--summary', runs], `nnid sweep: --summary ${runs} is also the file of --out: two outputs cannot share a file`);
    expect(readdirSync(dir).sort()).toEqual(['net.json', 'plain.txt']); // nothing written, no probe left behind
  });

  it('a read-only file system is refused before the run (tried with a real mount when the test may make one)', async (ctx) => {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', ro]).status !== 0) ctx.skip();
    mounts.push(ro);
    await expectBad(['identify', '--network', net, '--out', join(ro, 'r.json')], `nnid identify: --out: cannot write ${join(ro, 'r.json')}: read-only file system`);
  });
});

describe('results are written atomically', () => {
  it('a full disk keeps the earlier result whole (a 64 kB tmpfs), and leaves no temporary file', async (ctx) => {
    const small = join(dir, 'small');
    mkdirSync(small);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]).status !== 0) ctx.skip();
    mounts.push(small);
    const out = join(small, 'net.json');
    const first = await run(['generate', '--input-dim', '4', '--width1', '2', '--width2', '1', '--seed', '1', '--out', out]);
    expect(first.code).toBe(0);
    const earlier = readFileSync(out, 'utf8');
    // fill the disk, then ask for a network too large for what is left
    writeFileSync(join(small, 'filler'), Buffer.alloc(64 * 1024 - statSync(out).size - 8 * 1024));
    const r = await run(['generate', '--input-dim', '40', '--width1', '30', '--width2', '10', '--seed', '2', '--out', out]);
    expect({ code: r.code, err: r.err }).toEqual({ code: 2, err: [`nnid generate: --out: cannot write ${out}: no space left on device (the earlier file is kept)`] });
    expect(readFileSync(out, 'utf8')).toBe(earlier);
    expect(readdirSync(small).sort()).toEqual(['filler', 'net.json']);
  });

  it('an injected write error (no mount needed): the earlier file is kept, the temporary file removed', () => {
    const target = join(dir, 'kept.json');
    writeFileSync(target, 'earlier');
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(() =>
      replaceAtomically({ flag: '--out', path: target }, (tmp) => {
        writeFileSync(tmp, 'half a res');
        throw full;
      }),
    ).toThrow(`--out: cannot write ${target}: no space left on device (the earlier file is kept)`);
    expect(readFileSync(target, 'utf8')).toBe('earlier');
    expect(readdirSync(dir).filter((f) => f.startsWith('.kept.json'))).toEqual([]);
    rmSync(target);
  });

  it('writeOutput replaces the file by a rename (a new inode), follows a symbolic link, keeps the mode', () => {
    const target = join(dir, 'atomic.txt');
    writeFileSync(target, 'old', { mode: 0o640 });
    const link = join(dir, 'atomic-link.txt');
    symlinkSync(target, link);
    const before = statSync(target).ino;
    writeOutput({ flag: '--out', path: link }, 'new');
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(statSync(target).ino).not.toBe(before);
    expect(statSync(target).mode & 0o777).toBe(0o640);
    expect(readFileSync(link, 'utf8')).toBe('new'); // still a link to the target
    rmSync(link);
    rmSync(target);
  });
});

describe('a command never overwrites its own input', () => {
  it('identify, export, sample: the same path, another spelling, a symbolic link, a hard link', async () => {
    const copy = join(dir, 'a.json');
    writeFileSync(copy, netText);
    const hard = join(dir, 'hard.json');
    linkSync(copy, hard);
    const soft = join(dir, 'soft.json');
    symlinkSync(copy, soft);
    const msg = (cmd: string, flag: string, path: string, input: string) =>
      `nnid ${cmd}: ${flag} ${path} is the file given as ${input}: a command never overwrites its own input; choose another file`;
    await expectBad(['identify', '--network', copy, '--out', copy], msg('identify', '--out', copy, '--network'));
    await expectBad(['identify', '--network', copy, '--out', `${dir}/./a.json`], msg('identify', '--out', `${dir}/./a.json`, '--network'));
    await expectBad(['identify', '--network', copy, '--out', hard], msg('identify', '--out', hard, '--network'));
    await expectBad(['identify', '--network', soft, '--out', copy], msg('identify', '--out', copy, '--network'));
    await expectBad(['export', '--network', copy, '--onnx', copy], msg('export', '--onnx', copy, '--network'));
    await expectBad(['sample', '--network', copy, '--out', soft], msg('sample', '--out', soft, '--network'));
    expect(readFileSync(copy, 'utf8')).toBe(netText);
    expect(() => checkOutputs([{ flag: '--out', path: join(dir, 'other.json') }], [{ flag: '--network', path: copy }])).not.toThrow();
  });
});

describe('nnid sweep --out', () => {
  const grid = ['sweep', '--sizes', '4x2x1', '--activations', 'tanh', '--shift-stds', '0.3', '--seeds', '1', '--workers', '1', '--score-points', '200'];

  it("refuses a file that is not its own JSON lines and leaves it as it is (printf 'a\\nb' kept its b)", async () => {
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'a\nb');
    await expectBad([...grid, '--out', notes], `nnid sweep: --out ${notes} is not a results file of nnid sweep (line 1 is not one of its JSON records); it is left as it is: choose another file`);
    expect(readFileSync(notes, 'utf8')).toBe('a\nb');
    writeFileSync(notes, '{"id": "x", "spec": {}}\nb');
    await expectBad([...grid, '--out', notes], `nnid sweep: --out ${notes} is not a results file of nnid sweep (its last line (2) has no final newline and is not one of its records); it is left as it is: choose another file`);
    expect(readFileSync(notes, 'utf8')).toBe('{"id": "x", "spec": {}}\nb');
    writeFileSync(notes, '[1, 2]\n');
    await expectBad([...grid, '--out', notes], `nnid sweep: --out ${notes} is not a results file of nnid sweep (line 1 is not one of its JSON records); it is left as it is: choose another file`);
  });

  it('refuses degenerate grid values and too many workers before any run', async () => {
    await expectBad(
      ['sweep', '--sizes', '4x2x1', '--activations', 'tanh', '--perturbs', '1e300', '--seeds', '1'],
      'nnid sweep: --perturbs must be small enough that A + eps G stays finite (row 0 of A would be all zero or NaN). Value: `1e+300`. (at --sizes 4x2x1, seed 1)',
    );
    await expectBad(['sweep', '--sizes', '4x2x1', '--workers', '100000'], "nnid sweep: --workers must be an integer in [1, 1024], got '100000'");
  });

  it('a disk that fills during the sweep: one line, the runs written before are kept (a 64 kB tmpfs)', async (ctx) => {
    const small = join(dir, 'small-sweep');
    mkdirSync(small);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]).status !== 0) ctx.skip();
    mounts.push(small);
    writeFileSync(join(small, 'filler'), Buffer.alloc(63 * 1024));
    const out = join(small, 'runs.jsonl');
    const r = await run([...grid, '--out', out]);
    expect({ code: r.code, last: r.err.at(-1) }).toEqual({
      code: 2,
      last: `nnid sweep: --out: cannot write ${out}: no space left on device (the runs written before are kept; a rerun goes on from them)`,
    });
    // whatever was written is the sweep's own (a torn record at most): a rerun reads it
    expect(() => readRecords(out)).not.toThrow();
  });

  it('cuts only a torn record of its own (a killed run) and reads the rest', () => {
    const own = join(dir, 'own.jsonl');
    writeFileSync(own, '{"id":"a","spec":{"seed":1}}\n{"id":"b","spec":{"se');
    expect(readRecords(own).map((r) => r.id)).toEqual(['a']);
    expect(readFileSync(own, 'utf8')).toBe('{"id":"a","spec":{"seed":1}}\n');
    // a whole record without its final newline is kept, and the newline restored
    writeFileSync(own, '{"id":"a","spec":{"seed":1}}\n{"id":"b","spec":{"seed":2}}');
    expect(readRecords(own).map((r) => r.id)).toEqual(['a', 'b']);
    expect(readFileSync(own, 'utf8')).toBe('{"id":"a","spec":{"seed":1}}\n{"id":"b","spec":{"seed":2}}\n');
  });
});

describe('--width2 larger than the first width', () => {
  it('is refused before any query when it exceeds the input dimension (the largest first width)', async () => {
    await expectBad(['identify', '--network', net, '--out', join(dir, 'w.json'), '--width2', '13'], "nnid identify: --width2 must be <= the input dimension (12, the largest first width), got '13'");
  });

  it('larger than the inferred first width: nothing written, never a network score and serve refuse', async () => {
    const out = join(dir, 'w.json');
    await expectBad(
      ['identify', '--network', net, '--out', out, '--width2', '8', '--threads', '1', '--quiet'],
      `nnid identify: --width2 8 is larger than the first width inferred from the gradients (6): give --width1, or a --width2 <= 6; nothing written to ${out}`,
    );
    expect(() => statSync(out)).toThrow();
  });
});

describe('no stack trace on bad values', () => {
  const cases: [string, string[], string][] = [
    [
      'generate with huge sizes',
      ['generate', '--input-dim', '100000', '--width1', '100000', '--width2', '5'],
      'nnid generate: --input-dim 100000 --width1 100000 --width2 5 gives P = 10,000,600,005 parameters: about 160 GB of memory and a 240 GB network file, more than the 500 MiB a network file may hold (about 21 million parameters)',
    ],
    ['sweep with a huge seed range', ['sweep', '--sizes', '4x2x1', '--seeds', '1-100000000'], "nnid sweep: --seeds: '1-100000000' makes more than 100000 seeds (a sweep runs at most 100000 runs)"],
    ['sweep with a seed beyond 2^53', ['sweep', '--sizes', '4x2x1', '--seeds', '99999999999999999999'], "nnid sweep: --seeds: '99999999999999999999' has a seed above 9007199254740991"],
    ['a seed beyond 2^53', ['generate', '--input-dim', '4', '--width1', '2', '--width2', '1', '--seed', '99999999999999999999'], "nnid generate: --seed must be an integer >= 0, got '99999999999999999999'"],
    ['sample with a step wider than the sphere', ['sample', '--network', net, '--step', '1e300'], "nnid sample: --step must be smaller than --radius (1), got '1e300'"],
    ['sample with a stack larger than memory', ['sample', '--network', net, '--points', '100000000', '--quiet'], `nnid sample: --points 100000000 Hessians of d = 12 needs about 230 GB of memory, ${230e9 > totalmem() ? `more than this machine has (${(totalmem() / 2 ** 30).toFixed(0)} GiB) and ` : ''}in arrays larger than Node allows (4294967295 numbers)`],
    ['demo with --width2 > --width1', ['demo', '--width1', '3', '--width2', '5'], "nnid demo: --width2 must be <= --width1 (3), got '5'"],
    ['a directory as a network file', ['score', '--truth', '/tmp', '--recovered', '/tmp'], 'nnid score: cannot read /tmp: it is a directory [E_FILE_READ]'],
    ['an empty network file', ['score', '--truth', '/dev/null', '--recovered', '/dev/null'], 'nnid score: cannot read /dev/null: not valid JSON (Unexpected end of JSON input) [E_FILE_READ]'],
  ];
  for (const [what, argv, line] of cases) {
    it(what, async () => {
      await expectBad(argv, line);
    });
  }

  it('a sweep or demo whose identify would not fit in memory says how much it needs', async () => {
    const r = await run(['sweep', '--sizes', '1000x500x50', '--seeds', '1']);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^nnid sweep: --sizes 1000x500x50 \(one identify run\) needs about \S+ TB of memory, more than this machine has \(\d+ GiB\)/);
    const s = await run(['score', '--truth', net, '--recovered', net, '--points', '1000000000']);
    expect(s.code).toBe(2);
    expect(s.err[0]).toMatch(/^nnid score: --points 1000000000 at d = 12 needs about 256 GB of memory/);
  });

  it('--network /dev/zero ends in one line (a read limited to 500 MiB), from the real command', () => {
    const r = spawnSync(process.execPath, [bin, 'score', '--truth', '/dev/zero', '--recovered', net], { encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 2,
      stderr: 'nnid score: cannot read /dev/zero: longer than 500 MiB, the most a JSON file may hold [E_FILE_READ]\n',
    });
  });

  it('a closed pipe on stdout (nnid ... | head -1) prints no EPIPE stack', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" generate --input-dim 200 --width1 100 --width2 20 | head -1; echo "status \${PIPESTATUS[0]}" >&2`], {
      encoding: 'utf8',
    });
    expect({ stdout: r.stdout, stderr: r.stderr }).toEqual({ stdout: '{\n', stderr: 'status 0\n' });
  });
});

describe('generate refuses degenerate values, and warns about saturated units', () => {
  const base = ['generate', '--input-dim', '5', '--width1', '3', '--width2', '2'];
  it('an A of zeros from --perturb 1e300', async () => {
    await expectBad([...base, '--perturb', '1e300'], 'nnid generate: --perturb must be small enough that A + eps G stays finite (row 0 of A would be all zero or NaN). Value: `1e+300`.');
  });
  it('every unit saturated from --shift-std 1e308', async () => {
    const r = await run([...base, '--shift-std', '1e308']);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^nnid generate: --shift-std must (give finite shifts|leave some unit unsaturated) .*Value: `1e\+308`\.$/);
  });
  it('some units saturated: written, with a warning naming the value', async () => {
    const out = join(dir, 'saturated.json');
    const r = await run(['generate', '--input-dim', '10', '--width1', '8', '--width2', '2', '--shift-std', '5', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([
      "nnid generate: warning: --shift-std 5 saturates 5 of 8 first-layer units at x = 0 (phi'(t) < 1e-3 phi'(0)): they are nearly constant and hard to identify",
      "nnid generate: warning: --shift-std 5 saturates 1 of 2 second-layer units at x = 0 (phi'(t) < 1e-3 phi'(0)): they are nearly constant and hard to identify",
    ]);
  });
});
