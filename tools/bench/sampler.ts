/**
 * Benchmark: queries per second of finite-difference Hessian sampling, 1 thread (main thread)
 * vs 2 worker threads, forward and central, on a d = 50, m0 = 30, m1 = 10 tanh network.
 *
 *   npx tsx tools/bench/sampler.ts [--reps 7] [--no-write]
 *
 * Prints the figures and rewrites the `## Hessian sampling` section of BENCHMARKS.md at the
 * repository root (other sections are left alone). Best of `reps` timed runs after a warm-up,
 * the variants interleaved run by run so that they see the same load from other work;
 * the pool is started once (its start-up time is reported apart). Never fails on a time.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineLine, repoRoot, writeBenchmarkSection } from './benchmarks-md.ts';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { createSamplerPool, sampleHessians, spherePoints, type Scheme } from '@nnid/hessian-sampler';

const { values } = parseArgs({
  options: { reps: { type: 'string', default: '7' }, 'no-write': { type: 'boolean', default: false }, child: { type: 'string' } },
});
const reps = Math.max(1, Number(values.reps));
const root = repoRoot;

const d = 50;
const width1 = 30;
const width2 = 10;
const net = randomNetwork({ inputDim: d, width1, width2, activation: 'tanh', seed: 1 });
const box = networkBlackBox(net);
const pointCount: Record<Scheme, number> = { forward: 96, central: 32 };

// --child SCHEME: the main-thread run alone in a fresh process (nothing else ran in it); prints the best time.
if (values.child) {
  const scheme = values.child as Scheme;
  const points = spherePoints(pointCount[scheme], d, 1, 3);
  await sampleHessians(createOracle(box), points, { scheme, threads: 1 });
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    await sampleHessians(createOracle(box), points, { scheme, threads: 1 });
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  console.log(JSON.stringify({ best }));
  process.exit(0);
}

interface Row {
  scheme: Scheme;
  threads: number;
  mode: string;
  hessians: number;
  queries: number;
  best: number;
  median: number;
}

interface Variant {
  label: string;
  threads: number;
  options: (scheme: Scheme) => object;
  times: number[];
  queries: number;
}

const loadBefore = loadavg();
const t0 = performance.now();
const pool2 = createSamplerPool({ threads: 2 });
await sampleHessians(createOracle(box), spherePoints(2, d, 1, 1), { pool: pool2, chunkSize: 1 });
const poolStart = (performance.now() - t0) / 1000;
const pool1 = createSamplerPool({ threads: 1 });
const rows: Row[] = [];
try {
  for (const scheme of ['forward', 'central'] as const) {
    const points = spherePoints(pointCount[scheme], d, 1, 3);
    const variants: Variant[] = [
      { label: 'main-thread', threads: 1, options: (s) => ({ scheme: s, threads: 1 }), times: [], queries: 0 },
      { label: 'one worker (reference)', threads: 1, options: (s) => ({ scheme: s, pool: pool1 }), times: [], queries: 0 },
      { label: 'workers', threads: 2, options: (s) => ({ scheme: s, pool: pool2 }), times: [], queries: 0 },
    ];
    for (const v of variants) await sampleHessians(createOracle(box), points, v.options(scheme)); // warm-up
    // Interleaved, so that the variants see the same load from whatever else runs on the machine.
    for (let r = 0; r < reps; r++) {
      for (const v of variants) {
        const start = performance.now();
        const result = await sampleHessians(createOracle(box), points, v.options(scheme));
        v.times.push((performance.now() - start) / 1000);
        v.queries = result.queries;
      }
    }
    for (const v of variants) {
      const times = [...v.times].sort((a, b) => a - b);
      rows.push({ scheme, threads: v.threads, mode: v.label, hessians: pointCount[scheme], queries: v.queries, best: times[0], median: times[Math.floor(times.length / 2)] });
    }
  }
} finally {
  await pool2.close();
  await pool1.close();
}
// The same 1-thread run alone in a fresh process, for comparison with the in-process one.
for (const scheme of ['forward', 'central'] as const) {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--child', scheme, '--reps', String(reps)];
  const text = execFileSync(process.execPath, args, { encoding: 'utf8' });
  const best = (JSON.parse(text.trim().split('\n').pop()!) as { best: number }).best;
  const at = rows.findIndex((r) => r.scheme === scheme) + 1;
  rows.splice(at, 0, { scheme, threads: 1, mode: 'main-thread, fresh process', hessians: pointCount[scheme], queries: rows[at - 1].queries, best, median: NaN });
}
const loadAfter = loadavg();

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const lines: string[] = [];
lines.push(`d = ${d}, m0 = ${width1}, m1 = ${width2}, tanh; points on the unit sphere; best of ${reps} runs after a warm-up, the variants interleaved run by run.`);
lines.push(`Queries per Hessian: forward (d+1)(d+2)/2 = ${((d + 1) * (d + 2)) / 2}, central 2d^2+1 = ${2 * d * d + 1}.`);
lines.push('');
lines.push('| scheme | threads | mode | Hessians | queries | best s | median s | queries/s (best) | Hessians/s | speed-up |');
lines.push('|---|---|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  // against the fastest 1-thread figure of the three (the conservative speed-up)
  const single = rows.filter((r) => r.scheme === row.scheme && r.threads === 1).sort((a, b) => a.best - b.best)[0];
  const rate = row.queries / row.best;
  lines.push(
    `| ${row.scheme} | ${row.threads} | ${row.mode} | ${row.hessians} | ${fmt(row.queries)} | ${row.best.toFixed(3)} | ${Number.isNaN(row.median) ? '-' : row.median.toFixed(3)} | ${fmt(rate)} | ${(row.hessians / row.best).toFixed(1)} | ${(single.best / row.best).toFixed(2)}x |`,
  );
}
lines.push('');
lines.push(
  'Speed-up is against the fastest of the three 1-thread figures: the main thread (what `threads: 1` does), one worker, and the ' +
    'main thread alone in a fresh process (on this shared machine the in-process 1-thread runs were often slower than that one).',
);
lines.push(`Pool start-up (2 threads, tsx registered in each worker) and first task: ${poolStart.toFixed(2)} s, not included above.`);
lines.push(
  machineLine(loadBefore, loadAfter),
);
lines.push(`Run: \`npx tsx tools/bench/sampler.ts\` (${new Date().toISOString().slice(0, 10)}).`);
const section = lines.join('\n');
console.log(section);

if (!values['no-write']) writeBenchmarkSection('## Hessian sampling', section);
