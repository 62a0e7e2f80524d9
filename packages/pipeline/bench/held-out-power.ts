/**
 * How often a held-out check of n points misses a wrong network (held-out.ts): the recovered
 * network against the truth (v2 files) on 20,000 points of each distribution, then `--draws`
 * subsets of n points drawn with replacement, the share whose relative residual stays at or below
 * HELD_OUT_FACTOR x `--threshold` (a miss), and the subsets' smallest, 1st percentile and median
 * residual. No query: the truth's answers stand for the black box's.
 *
 *   npx tsx packages/pipeline/bench/held-out-power.ts --truth T.truth.json --recovered R.json --threshold 4.5e-7 [--n 50,100,150,200,300] [--draws 4000]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { matrixFrom, parseNetworkV2, rng, toDense } from '@nnid/core';
import { evaluateGeneral } from '@nnid/oracle';
import { HELD_OUT_FACTOR, HELD_OUT_WIDE } from '../src/held-out.ts';

const { values } = parseArgs({ options: { truth: { type: 'string' }, recovered: { type: 'string' }, threshold: { type: 'string' }, n: { type: 'string', default: '50,100,150,200,300' }, draws: { type: 'string', default: '4000' } } });
if (!values.truth || !values.recovered || !values.threshold) throw new Error('--truth, --recovered and --threshold are required');
const truth = parseNetworkV2(JSON.parse(readFileSync(values.truth, 'utf8')));
const recovered = parseNetworkV2(JSON.parse(readFileSync(values.recovered, 'utf8')));
const limit = HELD_OUT_FACTOR * Number(values.threshold);
const sizes = values.n.split(',').map(Number);
const draws = Number(values.draws);
const d = truth.inputDim;
const k = truth.outputs;
const N = 20_000;
for (const kind of ['sphere', 'gaussian', 'wide'] as const) {
  const x = new Float64Array(N * d);
  const root = rng(7).split(kind === 'sphere' ? 1 : kind === 'gaussian' ? 2 : 3);
  for (let i = 0; i < N; i++) {
    const row = x.subarray(i * d, (i + 1) * d);
    if (kind === 'sphere') root.split(i).fillSphere(row, 1);
    else {
      root.split(i).fillNormal(row);
      if (kind === 'wide') for (let j = 0; j < d; j++) row[j] *= HELD_OUT_WIDE;
    }
  }
  const X = matrixFrom(x, N, d);
  const f = toDense(evaluateGeneral(truth, X)).data;
  const g = toDense(evaluateGeneral(recovered, X)).data;
  const e2 = new Float64Array(N);
  const f2 = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < k; j++) {
      e2[i] += (f[i * k + j] - g[i * k + j]) ** 2;
      f2[i] += f[i * k + j] ** 2;
    }
  }
  const all = Math.sqrt(e2.reduce((a, b) => a + b) / f2.reduce((a, b) => a + b));
  console.log(`${kind}${kind === 'wide' ? ` (N(0, ${HELD_OUT_WIDE ** 2} I))` : ''}: relative residual on all ${N} points ${all.toExponential(2)}; limit ${limit.toExponential(2)}`);
  const pick = rng(11).split(kind.length);
  for (const n of sizes) {
    const r: number[] = [];
    for (let t = 0; t < draws; t++) {
      let a = 0;
      let b = 0;
      for (let q = 0; q < n; q++) {
        const i = pick.int(N);
        a += e2[i];
        b += f2[i];
      }
      r.push(Math.sqrt(a / b));
    }
    r.sort((p, q) => p - q);
    const missed = r.filter((v) => v <= limit).length / draws;
    console.log(`  n = ${n}: missed ${(100 * missed).toFixed(2)}% of ${draws} draws; smallest ${r[0].toExponential(1)}, 1st percentile ${r[Math.floor(draws / 100)].toExponential(1)}, median ${r[Math.floor(draws / 2)].toExponential(1)}`);
  }
}
