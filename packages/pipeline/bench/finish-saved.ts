/**
 * identify's refinement in range(A) at the scale ladder's (100, 50, 20), stage by stage from saved
 * files, so that its finish in R^d (and its fit in range(A)) can be measured alone, many ways, on
 * identify's own start and data (issue 15, seventh pass).
 *
 *   npx tsx packages/pipeline/bench/finish-saved.ts --save DIR [--sizes 100,50,20] [--seed 1] [--threads 2]
 *     identify's stages (refinement cut to one iteration: only to get its data), then the fit of
 *     (theta, B, tau) and the full fit in range(A) as refineStages runs them; writes DIR/start.json,
 *     DIR/upper.json (after the (theta, B, tau) fit, lifted), DIR/lifted.json (after the fit in
 *     range(A), lifted: the finish's start) and the data DIR/inputs.f64, DIR/values.f64.
 *   npx tsx packages/pipeline/bench/finish-saved.ts --range DIR [--rows F] [--initial-damping L] [--iterations N] [--no-floor-rule] [--threads 2] [--out NAME]
 *     [--solver S] [--tolerance T] [--forcing adaptive|fixed] [--preconditioner auto|jacobi]
 *     the fit in range(A) again from DIR/upper.json (identify's options; --rows: on the first F P rows only;
 *     --initial-damping: its lambda at the start; --no-floor-rule: without RANGE_FLOOR_RULE, as before session 13;
 *     --solver: refine's solver of the fit, 'normal-equations' by default as identify's at (100, 50, 20), 'matrix-free' as at
 *     (200, 100, 30) (session 17), with its CG options), lifted (its residual on all rows), written to DIR/NAME.json.
 *   npx tsx packages/pipeline/bench/finish-saved.ts --finish DIR [--solver S] [--rows F] [--initial-damping L]
 *     [--inner K] [--tolerance T] [--forcing adaptive|fixed] [--preconditioner auto|jacobi] [--iterations N] [--threads 2]
 *     [--from NAME] [--out NAME]
 *     the finish in R^d from DIR/lifted.json (or DIR/NAME.json, --from): on all rows or the first F P (--rows), the solver, lambda
 *     at the start, inner steps, CG tolerance; prints each iteration's relative residual and CPU s, the
 *     CG counts, the relative residual on ALL rows, the largest weight difference from DIR/dense.json
 *     (the default finish, written with --out dense) and the exact score.
 * Never fails on a figure.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { matrixFrom, parameterCount, parseNetwork, serializeNetwork, type Network } from '@nnid/core';
import { createOracle, evaluateNetwork, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { fitNetwork, FULL_FIT_PLATEAU, layoutOf, packParameters, UPPER_FIT_PLATEAU } from '@nnid/refine';
import { identify, score } from '@nnid/pipeline';
import { fromRange, RANGE_FLOOR_COST, RANGE_FLOOR_RULE, rowSpanBasis, toRange } from '../src/polish-range.ts';

const { values: o } = parseArgs({
  options: {
    save: { type: 'string' },
    range: { type: 'string' },
    finish: { type: 'string' },
    sizes: { type: 'string', default: '100,50,20' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    solver: { type: 'string', default: 'normal-equations' },
    rows: { type: 'string' },
    'initial-damping': { type: 'string' },
    inner: { type: 'string' },
    tolerance: { type: 'string' },
    forcing: { type: 'string' },
    iterations: { type: 'string', default: '200' },
    out: { type: 'string' },
    from: { type: 'string', default: 'lifted' },
    preconditioner: { type: 'string' },
    'no-floor-rule': { type: 'boolean', default: false },
  },
});
const [d, m0, m1] = o.sizes!.split(',').map(Number);
const seed = Number(o.seed);
const threads = Number(o.threads);
const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', seed });
const P = parameterCount(truth);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const peak = () => ((process.resourceUsage().maxRSS * 1024) / 1024 ** 3).toFixed(2);
const load = () => loadavg()[0].toFixed(1);
const readNet = (file: string): Network => parseNetwork(JSON.parse(readFileSync(file, 'utf8')));
const writeNet = (file: string, net: Network) => writeFileSync(file, JSON.stringify(serializeNetwork(net)));
const trace = (label: string) => {
  let t = cpu();
  let w = performance.now();
  return (it: number, res: number) => {
    console.log(`  ${label} iteration ${it}: relative residual ${res.toExponential(2)}, ${(cpu() - t).toFixed(1)} CPU s, ${((performance.now() - w) / 1000).toFixed(1)} s wall`);
    t = cpu();
    w = performance.now();
  };
};
function readData(dir: string) {
  const buf = (f: string) => {
    const b = readFileSync(`${dir}/${f}`);
    return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  };
  const values = buf('values.f64');
  return { inputs: matrixFrom(buf('inputs.f64'), values.length, d), values };
}
function relativeResidual(net: Network, data: { inputs: ReturnType<typeof matrixFrom>; values: Float64Array }): number {
  const f = evaluateNetwork(net, data.inputs);
  let r = 0;
  let y = 0;
  for (let i = 0; i < f.length; i++) {
    r += (f[i] - data.values[i]) ** 2;
    y += data.values[i] ** 2;
  }
  return Math.sqrt(r / y);
}
const damping = o['initial-damping'] ? { initialDamping: Number(o['initial-damping']) } : {};
const matrixFree = { ...(o.tolerance ? { tolerance: Number(o.tolerance) } : {}), ...(o.forcing ? { forcing: o.forcing as 'fixed' } : {}), ...(o.preconditioner ? { preconditioner: o.preconditioner as 'jacobi' } : {}) };

if (o.save) {
  const dir = o.save;
  mkdirSync(dir, { recursive: true });
  const oracle = createOracle(networkBlackBox(truth));
  let t = cpu();
  // the refinement cut short: identify pays its data (4 P fresh answers and the shift fit's) and returns them
  const result = await identify(oracle, { width1: m0, width2: m1, activation: { layer1: 'tanh', layer2: 'tanh' }, seed, threads, upperFitIterations: 0, refineMaxIterations: 1, retryResidual: 1 });
  const data = result.refinementData!;
  console.log(`(${d}, ${m0}, ${m1}) P = ${P}: identify (refinement cut to 1 iteration) ${(cpu() - t).toFixed(1)} CPU s, ${result.report.queries.total} queries, ${data.values.length} rows; load ${load()}`);
  const start = result.networkBeforeRefinement;
  writeNet(`${dir}/start.json`, start);
  writeFileSync(`${dir}/inputs.f64`, new Uint8Array(Float64Array.from(data.inputs.data.subarray(0, data.values.length * d)).buffer));
  writeFileSync(`${dir}/values.f64`, new Uint8Array(Float64Array.from(data.values).buffer));
  // refineStages' range path, stage by stage (refine-stages.ts, polish-range.ts)
  const U = rowSpanBasis(start.A);
  const reduced = toRange(start, U, data);
  t = cpu();
  const upper = await fitNetwork(reduced.network, reduced.data, { fix: 'first-layer-weights', maxIterations: 100, costTolerance: 1e-4, innerSteps: 0, plateau: UPPER_FIT_PLATEAU });
  console.log(`upper fit: ${upper.report.iterations} iterations, ${upper.report.relativeResidual.toExponential(2)}, ${(cpu() - t).toFixed(1)} CPU s; load ${load()}`);
  writeNet(`${dir}/upper.json`, fromRange(upper.network, U));
  t = cpu();
  const full = await fitNetwork(upper.network, reduced.data, { threads, maxIterations: 200, plateau: FULL_FIT_PLATEAU, costTolerance: RANGE_FLOOR_COST, costSteps: 1, floor: o['no-floor-rule'] ? null : RANGE_FLOOR_RULE, onProgress: trace('range') });
  console.log(`fit in range(A): ${full.report.iterations} iterations (${full.report.acceptedSteps} accepted), ${full.report.relativeResidual.toExponential(2)}, ${(cpu() - t).toFixed(1)} CPU s, stop ${full.report.stopReason}; peak ${peak()} GiB; load ${load()}`);
  writeNet(`${dir}/lifted.json`, fromRange(full.network, U));
} else if (o.range) {
  const dir = o.range;
  const all = readData(dir);
  // --rows F: the fit in range(A) on the first F P rows only
  const n = o.rows ? Math.min(all.values.length, Math.round(Number(o.rows) * P)) : all.values.length;
  const data = { inputs: matrixFrom(all.inputs.data.subarray(0, n * d), n, d), values: all.values.subarray(0, n) };
  const start = readNet(`${dir}/start.json`);
  const U = rowSpanBasis(start.A);
  const upper = toRange(readNet(`${dir}/upper.json`), U, data);
  console.log(`fit in range(A) on ${n} rows (${(n / P).toFixed(2)} P), solver ${o.solver}; load ${load()}`);
  const t = cpu();
  const w = performance.now();
  const full = await fitNetwork(upper.network, upper.data, {
    threads,
    maxIterations: Number(o.iterations),
    plateau: FULL_FIT_PLATEAU,
    costTolerance: RANGE_FLOOR_COST,
    costSteps: 1,
    floor: o['no-floor-rule'] ? null : RANGE_FLOOR_RULE,
    solver: o.solver as 'auto',
    matrixFree,
    ...damping,
    onProgress: trace('range'),
  });
  console.log(
    `fit in range(A): ${full.report.iterations} iterations (${full.report.acceptedSteps} accepted, ${full.report.njev} linearizations), ${full.report.relativeResidual.toExponential(2)}, ` +
      `${(cpu() - t).toFixed(1)} CPU s, ${((performance.now() - w) / 1000).toFixed(0)} s wall, stop ${full.report.stopReason}; ${JSON.stringify(full.report.strategyStats ?? {})}; peak ${peak()} GiB; load ${load()}`,
  );
  console.log(`  history ${full.report.residualHistory.map((x) => x.toExponential(2)).join(', ')}`);
  console.log(`  lifted: relative residual on all ${all.values.length} rows ${relativeResidual(fromRange(full.network, U), all).toExponential(2)}`);
  if (o.out) writeNet(`${dir}/${o.out}.json`, fromRange(full.network, U));
} else if (o.finish) {
  const dir = o.finish;
  const all = readData(dir);
  const lifted = readNet(`${dir}/${o.from}.json`);
  const N = o.rows ? Math.min(all.values.length, Math.round(Number(o.rows) * P)) : all.values.length;
  const data = N === all.values.length ? all : { inputs: matrixFrom(all.inputs.data.subarray(0, N * d), N, d), values: all.values.subarray(0, N) };
  console.log(`finish from ${o.from} (all rows: relative residual ${relativeResidual(lifted, all).toExponential(2)}) on ${N} rows (${(N / P).toFixed(2)} P), solver ${o.solver}; load ${load()}`);
  const t = cpu();
  const w = performance.now();
  const fitted = await fitNetwork(lifted, data, {
    threads,
    maxIterations: Number(o.iterations),
    solver: o.solver as 'auto',
    matrixFree,
    ...damping,
    ...(o.inner !== undefined ? { innerSteps: Number(o.inner) } : {}),
    onProgress: trace('finish'),
  });
  const r = fitted.report;
  console.log(
    `finish: ${r.iterations} iterations (${r.acceptedSteps} accepted, ${r.innerSteps} inner, ${r.njev} linearizations), ${r.relativeResidual.toExponential(2)} on its rows, stop ${r.stopReason}; ` +
      `${(cpu() - t).toFixed(1)} CPU s, ${((performance.now() - w) / 1000).toFixed(1)} s wall; ${JSON.stringify(r.strategyStats ?? {})}; peak ${peak()} GiB; load ${load()}`,
  );
  console.log(`  history ${r.residualHistory.map((x) => x.toExponential(2)).join(', ')}`);
  console.log(`  relative residual on all ${all.values.length} rows: ${relativeResidual(fitted.network, all).toExponential(2)}`);
  try {
    const ref = readNet(`${dir}/dense.json`);
    const layout = layoutOf(ref);
    const a = packParameters(ref, layout);
    const b = packParameters(fitted.network, layout);
    let worst = 0;
    for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
    console.log(`  largest weight difference from dense.json: ${worst.toExponential(2)}`);
  } catch {
    console.log('  (no dense.json to compare with)');
  }
  const s = score(truth, fitted.network, { points: 10_000 });
  console.log(`  relative L2 sphere ${s.function.sphere.relativeL2.toExponential(2)}, gaussian ${s.function.gaussian.relativeL2.toExponential(2)}`);
  if (o.out) writeNet(`${dir}/${o.out}.json`, fitted.network);
}
