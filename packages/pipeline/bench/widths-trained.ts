/**
 * Widths inferred on networks shaped as trained ones leave them (issue 13): the generator's general
 * networks (rows of mixed scale) with a second-layer unit made a near-duplicate of another (its W2
 * row rotated off the other's by an angle whose cosine is given) or near-dead (its C column scaled
 * down), identified with the activations given and the widths inferred (model 'general'): the
 * widths found, the check, the relative L2 to the truth, and report.widths.evidence's verdict.
 *
 *   npx tsx packages/pipeline/bench/widths-trained.ts [--size 10,6,3] [--pairs tanh/tanh] [--seeds 1,2]
 *     [--variants plain,dup0.99,dup0.999,dead1e-4,dead1e-12] [--scales 0.3,3] [--threads 1]
 *
 * dupC: unit m1-1's W2 row = cos C times unit 0's row + sin C times a unit vector orthogonal to it,
 * both at unit 0's norm (its bias unit 0's). deadS: unit m1-1's C column times S. Exact: relative
 * L2 <= 1e-8 on 4000 Gaussian points. Never fails on a figure.
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { matrix, rng, toDense, type ActivationName, type GeneralNetwork } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identify } from '@nnid/pipeline';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '10,6,3' },
    pairs: { type: 'string', default: 'tanh/tanh' },
    seeds: { type: 'string', default: '1,2' },
    variants: { type: 'string', default: 'plain,dup0.99,dup0.999,dead1e-4,dead1e-12' },
    scales: { type: 'string', default: '0.3,3' },
    threads: { type: 'string', default: '1' },
  },
});
const [d, m0, m1] = values.size!.split(',').map(Number);
const scales = values.scales!.split(',').map(Number) as [number, number];

function variant(net: GeneralNetwork, name: string, seed: number): GeneralNetwork {
  const W2 = Float64Array.from(toDense(net.W2).data);
  const C = Float64Array.from(toDense(net.C).data);
  const b2 = Float64Array.from(net.b2);
  const last = net.width2 - 1;
  if (name.startsWith('dup')) {
    const cos = Number(name.slice(3));
    const a = W2.subarray(0, m0);
    const norm = Math.hypot(...a);
    const u = Float64Array.from(a, (x) => x / norm);
    const r = rng(seed).split(0xd0b).fillNormal(new Float64Array(m0));
    const dot = r.reduce((s, x, i) => s + x * u[i], 0);
    for (let i = 0; i < m0; i++) r[i] -= dot * u[i];
    const rn = Math.hypot(...r);
    const sin = Math.sqrt(1 - cos * cos);
    for (let i = 0; i < m0; i++) W2[last * m0 + i] = norm * (cos * u[i] + (sin * r[i]) / rn);
    b2[last] = b2[0];
  } else if (name.startsWith('dead')) {
    const s = Number(name.slice(4));
    for (let o = 0; o < net.outputs; o++) C[o * net.width2 + last] *= s;
  }
  const W2v = matrix(net.width2, m0);
  W2v.data.set(W2);
  const Cv = matrix(net.outputs, net.width2);
  Cv.data.set(C);
  return { ...net, W2: W2v, b2, C: Cv };
}

function relL2(truth: GeneralNetwork, net: GeneralNetwork | null): number {
  if (!net) return NaN;
  const X = matrix(4000, truth.inputDim);
  rng(99).fillNormal(X.data);
  const y = toDense(evaluateGeneral(truth, X)).data;
  const z = toDense(evaluateGeneral(net, X)).data;
  let num = 0;
  let den = 0;
  for (let i = 0; i < y.length; i++) {
    num += (y[i] - z[i]) ** 2;
    den += y[i] ** 2;
  }
  return Math.sqrt(num / den);
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
console.log(`load ${loadavg().map((x) => x.toFixed(1)).join(' ')}; (d, m0, m1) = (${d}, ${m0}, ${m1}), rows' scales ${scales.join('-')}`);
console.log('| pair | seed | variant | widths found | check | rel. L2 | exact | m1 established | attempts | CPU s |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const pair of values.pairs!.split(',')) {
  const [layer1, layer2] = pair.split('/') as ActivationName[];
  for (const seed of values.seeds!.split(',').map(Number)) {
    const base = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, activation: { layer1, layer2 }, scales, seed, directions: 'random' });
    for (const v of values.variants!.split(',')) {
      const truth = variant(base, v, seed);
      const at = cpu();
      try {
        const r = await identify(createOracle(generalBlackBox(truth)), { activation: { layer1, layer2 }, model: 'general', seed: 1, threads: Number(values.threads) });
        const net = r.networkGeneral;
        const err = relL2(truth, net);
        const ev = r.report.widths.evidence;
        console.log(
          `| ${pair} | ${seed} | ${v} | (${net?.width1}, ${net?.width2}) | ${r.report.check.passed ? 'passed' : 'FAILED'} ${r.report.check.relativeResidual?.toExponential(1)} | ${err.toExponential(1)} | ${err <= 1e-8 ? 'yes' : 'no'} | ${ev ? (ev.established.width2 ? 'yes' : 'no') : '-'} | ${r.report.attempts.length} | ${(cpu() - at).toFixed(0)} |`,
        );
        if (ev && !ev.established.width2) console.log(`  why: ${ev.established.why}`);
      } catch (e) {
        console.log(`| ${pair} | ${seed} | ${v} | error: ${(e as Error).message.slice(0, 120)} | | | | | | ${(cpu() - at).toFixed(0)} |`);
      }
    }
  }
}
