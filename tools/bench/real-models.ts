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
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { matrix, readNetworkAny, rng } from '@nnid/core';
import { evaluateGeneral } from '@nnid/oracle';
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
}

interface Run {
  model: string;
  dtype: string;
  method: 'pipeline' | 'fit';
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
  const file = join(args.dir!, `${m.name}-${dtype}.onnx`);
  const truthFile = join(args.dir!, `${m.name}.truth.json`);
  const noise = dtype === 'float32' ? await ownNoise(file, truthFile) : null;
  const runs: Run[] = [];
  const result = join(scratch, `${m.name}-${dtype}.json`);
  const argv = ['identify', '--oracle', file, '--out', result, '--seed', args.seed!, '--threads', args.threads!, '--quiet'];
  const r = nnid(argv);
  const queriesMatch = /from (\d+) queries \(([\d.]+) P/.exec(r.out);
  const s = scoreRun(truthFile, result);
  const tol = noise === null ? 1e-8 : Math.max(1e-8, 10 * noise);
  runs.push({
    model: m.name,
    dtype,
    method: 'pipeline',
    command: `nnid ${argv.slice(0, 3).join(' ').replace(args.dir!, 'DIR')} --seed ${args.seed} --threads ${args.threads}`,
    code: r.code,
    check: line(r.out, /truth-free check: .*/),
    defaults: line(r.out, /^defaults: .*/m),
    widths: line(r.out, /m0 = \d+, m1 = \d+/),
    activationChosen: line(r.out, /activation auto: .*/),
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
  });
  if (!args['no-fit'] && runs[0].queries !== null) {
    const fitResult = join(scratch, `${m.name}-${dtype}-fit.json`);
    const pair = `${m.activations[0]}/${m.activations[1]}`;
    const fargv = ['identify', '--oracle', file, '--out', fitResult, '--method', 'fit', '--model', 'general', '--width1', String(m.widths[0]), '--width2', String(m.widths[1]),
      '--activation', pair, '--max-queries', String(runs[0].queries), '--seed', args.seed!, '--threads', args.threads!, '--quiet'];
    const f = nnid(fargv);
    const fs = scoreRun(truthFile, fitResult);
    runs.push({
      model: m.name,
      dtype,
      method: 'fit',
      command: `nnid identify --oracle FILE --method fit --model general --width1 ${m.widths[0]} --width2 ${m.widths[1]} --activation ${pair} --max-queries ${runs[0].queries}`,
      code: f.code,
      check: line(f.out, /truth-free check: .*/),
      defaults: null,
      widths: line(f.out, /m0 = \d+, m1 = \d+/),
      activationChosen: null,
      queries: runs[0].queries,
      multipleOfP: runs[0].multipleOfP,
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

const e = (x: number | null) => (x === null ? '-' : x.toExponential(1));

function table(runs: Run[]): string {
  const rows = ['| model | dtype | method | widths found | check | rel. L2 sphere / Gaussian | float32 own noise | exact | queries (P) | CPU s (wall) | activation found / error |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const r of runs) {
    const check = r.check ? (/passed/.test(r.check) ? `passed ${/residual (\S+)/.exec(r.check)![1]}` : `FAILED ${/residual (\S+)/.exec(r.check)?.[1]}`) : `exit ${r.code}`;
    const exact = r.relL2Sphere === null ? 'no' : r.exact ? (r.ownNoise !== null ? 'within float32' : 'yes') : 'no';
    const note = r.error ?? (r.activationChosen ? r.activationChosen.replace(/^activation auto: /, '').replace(/ \(residuals: .*\)$/, '') : '');
    rows.push(`| ${r.model} | ${r.dtype} | ${r.method} | ${r.widths ?? '-'} | ${check} | ${e(r.relL2Sphere)} / ${e(r.relL2Gaussian)} | ${e(r.ownNoise)} | ${exact} | ${r.queries ?? '-'}${r.multipleOfP !== null ? ` (${r.multipleOfP.toFixed(1)})` : ''} | ${r.cpu.toFixed(0)} (${r.wall.toFixed(0)}) | ${note} |`);
  }
  return rows.join('\n');
}

if (args.from) {
  const runs = readFileSync(args.from, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Run);
  console.log(table(runs));
} else {
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
