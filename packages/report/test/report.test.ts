import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readNetworkFile } from '@nnid/core';
import { parseReportInput, runReport, sweepReport, type RunResultInput, type SweepRecordInput } from '../src/index.ts';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const sweepText = readFileSync(fixture('sweep-d10-d12-noise-norefine.jsonl'), 'utf8');
const resultText = readFileSync(fixture('result-d20-m10-m3-tanh-seed1.json'), 'utf8');
const noRefineText = readFileSync(fixture('result-d10-m6-m2-tanh-norefine.json'), 'utf8');
const records = (): SweepRecordInput[] => sweepText.trim().split('\n').map((l) => JSON.parse(l));
const result = (): RunResultInput => JSON.parse(resultText);

/** The page is one file: no script, no stylesheet or image from anywhere, every plot inline SVG. */
function expectSelfContained(html: string): void {
  expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  expect(html).not.toMatch(/<script|<link|<img|<iframe|@import/i);
  expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
  expect(html).not.toMatch(/url\(\s*["']?https?:/i);
}

/** The SVGs of the page and, per SVG, how many drawn marks (paths, rects, texts) sit in Vega's mark groups. */
function plots(html: string): { svg: string; marks: number }[] {
  return [...html.matchAll(/<svg [\s\S]*?<\/svg>/g)].map((m) => ({
    svg: m[0],
    marks: (m[0].match(/<g class="mark-(symbol|rect|line|rule|text|area)[^"]*role-mark[\s\S]*?<\/g>/g) ?? []).filter((g) => /<(path|rect|text|line)[ >]/.test(g)).length,
  }));
}

/** The rows of the table that follows the section with this id. */
function tableRows(html: string, id: string): string[][] {
  const section = html.slice(html.indexOf(`id="${id}"`));
  const body = section.slice(section.indexOf('<tbody>'), section.indexOf('</tbody>'));
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]));
}

