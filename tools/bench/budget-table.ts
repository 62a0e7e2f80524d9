/**
 * The budget table of issue 14: on each family, 3 networks per cell, at budgets B in {2, 3, 5,
 * 10, 20} P, nnid identify (an oracle with maxQueries = floor(B P), identify's queryBudget = B)
 * beside the student fit's best of 3 starts on the same budget (@nnid/student-fit, all floor(B P)
 * answers as data, starts in 2 worker threads, the first passing start returned). "Exact" =
 * relative L2 <= 1e-8 on 10^4 fresh N(0, I_d) points (the issue's measure); also counted: runs whose
 * truth-free check passed, runs refused by the budget, and silent wrong answers (check passed, not
 * exact). Every run is appended to a JSON-lines file as it ends, so a partial run leaves its rows.
 *
 *   npx tsx tools/bench/budget-table.ts [--families core|all|name,name] [--budgets 2,3,5,10,20]
 *       [--networks 3] [--first 0] [--threads 2] [--methods nnid,auto,fit] [--out /tmp/budget-table.jsonl] [--from FILE]
 *
 * Methods: nnid = identify (the paper's pipeline) with maxQueries = floor(B P): it plans within the
 * budget and refuses below its floor; auto = identifyAuto with the same maxQueries (the fit below
 * the pipeline's floor, in range(A)'s coordinates where they give more equations per unknown, else the
 * pipeline, then the fit on its answers); fit = the plain student fit, best of 3 (the baseline).
 *
 * --from FILE renders the table of an earlier run without running anything. Never fails on a figure.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { machineLine } from './benchmarks-md.ts';
import { generalParameterCount, parameterCount, type ActivationName, type GeneralNetwork, type Network } from '@nnid/core';
import { createOracle, generalBlackBox, networkBlackBox, randomGeneralNetwork, randomNetwork } from '@nnid/oracle';
import { identify, identifyAuto, score, scoreGeneral } from '@nnid/pipeline';
import { studentFit, studentFitGeneral } from '@nnid/student-fit';

type Method = 'nnid' | 'auto' | 'fit';

interface Family {
  name: string;
  activation: ActivationName;
  shiftStd: number;
  size: [number, number, number];
  /** 'general': randomGeneralNetwork (random directions, rows scaled 0.3-3, biases, C, c), k = 1, identify's model 'general'. */
  model?: 'general';
}

const FAMILIES: Family[] = [
  { name: 'tanh-0.3-20-10-3', activation: 'tanh', shiftStd: 0.3, size: [20, 10, 3] },
  { name: 'sigmoid-1-20-10-3', activation: 'sigmoid', shiftStd: 1, size: [20, 10, 3] },
  { name: 'tanh-0.3-30-20-8', activation: 'tanh', shiftStd: 0.3, size: [30, 20, 8] },
  { name: 'tanh-1-30-20-8', activation: 'tanh', shiftStd: 1, size: [30, 20, 8] },
  { name: 'sigmoid-1-30-20-8', activation: 'sigmoid', shiftStd: 1, size: [30, 20, 8] },
  { name: 'tanh-0.3-50-30-10', activation: 'tanh', shiftStd: 0.3, size: [50, 30, 10] },
  // the general grid's families (BENCHMARKS.md, "The general network"): k = 1, random directions
  { name: 'general-tanh-10-6-3', activation: 'tanh', shiftStd: 0.5, size: [10, 6, 3], model: 'general' },
  { name: 'general-sigmoid-10-6-3', activation: 'sigmoid', shiftStd: 0.5, size: [10, 6, 3], model: 'general' },
  { name: 'general-softplus-10-6-3', activation: 'softplus', shiftStd: 0.5, size: [10, 6, 3], model: 'general' },
];
const CORE = ['tanh-0.3-20-10-3', 'sigmoid-1-20-10-3', 'tanh-0.3-30-20-8'];
const EXACT = 1e-8;
/** Network seeds: not those of any test (the tests use seeds below 100). */
const NETWORK_SEED0 = 1001;

