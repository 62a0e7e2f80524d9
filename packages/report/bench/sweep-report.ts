/**
 * Time to build the report of a 1,000-run sweep. The records are synthesized from the 72 real
 * ones of the test fixture (a real `nnid sweep`): each is repeated under new seeds with its
 * queries and seconds perturbed by up to +-20%, and its size scaled to one of five grid sizes,
 * so the grid has 5 sizes x 4 families x 2 noise levels x 2 methods. Writes the file too, for
 * timing `nnid report` on it.
 *
 *   npx tsx packages/report/bench/sweep-report.ts [runs=1000] [out=/tmp/sweep-1000.jsonl]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { rng } from '@nnid/core';
import { sweepReport, type SweepRecordInput } from '../src/index.ts';

const runs = Number(process.argv[2] ?? 1000);
const out = process.argv[3] ?? '/tmp/sweep-1000.jsonl';
const base: SweepRecordInput[] = readFileSync(new URL('../test/fixtures/sweep-d10-d12-noise-norefine.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l));
const sizes: [number, number, number][] = [
  [10, 6, 2],
  [12, 8, 3],
  [20, 10, 3],
  [30, 20, 8],
  [50, 30, 10],
];
const r = rng(7);
const records: SweepRecordInput[] = [];
for (let i = 0; i < runs; i++) {
  const b = base[i % base.length];
  const [d, m0, m1] = sizes[Math.floor(i / base.length) % sizes.length];
  const P = d * m0 + m0 + m0 * m1 + m1;
  const jitter = () => 0.8 + 0.4 * r.uniform();
  const seed = 100 + i;
  const spec = { ...b.spec, inputDim: d, width1: m0, width2: m1, seed };
  const q = Number(b.queries?.total) / (b.parameterCount ?? 1);
  records.push({
    ...b,
    id: `${b.id.replace(/^d\d+-m\d+-m\d+/, `d${d}-m${m0}-m${m1}`).replace(/seed\d+$/, `seed${seed}`)}`,
    spec,
    parameterCount: P,
    queries: { ...b.queries, total: Math.round(q * P * jitter()) },
    seconds: Object.fromEntries(Object.entries(b.seconds ?? {}).map(([k, v]) => [k, v * (P / 100) ** 1.5 * jitter()])),
  });
}
writeFileSync(out, records.map((x) => JSON.stringify(x)).join('\n') + '\n');

const times: number[] = [];
let size = 0;
for (let k = 0; k < 4; k++) {
  const t = performance.now();
  const html = await sweepReport(records, { source: out });
  times.push((performance.now() - t) / 1000);
  size = html.length;
}
console.log(`sweepReport of ${records.length} runs: first call ${times[0].toFixed(2)} s (loads and compiles Vega), then ${times.slice(1).map((t) => t.toFixed(2)).join(', ')} s; page ${(size / 1e6).toFixed(2)} MB; records in ${out}`);
