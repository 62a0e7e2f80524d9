/**
 * How close the paper's pipeline gets before refinement (issue 14, item 4), and what refinement
 * then costs. Per network: identify with `refine: false` (the network before refinement, scored
 * against the truth: |cos| of every first-layer weight a_i and entangled weight v_l, worst and
 * median, and its relative L2 on 10^4 Gaussian points), then identify with its defaults
 * (refinement seconds, LM iterations over all attempts, attempts, total seconds, exact =
 * relative L2 <= 1e-8), and with --fit the student fit's best of 3 starts on the queries nnid paid.
 *
 *   npx tsx packages/pipeline/bench/start-quality.ts [--seeds 1-3] [--cases all|name,name] [--threads 2] [--fit] [--before-only] [--reduced] [--options JSON]
 *
 * --reduced (paper-form cases): from identify's own start (networkBeforeRefinement) and data
 * (refinementData), the refinement's two fits (theta, B, tau with A fixed, then everything) run
 * side by side as identify runs them and in the coordinates of range(A) (A's rows span it exactly:
 * they are lifted from there; inputs X U, A U, r = m0 columns instead of d), lifted back and
 * finished by the full fit. LM iterations, seconds and the relative L2 of each.
 *
 * Cases: t20 (20,10,3) tanh N(0,0.3^2); s30 (30,20,8) sigmoid N(0,1); p50 (50,30,10) tanh, A
 * perturbed by 0.3; ts40 (40,15,5) tanh then sigmoid; g10, g20: the general (10,6,3), (20,10,3)
 * tanh networks with random (non-orthogonal) W1 rows (model 'general'); issue 13's first layers other
 * than tanh: `<layer1>-<layer2>-<d>` with d = 8 ((8,4,2)) or 10 ((10,6,3)), e.g. gelu-tanh-8,
 * silu-tanh-10, softplus-softplus-8, sigmoid-sigmoid-10, gelu_tanh-tanh-8. Never fails on a figure.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { entangledWeights, type ActivationName, type GeneralNetwork, type Network } from '@nnid/core';
import { createOracle, generalBlackBox, networkBlackBox, randomGeneralNetwork, randomNetwork } from '@nnid/oracle';
import { identify, matchWeights, score, scoreGeneral } from '@nnid/pipeline';
import { studentFit } from '@nnid/student-fit';
import { fitNetwork } from '@nnid/refine';
import { fromRange, rowSpanBasis, toRange } from '../src/polish-range.ts';
import { generalEntangled } from './true-rows.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1-3' },
    cases: { type: 'string', default: 'all' },
    threads: { type: 'string', default: '2' },
    fit: { type: 'boolean', default: false },
    'before-only': { type: 'boolean', default: false },
    reduced: { type: 'boolean', default: false },
    options: { type: 'string', default: '{}' },
  },
});
const [s0, s1] = values.seeds!.split('-').map(Number);
const seeds = Array.from({ length: (s1 ?? s0) - s0 + 1 }, (_, i) => s0 + i);
const threads = Number(values.threads);
/** identify options added to every run (e.g. '{"radius":0.5}'), to compare settings. */
const extra = JSON.parse(values.options!) as Record<string, unknown>;

interface Case {
  name: string;
  label: string;
  size: [number, number, number];
  layer1: ActivationName;
  layer2: ActivationName;
  shiftStd?: number;
  perturb?: number;
  general?: boolean;
}
const CASES: Case[] = [
  { name: 't20', label: '(20,10,3) tanh N(0,0.3^2)', size: [20, 10, 3], layer1: 'tanh', layer2: 'tanh', shiftStd: 0.3 },
  { name: 's30', label: '(30,20,8) sigmoid N(0,1)', size: [30, 20, 8], layer1: 'sigmoid', layer2: 'sigmoid', shiftStd: 1 },
  { name: 'p50', label: '(50,30,10) tanh, A perturbed 0.3', size: [50, 30, 10], layer1: 'tanh', layer2: 'tanh', shiftStd: 0.3, perturb: 0.3 },
  { name: 'ts40', label: '(40,15,5) tanh/sigmoid', size: [40, 15, 5], layer1: 'tanh', layer2: 'sigmoid', shiftStd: 0.3 },
  { name: 'g10', label: 'general (10,6,3) tanh, random W1', size: [10, 6, 3], layer1: 'tanh', layer2: 'tanh', general: true },
  { name: 'g20', label: 'general (20,10,3) tanh, random W1', size: [20, 10, 3], layer1: 'tanh', layer2: 'tanh', general: true },
  // issue 13: first layers other than tanh (general (8,4,2) and (10,6,3), random W1)
  ...(['gelu/tanh', 'gelu_tanh/tanh', 'silu/tanh', 'softplus/softplus', 'sigmoid/sigmoid', 'gelu/gelu', 'tanh/tanh'] as const).flatMap((pair) => {
    const [layer1, layer2] = pair.split('/') as [ActivationName, ActivationName];
    return ([[8, 4, 2], [10, 6, 3]] as const).map(
      (size): Case => ({ name: `${layer1}-${layer2}-${size[0]}`, label: `general (${size.join(',')}) ${pair}, random W1`, size: [...size], layer1, layer2, general: true }),
    );
  }),
];
const chosen = values.cases === 'all' ? CASES : CASES.filter((c) => values.cases!.split(',').includes(c.name));

const UPPER = { fix: 'first-layer-weights' as const, maxIterations: 100, costTolerance: 1e-4, innerSteps: 0 };

