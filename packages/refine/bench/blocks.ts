// refineNetwork on 1 and 2 threads at a size whose rows are blocked (N P^2 >= 5e9): seconds per
// LM iteration and whether the two results are the same bits. Usage:
//   npx tsx packages/refine/bench/blocks.ts [50x30x10] [iterations 10]
import { rng } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { layoutOf, packParameters, refineNetwork, unpackParameters } from '@nnid/refine';

const [d, m0, m1] = (process.argv[2] ?? '50x30x10').split('x').map(Number);
const iterations = Number(process.argv[3] ?? 10);
const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', seed: 3 });
const layout = layoutOf(truth);
const p = packParameters(truth, layout);
const s = rng(4);
for (let k = 0; k < p.length; k++) p[k] += 0.05 * s.normal();
const start = unpackParameters(p, layout);
const N = 4 * layout.size;
console.log(`(${d},${m0},${m1}) P=${layout.size} N=${N} N P^2=${(N * layout.size ** 2).toExponential(2)}; ${iterations} LM iterations from the truth + 0.05 N(0,1)`);
const bits: string[] = [];
for (const threads of [1, 2]) {
  const oracle = createOracle(networkBlackBox(truth));
  const t = performance.now();
  const { network, report } = await refineNetwork(oracle, start, { seed: 1, dataPoints: N, threads, maxIterations: iterations, stallWindow: 0 });
  const seconds = (performance.now() - t) / 1000;
  console.log(`threads ${threads}: ${seconds.toFixed(2)} s (${(seconds / report.iterations).toFixed(3)} s per iteration incl. ${N} queries and the pool's start), relative residual ${report.relativeResidual.toExponential(2)}`);
  bits.push(Array.from(network.A.data).join(',') + Array.from(network.B.data).join(','));
}
console.log(`same bits on 1 and 2 threads: ${bits[0] === bits[1]}`);
