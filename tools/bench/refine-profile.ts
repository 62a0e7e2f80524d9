/**
 * Benchmark: where identify's time goes, run by run (issue 14's time table). For each network:
 * wall and CPU seconds (process.cpuUsage: every thread), seconds per stage, and per attempt its
 * refinement: the upper fit's iterations and linearizations, the full LM's accepted steps, inner
 * steps, linearizations (one J^T J each), stop reason, relative residual and seconds, and with
 * --history its relative residual after each accepted step (to judge stall rules offline).
 *
 *   npx tsx tools/bench/refine-profile.ts --net 50,30,10 --act tanh,tanh --shift 0.3 --perturb 0.3 --seeds 1,2,3 [--threads 2] [--history]
 *
 * One JSON line per run and per attempt. Never fails on a figure.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { type ActivationName } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify } from '@nnid/pipeline';

const { values } = parseArgs({
  options: {
    net: { type: 'string', default: '20,10,3' },
    act: { type: 'string', default: 'tanh,tanh' },
    shift: { type: 'string', default: '0.3' },
    perturb: { type: 'string', default: '0' },
    seeds: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    history: { type: 'boolean', default: false },
  },
});
const [d, m0, m1] = values.net.split(',').map(Number);
const [layer1, layer2] = values.act.split(',') as [ActivationName, ActivationName];
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
for (const seed of values.seeds.split(',').map(Number)) {
  const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: { layer1, layer2 }, shiftStd: Number(values.shift), orthogonalityPerturbation: Number(values.perturb), seed });
  const oracle = createOracle(networkBlackBox(truth));
  const load = loadavg()[0];
  const c0 = cpu();
  const t0 = performance.now();
  const { report } = await identify(oracle, { width1: m0, width2: m1, activation: { layer1, layer2 }, seed, threads: Number(values.threads) });
  const wall = (performance.now() - t0) / 1000;
  const stages = Object.fromEntries(Object.entries(report.seconds).map(([k, v]) => [k, +(v as number).toFixed(2)]));
  console.log(JSON.stringify({ net: values.net, act: values.act, shift: values.shift, perturb: values.perturb, seed, wall: +wall.toFixed(2), cpu: +(cpu() - c0).toFixed(2), loadBefore: +load.toFixed(1), checkPassed: report.check.passed, stages }));
  for (const a of report.attempts) {
    const u = a.upperFit;
    const f = a.refine;
    console.log(
      JSON.stringify({
        seed,
        subspaceDimension: a.subspaceDimension,
        ranIn: a.ranIn,
        seconds: +a.seconds.toFixed(2),
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
      }),
    );
  }
}
