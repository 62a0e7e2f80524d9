/**
 * The scale ladder of issue 15: identify on a random tanh network (A orthonormal, shifts
 * N(0, 0.3^2)) at each size, with every stage's queries, seconds and the process's peak resident
 * memory when the stage ended (the maximum so far: worker threads count, they share the process),
 * then exact or not (relative L2 <= 1e-8 on 10^4 points of the unit sphere and of N(0, I), as
 * `score` measures).
 *
 *   npx tsx packages/pipeline/bench/scale-ladder.ts [--sizes 100,50,20;200,100,30] [--threads 2]
 *     [--no-refine] [--solver auto|normal-equations|matrix-free] [--seed 1] [--json out.jsonl]
 *     [--refine-alone matrix-free|normal-equations [--refine-points 4] [--refine-iterations 200]]
 *     [--plan-only [--max-memory 12G]] [--save-network FILE]
 *
 * --save-network: the network identify returned (with --no-refine: the pipeline's start before the
 * refinement) written to FILE, so that the refinement can be studied from it alone
 * (bench/refine-saved.ts) without paying the stages again.
 *
 * --plan-only: identify's plan lines (queries and memory per stage) and nothing run: with
 * --max-memory (bytes, or 12G / 512M) also identify's refusal when the plan does not fit it.
 *
 * --refine-alone: identify without refinement, then refine's refineNetwork with that solver on
 * `--refine-points` P fresh queries, started from the pipeline's network (stage by stage, where
 * identify's own refinement does not run yet).
 * Never fails on a figure. Prints one markdown row per stage, per attempt the first layer the
 * rank-one search kept and the completion's rounds (rows each found, rows reopened, rows filled), and
 * a summary row per size.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { parameterCount, serializeNetwork } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { refineNetwork } from '@nnid/refine';
import { identify, score, type IdentifyProgress } from '@nnid/pipeline';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,50,20' },
    threads: { type: 'string', default: '2' },
    'no-refine': { type: 'boolean', default: false },
    solver: { type: 'string' },
    seed: { type: 'string', default: '1' },
    json: { type: 'string' },
    'refine-alone': { type: 'string' },
    'refine-points': { type: 'string', default: '4' },
    'refine-iterations': { type: 'string', default: '200' },
    'plan-only': { type: 'boolean', default: false },
    'max-memory': { type: 'string' },
    'save-network': { type: 'string' },
  },
});

const GiB = 1024 ** 3;
const peakGiB = () => (process.resourceUsage().maxRSS * 1024) / GiB;
const threads = Number(values.threads);
const seed = Number(values.seed);

/** 12G, 512M, 2GiB or bytes. */
function bytesOf(text: string): number {
  const m = /^([0-9.]+)\s*([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new Error(`--max-memory: a size like 12G, not ${text}`);
  return Math.round(Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase()));
}

/** identify up to its plan (thrown past it), at maxMemory; the plan's lines or its refusal. */
async function planOnly(d: number, m0: number, m1: number, maxMemory: number | undefined): Promise<string> {
  const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', seed });
  const oracle = createOracle(networkBlackBox(truth));
  const stop = new Error('plan only');
  let lines = '';
  try {
    await identify(oracle, {
      width1: m0,
      width2: m1,
      activation: { layer1: 'tanh', layer2: 'tanh' },
      seed,
      threads,
      ...(maxMemory !== undefined ? { maxMemory } : {}),
      onProgress: (e: IdentifyProgress) => {
        if (e.event === 'plan') {
          lines = e.message ?? '';
          throw stop;
        }
      },
    } as Parameters<typeof identify>[1]);
  } catch (e) {
    if (e !== stop && !(e instanceof Error && e.message === 'plan only')) return `refused: ${(e as Error).message}`;
  }
  return lines + `\n(queries asked before the plan: ${oracle.counts().total})`;
}

for (const size of values.sizes!.split(';')) {
  const [d, m0, m1] = size.split(',').map(Number);
  if (values['plan-only']) {
    console.log(`(${d}, ${m0}, ${m1}), threads ${threads}, the machine's memory:\n${await planOnly(d, m0, m1, undefined)}`);
    if (values['max-memory']) console.log(`maxMemory ${values['max-memory']}:\n${await planOnly(d, m0, m1, bytesOf(values['max-memory']))}`);
    continue;
  }
  const P = parameterCount({ inputDim: d, width1: m0, width2: m1 });
  const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', seed });
  const oracle = createOracle(networkBlackBox(truth));
  const stages: { stage: string; seconds: number; cpuSeconds: number; peakGiB: number; queries: number }[] = [];
  let cpuAtStart = process.cpuUsage();
  let last = oracle.counts().total;
  const load0 = loadavg()[0];
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const onProgress = (e: IdentifyProgress) => {
    if (e.event === 'plan') console.log(`plan: ${e.message}`);
    if (e.event === 'start') cpuAtStart = process.cpuUsage();
    if (e.event === 'step' && e.stage === 'refine') {
      // the full LM's iterations (in range(A)'s coordinates, then the finish in R^d: the count restarts)
      const cpu = process.cpuUsage(cpuAtStart);
      console.log(`    refine iteration ${e.done}: ${e.message ?? ''}; ${((performance.now() - started) / 1000).toFixed(0)} s wall since the start, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU in the stage, peak ${peakGiB().toFixed(2)} GiB`);
    }
    if (e.event !== 'end') return;
    const cpu = process.cpuUsage(cpuAtStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const total = oracle.counts().total;
    const queries = total - last;
    last = total;
    stages.push({ stage: e.stage, seconds: e.seconds ?? 0, cpuSeconds, peakGiB: peakGiB(), queries });
    console.log(`  ${e.stage}: ${(e.seconds ?? 0).toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU, ${queries} queries, peak ${peakGiB().toFixed(2)} GiB`);
  };
  const options = {
    width1: m0,
    width2: m1,
    activation: { layer1: 'tanh', layer2: 'tanh' } as const,
    seed,
    threads,
    refine: !values['no-refine'],
    onProgress,
    ...(values.solver ? { solver: values.solver } : {}),
  };
  if (values['refine-alone']) options.refine = false;
  let result = await identify(oracle, options as Parameters<typeof identify>[1]);
  if (values['refine-alone']) {
    const cpu1 = process.cpuUsage();
    const t1 = performance.now();
    const before = oracle.counts().total;
    const refined = await refineNetwork(oracle, result.network, {
      seed,
      dataPoints: Math.round(Number(values['refine-points']) * P),
      solver: values['refine-alone'],
      maxIterations: Number(values['refine-iterations']),
    } as Parameters<typeof refineNetwork>[2]);
    const cpu = process.cpuUsage(cpu1);
    const queries = oracle.counts().total - before;
    stages.push({ stage: `refine (${values['refine-alone']}, alone)`, seconds: (performance.now() - t1) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakGiB: peakGiB(), queries });
    console.log(`  refine alone: ${JSON.stringify({ ...refined.report, network: undefined }).slice(0, 600)}`);
    result = { ...result, network: refined.network, report: { ...result.report, queries: { ...result.report.queries, total: result.report.queries.total + queries } } };
  }
  for (const [i, attempt] of result.report.attempts.entries()) {
    const { solver: _solver, certificates: _certificates, ...completion } = attempt.completion;
    console.log(`  attempt ${i} (k = ${attempt.subspaceDimension}): rankOne ${attempt.rankOne.candidates} candidates, first layer ${attempt.attribution.firstLayer.length}; completion ${JSON.stringify(completion)}`);
  }
  if (values['save-network']) writeFileSync(values['save-network'], JSON.stringify(serializeNetwork(result.network)));
  const wall = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const s = score(truth, result.network, { points: 10_000 });
  const sphere = s.function.sphere.relativeL2;
  const gauss = s.function.gaussian.relativeL2;
  const row = {
    size: [d, m0, m1],
    P,
    threads,
    refine: values['refine-alone'] ? `alone (${values['refine-alone']})` : options.refine,
    queries: result.report.queries.total,
    multipleOfP: result.report.queries.total / P,
    wall,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakGiB: peakGiB(),
    sphere,
    gauss,
    exact: sphere <= 1e-8 && gauss <= 1e-8,
    aMin: s.firstLayer.minCos,
    vMin: s.entangled.minCos,
    checkPassed: result.report.check?.passed ?? null,
    stages,
    loadBefore: load0,
    loadAfter: loadavg()[0],
  };
  console.log(`| stage | queries | wall s | CPU s (all threads) | peak GiB (so far) |`);
  console.log(`|---|---|---|---|---|`);
  for (const st of stages) console.log(`| ${st.stage} | ${st.queries} (${(st.queries / P).toFixed(2)} P) | ${st.seconds.toFixed(2)} | ${st.cpuSeconds.toFixed(2)} | ${st.peakGiB.toFixed(2)} |`);
  console.log(
    `(${d}, ${m0}, ${m1}) P = ${P}: ${row.queries} queries = ${row.multipleOfP.toFixed(1)} P, ${wall.toFixed(1)} s wall, ${row.cpuSeconds.toFixed(1)} s CPU (all threads), ` +
      `peak ${row.peakGiB.toFixed(2)} GiB, relative L2 sphere ${sphere.toExponential(1)} gaussian ${gauss.toExponential(1)} -> ${row.exact ? 'exact' : 'NOT exact'}; ` +
      `min |cos| a ${row.aMin.toFixed(4)} v ${row.vMin.toFixed(4)}; load ${row.loadBefore.toFixed(1)} -> ${row.loadAfter.toFixed(1)}`,
  );
  if (values.json) appendFileSync(values.json, JSON.stringify(row) + '\n');
}
