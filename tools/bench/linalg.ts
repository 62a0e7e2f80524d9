/**
 * Benchmark of @nnid/linalg on both tiers (TypeScript kernels and the OpenBLAS/LAPACKE addon):
 * 1000 x 1000 matmul, 1000 x 1000 symEig, top-50 singular triplets of 2500 x 1000 and of a
 * 300 x 2500 stack (Gram of the smaller side), the 2500 x 2500 Gram of that stack, and a
 * 1500 x 1500 Cholesky solve.
 *
 *   npx tsx tools/bench/linalg.ts [--reps 3] [--ts-reps 1] [--no-write]
 *   npx tsx tools/bench/linalg.ts --identify-sizes [--reps 3]
 *
 * `--identify-sizes`: the kernels identify's refinement calls at (50, 30, 10) (normal equations
 * of one row block, J^T r, the upper fit's Gram, the LM's Cholesky, the subspace stage's SVD), in
 * CPU seconds of this process (one thread; less disturbed by a loaded machine than wall time) on
 * the native tier, the TypeScript tier, and the TypeScript tier's kernels as they were at f33741c
 * (packages/linalg/test/reference-kernels.ts). Prints a table; writes nothing.
 *
 * Prints the figures (best of `reps` runs after one untimed warm-up at a small size) and
 * rewrites the `## Linear algebra` section of BENCHMARKS.md (other sections are left alone).
 * Never fails on a time.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeBenchmarkSection } from './benchmarks-md.ts';
import { rng } from '@nnid/core';
import type { Float64View } from '@nnid/core';
import {
  choleskySolve,
  gram,
  matmul,
  nativeAvailable,
  svd,
  symEig,
  topSingular,
  useTier,
  type TierName,
} from '@nnid/linalg';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    'ts-reps': { type: 'string', default: '1' },
    'no-write': { type: 'boolean', default: false },
    'identify-sizes': { type: 'boolean', default: false },
  },
});
if (values['identify-sizes']) {
  await identifySizes(Math.max(1, Number(values.reps)));
  process.exit(0);
}
const reps = Math.max(1, Number(values.reps));
const tsReps = Math.max(1, Number(values['ts-reps']));

function random(rows: number, cols: number, seed: number): Float64View {
  const data = new Float64Array(rows * cols);
  rng(seed).fillNormal(data);
  return { data, offset: 0, shape: [rows, cols], strides: [cols, 1] };
}

const a1000 = random(1000, 1000, 1);
const b1000 = random(1000, 1000, 2);
const sym1000 = gram(random(1200, 1000, 3));
const tall = random(2500, 1000, 4);
const stack = random(300, 2500, 5);
const stack100 = random(100, 2500, 8);
const spd = gram(random(1600, 1500, 6));
const rhs = random(1500, 1, 7);

interface Case {
  name: string;
  /** STACK.md's figure for the same task, when it has one. */
  reference: string;
  run: () => unknown;
}

const cases: Case[] = [
  { name: 'matmul 1000 x 1000 x 1000', reference: 'OpenBLAS 0.02; blocked JS 0.78', run: () => matmul(a1000, b1000) },
  { name: 'symEig 1000 x 1000 (all pairs)', reference: 'dsyevd 0.10–0.15; JS tridiag + QL 4.2', run: () => symEig(sym1000) },
  { name: 'topSingular 2500 x 1000, k = 50', reference: 'dsyrk + dsyevr + dgemm 0.09; JS randomized 0.92', run: () => topSingular(tall, 50) },
  { name: 'topSingular 300 x 2500, k = 50 (300 x 300 Gram)', reference: '', run: () => topSingular(stack, 50) },
  { name: 'gram 300 x 2500 -> 2500 x 2500', reference: '', run: () => gram(stack) },
  { name: 'svd 100 x 2500 (thin, all 100 triplets)', reference: '', run: () => svd(stack100) },
  { name: 'svd 300 x 2500 (thin, all 300 triplets)', reference: '', run: () => svd(stack) },
  { name: 'choleskySolve 1500 x 1500, 1 rhs', reference: '', run: () => choleskySolve(spd, rhs) },
];

