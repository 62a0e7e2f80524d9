/**
 * Method auto's pair screen (issue 13, session 11): where does the true pair rank, and why? A
 * generator network (real-models.ts --generate's: randomGeneralNetwork, random directions) is
 * identified by identifyOutputs as method auto runs it (activation 'auto', widths inferred, the
 * second pass held back); its failed network and answers are kept in --cache (so that the screens
 * can be rerun without the search), then every candidate pair is screened at the pipeline's m1 on
 * the continuation's data (the refinement's answers plus fresh Gaussian points to fitDataFactor 5 P
 * of m1 = m0) in each of these ways:
 *
 *   current    the continuation's screen (SCREEN_ITERATIONS LM iterations from the pipeline's
 *              network with the pair put in, then SCREEN_STARTS random starts; one thread);
 *   warm-long  from the pipeline's network only, --long iterations;
 *   starts     the current screen with --starts random starts;
 *   fixed      the directions fixed at the pipeline's (the output layer solved, 20 iterations of
 *              everything else), then 40 iterations of every parameter: the search's screen;
 *   near       after 'current': from the networks of its best --near pairs, each pair that differs
 *              from one of them in one layer, the activation swapped, SCREEN_ITERATIONS iterations
 *              (the search's refits from a run's network); a pair's residual the best of its own
 *              current screen and the refits into it;
 *
 * and the true pair's rank, its residual and the leaders' are printed with each way's CPU seconds.
 *
 *   npx tsx packages/pipeline/bench/pair-screen.ts --pair softplus/softplus --sizes 10,6,3 --outputs 3 --seed 1
 *     [--cache /tmp/pair-screen-softplus.json] [--ways current,near,warm-long,starts,fixed] [--long 200] [--starts 10] [--near 2]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generalParameterCount, matrixFrom, parseNetworkV2, serializeNetworkV2, toDense, type ActivationName, type Float64View, type GeneralNetwork } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { fitGeneralNetwork, fitOutputLayer } from '@nnid/refine';
import { gaussianPoints, studentFitGeneral } from '@nnid/student-fit';
import { candidatePairs, identifyOutputs, type ActivationSearchReport } from '@nnid/pipeline';
import { SCREEN_ITERATIONS, SCREEN_STARTS } from '../src/method-auto.ts';

const { values: args } = parseArgs({
  options: {
    pair: { type: 'string', default: 'softplus/softplus' },
    sizes: { type: 'string', default: '10,6,3' },
    outputs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    cache: { type: 'string' },
    ways: { type: 'string', default: 'current,near,warm-long,starts,fixed' },
    long: { type: 'string', default: '200' },
    starts: { type: 'string', default: '10' },
    near: { type: 'string', default: '2' },
  },
});
const [d, m0, m1] = args.sizes!.split(',').map(Number);
const k = Number(args.outputs);
const seed = Number(args.seed);
const [layer1, layer2] = args.pair!.split('/') as [ActivationName, ActivationName];
const truth = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, outputs: k, activation: { layer1, layer2 }, seed, directions: 'random' });
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

type Kept = { network: unknown; inputs: number[]; values: number[]; threshold: number; residual: number; search: ActivationSearchReport | undefined; cpu: number };
let kept: Kept;
if (args.cache && existsSync(args.cache)) kept = JSON.parse(readFileSync(args.cache, 'utf8')) as Kept;
else {
  const c = cpuNow();
  const box = { inputDim: d, outputs: k, identity: `pair-screen-${args.pair}-${seed}`, evaluate: async (x: Float64View) => evaluateGeneral(truth, x) };
  const found = await identifyOutputs(box, { activation: 'auto', seed, threads: Number(args.threads), secondPassPairs: 0 });
  kept = {
    network: serializeNetworkV2(found.network),
    inputs: Array.from(toDense(found.refinementData.inputs).data),
    values: Array.from(found.refinementData.values),
    threshold: found.report.check.threshold,
    residual: found.report.check.relativeResidual,
    search: (found.report.identify as { activationSearch?: ActivationSearchReport }).activationSearch,
    cpu: cpuNow() - c,
  };
  if (args.cache) writeFileSync(args.cache, JSON.stringify(kept));
}
const net = parseNetworkV2(kept.network);
const n = kept.values.length / k;
// the continuation's data: the answers in hand, then fresh Gaussian points to 5 P of the widest candidate (m1 = m0)
const N = Math.max(n, Math.floor(5 * generalParameterCount({ inputDim: d, width1: net.width1, width2: net.width1, outputs: k })));
const inputs = new Float64Array(N * d);
inputs.set(kept.inputs);
const fresh = gaussianPoints(N, d, seed).subarray(n * d);
inputs.set(fresh, n * d);
const values = new Float64Array(N * k);
values.set(kept.values);
values.set(toDense(evaluateGeneral(truth, matrixFrom(fresh, N - n, d))).data, n * k);
const data = { inputs: matrixFrom(inputs, N, d), values };
console.log(`truth ${args.pair} (${d}, ${m0}, ${m1}) k = ${k} seed ${seed}; the pipeline's network ${net.activation.layer1}/${net.activation.layer2} (${net.width1}, ${net.width2}) residual ${kept.residual.toExponential(2)} (${kept.cpu.toFixed(0)} CPU s); data ${n} + ${N - n} points; load ${loadavg()[0].toFixed(1)}`);
const handed = new Set(
  (kept.search?.candidates ?? [])
    .map((c, i) => ({ c, i }))
    .sort((a, b) => (a.c.relativeResidual ?? Infinity) - (b.c.relativeResidual ?? Infinity) || a.i - b.i)
    .slice(0, 5)
    .map(({ c }) => `${c.layer1}/${c.layer2}`),
);
console.log(`the search's 5 pairs handed on: ${[...handed].join(', ')}`);

const { pairs } = candidatePairs('general');
const source = { inputDim: d, outputs: k, identity: 'unused', evaluate: async () => { throw new Error('no query: the screens run on the answers in hand'); } };
type Pair = { layer1: ActivationName; layer2: ActivationName };
/** The current screen's networks by pair (for 'near'). */
const screened = new Map<string, { residual: number; network: GeneralNetwork }>();
const screenOf = async (way: string, pair: Pair): Promise<number> => {
  const start = { ...net, activation: { ...pair } };
  const common = { width1: net.width1, width2: net.width2, activation: pair, seed, threads: 1, dataPoints: N, answers: data, checkThreshold: kept.threshold };
  if (way === 'current') {
    const fit = await studentFitGeneral(source, { ...common, starts: SCREEN_STARTS, maxIterations: SCREEN_ITERATIONS, startNetworks: [start] });
    screened.set(`${pair.layer1}/${pair.layer2}`, { residual: fit.report.check.relativeResidual, network: fit.network as GeneralNetwork });
    return fit.report.check.relativeResidual;
  }
  if (way === 'near') {
    const key = `${pair.layer1}/${pair.layer2}`;
    const from = [...screened.entries()].sort((a, b) => a[1].residual - b[1].residual).slice(0, Number(args.near));
    let best = screened.get(key)?.residual ?? Infinity;
    for (const [other, s] of from) {
      const [l1, l2] = other.split('/');
      if (other === key || (l1 !== pair.layer1 && l2 !== pair.layer2)) continue;
      const r = (await fitGeneralNetwork({ ...s.network, activation: { ...pair } }, data, { maxIterations: SCREEN_ITERATIONS })).report.relativeResidual;
      if (Number.isFinite(r)) best = Math.min(best, r);
    }
    return best;
  }
  if (way === 'warm-long') return (await fitGeneralNetwork(start, data, { maxIterations: Number(args.long) })).report.relativeResidual;
  if (way === 'starts') return (await studentFitGeneral(source, { ...common, starts: Number(args.starts), maxIterations: SCREEN_ITERATIONS, startNetworks: [start] })).report.check.relativeResidual;
  if (way === 'fixed') {
    const fixed = await fitGeneralNetwork(fitOutputLayer(start, data), data, { fix: 'first-layer-directions', maxIterations: 20, innerSteps: 0 });
    return Math.min(fixed.report.relativeResidual, (await fitGeneralNetwork(fixed.network, data, { maxIterations: 40 })).report.relativeResidual);
  }
  throw new Error(`unknown way ${way}`);
};
for (const way of args.ways!.split(',')) {
  const c = cpuNow();
  const rows: { pair: string; residual: number }[] = [];
  for (const p of pairs) {
    let r: number;
    try {
      r = await screenOf(way, p);
    } catch {
      r = Infinity;
    }
    rows.push({ pair: `${p.layer1}/${p.layer2}`, residual: Number.isFinite(r) ? r : Infinity });
  }
  const cpu = cpuNow() - c;
  // the pair screen ranks the pairs not handed on; here every pair, and where the true one stands among those not handed on
  const ranked = [...rows].sort((a, b) => a.residual - b.residual);
  const others = ranked.filter((r) => !handed.has(r.pair));
  const at = ranked.findIndex((r) => r.pair === args.pair);
  const atOthers = others.findIndex((r) => r.pair === args.pair);
  console.log(
    `${way}: ${args.pair} ${ranked[at].residual.toExponential(2)} ranks ${at + 1} of ${ranked.length} (${atOthers >= 0 ? `${atOthers + 1} of the ${others.length} not handed on` : 'handed on'}); ` +
      `best ${ranked.slice(0, 6).map((r) => `${r.pair} ${r.residual.toExponential(2)}`).join(', ')}; ${cpu.toFixed(1)} CPU s (${(cpu / pairs.length).toFixed(2)} a pair); load ${loadavg()[0].toFixed(1)}`,
  );
}
