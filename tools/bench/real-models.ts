/**
 * Real trained networks, held out (issue 13): every model of tools/fixtures/make_heldout.py's set
 * (PyTorch and scikit-learn MLPs trained on scikit-learn's data sets, exported by torch.onnx.export
 * in float32 and float64; none of them in the repository), run through the `nnid` command exactly
 * as a user runs it (a child process, no --model, no --activation, no widths), then `nnid score`
 * against the truth; and the student fit (`--method fit`, told the widths and activations, which
 * the fit needs) on the same budget, beside it.
 *
 *   /usr/bin/python3 tools/fixtures/make_heldout.py /tmp/heldout
 *   npx tsx tools/bench/real-models.ts --dir /tmp/heldout [--models SUBSTR,...] [--dtypes float64,float32]
 *       [--threads 1] [--seed 1] [--no-fit] [--timeout SECONDS] [--out /tmp/real-models.jsonl] [--from FILE]
 *
 * Exact: relative L2 <= 1e-8 on both distributions of `nnid score` (10^4 points each) for a
 * float64 model. A float32 model answers with its own rounding: its relative L2 to the truth (the
 * same weights evaluated in float64) is measured here on 10^4 Gaussian points, and a result counts
 * as "within float32" when its error to the truth is at most 10 times that. Appends one JSON line
 * per run to --out as it ends, prints the table (--from FILE: the table of earlier lines only).
 * Never fails on a figure.
 *
 * --method M adds `--method M` to the command (default: none, the command's own default). With
 * method auto (`--method auto`, or the default where it is auto) one run gives two rows side by
 * side: 'pipeline', the pipeline's own answer (identical bits to `--method pipeline`: method auto
 * runs it as it runs alone; its network is scored from report.pipelineNetwork when the fit
 * followed, its CPU seconds are report.method.tried[0].cpuSeconds), and 'auto', what the command
 * returned (the process's CPU seconds).
 *
 * --generate DIR writes generator networks of the general grid (randomGeneralNetwork, random
 * directions, rows 0.3-3, (d, m0, m1) of --sizes, --pairs, --outputs, --seeds) to DIR as v2 files
 * with an index.json, then runs on them as on the held-out set: the command on a v2 file with
 * `--activation auto` (a v2 file names its activations: auto is what a black box's user has),
 * widths inferred; dtype 'v2'.
 *
 *   npx tsx tools/bench/real-models.ts --generate /tmp/generated --pairs tanh/tanh,silu/silu --outputs 1,3 --seeds 1
 *       --method auto --threads 2 --out /tmp/generated.jsonl
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { matrix, readNetworkAny, rng, serializeNetworkV2, type ActivationName } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { onnxBlackBox } from '@nnid/black-box';

interface Model {
  name: string;
  inputDim: number;
  widths: [number, number];
  outputs: number;
  activations: [string, string];
  dataset: string;
  trainer: string;
  float64Runs: boolean;
  /** A generator network: its v2 file is the black box (--generate). */
  generated?: boolean;
}

interface Run {
  model: string;
  dtype: string;
  method: 'pipeline' | 'fit' | 'auto';
  command: string;
  code: number;
  check: string | null;
  defaults: string | null;
  widths: string | null;
  activationChosen: string | null;
  queries: number | null;
  multipleOfP: number | null;
  relL2Sphere: number | null;
  relL2Gaussian: number | null;
  ownNoise: number | null;
  exact: boolean;
  wall: number;
  cpu: number;
  error: string | null;
  load: number;
  /** Method auto after a failed pipeline: its fits (screens, full fits), the one chosen and their CPU seconds (continuation). */
  continuation?: string | null;
  /** Method auto: queries paid and CPU seconds by phase (the activation search's parts, its second pass, the continuation). */
  phases?: string | null;
}

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string', default: '/tmp/heldout' },
    /** comma-separated substrings of the models' names (NAME or NAME:DTYPE to run one export only) */
    models: { type: 'string' },
    dtypes: { type: 'string', default: 'float64,float32' },
    threads: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    'no-fit': { type: 'boolean', default: false },
    out: { type: 'string', default: '/tmp/real-models.jsonl' },
    from: { type: 'string' },
    timeout: { type: 'string', default: '3600' },
    method: { type: 'string' },
    generate: { type: 'string' },
    pairs: { type: 'string', default: 'tanh/tanh,sigmoid/sigmoid,softplus/softplus,gelu/gelu,silu/silu' },
    outputs: { type: 'string', default: '1,3' },
    sizes: { type: 'string', default: '10,6,3' },
    seeds: { type: 'string', default: '1' },
  },
});