function time(run: () => unknown, count: number): number {
  let best = Infinity;
  for (let r = 0; r < count; r++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

const tiers: TierName[] = nativeAvailable() ? ['native', 'typescript'] : ['typescript'];
const results = new Map<TierName, number[]>();
for (const t of tiers) {
  useTier(t);
  // warm-up (JIT, OpenBLAS buffers) at small sizes
  const small = random(60, 40, 9);
  matmul(small, small, { transA: true });
  symEig(gram(small));
  topSingular(small, 5);
  choleskySolve(gram(random(80, 40, 10)), random(40, 1, 11));
  const row: number[] = [];
  for (const c of cases) {
    const s = time(c.run, t === 'native' ? reps : tsReps);
    row.push(s);
    console.log(`${t.padEnd(10)} ${c.name.padEnd(50)} ${s.toFixed(3)} s`);
  }
  results.set(t, row);
}

const fmt = (s: number | undefined): string => (s === undefined ? 'not built' : s < 0.01 ? s.toFixed(4) : s.toFixed(3));
const lines = [
  `Run: \`npx tsx tools/bench/linalg.ts\` (${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'},`,
  `load average ${loadavg()[0].toFixed(1)} at the end of the run — the machine is shared, so times are noisy). Seconds, best of ${reps}`,
  `(native) / ${tsReps} (TypeScript) runs, one thread (OpenBLAS is pinned to 1 thread). STACK.md's figures for comparison.`,
  '',
  '| task | native (OpenBLAS + LAPACKE) | TypeScript | ratio | STACK.md |',
  '|---|---|---|---|---|',
  ...cases.map((c, i) => {
    const nat = results.get('native')?.[i];
    const ts = results.get('typescript')?.[i];
    const ratio = nat !== undefined && ts !== undefined ? `${(ts / nat).toFixed(0)}x` : '';
    return `| ${c.name} | ${fmt(nat)} | ${fmt(ts)} | ${ratio} | ${c.reference} |`;
  }),
  '',
  'The TypeScript tier finds top-k eigenpairs by tridiagonal reduction + QL on the values + inverse',
  'iteration for k vectors (no QL vector accumulation): exact to rounding, unlike the randomized',
  'eigensolver of STACK.md (0.92 s), whose accuracy depends on the spectral gap. `topSingular` goes',
  'through the Gram matrix of the smaller side, so a 300 x 2500 stack costs a 300 x 300 eigenproblem.',
  '`svd` is one-sided Jacobi after QR in the TypeScript tier (accurate, cost grows as r^3 per sweep),',
  '`dgesdd` in the native one. Products, Gram matrices and Cholesky go through the TypeScript tier\'s WebAssembly SIMD',
  'kernel (same bits as its plain loops); see `## TypeScript tier vs native tier` for the sizes identify uses.',
];
const section = lines.join('\n');
console.log(`\n${section}`);

if (!values['no-write']) writeBenchmarkSection('## Linear algebra', section);

/** The kernel calls of identify's refinement at (50, 30, 10), on both tiers and on the f33741c TypeScript kernels. */
async function identifySizes(count: number): Promise<void> {
  const { gemmReference, gramReference, choleskyFactorReference } = await import('../../packages/linalg/test/reference-kernels.ts');
  const { choleskyFactorization: cf } = await import('@nnid/linalg');
  const rows = 3780; // rows of one of the two row blocks (N = 7560 = refine data + shift data)
  const P = 1840;
  const jac = random(rows, P, 21);
  const cc = random(rows, 465, 22);
  const pairs = random(rows, 1326, 23);
  const res = random(rows, 1, 24);
  const upper = random(7560, 340, 25);
  const stackSvd = random(55, 465, 26);
  const spdP = gram(random(P + 40, P, 27));
  for (let i = 0; i < P; i++) spdP.data[i * P + i] += 1;
  const first = { data: jac.data, offset: 0, shape: [rows, 1530], strides: [P, 1] };
  const second = { data: jac.data, offset: 1530, shape: [rows, 310], strides: [P, 1] };
  const cpu = (run: () => unknown): number => {
    let best = Infinity;
    for (let r = 0; r < count; r++) {
      const t0 = process.cpuUsage();
      run();
      const u = process.cpuUsage(t0);
      best = Math.min(best, (u.user + u.system) / 1e6);
    }
    return best;
  };
  type Kernel = { name: string; run: () => unknown; before?: () => unknown };
  const out = (m: number, n: number) => new Float64Array(m * n);
  const kernels: Kernel[] = [
    { name: 'matmul (3780 x 465)^T (3780 x 1326): J^T J (A, theta) from pair products', run: () => matmul(cc, pairs, { transA: true }), before: () => gemmReference(true, false, 465, 1326, rows, cc.data, 465, pairs.data, 1326, out(465, 1326)) },
    { name: 'matmul (3780 x 1530)^T (3780 x 310), strided: J^T J cross block', run: () => matmul(first, second, { transA: true }), before: () => gemmReference(true, false, 1530, 310, rows, jac.data, P, jac.data.subarray(1530), P, out(1530, 310)) },
    { name: 'gram 3780 x 310, strided: J^T J (B, tau) block', run: () => gram(second), before: () => gramReference(true, rows, 310, jac.data.subarray(1530), P, out(310, 310)) },
    { name: 'matmul (3780 x 1840)^T r: J^T r', run: () => matmul(jac, res, { transA: true }), before: () => gemmReference(true, false, P, 1, rows, jac.data, P, res.data, 1, out(P, 1)) },
    { name: 'gram 7560 x 340: the upper fit (theta, B, tau)', run: () => gram(upper), before: () => gramReference(true, 7560, 340, upper.data, 340, out(340, 340)) },
    { name: 'choleskyFactorization 1840: the LM step', run: () => cf(spdP), before: () => choleskyFactorReference(P, spdP.data.slice(), 0) },
    { name: 'svd 55 x 465: the subspace stage (3 calls)', run: () => svd(stackSvd) },
  ];
  const tiersHere: TierName[] = nativeAvailable() ? ['native', 'typescript'] : ['typescript'];
  const table = new Map<string, number[]>();
  for (const k of kernels) table.set(k.name, []);
  for (const t of tiersHere) {
    useTier(t);
    for (const k of kernels) {
      k.run();
      table.get(k.name)!.push(cpu(k.run));
    }
  }
  useTier('typescript');
  const lines = [
    '| kernel (identify at (50, 30, 10)) | native s | TypeScript at f33741c s | TypeScript now s | now / native | before / now |',
    '|---|---|---|---|---|---|',
  ];
  for (const k of kernels) {
    const [nat, ts] = tiersHere.length === 2 ? table.get(k.name)! : [NaN, table.get(k.name)![0]];
    const before = k.before ? (k.before(), cpu(k.before)) : ts;
    lines.push(`| ${k.name} | ${nat.toFixed(3)} | ${before.toFixed(3)} | ${ts.toFixed(3)} | ${(ts / nat).toFixed(1)}x | ${(before / ts).toFixed(1)}x |`);
    console.log(lines[lines.length - 1]);
  }
  console.log(`\n${lines.join('\n')}\n\nCPU seconds, best of ${count}; load average ${loadavg()[0].toFixed(1)} at the end. Run: \`npx tsx tools/bench/linalg.ts --identify-sizes --reps ${count}\` (${new Date().toISOString().slice(0, 10)}).`);
}