describe('sweepReport', () => {
  it('plots the exact rate, queries per P and seconds of a real sweep, each with its table', async () => {
    const input = records();
    const copy = JSON.stringify(input);
    const html = await sweepReport(input, { source: 'runs.jsonl' });
    expect(JSON.stringify(input)).toBe(copy); // records not mutated
    expectSelfContained(html);
    const svgs = plots(html);
    expect(svgs).toHaveLength(3);
    for (const p of svgs) expect(p.marks).toBeGreaterThan(0);
    expect(html).toContain('72 runs (72 finished, 0 crashed); 2 methods: nnid, nnid (pipeline alone)');
    expect(html).toContain('Target met in 48 of 72 finished runs.');
    // heat map: one cell per (method, noise, family, size) that has runs: 16 for nnid, 8 without refinement
    const rates = tableRows(html, 'rates');
    expect(rates).toHaveLength(24);
    const refined = rates.filter((r) => r[0] === 'nnid');
    expect(refined.every((r) => r[7] === '3/3' && r[8] === '100%')).toBe(true);
    const alone = rates.filter((r) => r[0] === 'nnid (pipeline alone)');
    expect(alone).toHaveLength(8);
    expect(alone.every((r) => r[7] === '0/3' && r[8] === '0%')).toBe(true);
    // the cell labels drawn in the heat map are the table's
    expect((svgs[0].svg.match(/>3\/3</g) ?? []).length).toBe(16);
    expect((svgs[0].svg.match(/>0\/3</g) ?? []).length).toBe(8);
    // queries: the medians per (method, size) are those of the records
    const q = tableRows(html, 'queries');
    expect(q.map((r) => r.slice(0, 4))).toEqual([
      ['nnid', '(10, 6, 2)', '80', '24'],
      ['nnid', '(12, 8, 3)', '131', '24'],
      ['nnid (pipeline alone)', '(10, 6, 2)', '80', '12'],
      ['nnid (pipeline alone)', '(12, 8, 3)', '131', '12'],
    ]);
    const medianQ = (method: string, d: number) => {
      const qs = input
        .filter((r) => (r.spec.identify?.refine === false) === (method !== 'nnid') && r.spec.inputDim === d)
        .map((r) => Number(r.queries!.total))
        .sort((a, b) => a - b);
      return qs.length % 2 ? qs[qs.length >> 1] : (qs[qs.length / 2 - 1] + qs[qs.length / 2]) / 2;
    };
    expect(Number(q[0][4])).toBe(Math.round(medianQ('nnid', 10)));
    expect(Number(q[3][4])).toBe(Math.round(medianQ('alone', 12)));
    expect(tableRows(html, 'seconds')).toHaveLength(4);
    // the runs without refinement missed the target: listed, and the check did not run on them
    const missed = tableRows(html, 'missed');
    expect(missed).toHaveLength(24);
    expect(missed.every((r) => r[3] === 'none ran')).toBe(true);
  });

  it('shows the methods the records name side by side, and lists crashed runs apart', async () => {
    const base = records().filter((r) => r.spec.identify?.refine !== false && r.spec.noise === 0);
    const baseline = base.map((r) => ({ ...r, id: `${r.id}-lm`, method: 'LM from random starts', targetMet: r.spec.inputDim === 10, exact: r.spec.inputDim === 10, queries: { total: 5 * (r.parameterCount ?? 1) } }));
    const crash = { id: 'd12-m8-m3-tanh-tanh-s0p3-n0-p0-seed9', spec: { ...base[0].spec, seed: 9 }, crashed: true, error: 'worker thread died', queries: null, seconds: null };
    const html = await sweepReport([...base, ...baseline, crash]);
    expect(html).toContain('2 methods: nnid, LM from random starts');
    const rates = tableRows(html, 'rates');
    expect(rates.filter((r) => r[0] === 'LM from random starts').map((r) => r[7])).toEqual(['3/3', '0/3', '3/3', '0/3', '3/3', '0/3', '3/3', '0/3']);
    const q = tableRows(html, 'queries').filter((r) => r[0] === 'LM from random starts');
    expect(q.map((r) => r[5])).toEqual(['5', '5']);
    const crashed = tableRows(html, 'crashed');
    expect(crashed).toEqual([['d12-m8-m3-tanh-tanh-s0p3-n0-p0-seed9', 'worker thread died']]);
    expect(html).toContain('49 runs (48 finished, 1 crashed)');
  });

  it('says so in words when no run finished', async () => {
    const html = await sweepReport([{ id: 'x', spec: records()[0].spec, crashed: true, error: 'boom' }]);
    expectSelfContained(html);
    expect(plots(html)).toHaveLength(0);
    expect(html).toContain('No finished run in these records: nothing to plot.');
  });

  it('escapes what the records say', async () => {
    const r = { ...records()[0], id: '<b>x</b>', method: '<script>alert(1)</script>' };
    const html = await sweepReport([r]);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('runReport', () => {
  it('plots the spectrum, the weights against the truth, the residual per iteration and the cost per stage', async () => {
    const input = result();
    const copy = JSON.stringify(input);
    const truth = readNetworkFile(fileURLToPathSafe(fixture('net-d20-m10-m3-tanh-seed1.json')));
    const html = await runReport(input, { truth, points: 2000 });
    expect(JSON.stringify(input)).toBe(copy);
    expectSelfContained(html);
    const svgs = plots(html);
    expect(svgs).toHaveLength(4);
    for (const p of svgs) expect(p.marks).toBeGreaterThan(0);
    expect(html).toContain('<b>The truth-free check passed.</b>');
    expect(html).toContain('relative residual of 3.2e-16, below the threshold 1.0e-9, at attempt 3 of 3');
    // spectrum: the chosen dimension and its gap, from the singular values themselves
    const s = input.report.spectrum!.hessians!;
    expect(svgs[0].svg).toContain(`dim W-hat = 17, gap s17/s18 = ${Number((s[16] / s[17]).toPrecision(3))}`);
    expect(svgs[0].svg).toContain('dim range(A) = 10');
    // weights: every true a_i and v_l, scored before and after refinement; refinement made them exact
    const w = tableRows(html, 'weights');
    expect(w.map((r) => r[0])).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10', 'v1', 'v2', 'v3']);
    for (const r of w) {
      expect(Number(r[1])).toBeLessThan(0.99999);
      expect(Number(r[3])).toBeGreaterThanOrEqual(1 - 1e-9);
    }
    // the same |cos| nnid identify recorded (same truth, same matching)
    const recorded = (input.report.score as { beforeRefinement: { firstLayer: { cosines: number[] } } }).beforeRefinement.firstLayer.cosines;
    expect(w.slice(0, 10).map((r) => Number(r[1]))).toEqual(recorded.map((c) => Number(c.toFixed(12))));
    // residual: one line per attempt, the chosen one ends below the threshold
    const attempts = tableRows(html, 'residual');
    expect(attempts.map((r) => r[0])).toEqual(['1', '2', '3 (chosen)']);
    expect(Number(attempts[2][5])).toBeLessThan(1e-9);
    expect(svgs[2].svg).toContain('check threshold 1.0e-9');
    // cost: the queries per stage add up to the total
    const cost = tableRows(html, 'cost');
    const total = cost.find((r) => r[0] === 'total')!;
    expect(Number(total[1])).toBe(input.report.queries!.total);
    expect(cost.filter((r) => r[0] !== 'total' && r[1] !== 'n/a').reduce((a, r) => a + Number(r[1]), 0)).toBe(input.report.queries!.total);
  });

  it('without --truth uses the score nnid identify recorded, and without either compares with the refined network', async () => {
    const withScore = await runReport(result());
    expect(withScore).toContain('the network file identify opened as its black box');
    expect(tableRows(withScore, 'weights')).toHaveLength(13);
    const bare = result();
    delete bare.report.score;
    const html = await runReport(bare);
    expect(html).toContain('Recovered weights against the refined network');
    const w = tableRows(html, 'weights');
    expect(w).toHaveLength(13);
    expect(w[0]).toHaveLength(3); // one stage: before, against after
    expect(plots(html)).toHaveLength(4);
  });

  it('says in words that no check ran and no refinement ran for the pipeline alone', async () => {
    const input = JSON.parse(noRefineText) as RunResultInput;
    const truth = readNetworkFile(fileURLToPathSafe(fixture('net-d10-m6-m2-tanh-seed3.json')));
    const html = await runReport(input, { truth, points: 500 });
    expectSelfContained(html);
    expect(html).toContain('<b>No truth-free check.</b>');
    expect(html).toContain('No refinement ran (the paper’s pipeline alone).');
    const w = tableRows(html, 'weights');
    expect(w).toHaveLength(8);
    expect(w[0]).toHaveLength(3);
    for (const p of plots(html)) expect(p.marks).toBeGreaterThan(0);
  });

  it('says FAILED when the check failed', async () => {
    const input = result();
    input.report.check = { relativeResidual: 0.0984, threshold: 1e-9, passed: false, on: 'refine-data', noise: 0, noiseFloor: false };
    const html = await runReport(input);
    expect(html).toContain('<b>The truth-free check FAILED.</b> After 3 attempts, the best network leaves a relative residual of 9.8e-2');
  });

  it('refuses a truth of another input dimension in the house template', async () => {
    const truth = readNetworkFile(fileURLToPathSafe(fixture('net-d10-m6-m2-tanh-seed3.json')));
    await expect(runReport(result(), { truth })).rejects.toThrow("invalid argument. `recovered.inputDim` must equal the truth's inputDim 10. Value: `20`.");
  });
});

describe('parseReportInput', () => {
  it('tells a sweep from a single run by the content', () => {
    const sweep = parseReportInput(sweepText);
    expect(sweep.kind).toBe('sweep');
    if (sweep.kind === 'sweep') expect(sweep.records).toHaveLength(72);
    expect(parseReportInput(resultText).kind).toBe('run');
    expect(parseReportInput(sweepText.split('\n')[0]).kind).toBe('sweep');
  });

  it('leaves out a torn last line and keeps the last line of an id', () => {
    const lines = sweepText.trim().split('\n');
    const rerun = JSON.stringify({ ...JSON.parse(lines[0]), exact: false });
    const input = parseReportInput([...lines, rerun, '{"id":"d10-m6-m2-tanh'].join('\n'));
    expect(input.kind === 'sweep' && input.records.length).toBe(72);
    expect(input.kind === 'sweep' && input.records[71].exact).toBe(false);
  });

  it('refuses a file that is neither, naming the line', () => {
    const expected = 'must be the JSON lines of nnid sweep (one record with "id" and "spec" per line) or the result file of nnid identify (a network file with a "report")';
    expect(() => parseReportInput('')).toThrow(`invalid argument. \`text\` ${expected}. Value: \`\`.`);
    const net = readFileSync(fixture('net-d10-m6-m2-tanh-seed3.json'), 'utf8');
    expect(() => parseReportInput(net)).toThrow(`invalid argument. \`text\` ${expected}; line 1 is neither. Value: \`{\`.`);
    expect(() => parseReportInput(JSON.stringify({ a: 1 }))).toThrow(`; line 1 is neither. Value: \`{"a":1}\`.`);
  });
});

function fileURLToPathSafe(u: URL): string {
  return decodeURIComponent(u.pathname);
}