const { values } = parseArgs({
  options: {
    families: { type: 'string', default: 'core' },
    budgets: { type: 'string', default: '2,3,5,10,20' },
    networks: { type: 'string', default: '3' },
    first: { type: 'string', default: '0' },
    threads: { type: 'string', default: '2' },
    methods: { type: 'string', default: 'nnid,auto,fit' },
    out: { type: 'string', default: '/tmp/budget-table.jsonl' },
    from: { type: 'string' },
  },
});

interface Run {
  family: string;
  budget: number;
  network: number;
  method: Method;
  /** auto: the methods it ran, in order ('fit', 'pipeline>fit', ...). */
  chose?: string;
  /** 'ran' or 'refused' (an error: the budget, most often). */
  outcome: 'ran' | 'refused';
  error?: string;
  exact: boolean;
  relativeL2: number | null;
  passed: boolean;
  seconds: number;
  /** CPU seconds of the process over the run (worker threads included). */
  cpuSeconds?: number;
  paid: number;
  P: number;
  /** fit: starts reported (up to the one returned); nnid: attempts. */
  tries: number;
  /** auto: the pipeline's attempts, and its fit's warm start (the pipeline's refined network) and random starts. */
  pipelineAttempts?: number;
  warm?: { fromResidual: number; relativeResidual: number; passed: boolean } | null;
  randomStarts?: { ran: number; passed: number };
  /** nnid: the index of the attempt that passed (null: none). */
  passedAttempt?: number | null;
}

function familyNetwork(f: Family, index: number): Network | GeneralNetwork {
  const [inputDim, width1, width2] = f.size;
  // the general grid's networks (seeds 1-3; identify's seed 1 there and here)
  if (f.model === 'general') return randomGeneralNetwork({ inputDim, width1, width2, outputs: 1, activation: f.activation, seed: 1 + index, directions: 'random' });
  return randomNetwork({ inputDim, width1, width2, activation: f.activation, shiftStd: f.shiftStd, seed: NETWORK_SEED0 + index });
}

function gaussianError(truth: Network | GeneralNetwork, network: Network | GeneralNetwork | null): number {
  if ('W1' in truth) return scoreGeneral(truth, network as GeneralNetwork, { points: 10_000 }).function.gaussian.relativeL2;
  return score(truth, network as Network, { points: 10_000 }).function.gaussian.relativeL2;
}

