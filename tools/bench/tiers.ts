/**
 * Benchmark: identify on both linear-algebra tiers, side by side, at (20, 10, 3), (30, 20, 8) and
 * (50, 30, 10) (tanh, shifts N(0, 0.3^2), widths given, `threads: 2`): seconds in total and per
 * stage, and the ratio TypeScript / native. Each run is a child process with `NNID_LINALG` set,
 * so the worker threads of the refinement and of the attempt lanes use the same tier as the main
 * thread; the two tiers of one point run one after the other, so they see about the same load.
 *
 *   npx tsx tools/bench/tiers.ts [--seeds 1] [--threads 2] [--points 20,30,50] [--plain]
 *
 * `--plain` also runs the TypeScript tier with its WebAssembly kernel switched off
 * (`NNID_LINALG_WASM=0`: the plain loops, as at f33741c apart from J^T r), for a before/after.
 *
 * Prints markdown tables for the `## TypeScript tier vs native tier` section of BENCHMARKS.md
 * (the kernel table comes from `tools/bench/linalg.ts --identify-sizes`). Never fails on a figure.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineLine, repoRoot } from './benchmarks-md.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    points: { type: 'string', default: '20,30,50' },
    child: { type: 'string' },
    plain: { type: 'boolean', default: false },
  },
});

const POINTS = [
  { d: 20, m0: 10, m1: 3 },
  { d: 30, m0: 20, m1: 8 },
  { d: 50, m0: 30, m1: 10 },
];
const STAGES = ['noise', 'gradients', 'hessians', 'subspace', 'rankOne', 'completion', 'entangled', 'shifts', 'refine'];

interface ChildResult {
  tier: string;
  seconds: Record<string, number>;
  /** CPU seconds of the child process, all its threads (less disturbed by other work on the machine than wall time). */
  cpu: number;
  exact: boolean;
  attempts: number;
  queries: number;
  error?: string;
}

if (values.child !== undefined) {
  // child: one identify run, JSON on the last line of stdout
  const { d, m0, m1, seed, threads } = JSON.parse(values.child) as { d: number; m0: number; m1: number; seed: number; threads: number };
  const { runExperiment } = await import('@nnid/pipeline');
  const { tier } = await import('@nnid/linalg');
  const c0 = process.cpuUsage();
  const r = await runExperiment(
    { inputDim: d, width1: m0, width2: m1, activation: { layer1: 'tanh', layer2: 'tanh' }, shiftStd: 0.3, noise: 0, seed, threads },
    { scorePoints: 2000 },
  );
  const q = r.queries;
  const used = process.cpuUsage(c0);
  const out: ChildResult = { tier: tier(), seconds: r.seconds, cpu: (used.user + used.system) / 1e6, exact: r.exact, attempts: r.attempts as number, queries: q.total, error: r.error ?? undefined };
  console.log(JSON.stringify(out));
  process.exit(0);
}

const seeds = Array.from({ length: Math.max(1, Number(values.seeds)) }, (_, i) => i + 1);
const threads = Math.max(1, Number(values.threads));
const wanted = new Set(values.points.split(',').map(Number));
const self = fileURLToPath(import.meta.url);

function runChild(tierName: 'native' | 'typescript' | 'plain', spec: object): ChildResult {
  const env = { ...process.env };
  if (tierName !== 'native') env.NNID_LINALG = 'typescript';
  else delete env.NNID_LINALG;
  if (tierName === 'plain') env.NNID_LINALG_WASM = '0';
  else delete env.NNID_LINALG_WASM;
  const text = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify(spec)], { cwd: repoRoot, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const lines = text.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as ChildResult;
}

const loadBefore = loadavg();
const rows: string[] = [];
const stageRows: string[] = [];
const plainRows: string[] = [];
for (const p of POINTS.filter((x) => wanted.has(x.d))) {
  for (const seed of seeds) {
    const spec = { ...p, seed, threads };
    const nat = runChild('native', spec);
    const ts = runChild('typescript', spec);
    const plain = values.plain ? runChild('plain', spec) : null;
    const same = nat.attempts === ts.attempts && nat.queries === ts.queries ? '' : ' (paths differ)';
    const ratio = ts.seconds.total / nat.seconds.total;
    const name = `(${p.d}, ${p.m0}, ${p.m1})`;
    const outcome = (r: ChildResult) => (r.error ? `error: ${r.error}` : `${r.exact ? 'exact' : 'not exact'}, ${r.attempts} att.`);
    const row = `| ${name} | ${seed} | ${nat.seconds.total.toFixed(2)} | ${ts.seconds.total.toFixed(2)} | ${ratio.toFixed(2)}x | ${nat.cpu.toFixed(2)} | ${ts.cpu.toFixed(2)} | ${(ts.cpu / nat.cpu).toFixed(2)}x | ${outcome(nat)} / ${outcome(ts)}${same} |`;
    console.log(row);
    rows.push(row);
    if (plain) {
      const line = `| ${name} | ${seed} | TypeScript, WebAssembly off | ${plain.seconds.total.toFixed(2)} s, CPU ${plain.cpu.toFixed(2)} s: ${(plain.seconds.total / nat.seconds.total).toFixed(2)}x / ${(plain.cpu / nat.cpu).toFixed(2)}x native (${outcome(plain)}) |`;
      console.log(line);
      plainRows.push(line);
    }
    for (const [label, r] of [['native', nat], ['typescript', ts], ...(plain ? [['TypeScript, WebAssembly off', plain]] : [])] as [string, ChildResult][]) {
      const line = `| ${name} | ${seed} | ${label} | ${STAGES.map((k) => (r.seconds[k] ?? 0).toFixed(2)).join(' | ')} |`;
      console.log(line);
      stageRows.push(line);
    }
  }
}
const loadAfter = loadavg();
const section = [
  `identify (tanh, shifts N(0, 0.3^2), widths given, refinement on, \`threads: ${threads}\`), each run a child process with`,
  'the tier forced by `NNID_LINALG` (so worker threads use it too); the two tiers of a point run one after the other.',
  'Seconds: identify\'s own wall time (report.seconds.total). CPU s: CPU time of the child process, all threads, including',
  'the scoring of the result on 2000 points (the same work on both tiers); on a loaded machine it is the steadier figure.',
  '',
  '| network | seed | native s | TypeScript s | TypeScript / native | native CPU s | TypeScript CPU s | CPU ratio | outcome (native / TypeScript) |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows,
  ...(plainRows.length ? ['', '| network | seed | variant | seconds, CPU, ratios to native (wall / CPU) |', '|---|---|---|---|', ...plainRows] : []),
  '',
  'Seconds per stage (from identify\'s report):',
  '',
  `| network | seed | tier | ${STAGES.join(' | ')} |`,
  `|---|---|---|${STAGES.map(() => '---').join('|')}|`,
  ...stageRows,
  '',
  machineLine(loadBefore, loadAfter),
  `Run: \`npx tsx tools/bench/tiers.ts --seeds ${seeds.length} --threads ${threads} --points ${values.points}${values.plain ? ' --plain' : ''}\` (${new Date().toISOString().slice(0, 10)}).`,
].join('\n');
console.log(`\n${section}`);
