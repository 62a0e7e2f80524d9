/**
 * The student fit in range(A)'s coordinates (studentFitInRange) against the plain fit (studentFit) on the
 * same networks, budget and starts: exact (relative L2 <= 1e-8 on 10^4 Gaussian points), the check, the
 * starts run, the gap, seconds. Networks: nnid's generator, seeds 1001.. (the budget table's).
 *
 *   npx tsx packages/student-fit/bench/range-fit.ts --size 30,20,8 --shift 0.3 --activation tanh --budget 3 --starts 16 --networks 2 [--methods range,plain] [--weight w (default DERIVATIVE_WEIGHT)] [--gradients g]
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { score } from '@nnid/pipeline';
import type { ActivationName, Network } from '@nnid/core';
import { studentFit, studentFitInRange } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '30,20,8' },
    shift: { type: 'string', default: '0.3' },
    activation: { type: 'string', default: 'tanh' },
    budget: { type: 'string', default: '3' },
    starts: { type: 'string', default: '16' },
    networks: { type: 'string', default: '2' },
    first: { type: 'string', default: '0' },
    threads: { type: 'string', default: '2' },
    methods: { type: 'string', default: 'range,plain' },
    weight: { type: 'string' },
    gradients: { type: 'string' },
  },
});
const [d, m0, m1] = values.size.split(',').map(Number);
const act = values.activation as ActivationName;
const P = d * m0 + m0 + m0 * m1 + m1;
const N = Math.floor(Number(values.budget) * P);
for (let idx = Number(values.first); idx < Number(values.first) + Number(values.networks); idx++) {
  const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: act, shiftStd: Number(values.shift), seed: 1001 + idx });
  for (const method of values.methods.split(',')) {
    const oracle = createOracle(networkBlackBox(truth), { maxQueries: N });
    const t = performance.now();
    const cpu = process.cpuUsage();
    const options = { width1: m0, width2: m1, activation: act, dataPoints: N, starts: Number(values.starts), threads: Number(values.threads), seed: idx };
    const r = method === 'range' ? await studentFitInRange(oracle, { ...options, ...(values.weight ? { gradientWeight: Number(values.weight) } : {}), ...(values.gradients ? { gradients: Number(values.gradients) } : {}) }) : await studentFit(oracle, options);
    const l2 = score(truth, r.network as Network, { points: 10_000 }).function.gaussian.relativeL2;
    const rep = r.report;
    const starts = rep.range?.reduced ? rep.range.reduced.starts : rep.starts;
    console.log(
      `${values.activation} ${values.shift} (${values.size}) ${values.budget} P net ${idx} ${method}${method === 'range' ? ` w ${rep.range?.gradientWeight ?? '-'} rows ${rep.range?.derivativeRows ?? 0}${values.gradients ? ` g ${values.gradients}` : ''}` : ''}: exact ${l2 <= 1e-8} (L2 ${l2.toExponential(1)}), check ${rep.check.passed} (${rep.check.relativeResidual.toExponential(1)}), ` +
        `starts ${starts.length} [${starts.map((s) => `${s.relativeResidual.toExponential(0)}/${s.iterations}${s.redraws ? `r${s.redraws}` : ''}`).join(' ')}]${rep.range ? `, gap ${rep.range.gap.toExponential(1)}, reduced ${rep.range.reduced?.relativeResidual.toExponential(1) ?? "none (plain fit)"}` : ''}, ` +
        `paid ${oracle.counts().paid}, ${((performance.now() - t) / 1000).toFixed(1)} s, main CPU ${((process.cpuUsage(cpu).user) / 1e6).toFixed(1)} s, load ${loadavg()[0].toFixed(1)}`,
    );
    await oracle.close();
  }
}