const cli = fileURLToPath(new URL('../../apps/cli/bin/nnid.js', import.meta.url));

function nnid(argv: string[]): { code: number; out: string; err: string; wall: number; cpu: number } {
  // `timeout` stops a run past --timeout wall seconds (exit 124): such a row says so
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S', 'timeout', args.timeout!, process.execPath, cli, ...argv], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  const err = (m ? r.stderr.slice(0, m.index) : r.stderr).replace(/^Command exited with non-zero status \d+\n?/m, '') + (r.status === 124 ? `\nstopped by the bench after ${args.timeout} s wall` : '');
  return { code: r.status ?? -1, out: r.stdout, err, wall: m ? Number(m[1]) : NaN, cpu: m ? Number(m[2]) + Number(m[3]) : NaN };
}

/** The float32 model's own relative L2 error to its weights evaluated in float64 (10^4 Gaussian points). */
async function ownNoise(file: string, truthFile: string): Promise<number> {
  const truth = readNetworkAny(truthFile).general;
  const box = await onnxBlackBox(file, { outputs: 'many' });
  const n = 10_000;
  const X = matrix(n, truth.inputDim);
  rng(20260101).fillNormal(X.data);
  const y = (await box.evaluateOutputs(X)) as Float64Array;
  await box.close();
  const t = evaluateGeneral(truth, X).data;
  let num = 0;
  let den = 0;
  for (let i = 0; i < t.length; i++) {
    num += (y[i] - t[i]) ** 2;
    den += t[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function scoreRun(truthFile: string, result: string): { sphere: number; gaussian: number } | null {
  if (!existsSync(result)) return null;
  const s = nnid(['score', '--truth', truthFile, '--recovered', result, '--json']);
  if (s.code !== 0) return null;
  const g = JSON.parse(s.out) as { function: { sphere: { relativeL2: number }; gaussian: { relativeL2: number } } };
  return { sphere: g.function.sphere.relativeL2, gaussian: g.function.gaussian.relativeL2 };
}

function line(text: string, re: RegExp): string | null {
  return re.exec(text)?.[0] ?? null;
}

async function runModel(m: Model, dtype: string, scratch: string): Promise<Run[]> {
  const truthFile = join(args.dir!, `${m.name}.truth.json`);
  const file = m.generated ? truthFile : join(args.dir!, `${m.name}-${dtype}.onnx`);
  const noise = dtype === 'float32' ? await ownNoise(file, truthFile) : null;
  const runs: Run[] = [];
  const result = join(scratch, `${m.name}-${dtype}.json`);
  const argv = ['identify', '--oracle', file, '--out', result, '--seed', args.seed!, '--threads', args.threads!, '--quiet', ...(args.method ? ['--method', args.method] : []), ...(m.generated ? ['--activation', 'auto'] : [])];
  const r = nnid(argv);
  const queriesMatch = /from (\d+) queries \(([\d.]+) P/.exec(r.out);
  const s = scoreRun(truthFile, result);
  const tol = noise === null ? 1e-8 : Math.max(1e-8, 10 * noise);
  // method auto: the pipeline's own answer beside what the command returned
  type Try = { method: string; stage?: string; why?: string; queries?: { paid: number }; relativeResidual: number | null; passed: boolean; seconds: number; cpuSeconds?: number; activation?: { layer1: string; layer2: string }; widths?: { width1: number; width2: number }; shrunk?: { from: number; to: number } };
  const report = existsSync(result) ? (JSON.parse(readFileSync(result, 'utf8')).report as { method?: { tried: Try[] }; pipelineNetwork?: unknown; check?: { threshold: number }; pipeline?: SearchHolder }) : null;
  const tried = report?.method?.tried ?? null;
  if (tried && tried[0]?.method === 'pipeline') {
    const p = tried[0];
    // the fit followed: the pipeline's own network, else no score (auto's is not the pipeline's)
    let ps = tried.length > 1 ? null : s;
    if (tried.length > 1 && report!.pipelineNetwork) {
      const pfile = join(scratch, `${m.name}-${dtype}-pipeline.json`);
      writeFileSync(pfile, JSON.stringify(report!.pipelineNetwork));
      ps = scoreRun(truthFile, pfile);
    }
    runs.push({
      model: m.name,
      dtype,
      method: 'pipeline',
      command: 'its pipeline (as --method pipeline runs it)',
      code: p.passed ? 0 : 1,
      check: p.relativeResidual === null ? null : `truth-free check: relative residual ${p.relativeResidual.toExponential(2)}: ${p.passed ? 'passed' : 'FAILED'}`,
      defaults: null,
      widths: tried.length === 1 ? line(r.out, /m0 = \d+, m1 = \d+/) : null,
      activationChosen: line(r.out, /activation auto: .*/),
      queries: null,
      multipleOfP: null,
      relL2Sphere: ps?.sphere ?? null,
      relL2Gaussian: ps?.gaussian ?? null,
      ownNoise: noise,
      exact: ps !== null && ps.sphere <= tol && ps.gaussian <= tol,
      wall: p.seconds,
      cpu: p.cpuSeconds ?? NaN,
      error: null,
      load: loadavg()[0],
    });
  }
  runs.push({
    model: m.name,
    dtype,
    method: tried ? 'auto' : 'pipeline',
    command: `nnid ${argv.slice(0, 3).join(' ').replace(args.dir!, 'DIR')} --seed ${args.seed} --threads ${args.threads}${args.method ? ` --method ${args.method}` : ''}`,
    code: r.code,
    check: line(r.out, /truth-free check: .*/),
    defaults: line(r.out, /^defaults: .*/m),
    widths: line(r.out, /m0 = \d+, m1 = \d+/),
    activationChosen: tried && tried.length > 1 ? line(r.out, /by the student fit \S+/) ?? line(r.out, /activation auto: .*/) : line(r.out, /activation auto: .*/),
    queries: queriesMatch ? Number(queriesMatch[1]) : null,
    multipleOfP: queriesMatch ? Number(queriesMatch[2]) : null,
    relL2Sphere: s?.sphere ?? null,
    relL2Gaussian: s?.gaussian ?? null,
    ownNoise: noise,
    exact: s !== null && s.sphere <= tol && s.gaussian <= tol,
    wall: r.wall,
    cpu: r.cpu,
    error: r.code === 2 || r.code === 124 || (r.code !== 0 && !queriesMatch) ? r.err.trim().split('\n').at(-1) ?? null : null,
    load: loadavg()[0],
    continuation: tried && tried.length > 1 ? laterPassText(tried.slice(1), continuationText) : null,
    phases: tried ? phasesText(report!.pipeline, tried) : null,
  });
  const main = runs[runs.length - 1];
  if (!args['no-fit'] && main.queries !== null) {
    const fitResult = join(scratch, `${m.name}-${dtype}-fit.json`);
    const pair = `${m.activations[0]}/${m.activations[1]}`;
    const fargv = ['identify', '--oracle', file, '--out', fitResult, '--method', 'fit', '--model', 'general', '--width1', String(m.widths[0]), '--width2', String(m.widths[1]),
      '--activation', pair, '--max-queries', String(main.queries), '--seed', args.seed!, '--threads', args.threads!, '--quiet'];
    const f = nnid(fargv);
    const fs = scoreRun(truthFile, fitResult);
    runs.push({
      model: m.name,
      dtype,
      method: 'fit',
      command: `nnid identify --oracle FILE --method fit --model general --width1 ${m.widths[0]} --width2 ${m.widths[1]} --activation ${pair} --max-queries ${main.queries}`,
      code: f.code,
      check: line(f.out, /truth-free check: .*/),
      defaults: null,
      widths: line(f.out, /m0 = \d+, m1 = \d+/),
      activationChosen: null,
      queries: main.queries,
      multipleOfP: main.multipleOfP,
      relL2Sphere: fs?.sphere ?? null,
      relL2Gaussian: fs?.gaussian ?? null,
      ownNoise: noise,
      exact: fs !== null && fs.sphere <= tol && fs.gaussian <= tol,
      wall: f.wall,
      cpu: f.cpu,
      error: f.code === 2 || f.code === 124 ? f.err.trim().split('\n').at(-1) ?? null : null,
      load: loadavg()[0],
    });
  }
  return runs;
}

/** The continuation's fits in one phrase: screens, full fits, the best (pair, widths, residual, shrink), CPU seconds. */
function continuationText(fits: { stage?: string; why?: string; relativeResidual: number | null; passed: boolean; cpuSeconds?: number; activation?: { layer1: string; layer2: string }; widths?: { width1: number; width2: number }; shrunk?: { from: number; to: number } }[]): string {
  const ran = fits.filter((f) => f.relativeResidual !== null);
  const best = ran.find((f) => f.passed) ?? ran.sort((a, b) => a.relativeResidual! - b.relativeResidual!)[0];
  const cpu = fits.reduce((t, f) => t + (f.cpuSeconds ?? 0), 0);
  const count = (stage: string) => fits.filter((f) => f.stage === stage && f.relativeResidual !== null).length;
  const skipped = fits.some((f) => f.relativeResidual === null && !f.passed) ? ', some skipped' : '';
  const what = best ? `${best.activation ? `${best.activation.layer1}/${best.activation.layer2} ` : ''}${best.widths ? `(${best.widths.width1}, ${best.widths.width2}) ` : ''}${best.relativeResidual!.toExponential(1)}${best.shrunk ? ` shrunk to m1 = ${best.shrunk.to}` : ''}` : 'none ran';
  // the pair screen (the search's pairs not handed on, at the pipeline's m1) and the pairs it handed on
  const pairScreen = fits.filter((f) => f.why?.includes('pair screen (') && f.relativeResidual !== null);
  const joined = [...new Set(fits.filter((f) => f.why?.includes("the pair screen's")).map((f) => `${f.activation?.layer1}/${f.activation?.layer2}`))];
  const refits = fits.filter((f) => f.why?.includes("pair screen's refit") && f.relativeResidual !== null);
  const refitText = refits.length > 0 ? `, ${refits.length} refits one layer away, ${refits.reduce((t, f) => t + (f.cpuSeconds ?? 0), 0).toFixed(0)} CPU s` : '';
  const pairs = pairScreen.length > 0 ? ` (of them ${pairScreen.length} in the pair screen, ${pairScreen.reduce((t, f) => t + (f.cpuSeconds ?? 0), 0).toFixed(0)} CPU s${refitText}; joined: ${joined.join(', ') || 'none'})` : '';
  return `${count('screen')} screens${pairs} + ${count('full')} full fits${skipped}, best ${what}, ${cpu.toFixed(0)} CPU s`;
}

/** Where the activation search's report sits in method auto's: report.pipeline (k = 1), report.pipeline.identify (k outputs). */
type Search = { queries: { paid: number }; cpuSeconds: Record<string, number>; secondPass: { layer1: string; layer2: string; queries: number; residual: number | null; passed: boolean }[] };
type SearchHolder = { activationSearch?: Search; identify?: { activationSearch?: Search } } | null | undefined;

/**
 * Method auto's queries paid and CPU seconds by phase: the activation search without its second
 * pass, the second pass (per pair: queries, and whether it passed), the continuation's fits.
 */
function phasesText(pipeline: SearchHolder, tried: { method: string; stage?: string; relativeResidual: number | null; queries?: { paid: number }; cpuSeconds?: number }[]): string {
  const search = pipeline?.activationSearch ?? pipeline?.identify?.activationSearch;
  const contText = (fits: { queries?: { paid: number }; cpuSeconds?: number }[]) => `continuation ${fits.reduce((t, f) => t + (f.queries?.paid ?? 0), 0)} queries, ${fits.reduce((t, f) => t + (f.cpuSeconds ?? 0), 0).toFixed(0)} CPU s`;
  const cont = tried.length > 1 ? `; ${laterPassText(tried.slice(1), contText)}` : '';
  if (!search) return `pipeline ${tried[0].queries?.paid ?? '-'} queries${cont}`;
  const pass = search.secondPass.reduce((t, r) => t + r.queries, 0);
  const cpu = search.cpuSeconds;
  const parts = ['probe', 'screen', 'shortRuns', 'longRuns', 'refits'].map((k) => `${k} ${(cpu[k] ?? 0).toFixed(0)}`).join(', ');
  const rows = search.secondPass.map((r) => `${r.layer1}/${r.layer2} ${r.queries} q ${r.residual === null ? 'not run' : r.passed ? 'passed' : `-> ${r.residual.toExponential(1)}`}`).join(', ');
  return `search ${search.queries.paid - pass} queries (CPU s ${parts}); second pass ${pass} queries, ${(cpu.secondPass ?? 0).toFixed(0)} CPU s${rows ? ` (${rows})` : ''}${cont}`;
}

/**
 * The tries after the pipeline, split where the search's later second pass ran (a 'pipeline' try
 * after the fit failed): `text` of the first continuation, the pass (queries, CPU s, its residual),
 * then `text` of the continuation after it.
 */
function laterPassText<T extends { method: string; relativeResidual: number | null; queries?: { paid: number }; cpuSeconds?: number }>(fits: T[], text: (fits: T[]) => string): string {
  const at = fits.findIndex((f) => f.method === 'pipeline');
  if (at < 0) return text(fits);
  const pass = fits[at];
  const after = fits.slice(at + 1);
  return `${text(fits.slice(0, at))}; then the later second pass ${pass.queries?.paid ?? '-'} queries, ${(pass.cpuSeconds ?? 0).toFixed(0)} CPU s, -> ${pass.relativeResidual === null ? 'not run' : pass.relativeResidual.toExponential(1)}${after.length > 0 ? `; then ${text(after)}` : ''}`;
}

const e = (x: number | null) => (x === null ? '-' : x.toExponential(1));

function table(runs: Run[]): string {
  const rows = ['| model | dtype | method | widths found | check | rel. L2 sphere / Gaussian | float32 own noise | exact | queries (P) | CPU s (wall) | activation found / error |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  // the 'pipeline' row of a method auto run carries its check text without a threshold
  for (const r of runs) {
    const check = r.check ? (/passed/.test(r.check) ? `passed ${/residual ([^\s:]+)/.exec(r.check)![1]}` : `FAILED ${/residual ([^\s:]+)/.exec(r.check)?.[1]}`) : `exit ${r.code}`;
    const exact = r.relL2Sphere === null ? 'no' : r.exact ? (r.ownNoise !== null ? 'within float32' : 'yes') : 'no';
    const note = (r.error ?? (r.activationChosen ? r.activationChosen.replace(/^activation auto: /, '').replace(/^by the student fit /, 'the fit: ').replace(/ \(residuals: .*\)$/, '') : '')) + (r.continuation ? `; continuation: ${r.continuation}` : '') + (r.phases ? `; by phase: ${r.phases}` : '');
    rows.push(`| ${r.model} | ${r.dtype} | ${r.method} | ${r.widths ?? '-'} | ${check} | ${e(r.relL2Sphere)} / ${e(r.relL2Gaussian)} | ${e(r.ownNoise)} | ${exact} | ${r.queries ?? '-'}${r.multipleOfP !== null ? ` (${r.multipleOfP.toFixed(1)})` : ''} | ${r.cpu.toFixed(0)} (${r.wall.toFixed(0)}) | ${note} |`);
  }
  return rows.join('\n');
}

if (args.from) {
  const runs = readFileSync(args.from, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Run);
  console.log(table(runs));
} else {
  if (args.generate) {
    // generator networks of the general grid, as v2 files (the truth is the black box)
    args.dir = args.generate;
    args.dtypes = 'v2';
    mkdirSync(args.dir, { recursive: true });
    const models: Model[] = [];
    const [d, m0, m1] = args.sizes!.split(',').map(Number);
    for (const k of args.outputs!.split(',').map(Number)) {
      for (const pair of args.pairs!.split(',')) {
        const [layer1, layer2] = pair.split('/') as ActivationName[];
        for (const seed of args.seeds!.split(',').map(Number)) {
          const name = `d${d}-m${m0}-m${m1}-k${k}-${layer1 === layer2 ? layer1 : `${layer1}-${layer2}`}-generated-seed${seed}`;
          const net = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, outputs: k, activation: { layer1, layer2 }, seed, directions: 'random' });
          writeFileSync(join(args.dir, `${name}.truth.json`), JSON.stringify(serializeNetworkV2(net)));
          models.push({ name, inputDim: d, widths: [m0, m1], outputs: k, activations: [layer1, layer2], dataset: 'generator', trainer: 'randomGeneralNetwork', float64Runs: true, generated: true });
        }
      }
    }
    writeFileSync(join(args.dir, 'index.json'), JSON.stringify(models, null, 1));
  }
  const index = JSON.parse(readFileSync(join(args.dir!, 'index.json'), 'utf8')) as Model[];
  const filters = args.models ? args.models.split(',') : null;
  const scratch = join(args.dir!, 'results');
  mkdirSync(scratch, { recursive: true });
  const all: Run[] = [];
  for (const dtype of args.dtypes!.split(',')) {
    for (const m of index) {
      if (filters && !filters.some((f) => (f.includes(':') ? m.name.includes(f.split(':')[0]) && f.split(':')[1] === dtype : m.name.includes(f)))) continue;
      const runs = await runModel(m, dtype, scratch);
      for (const r of runs) {
        appendFileSync(args.out!, JSON.stringify(r) + '\n');
        console.error(JSON.stringify(r));
      }
      all.push(...runs);
    }
  }
  console.log(table(all));
}
