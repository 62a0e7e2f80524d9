/**
 * What the warm start adds (issue 14, method 'auto'): on networks where the pipeline's check fails
 * within the budget, the fit on the answers paid from the pipeline's refined network (the warm
 * start alone: fitStarts 0) against random starts alone (warmStart false, fitStarts 6: the index of
 * the first exact start). The pipeline runs first at B = --budget P (pipelineMargin 0, so the
 * pipeline runs just above its floor, where it fails often). Exact = relative L2 <= 1e-8 on 10^4
 * Gaussian points.
 *
 *   npx tsx tools/bench/warm-start.ts [--families tanh-0.3-20-10-3,sigmoid-1-20-10-3] [--budget 6] [--networks 3] [--threads 2]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { parameterCount, type ActivationName, type Network } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identifyAuto, score } from '@nnid/pipeline';

const FAMILIES: Record<string, { activation: ActivationName; shiftStd: number; size: [number, number, number] }> = {
  'tanh-0.3-20-10-3': { activation: 'tanh', shiftStd: 0.3, size: [20, 10, 3] },
  'sigmoid-1-20-10-3': { activation: 'sigmoid', shiftStd: 1, size: [20, 10, 3] },
  'tanh-0.3-30-20-8': { activation: 'tanh', shiftStd: 0.3, size: [30, 20, 8] },
};
const { values } = parseArgs({
  options: {
    families: { type: 'string', default: 'tanh-0.3-20-10-3,sigmoid-1-20-10-3' },
    budget: { type: 'string', default: '6' },
    networks: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
  },
});
const budget = Number(values.budget);
const threads = Number(values.threads);
console.log(`| family | network | pipeline | warm start: residual before -> after | warm exact | random starts: first exact (of those run) | load |`);
console.log('|---|---|---|---|---|---|---|');
for (const name of values.families.split(',')) {
  const f = FAMILIES[name];
  for (let index = 0; index < Number(values.networks); index++) {
    const [inputDim, width1, width2] = f.size;
    const truth: Network = randomNetwork({ inputDim, width1, width2, activation: f.activation, shiftStd: f.shiftStd, seed: 1001 + index });
    const maxQueries = Math.floor(budget * parameterCount(truth));
    const run = async (warmStart: boolean, fitStarts: number) => {
      const oracle = createOracle(networkBlackBox(truth), { maxQueries });
      try {
        return await identifyAuto(oracle, { width1, width2, activation: { ...truth.activation }, seed: index, threads, maxQueries, pipelineMargin: 0, warmStart, fitStarts });
      } finally {
        await oracle.close();
      }
    };
    const exact = (net: Network) => score(truth, net, { points: 10_000 }).function.gaussian.relativeL2 <= 1e-8;
    const warm = await run(true, 0);
    const [pipeline, fit] = warm.report.method.tried;
    if (pipeline.passed || !fit?.warmStart) {
      console.log(`| ${name} | ${index} | ${pipeline.passed ? 'passed' : `stopped: ${pipeline.error ?? 'no fit'}`} | - | - | - | ${loadavg()[0].toFixed(1)} |`);
      continue;
    }
    const w = fit.warmStart;
    const cold = await run(false, 6);
    const starts = cold.fit?.report.starts ?? [];
    const first = starts.findIndex((s) => s.passed);
    console.log(
      `| ${name} | ${index} | failed (${pipeline.relativeResidual?.toExponential(1)}) | ${w.fromResidual.toExponential(1)} -> ${w.relativeResidual.toExponential(1)} | ${w.passed && exact(warm.network) ? 'yes' : 'no'} | ${first >= 0 ? `start ${first} (1 of ${first + 1}${exact(cold.network) ? ', exact' : ''})` : `none of ${starts.length}`} | ${loadavg()[0].toFixed(1)} |`,
    );
  }
}
