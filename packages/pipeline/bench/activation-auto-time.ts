/**
 * activation 'auto' (issue 13): where its CPU seconds go, and an older search against today's. Each
 * network is run through identify with `activation: 'auto'` as the CLI runs it (the search's runs
 * without the second pass), from this tree's pipeline or, with --pipeline DIR, from another
 * checkout's `packages/pipeline/src/index.ts` (a git worktree at an older commit; its packages'
 * node_modules linked to this tree's, so that everything but the pipeline is today's code):
 *
 *   git worktree add /tmp/wt-1edfe30 1edfe30
 *   ln -s /work/main/node_modules /tmp/wt-1edfe30/node_modules
 *   ln -s /work/main/packages/pipeline/node_modules /tmp/wt-1edfe30/packages/pipeline/node_modules
 *   npx tsx packages/pipeline/bench/activation-auto-time.ts [--pipeline /tmp/wt-1edfe30] [--truths FILE.truth.json,...]
 *     [--generator 'd,m0,m1,k,pair,seed;...'] [--threads 2] [--label NAME] [--out FILE.jsonl]
 *
 * Widths inferred (model 'general', no width given), as a user's default run. k > 1: the search
 * runs on the projection identifyOutputs makes (w from the seed), which is what identifyOutputs
 * searches; its k-output fit after is the same for every search. A truth file stands for its
 * float64 ONNX export (the same function to rounding, evaluated here without onnxruntime). Exact:
 * relative L2 <= 1e-8 on 4000 Gaussian points against the truth's (projected) function. CPU
 * seconds: process.cpuUsage (every thread of the process), by part from the search's report
 * (report.activationSearch.cpuSeconds, where that checkout has it). Never fails on a figure.
 */
import { appendFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { matrix, readNetworkAny, rng, toDense, type ActivationName, type Float64View, type GeneralNetwork, type Oracle } from '@nnid/core';
import { createOracle, evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import type { AutoIdentifyResult } from '../src/activation-auto.ts';

const { values } = parseArgs({
  options: {
    truths: { type: 'string', default: '' },
    generator: { type: 'string', default: '' },
    pipeline: { type: 'string', default: '' },
    label: { type: 'string', default: '' },
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

const pipelineEntry = values.pipeline ? pathToFileURL(resolve(values.pipeline, 'packages/pipeline/src/index.ts')).href : '../src/index.ts';
const { identify } = (await import(pipelineEntry)) as { identify: (oracle: Oracle, options: Record<string, unknown>) => Promise<AutoIdentifyResult> };
const label = values.label || (values.pipeline ? basename(values.pipeline) : 'this tree');

console.log(`load ${loadavg().map((x) => x.toFixed(1)).join(' ')}, threads ${threads}, pipeline ${label}`);
console.log('| network | search | found | check | rel. L2 | exact | CPU s total | probe | screen + refits | short runs | long runs | second pass | paid queries | wall s |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const c of cases) {
  const at = cpu();
  const wallAt = performance.now();
  let line: Record<string, unknown>;
  try {
    const r = await identify(oracleOf(c), { activation: 'auto', model: 'general', seed, threads });
    const total = cpu() - at;
    const net = r.networkGeneral;
    const err = relL2(c, net);
    const search = r.report.activationSearch;
    line = {
      network: c.name,
      search: label,
      found: net ? `${net.activation.layer1}/${net.activation.layer2} (${net.width1}, ${net.width2})` : '-',
      chosen: search?.chosen ? `${search.chosen.layer1}/${search.chosen.layer2}` : null,
      check: r.report.check.relativeResidual,
      passed: r.report.check.passed,
      relL2: err,
      exact: err <= 1e-8,
      cpu: total,
      parts: search?.cpuSeconds ?? null,
      paid: search?.queries.paid ?? null,
      candidates: search?.candidates.filter((x) => x.relativeResidual !== null).map((x) => `${x.layer1}/${x.layer2} ${x.relativeResidual!.toExponential(2)}`),
      secondPass: (search as { secondPass?: unknown } | undefined)?.secondPass ?? null,
      wall: (performance.now() - wallAt) / 1000,
      load: loadavg()[0],
    };
  } catch (e) {
    line = { network: c.name, search: label, error: String((e as Error).message ?? e), cpu: cpu() - at, wall: (performance.now() - wallAt) / 1000 };
  }
  appendFileSync(values.out!, JSON.stringify(line) + '\n');
  const f = (x: unknown) => (typeof x === 'number' ? x.toExponential(1) : '-');
  const parts = (line.parts as Record<string, number> | null | undefined) ?? null;
  const p = (k: string) => (parts && typeof parts[k] === 'number' ? parts[k].toFixed(0) : '-');
  const screen = parts ? ((parts.screen ?? 0) + (parts.refits ?? 0)).toFixed(0) : '-';
  console.log(
    `| ${c.name} | ${label} | ${line.found ?? line.error} | ${line.passed ? 'passed' : 'FAILED'} ${f(line.check)} | ${f(line.relL2)} | ${line.exact ? 'yes' : 'no'} | ${(line.cpu as number).toFixed(0)} | ${p('probe')} | ${screen} | ${p('shortRuns')} | ${p('longRuns')} | ${p('secondPass')} | ${line.paid ?? '-'} | ${(line.wall as number).toFixed(0)} |`,
  );
}
