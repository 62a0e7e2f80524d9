/**
 * identify within maxQueries = B P on a few networks of a family: exact (relative L2 <= 1e-8 on
 * 10^4 Gaussian points), the check, queries paid, seconds. A probe for budget.ts's floors.
 *
 *   npx tsx packages/pipeline/bench/budget-probe.ts --size 20,10,3 --activation tanh --shift-std 0.3 --budgets 6,8,10 --networks 3
 */
import { parseArgs } from 'node:util';
import { parameterCount, type ActivationName } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, score } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '20,10,3' },
    activation: { type: 'string', default: 'tanh' },
    'shift-std': { type: 'string', default: '0.3' },
    budgets: { type: 'string', default: '6,8,10' },
    networks: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
  },
});
const [inputDim, width1, width2] = values.size!.split(',').map(Number);
const activation = values.activation as ActivationName;
for (const B of values.budgets!.split(',').map(Number)) {
  for (let k = 0; k < Number(values.networks); k++) {
    const truth = randomNetwork({ inputDim, width1, width2, activation, shiftStd: Number(values['shift-std']), seed: 1001 + k });
    const P = parameterCount(truth);
    const maxQueries = Math.floor(B * P);
    const oracle = createOracle(networkBlackBox(truth), { maxQueries });
    const t = performance.now();
    try {
      const r = await identify(oracle, { width1, width2, activation: { layer1: activation, layer2: activation }, seed: k, threads: Number(values.threads), maxQueries });
      const l2 = score(truth, r.network, { points: 10_000 }).function.gaussian.relativeL2;
      const b = r.report.budget!;
      console.log(`B=${B} net=${k} exact=${l2 <= 1e-8} l2=${l2.toExponential(1)} check=${r.report.check.passed} paid=${(oracle.counts().paid / P).toFixed(2)}P attempts=${r.report.attempts.length} s=${((performance.now() - t) / 1000).toFixed(1)} H=${b.counts.hessianPoints} f=${b.counts.refineDataPoints} s=${b.counts.shiftDataPoints} fit=${r.refinementData?.values.length} floor=${(b.floor.total / P).toFixed(2)}P`);
    } catch (e) {
      console.log(`B=${B} net=${k} refused: ${(e as Error).message.slice(0, 300)}`);
    }
  }
}