async function runOne(f: Family, budget: number, index: number, method: Method, threads: number): Promise<Run> {
  const truth = familyNetwork(f, index);
  const general = 'W1' in truth;
  const P = general ? generalParameterCount(truth) : parameterCount(truth);
  const maxQueries = Math.floor(budget * P);
  const oracle = createOracle(general ? generalBlackBox(truth) : networkBlackBox(truth), { maxQueries });
  const base = { family: f.name, budget, network: index, method, P };
  const started = performance.now();
  try {
    const { width1, width2, activation } = truth;
    const common = { width1, width2, activation: { ...activation }, seed: general ? 1 : index, threads, ...(general ? { model: 'general' as const } : {}) };
    if (method === 'auto') {
      const auto = await identifyAuto(oracle, { ...common, maxQueries });
      const relativeL2 = gaussianError(truth, general ? auto.networkGeneral : auto.network);
      const fitTry = auto.report.method.tried.find((t) => t.method === 'fit' && t.relativeResidual !== null);
      const fitStarts = auto.fit?.report.starts ?? [];
      const warmN = auto.fit?.report.warmStarts ?? 0;
      return {
        ...base,
        outcome: 'ran',
        exact: relativeL2 <= EXACT,
        relativeL2,
        passed: auto.report.check.passed,
        seconds: (performance.now() - started) / 1000,
        paid: oracle.counts().paid,
        tries: auto.report.method.tried.length,
        // below the floor the fit may run in range(A)'s coordinates (studentFitInRange: report.range)
        chose: auto.report.method.tried
          .filter((t) => !t.why.startsWith('not run'))
          .map((t) => `${t.method}${t.method === 'fit' && auto.fit?.report.range ? ' in range(A)' : ''}${t.passed ? '' : t.error ? ' (stopped)' : ' (failed)'}`)
          .join(' > '),
        pipelineAttempts: auto.pipeline?.report.attempts.length ?? 0,
        warm: fitTry?.warmStart ? { fromResidual: fitTry.warmStart.fromResidual, relativeResidual: fitTry.warmStart.relativeResidual, passed: fitTry.warmStart.passed } : null,
        randomStarts: { ran: fitStarts.length - Math.min(warmN, fitStarts.length), passed: fitStarts.slice(warmN).filter((s) => s.passed).length },
      };
    }
    const result =
      method === 'nnid'
        ? await identify(oracle, { ...common, queryBudget: budget, maxQueries })
        : general
          ? await studentFitGeneral(oracle, { ...common, dataPoints: maxQueries, starts: 3 })
          : await studentFit(oracle, { ...common, dataPoints: maxQueries, starts: 3 });
    const seconds = (performance.now() - started) / 1000;
    const found = 'networkGeneral' in result && general ? result.networkGeneral : result.network;
    const relativeL2 = gaussianError(truth, found);
    const report = result.report as { check: { passed: boolean | null; threshold?: number }; attempts?: { refinedResidual: number | null }[]; starts?: unknown[] };
    const threshold = report.check.threshold ?? 1e-9;
    const passedAt = report.attempts ? report.attempts.findIndex((a) => a.refinedResidual !== null && a.refinedResidual <= threshold) : -1;
    return {
      ...base,
      outcome: 'ran',
      exact: relativeL2 <= EXACT,
      relativeL2,
      passed: report.check.passed === true,
      seconds,
      paid: oracle.counts().paid,
      tries: (report.attempts ?? report.starts ?? []).length,
      ...(method === 'nnid' ? { passedAttempt: passedAt >= 0 ? passedAt : null } : {}),
    };
  } catch (e) {
    const err = e as Error & { code?: string };
    return {
      ...base,
      outcome: 'refused',
      error: `${err.code ?? err.name}: ${String(err.message).split('\n')[0]}`,
      exact: false,
      relativeL2: null,
      passed: false,
      seconds: (performance.now() - started) / 1000,
      paid: oracle.counts().paid,
      tries: 0,
    };
  } finally {
    await oracle.close();
  }
}

const range = (xs: number[]) => (xs.length === 0 ? '-' : Math.min(...xs) === Math.max(...xs) ? xs[0].toFixed(1) : `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}`);

function cell(runs: Run[]): string {
  if (runs.length === 0) return '| - | - |';
  const exact = runs.filter((r) => r.exact).length;
  const refused = runs.filter((r) => r.outcome === 'refused').length;
  const silent = runs.filter((r) => r.passed && !r.exact).length;
  const notes = [refused > 0 ? `${refused} refused` : '', silent > 0 ? `${silent} SILENT WRONG` : ''].filter(Boolean).join(', ');
  return `| ${exact}/${runs.length}${notes ? ` (${notes})` : ''} | ${range(runs.map((r) => r.seconds))} |`;
}

/** The refusal in a few words: the oracle's budget error, or identify's "every attempt failed" over it. */
function refusal(error: string): string {
  const asked = /(\d+) queries used, (\d+) more requested, budget (\d+)/.exec(error);
  const plan = /the plan \(([\d.]+) P\) exceeds the target/.exec(error);
  const floor = /must be at least (\d+) = ([\d.]+) P, the floor/.exec(error);
  if (floor) return `below the pipeline's floor ${floor[2]} P`;
  if (error.startsWith('E_NUMERICAL') && plan && asked) return `every attempt stopped by the budget (plan ${plan[1]} P; ${asked[2]} more asked after ${asked[1]})`;
  if (error.startsWith('E_QUERY_BUDGET') && asked) return `budget: ${asked[2]} more asked after ${asked[1]} (the Hessians)`;
  return error.slice(0, 80);
}

