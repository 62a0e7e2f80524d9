/**
 * The fit in range(A) at the scale ladder's (100, 50, 20) against the truth (issue 15, eighth pass):
 * which weights are far at its start and what limits each step.
 *
 *   npx tsx packages/pipeline/bench/range-diagnose.ts --dir DIR [--seed 1] [--sizes 100,50,20] [--nets start,upper,lifted]
 *     [--fit] [--iterations N] [--initial-damping L] [--no-floor-rule] [--from upper] [--out NAME] [--threads 2]
 *     [--control i:t,...]
 *
 * DIR is a state saved by finish-saved.ts --save. For each network named in --nets (DIR/NAME.json): per row of A its
 * best |cos| with a true row (and that row), listed for the rows below 0.99 by index (identify's row order: the first
 * rank-one search's rows, then the completion's rounds', then the fill), the same for the entangled weights v_l, and
 * the relative residual on the saved data. With --fit: the fit in range(A) from DIR/FROM.json as identify runs it
 * (finish-saved.ts --range's options: RANGE_FLOOR_COST and RANGE_FLOOR_RULE, the latter off with --no-floor-rule;
 * --initial-damping: its lambda at the start), each accepted step's lambda, gain ratio, refused trials before it, inner
 * steps and its last move's ratio (FloorRule), its CPU s; then the same table for the network it reached (lifted),
 * written to DIR/NAME.json with --out. --control i:t,...: a control, not a method: the start's rows i set to the true
 * rows t, identify's fit of (theta, B, tau) on it, then the fit in range(A) from there. Never fails on a figure.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { entangledWeights, matrixFrom, parameterCount, parseNetwork, serializeNetwork, type Float64View, type Network } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { fitNetwork, FULL_FIT_PLATEAU, UPPER_FIT_PLATEAU } from '@nnid/refine';
import { fromRange, RANGE_FLOOR_COST, RANGE_FLOOR_RULE, rowSpanBasis, toRange } from '../src/polish-range.ts';

const { values: o } = parseArgs({
  options: {
    dir: { type: 'string' },
    sizes: { type: 'string', default: '100,50,20' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    nets: { type: 'string', default: 'start,upper,lifted' },
    fit: { type: 'boolean', default: false },
    iterations: { type: 'string', default: '200' },
    'initial-damping': { type: 'string' },
    from: { type: 'string', default: 'upper' },
    out: { type: 'string' },
    'no-floor-rule': { type: 'boolean', default: false },
    control: { type: 'string' },
  },
});
const dir = o.dir!;
const [d, m0, m1] = o.sizes!.split(',').map(Number);
const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', seed: Number(o.seed) });
const P = parameterCount(truth);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const readNet = (file: string): Network => parseNetwork(JSON.parse(readFileSync(file, 'utf8')));
const buf = (f: string) => {
  const b = readFileSync(`${dir}/${f}`);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const values = buf('values.f64');
const data = { inputs: matrixFrom(buf('inputs.f64'), values.length, d), values };

function unitRows(v: Float64View): Float64Array[] {
  const out: Float64Array[] = [];
  for (let i = 0; i < v.shape[0]; i++) {
    const row = new Float64Array(v.shape[1]);
    let n = 0;
    for (let j = 0; j < v.shape[1]; j++) {
      row[j] = v.data[v.offset + i * v.strides[0] + j * v.strides[1]];
      n += row[j] * row[j];
    }
    n = Math.sqrt(n) || 1;
    for (let j = 0; j < row.length; j++) row[j] /= n;
    out.push(row);
  }
  return out;
}
/** Per recovered row: its best |cos| with a true row and which. */
function best(truthRows: Float64View, rows: Float64View): { cos: number; match: number }[] {
  const t = unitRows(truthRows);
  return unitRows(rows).map((r) => {
    let cos = 0;
    let match = -1;
    t.forEach((u, i) => {
      let c = 0;
      for (let j = 0; j < r.length; j++) c += r[j] * u[j];
      if (Math.abs(c) > cos) {
        cos = Math.abs(c);
        match = i;
      }
    });
    return { cos, match };
  });
}
function relativeResidual(net: Network): number {
  const f = evaluateNetwork(net, data.inputs);
  let r = 0;
  let y = 0;
  for (let i = 0; i < f.length; i++) {
    r += (f[i] - values[i]) ** 2;
    y += values[i] ** 2;
  }
  return Math.sqrt(r / y);
}
function describe(name: string, net: Network) {
  const a = best(truth.A, net.A);
  const v = best(entangledWeights(truth), entangledWeights(net));
  const far = (list: { cos: number; match: number }[]) =>
    list
      .map((x, i) => ({ ...x, i }))
      .filter((x) => x.cos < 0.99)
      .map((x) => `${x.i}:${x.cos.toFixed(3)}${x.match >= 0 ? `(->${x.match})` : ''}`)
      .join(' ');
  const below = (list: { cos: number }[], c: number) => list.filter((x) => x.cos < c).length;
  // rows matched by more than one recovered row: a true row no recovered row is near
  const counts = new Map<number, number>();
  for (const x of a) counts.set(x.match, (counts.get(x.match) ?? 0) + 1);
  const shared = [...counts.entries()].filter(([, n]) => n > 1).map(([i, n]) => `${i}x${n}`);
  const min = (list: { cos: number }[]) => Math.min(...list.map((x) => x.cos)).toFixed(3);
  console.log(`${name}: relative residual ${relativeResidual(net).toExponential(2)}; a_i below 0.9 / 0.99 / 0.999: ${below(a, 0.9)} / ${below(a, 0.99)} / ${below(a, 0.999)} of ${m0} (min ${min(a)}), v_l ${below(v, 0.9)} / ${below(v, 0.99)} / ${below(v, 0.999)} of ${m1} (min ${min(v)})`);
  console.log(`  a_i below 0.99 (row:cos(->true row)): ${far(a) || '-'}${shared.length ? `; true rows matched twice: ${shared.join(' ')}` : ''}`);
  console.log(`  v_l below 0.99: ${far(v) || '-'}`);
}

