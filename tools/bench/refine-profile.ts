/**
 * Benchmark: where identify's time goes, run by run (issue 14's time table). For each network:
 * wall and CPU seconds (process.cpuUsage: every thread), seconds per stage, and per attempt its
 * refinement: the upper fit's iterations and linearizations, the full LM's accepted steps, inner
 * steps, linearizations (one J^T J each), stop reason, relative residual and seconds, and with
 * --history its relative residual after each accepted step (to judge stall rules offline).
 *
 *   npx tsx tools/bench/refine-profile.ts --net 50,30,10 --act tanh,tanh --shift 0.3 --perturb 0.3 --seeds 1,2,3 [--threads 2] [--history] [--truth]
 *
 * With --truth (issue 14's attempts): the run's exactness (relative L2 on 10^4 fresh points, the larger of the sphere
 * and Gaussian errors), and per attempt the start of its refinement and its end against the truth: the lowest |cos|
 * of the rows of A and of the entangled v_l (matched up to sign and permutation) and how many are below 0.999.
 * Every attempt line says where its v_l came from (entangledSources: a rank-one search, 'deflated' or 'first-search', or
 * a fallback: 'gradient-at-zero', 'random', ...).
 *
 * One JSON line per run and per attempt. Never fails on a figure.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { entangledWeights, parseNetwork, type ActivationName, type Network, type NetworkJson } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, matchWeights, score } from '@nnid/pipeline';

const { values } = parseArgs({
  options: {
    net: { type: 'string', default: '20,10,3' },
    act: { type: 'string', default: 'tanh,tanh' },
    shift: { type: 'string', default: '0.3' },
    perturb: { type: 'string', default: '0' },
    seeds: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    history: { type: 'boolean', default: false },
    truth: { type: 'boolean', default: false },
  },
});
const [d, m0, m1] = values.net.split(',').map(Number);
const [layer1, layer2] = values.act.split(',') as [ActivationName, ActivationName];
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const lowest = (cos: number[]) => [...cos].sort((a, b) => a - b).slice(0, 4).map((c) => +c.toFixed(3));
/** A network of an attempt against the truth: the lowest |cos| of A's rows and of the v_l, and the count below 0.999. */
function against(truth: Network, json: NetworkJson | null) {
  if (json === null) return null;
  const net = parseNetwork(json);
  const a = matchWeights(truth.A, net.A).cosines;
  const v = matchWeights(entangledWeights(truth), entangledWeights(net)).cosines;
  return { aMin: lowest(a), aBelow999: a.filter((c) => c < 0.999).length, vMin: lowest(v), vBelow999: v.filter((c) => c < 0.999).length };
}
/** How many v_l came from each source, e.g. { 'gradient-at-zero': 1, random: 7 }. */
const sourceCounts = (sources: string[]) => Object.fromEntries([...new Set(sources)].map((k) => [k, sources.filter((x) => x === k).length]));
for (const seed of values.seeds.split(',').map(Number)) {
  const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: { layer1, layer2 }, shiftStd: Number(values.shift), orthogonalityPerturbation: Number(values.perturb), seed });
  const oracle = createOracle(networkBlackBox(truth));
  const load = loadavg()[0];
  const c0 = cpu();
  const t0 = performance.now();
  const { report, network } = await identify(oracle, { width1: m0, width2: m1, activation: { layer1, layer2 }, seed, threads: Number(values.threads) });
  const wall = (performance.now() - t0) / 1000;
  const runCpu = cpu() - c0;
  const fresh = values.truth ? score(truth, network, { points: 10_000 }).function : null;
  const l2 = fresh ? Math.max(fresh.sphere.relativeL2, fresh.gaussian.relativeL2) : null;
  const stages = Object.fromEntries(Object.entries(report.seconds).map(([k, v]) => [k, +(v as number).toFixed(2)]));
  console.log(JSON.stringify({ net: values.net, act: values.act, shift: values.shift, perturb: values.perturb, seed, wall: +wall.toFixed(2), cpu: +runCpu.toFixed(2), loadBefore: +load.toFixed(1), loadAfter: +loadavg()[0].toFixed(1), checkPassed: report.check.passed, ...(l2 !== null ? { exact: l2 <= 1e-8, l2: l2.toExponential(1) } : {}), attempts: report.attempts.length, stages }));
  for (const a of report.attempts) {
    const u = a.upperFit;
    const f = a.refine;
    console.log(
      JSON.stringify({
        seed,
        subspaceDimension: a.subspaceDimension,
        ranIn: a.ranIn,
        seconds: +a.seconds.toFixed(2),
        ...(values.truth ? { pipelineResidual: a.pipelineResidual.toExponential(2), start: against(truth, a.networkBeforeRefinement) } : {}),
        // where the v_l came from (entangled.ts): 'deflated'/'first-search' from a rank-one search, the others fallbacks (grad f(0), random)
        entangledSources: sourceCounts(a.entangled.sources),
        upperFit: u && { iterations: u.iterations, njev: u.njev, seconds: +u.seconds.toFixed(2), residual: u.relativeResidual.toExponential(2), stop: u.stopReason },
        fullFit: f && {
          rows: f.dataPoints,
          parameters: f.parameters,
          iterations: f.iterations,
          accepted: f.acceptedSteps,
          inner: f.innerSteps,
          njev: f.njev,
          nfev: f.nfev,
          seconds: +f.seconds.toFixed(2),
          residual: f.relativeResidual.toExponential(2),
          stop: f.stopReason,
          ...(values.history ? { history: f.residualHistory.map((x) => x.toExponential(3)).join(' ') } : {}),
        },
        ...(values.truth ? { end: against(truth, a.networkAfterRefinement) } : {}),
      }),
    );
  }
}