function table(runs: Run[]): string {
  const lines = [
    '| family, (d, m0, m1) | B | pipeline exact | pipeline s | auto exact | auto s | fit best-of-3 exact | fit s | pipeline paid / P | pipeline refused with | auto ran |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const keys = [...new Set(runs.map((r) => `${r.family}|${r.budget}`))].map((k) => k.split('|'));
  // families in run order, budgets ascending within each
  const order = [...new Set(keys.map(([f]) => f))];
  keys.sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]) || Number(a[1]) - Number(b[1]));
  for (const [family, b] of keys) {
    const here = runs.filter((r) => r.family === family && r.budget === Number(b));
    const nnid = here.filter((r) => r.method === 'nnid');
    const fit = here.filter((r) => r.method === 'fit');
    const auto = here.filter((r) => r.method === 'auto');
    const chose = Object.entries(auto.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.chose ?? '?']: (acc[r.chose ?? '?'] ?? 0) + 1 }), {}))
      .map(([k, n]) => `${n}x ${k}`)
      .join('; ');
    const f = FAMILIES.find((x) => x.name === family) as Family;
    const name = f.model === 'general' ? `general ${f.activation}, random directions, (${f.size.join(',')})` : `${f.activation}, N(0, ${f.shiftStd}^2), (${f.size.join(',')})`;
    const why = [...new Set(nnid.filter((r) => r.error).map((r) => refusal(r.error as string)))].join('; ');
    lines.push(
      `| ${name} | ${b} P ${cell(nnid)}${cell(auto).slice(1)}${cell(fit).slice(1)} ${range(nnid.map((r) => r.paid / r.P))} | ${why || '-'} | ${chose || '-'} |`,
    );
  }
  return lines.join('\n');
}

const threads = Math.max(1, Number(values.threads));
let runs: Run[];
const loadBefore = loadavg();
const began = performance.now();
if (values.from) {
  runs = readFileSync(values.from, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Run);
} else {
  const names = values.families === 'core' ? CORE : values.families === 'all' ? FAMILIES.map((f) => f.name) : values.families.split(',');
  const families = names.map((n) => FAMILIES.find((f) => f.name === n) ?? (() => { throw new Error(`unknown family ${n}: one of ${FAMILIES.map((f) => f.name).join(', ')}`); })());
  const budgets = values.budgets.split(',').map(Number);
  const networks = Math.max(1, Number(values.networks));
  if (!existsSync(values.out)) writeFileSync(values.out, '');
  runs = [];
  for (const f of families) {
    for (const budget of budgets) {
      for (let index = Number(values.first); index < Number(values.first) + networks; index++) {
        for (const method of values.methods.split(',') as Method[]) {
          const cpu = process.cpuUsage();
          const run = await runOne(f, budget, index, method, threads);
          const used = process.cpuUsage(cpu);
          run.cpuSeconds = (used.user + used.system) / 1e6;
          runs.push(run);
          appendFileSync(values.out, JSON.stringify(run) + '\n');
          console.log(
            `${f.name} B=${budget} net ${index} ${method}: ${run.outcome === 'refused' ? `refused (${run.error})` : `exact ${run.exact} (L2 ${run.relativeL2?.toExponential(1)}), check ${run.passed}`}, ${run.seconds.toFixed(1)} s (CPU ${(run.cpuSeconds ?? 0).toFixed(1)} s), paid ${(run.paid / run.P).toFixed(1)} P, load ${loadavg()[0].toFixed(1)}`,
          );
        }
      }
    }
  }
}
const seconds = (performance.now() - began) / 1000;
const text = table(runs);
console.log('\n' + text);
if (!values.from) console.log(`\n${runs.length} runs in ${seconds.toFixed(0)} s; ${machineLine(loadBefore, loadavg())}`);
