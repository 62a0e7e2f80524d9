/**
 * activation 'auto' (issue 13): where its CPU seconds go, and session 7's search against today's,
 * side by side in one process on the same black boxes. Each network is run through both searches
 * (identifyActivationAuto of bench/activation-auto-session7.ts, a frozen copy, and of src/), the
 * inner identify runs timed one by one: the probe, the screen (and refits: whatever is not an
 * identify run) and the full runs. Widths inferred (model 'general', no width given), as a user's
 * default run. k > 1: the search runs on the projection identifyOutputs makes (w from the seed),
 * which is what identifyOutputs searches; its k-output fit after is the same for both.
 *
 *   npx tsx packages/pipeline/bench/activation-auto-time.ts [--truths FILE.truth.json,...]
 *     [--generator 'd,m0,m1,k,pair,seed;...'] [--variants before,after] [--threads 2] [--out FILE.jsonl]
 *
 * A truth file stands for its float64 ONNX export (the same function to rounding, evaluated here
 * without onnxruntime). Exact: relative L2 <= 1e-8 on 4000 Gaussian points against the truth's
 * (projected) function. CPU seconds: process.cpuUsage (every thread of the process). Never fails on a figure.
 */
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { matrix, readNetworkAny, rng, toDense, type ActivationName, type Float64View, type GeneralNetwork, type Oracle } from '@nnid/core';
import { createOracle, evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { identify, type IdentifyOptions, type IdentifyResult } from '@nnid/pipeline';
import { identifyActivationAuto as after } from '../src/activation-auto.ts';
import { identifyActivationAuto as before } from './activation-auto-session7.ts';

const { values } = parseArgs({
  options: {
    truths: { type: 'string', default: '' },
    generator: { type: 'string', default: '' },
    variants: { type: 'string', default: 'before,after' },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: '/tmp/activation-auto-time.jsonl' },
  },
});
const threads = Number(values.threads);
const seed = Number(values.seed);

interface Case {
  name: string;
  truth: GeneralNetwork;
}
const cases: Case[] = [];
for (const file of values.truths!.split(',').filter(Boolean)) cases.push({ name: basename(file).replace('.truth.json', ''), truth: readNetworkAny(file).general });
for (const spec of values.generator!.split(';').filter(Boolean)) {
  const [d, m0, m1, k, pair, s] = spec.split(',');
  const [layer1, layer2] = (pair.includes('/') ? pair.split('/') : [pair, pair]) as ActivationName[];
  const truth = randomGeneralNetwork({ inputDim: +d, width1: +m0, width2: +m1, outputs: +k, activation: { layer1, layer2 }, seed: +s, directions: 'random' });
  cases.push({ name: `gen d${d}-m${m0}-m${m1}-k${k}-${layer1}/${layer2}-s${s}`, truth });
}

/** The truth's k outputs projected on identifyOutputs' w (k = 1: the output itself). */
function projection(k: number): Float64Array {
  const w = new Float64Array(k);
  if (k === 1) w[0] = 1;
  else rng(seed).split(0x0e7).fillSphere(w, 1);
  return w;
}
function projected(truth: GeneralNetwork, w: Float64Array, X: Float64View): Float64Array {
  const Y = toDense(evaluateGeneral(truth, X)).data;
  const k = truth.outputs;
  const n = X.shape[0];
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) for (let o = 0; o < k; o++) out[r] += w[o] * Y[r * k + o];
  return out;
}
function oracleOf(c: Case): Oracle {
  const w = projection(c.truth.outputs);
  return createOracle({ inputDim: c.truth.inputDim, identity: `${c.name}|${Array.from(w).join(',')}`, evaluate: async (X: Float64View) => projected(c.truth, w, X) });
}
function relL2(c: Case, net: GeneralNetwork | null): number {
  if (!net) return NaN;
  const n = 4000;
  const X = matrix(n, c.truth.inputDim);
  rng(99).fillNormal(X.data);
  const y = projected(c.truth, projection(c.truth.outputs), X);
  const z = toDense(evaluateGeneral(net, X)).data;
  let num = 0;
  let den = 0;
  for (let r = 0; r < n; r++) {
    num += (y[r] - z[r]) ** 2;
    den += y[r] ** 2;
  }
  return Math.sqrt(num / den);
}
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

console.log(`load ${loadavg().map((x) => x.toFixed(1)).join(' ')}, threads ${threads}`);
console.log('| network | search | found | check | rel. L2 | exact | CPU s total | probe | screen + refits | full runs (count) | attempts | wall s |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const c of cases) {
  for (const variant of values.variants!.split(',')) {
    const search = variant === 'before' ? before : after;
    const runs: { cpu: number; attempts: number }[] = [];
    const timed = async (oracle: Oracle, options: IdentifyOptions): Promise<IdentifyResult> => {
      const at = cpu();
      const r = await identify(oracle, options);
      runs.push({ cpu: cpu() - at, attempts: r.report.attempts.length });
      return r as IdentifyResult;
    };
    const at = cpu();
    const wallAt = performance.now();
    let line: Record<string, unknown>;
    try {
      const r = await search(timed, oracleOf(c), { activation: 'auto', model: 'general', seed, threads });
      const total = cpu() - at;
      const inRuns = runs.reduce((s, x) => s + x.cpu, 0);
      const net = r.networkGeneral;
      const err = relL2(c, net);
      const chosen = r.report.activationSearch?.chosen;
      line = {
        network: c.name,
        variant,
        found: net ? `${net.activation.layer1}/${net.activation.layer2} (${net.width1}, ${net.width2})` : '-',
        chosen: chosen ? `${chosen.layer1}/${chosen.layer2}` : null,
        check: r.report.check.relativeResidual,
        passed: r.report.check.passed,
        relL2: err,
        exact: err <= 1e-8,
        cpu: total,
        probe: runs[0]?.cpu ?? 0,
        screen: total - inRuns,
        full: runs.slice(1).map((x) => x.cpu),
        attempts: runs.map((x) => x.attempts),
        wall: (performance.now() - wallAt) / 1000,
        load: loadavg()[0],
      };
    } catch (e) {
      line = { network: c.name, variant, error: String((e as Error).message ?? e), cpu: cpu() - at, wall: (performance.now() - wallAt) / 1000 };
    }
    appendFileSync(values.out!, JSON.stringify(line) + '\n');
    const f = (x: unknown) => (typeof x === 'number' ? x.toExponential(1) : '-');
    const full = (line.full as number[] | undefined) ?? [];
    console.log(
      `| ${c.name} | ${variant} | ${line.found ?? line.error} | ${line.passed ? 'passed' : 'FAILED'} ${f(line.check)} | ${f(line.relL2)} | ${line.exact ? 'yes' : 'no'} | ${(line.cpu as number).toFixed(0)} | ${((line.probe as number) ?? 0).toFixed(0)} | ${((line.screen as number) ?? 0).toFixed(0)} | ${full.reduce((s, x) => s + x, 0).toFixed(0)} (${full.length}) | ${((line.attempts as number[]) ?? []).join('+')} | ${(line.wall as number).toFixed(0)} |`,
    );
  }
}