async function reducedExperiment(c: Case, seed: number, truth: Network, common: { width1: number; width2: number; threads: number }) {
  const o = createOracle(networkBlackBox(truth));
  const r = await identify(o, { ...common, activation: { layer1: c.layer1, layer2: c.layer2 }, seed: 1 });
  await o.close();
  const data = r.refinementData!;
  const nb = r.networkBeforeRefinement;
  const l2 = (n: Network) => score(truth, n, { points: 10_000 }).function.gaussian.relativeL2;
  let t0 = performance.now();
  const u1 = await fitNetwork(nb, data, UPPER);
  const f1 = await fitNetwork(u1.network, data, { maxIterations: 200, threads: common.threads });
  const fullSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const U = rowSpanBasis(nb.A);
  const inRange = toRange(nb, U, data);
  const u2 = await fitNetwork(inRange.network, inRange.data, UPPER);
  const f2 = await fitNetwork(u2.network, inRange.data, { maxIterations: 200, threads: common.threads });
  const lifted = fromRange(f2.network, U);
  const reducedSeconds = (performance.now() - t0) / 1000;
  const f3 = await fitNetwork(lifted, data, { maxIterations: 200, threads: common.threads });
  const totalReduced = (performance.now() - t0) / 1000;
  console.log(
    `| ${c.label} | ${seed} | full: ${u1.report.iterations}+${f1.report.iterations} its, ${fullSeconds.toFixed(2)} s, L2 ${l2(f1.network).toExponential(1)} | reduced (r = ${U.shape[1]}): ${u2.report.iterations}+${f2.report.iterations} its, ${reducedSeconds.toFixed(2)} s, L2 lifted ${l2(lifted).toExponential(1)}; then full ${f3.report.iterations} its, total ${totalReduced.toFixed(2)} s, L2 ${l2(f3.network).toExponential(1)} |`,
  );
}

const fmt = (x: number) => (x >= 0.9999 ? x.toFixed(6) : x.toFixed(3));
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const EXACT = 1e-8;

console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; threads ${threads}`);
console.log('| network | seed | a_i min / med | v_l min / med | L2 before | refine s | LM its | attempts | total s | exact | fit best-of-3 s (exact) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const c of chosen) {
  const [d, m0, m1] = c.size;
  for (const seed of seeds) {
    const activation = { layer1: c.layer1, layer2: c.layer2 };
    let truthNet: Network | null = null;
    let truthGen: GeneralNetwork | null = null;
    if (c.general) truthGen = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, activation, seed, directions: 'random' });
    else truthNet = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation, shiftStd: c.shiftStd, orthogonalityPerturbation: c.perturb ?? 0, seed });
    const makeOracle = () => createOracle(truthGen ? generalBlackBox(truthGen) : networkBlackBox(truthNet!));
    const common = { width1: m0, width2: m1, activation, seed: 1, threads, ...(truthGen ? { model: 'general' as const } : {}), ...extra };

    const o1 = makeOracle();
    const before = await identify(o1, { ...common, refine: false });
    await o1.close();
    const nb = before.networkBeforeRefinement;
    const trueA = truthGen ? truthGen.W1 : truthNet!.A;
    const trueV = truthGen ? generalEntangled(truthGen) : entangledWeights(truthNet!);
    const a = matchWeights(trueA, nb.A);
    const v = matchWeights(trueV, entangledWeights(nb));
    const l2Before = truthGen ? NaN : score(truthNet!, nb, { points: 10_000 }).function.gaussian.relativeL2;
    let rest = '| - | - | - | - | - | - |';
    if (!values['before-only']) {
      const o2 = makeOracle();
      const t0 = performance.now();
      const full = await identify(o2, common);
      const total = (performance.now() - t0) / 1000;
      const paid = o2.counts().paid;
      await o2.close();
      const l2 = truthGen ? scoreGeneral(truthGen, full.networkGeneral!).function.gaussian.relativeL2 : score(truthNet!, full.network, { points: 10_000 }).function.gaussian.relativeL2;
      const its = full.report.attempts.reduce((s, x) => s + (x.refine?.iterations ?? 0) + (x.upperFit?.iterations ?? 0), 0);
      let fit = '-';
      if (values.fit && !truthGen) {
        const o3 = createOracle(networkBlackBox(truthNet!), { maxQueries: paid });
        const t1 = performance.now();
        try {
          const r = await studentFit(o3, { width1: m0, width2: m1, activation, seed: 1, threads, dataPoints: paid, starts: 3 });
          const e = score(truthNet!, r.network, { points: 10_000 }).function.gaussian.relativeL2;
          fit = `${((performance.now() - t1) / 1000).toFixed(1)} (${e <= EXACT ? 'exact' : `L2 ${e.toExponential(1)}`})`;
        } catch (e) {
          fit = `refused: ${String((e as Error).message).slice(0, 40)}`;
        } finally {
          await o3.close();
        }
      }
      rest = `| ${(full.report.seconds.refine ?? 0).toFixed(2)} | ${its} | ${full.report.attempts.length} | ${total.toFixed(2)} | ${l2 <= EXACT ? 'yes' : `no (${l2.toExponential(1)})`} | ${fit} |`;
    }
    if (values.reduced && truthNet) await reducedExperiment(c, seed, truthNet, common);
    console.log(`| ${c.label} | ${seed} | ${fmt(a.minCos)} / ${fmt(a.medianCos)} | ${fmt(v.minCos)} / ${fmt(v.medianCos)} | ${Number.isNaN(l2Before) ? '-' : l2Before.toExponential(1)} ${rest}`);
  }
}
console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