console.log(`(${d}, ${m0}, ${m1}) P = ${P}, seed ${o.seed}, ${values.length} rows; load ${loadavg()[0].toFixed(1)}`);
for (const name of o.nets!.split(',').filter(Boolean)) {
  try {
    describe(name, readNet(`${dir}/${name}.json`));
  } catch (e) {
    console.log(`${name}: not read (${(e as Error).message})`);
  }
}
if (o.fit) {
  let start = readNet(`${dir}/start.json`);
  let from = readNet(`${dir}/${o.from}.json`);
  if (o.control) {
    // a control, not a method: rows i of the start set to true rows t (--control i:t,i:t,...), then identify's fit of (theta, B, tau)
    const A = { ...start.A, data: Float64Array.from(start.A.data) };
    for (const pair of o.control.split(',')) {
      const [i, t] = pair.split(':').map(Number);
      for (let j = 0; j < d; j++) A.data[A.offset + i * A.strides[0] + j * A.strides[1]] = truth.A.data[truth.A.offset + t * truth.A.strides[0] + j * truth.A.strides[1]];
    }
    start = { ...start, A };
    const U0 = rowSpanBasis(start.A);
    const r0 = toRange(start, U0, data);
    const t0 = cpu();
    const upper = await fitNetwork(r0.network, r0.data, { fix: 'first-layer-weights', maxIterations: 100, costTolerance: 1e-4, innerSteps: 0, plateau: UPPER_FIT_PLATEAU });
    console.log(`control ${o.control}: upper fit ${upper.report.iterations} iterations, ${upper.report.relativeResidual.toExponential(2)}, ${(cpu() - t0).toFixed(1)} CPU s`);
    from = fromRange(upper.network, U0);
    describe('control start (after its upper fit)', from);
  }
  const U = rowSpanBasis(start.A);
  const reduced = toRange(from, U, data);
  const damping = o['initial-damping'] ? { initialDamping: Number(o['initial-damping']) } : {};
  let t = cpu();
  const t0 = t;
  const fitted = await fitNetwork(reduced.network, reduced.data, {
    threads: Number(o.threads),
    maxIterations: Number(o.iterations),
    plateau: FULL_FIT_PLATEAU,
    costTolerance: RANGE_FLOOR_COST,
    costSteps: 1,
    floor: o['no-floor-rule'] ? null : RANGE_FLOOR_RULE,
    ...damping,
    onProgress: (it, res, step) => {
      console.log(
        `  iteration ${it}: ${res.toExponential(2)}, lambda ${step.lambda.toExponential(1)}, rho ${step.gainRatio.toFixed(3)}, refused before ${step.refused}, inner ${step.innerSteps}, last move x${step.lastRatio.toPrecision(3)}; ${(cpu() - t).toFixed(1)} CPU s`,
      );
      t = cpu();
    },
  });
  const r = fitted.report;
  console.log(`fit in range(A): ${r.iterations} iterations (${r.acceptedSteps} accepted, ${r.njev} J^T J), ${r.relativeResidual.toExponential(2)}, stop ${r.stopReason}, final lambda ${r.finalLambda?.toExponential(1)}; ${(cpu() - t0).toFixed(1)} CPU s; load ${loadavg()[0].toFixed(1)}`);
  const lifted = fromRange(fitted.network, U);
  describe('reached', lifted);
  if (o.out) writeFileSync(`${dir}/${o.out}.json`, JSON.stringify(serializeNetwork(lifted)));
}
