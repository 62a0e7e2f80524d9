/**
 * The student fit's own table, as issue 14 measured its numpy fit: per family and budget b P,
 * single starts exact out of (networks x starts), and seconds per start. Each start is one
 * `baselineFit` with `starts: 1` (its own data seed: network n, start s -> seed 100 n + s, so the
 * starts also differ in their data), scored on 10^4 fresh N(0, I_d) points (exact = relative L2 <=
 * 1e-8). Networks from nnid's generator, seeds 1001.. (in no test). One start at a time, one thread.
 *
 *   npx tsx tools/bench/baseline.ts [--families tanh-0.3-20-10-3,...] [--budgets 1.5,2,3,5]
 *       [--networks 3] [--starts 3] [--out /tmp/baseline.jsonl] [--from FILE]
 *
 * Prints the table (and appends every start to --out as it ends). Never fails on a figure.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { machineLine } from './benchmarks-md.ts';
import { type ActivationName } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { baselineFit } from '@nnid/student-fit';

interface Family {
  name: string;
  activation: ActivationName;
  shiftStd: number;
  size: [number, number, number];
  /** Issue 14's numpy fit: exact starts at 1.5 / 2 / 3 / 5 P, and seconds per start at 5 P. */
  numpy: string;
}

export const FAMILIES: Family[] = [
  { name: 'tanh-0.3-20-10-3', activation: 'tanh', shiftStd: 0.3, size: [20, 10, 3], numpy: '0/9, 0/9, 2/9, 8/9; 0.2 s' },
  { name: 'sigmoid-1-20-10-3', activation: 'sigmoid', shiftStd: 1, size: [20, 10, 3], numpy: '0/9, 0/9, 0/9, 3/9; 0.4 s' },
  { name: 'tanh-0.3-30-20-8', activation: 'tanh', shiftStd: 0.3, size: [30, 20, 8], numpy: '0/9, 0/9, 0/9, 8/9; 4.7 s' },
  { name: 'tanh-1-30-20-8', activation: 'tanh', shiftStd: 1, size: [30, 20, 8], numpy: '0/9, 0/9, 0/9, 3/9; 6.1 s' },
  { name: 'sigmoid-1-30-20-8', activation: 'sigmoid', shiftStd: 1, size: [30, 20, 8], numpy: '0/9, 0/9, 2/9, 2/9; 8.0 s' },
  { name: 'tanh-0.3-50-30-10', activation: 'tanh', shiftStd: 0.3, size: [50, 30, 10], numpy: '0/9, 0/9, 0/9, 9/9; 57 s' },
];

interface Start {
  family: string;
  budget: number;
  network: number;
  start: number;
  exact: boolean;
  relativeL2: number;
  residual: number;
  passed: boolean;
  seconds: number;
  iterations: number;
  stopReason: string;
}

const { values } = parseArgs({
  options: {
    families: { type: 'string', default: 'tanh-0.3-20-10-3,sigmoid-1-20-10-3,tanh-0.3-30-20-8' },
    budgets: { type: 'string', default: '1.5,2,3,5' },
    networks: { type: 'string', default: '3' },
    starts: { type: 'string', default: '3' },
    out: { type: 'string', default: '/tmp/baseline.jsonl' },
    from: { type: 'string' },
  },
});

const loadBefore = loadavg();
const began = performance.now();
let runs: Start[] = [];
if (values.from) {
  runs = readFileSync(values.from, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Start);
} else {
  writeFileSync(values.out, '');
  const families = values.families.split(',').map((n) => FAMILIES.find((f) => f.name === n) ?? (() => { throw new Error(`unknown family ${n}: one of ${FAMILIES.map((f) => f.name).join(', ')}`); })());
  for (const f of families) {
    for (const budget of values.budgets.split(',').map(Number)) {
      for (let network = 0; network < Number(values.networks); network++) {
        const [inputDim, width1, width2] = f.size;
        const truth = randomNetwork({ inputDim, width1, width2, activation: f.activation, shiftStd: f.shiftStd, seed: 1001 + network });
        for (let start = 0; start < Number(values.starts); start++) {
          const b = await baselineFit(truth, { budget, starts: 1, seed: 100 * network + start, threads: 1 });
          const s0 = b.report.starts[0];
          const run: Start = { family: f.name, budget, network, start, exact: b.exact === true, relativeL2: b.relativeL2 as number, residual: b.residual, passed: b.passed, seconds: b.seconds, iterations: s0.iterations, stopReason: s0.stopReason };
          runs.push(run);
          appendFileSync(values.out, JSON.stringify(run) + '\n');
          console.log(`${f.name} ${budget} P net ${network} start ${start}: exact ${run.exact} (L2 ${run.relativeL2.toExponential(1)}, residual ${run.residual.toExponential(1)}, ${run.stopReason} after ${run.iterations}), ${run.seconds.toFixed(1)} s, load ${loadavg()[0].toFixed(1)}`);
        }
      }
    }
  }
}

const lines = ['| family, (d, m0, m1) | exact starts at ' + [...new Set(runs.map((r) => r.budget))].sort((a, b) => a - b).map((b) => `${b}`).join(' / ') + ' P | s per start (median) at the largest | silent wrong | issue 14\'s numpy fit (1.5 / 2 / 3 / 5 P; s per start at 5 P) |', '|---|---|---|---|---|'];
for (const name of [...new Set(runs.map((r) => r.family))]) {
  const f = FAMILIES.find((x) => x.name === name) as Family;
  const mine = runs.filter((r) => r.family === name);
  const budgets = [...new Set(mine.map((r) => r.budget))].sort((a, b) => a - b);
  const counts = budgets.map((b) => {
    const at = mine.filter((r) => r.budget === b);
    return `${at.filter((r) => r.exact).length}/${at.length}`;
  });
  const top = mine.filter((r) => r.budget === budgets[budgets.length - 1]).map((r) => r.seconds).sort((a, b) => a - b);
  const silent = mine.filter((r) => r.passed && !r.exact).length;
  lines.push(`| ${f.activation}, N(0, ${f.shiftStd}^2), (${f.size.join(',')}) | ${counts.join(', ')} | ${top[Math.floor(top.length / 2)].toFixed(1)} | ${silent} | ${f.numpy} |`);
}
console.log('\n' + lines.join('\n'));
if (!values.from) console.log(`\n${runs.length} starts in ${((performance.now() - began) / 1000).toFixed(0)} s; ${machineLine(loadBefore, loadavg())}`);
