import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeNetwork } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { main } from '../src/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const net = join(dir, 'net.json');
writeFileSync(net, JSON.stringify(serializeNetwork(randomNetwork({ inputDim: 8, width1: 4, width2: 2, activation: 'tanh', seed: 3 }))));
const other = join(dir, 'other.json');
writeFileSync(other, JSON.stringify(serializeNetwork(randomNetwork({ inputDim: 9, width1: 4, width2: 2, activation: 'tanh', seed: 3 }))));
const runs = join(dir, 'runs.jsonl');
copyFileSync(fileURLToPath(new URL('./fixtures/sweep-d10-d12-tanh-12runs.jsonl', import.meta.url)), runs);

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const svgCount = (html: string) => (html.match(/<svg /g) ?? []).length;

describe('nnid report', () => {
  it('nnid identify --report writes the result and its report; nnid report result.json --truth gives the same plots', async () => {
    const result = join(dir, 'result.json');
    const page = join(dir, 'result.html');
    const r = await run(['identify', '--network', net, '--out', result, '--report', page, '--width1', '4', '--width2', '2', '--threads', '1', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out.at(-1)).toBe(`wrote ${page}: report of one identification (truth-free check passed)`);
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('<b>The truth-free check passed.</b>');
    expect(svgCount(html)).toBe(4);
    expect(html).not.toMatch(/<script|<link|<img/i);
    // scored against the network file identify opened: 4 a_i and 2 v_l
    expect((html.match(/<tr><td>[av]\d+<\/td>/g) ?? []).length).toBe(6);

    const again = join(dir, 'again.html');
    const s = await run(['report', result, '--truth', net, '--points', '500', '--out', again]);
    expect(s).toEqual({ code: 0, out: [`wrote ${again}: report of one identification (truth-free check passed)`], err: [] });
    const html2 = readFileSync(again, 'utf8');
    expect(html2).toContain('the true network given (--truth)');
    expect(svgCount(html2)).toBe(4);
    const t = await run(['report', result, '--truth', other, '--out', join(dir, 'other.html')]);
    expect(t).toEqual({ code: 2, out: [], err: [`nnid report: --truth ${other} has input dimension 9, the result in ${result} 8: not its truth`] });
  });

  it('nnid report RUNS.jsonl writes the sweep report', async () => {
    const page = join(dir, 'sweep.html');
    const r = await run(['report', runs, '--out', page, '--title', 'tanh sweep']);
    expect(r).toEqual({ code: 0, out: [`wrote ${page}: report of a sweep of 12 runs`], err: [] });
    const html = readFileSync(page, 'utf8');
    expect(html).toContain('<title>tanh sweep</title>');
    expect(html).toContain('12 runs (12 finished, 0 crashed); 2 methods: nnid, nnid (pipeline alone)');
    expect(svgCount(html)).toBe(3);
  });

  it('bad input: exit 2 and one line naming what is wrong, nothing written', async () => {
    const page = join(dir, 'bad.html');
    const bad = async (argv: string[], line: string) => {
      const r = await run(argv);
      expect(r).toEqual({ code: 2, out: [], err: [line] });
    };
    await bad(['report', net, '--out', page], `nnid report: ${net} is neither the JSON lines of nnid sweep nor a result file of nnid identify (a network with a "report"): line 1 is "{\\"format\\":\\"nnid.network/v1\\",\\"activation\\"..."`);
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    await bad(['report', empty, '--out', page], `nnid report: ${empty} is neither the JSON lines of nnid sweep nor a result file of nnid identify (a network with a "report"): it is empty`);
    await bad(['report', join(dir, 'missing.jsonl'), '--out', page], `nnid report: cannot read ${join(dir, 'missing.jsonl')}: no such file`);
    await bad(['report', dir, '--out', page], `nnid report: cannot read ${dir}: it is a directory`);
    await bad(['report', runs, '--out', join(dir, 'no', 'such', 'x.html')], `nnid report: --out: cannot write ${join(dir, 'no', 'such', 'x.html')}: no such directory ${join(dir, 'no', 'such')}`);
    await bad(['report', runs, '--out', '/dev/null/x.html'], 'nnid report: --out: cannot write /dev/null/x.html: /dev/null is not a directory');
    await bad(['report', runs, '--out', runs], `nnid report: --out ${runs} is the file given as the input: a command never overwrites its own input; choose another file`);
    await bad(['report', runs, '--truth', net, '--out', page], `nnid report: --truth applies to one identification (result.json); ${runs} is a sweep, whose runs carry their own scores`);
    await bad(['report', runs], 'nnid report: missing required option --out');
    await bad(['report', '--out', page], 'nnid report: missing the input file: nnid report RUNS.jsonl|result.json --out report.html');
    await bad(['report', runs, 'extra', '--out', page], "nnid report: unexpected argument 'extra' (see nnid report --help)");
    await bad(['report', runs, '--points', '0', '--out', page], "nnid report: --points must be an integer >= 1, got '0'");
    // an unwritable --report is refused before identify pays for a query
    await bad(
      ['identify', '--network', net, '--out', join(dir, 'r.json'), '--report', join(dir, 'no', 'r.html'), '--threads', '1', '--quiet'],
      `nnid identify: --report: cannot write ${join(dir, 'no', 'r.html')}: no such directory ${join(dir, 'no')}`,
    );
    expect(existsSync(join(dir, 'r.json'))).toBe(false);
    expect(existsSync(page)).toBe(false);
  });

  it('has help, and is listed among the commands', async () => {
    const h = await run(['report', '--help']);
    expect(h.code).toBe(0);
    expect(h.out[0]).toMatch(/^usage: nnid report RUNS\.jsonl --out report\.html\n {7}nnid report result\.json \[--truth net\.json\] --out report\.html/);
    const all = await run(['--help']);
    expect(all.out[0]).toMatch(/\n {2}report +write an HTML report with plots/);
  });
});
