import { readFileSync } from 'node:fs';
import { parseNetwork, parameterCount } from '@nnid/core';
import { createOracle, networkBlackBox } from '@nnid/oracle';
import { refineNetwork } from '@nnid/refine';
import { score } from '@nnid/pipeline';
const k = Number(process.env.K ?? 4);
const extra = JSON.parse(process.env.OPTS ?? '{}');
for (const c of process.argv.slice(2)) {
  const { truth: tj, start: sj } = JSON.parse(readFileSync(`/tmp/starts/${c}.json`, 'utf8'));
  const truth = parseNetwork(tj);
  const start = parseNetwork(sj);
  const oracle = createOracle(networkBlackBox(truth));
  const t = performance.now();
  const { network, report } = await refineNetwork(oracle, start, { seed: 7, dataPoints: k * parameterCount(truth), ...extra });
  const s = score(truth, network, { points: 2000 });
  console.log(c.padEnd(24), `k=${k}`, report.stopReason.padEnd(13), 'it', String(report.iterations).padStart(3), 'res', report.relativeResidual.toExponential(1), 'L2', s.function.gaussian.relativeL2.toExponential(1), 'sec', ((performance.now() - t) / 1000).toFixed(1), 'hist', report.residualHistory.filter((_, i) => i % 10 === 0).map((x) => x.toExponential(0)).join(' '));
}
