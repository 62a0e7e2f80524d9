/**
 * The student fit's dead-unit redraws (issue 13, session 17; @nnid/student-fit `deadUnitRedraws`):
 * on each network, the general-model fit told the widths and pair, float64 answers at N = --factor P
 * Gaussian points (or --points), --starts random starts on one thread, with 0 redraw rounds and with
 * DEAD_UNIT_REDRAWS: whether a start passed its check (1e-9), which start first, the fitted
 * network's relative L2 to the truth (10^4 Gaussian points), the rounds run before it and their
 * units, CPU s. The random starts are the same streams in both settings (a redraw round only follows
 * a start that failed), so "first exact start" compares start for start.
 *
 * Networks: --truths FILE,... (nnid.network/v2 files, e.g. the held-out truths) and the generator's
 * general networks (randomGeneralNetwork, random directions, rows 0.3-3) of --sizes, --pairs,
 * --outputs, --seeds.
 *
 *   npx tsx tools/bench/dead-redraws.ts --truths /tmp/heldout/d4-m4-m3-k3-softplus-torch-iris.truth.json --points 2000 --starts 30
 *   npx tsx tools/bench/dead-redraws.ts --sizes 10,6,3 --pairs tanh/tanh,softplus/softplus --outputs 1,3 --seeds 1,2,3 --factor 5 --starts 6
 *
 * --onnx NAME (with --dir, default /tmp/heldout): instead, identify's method 'auto' on NAME-float32.onnx
 * (k >= 1 outputs: identifyAutoOutputs, as `nnid identify --oracle NAME-float32.onnx --width1 m0
 * --width2 m1 --activation PAIR --seed 1 --threads 2` runs it; the truth's widths and pair given),
 * with deadUnitRedraws 0 and --rounds: check, relative L2 to the truth, rows, CPU s.
 *
 *   npx tsx tools/bench/dead-redraws.ts --onnx d4-m4-m3-k3-softplus-torch-iris --threads 2
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { generalParameterCount, parseNetworkV2, type ActivationName, type Float64View, type GeneralNetwork } from '@nnid/core';
import { evaluateGeneral, randomGeneralNetwork } from '@nnid/oracle';
import { DEAD_UNIT_REDRAWS, studentFitGeneral } from '@nnid/student-fit';
import { onnxBlackBox } from '@nnid/black-box';
import { identifyAutoOutputs, scoreGeneral } from '@nnid/pipeline';

const { values } = parseArgs({
  options: {
    truths: { type: 'string', default: '' },
    sizes: { type: 'string', default: '' },
    pairs: { type: 'string', default: 'tanh/tanh' },
    outputs: { type: 'string', default: '1' },
    seeds: { type: 'string', default: '1' },
    factor: { type: 'string', default: '5' },
    points: { type: 'string', default: '' },
    starts: { type: 'string', default: '6' },
    rounds: { type: 'string', default: String(DEAD_UNIT_REDRAWS) },
    seed: { type: 'string', default: '1' },
    onnx: { type: 'string', default: '' },
    dir: { type: 'string', default: '/tmp/heldout' },
    threads: { type: 'string', default: '2' },
  },
});

/** Relative L2 to the truth on 10^4 N(0, I) points (nnid score's). */
const relL2 = (truth: GeneralNetwork, other: GeneralNetwork) => scoreGeneral(truth, other).function.gaussian.relativeL2;
if (values.onnx) {
  const truth = parseNetworkV2(JSON.parse(readFileSync(`${values.dir}/${values.onnx}.truth.json`, 'utf8')));
  console.log(`# dead-redraws --onnx ${values.onnx}-float32.onnx: identifyAutoOutputs, widths (${truth.width1}, ${truth.width2}) and ${truth.activation.layer1}/${truth.activation.layer2} given, seed ${values.seed}, ${values.threads} threads; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('| export | deadUnitRedraws | check: residual (threshold) | passed | rel. L2 to the truth | rows | fits | CPU s |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const rounds of [0, Number(values.rounds)]) {
    const onnx = await onnxBlackBox(`${values.dir}/${values.onnx}-float32.onnx`, { outputs: 'many' });
    // k numbers per row through evaluateOutputs, as nnid identify opens it
    const box = { inputDim: onnx.inputDim, outputs: onnx.outputs, identity: onnx.identity, evaluate: (x: Float64View) => onnx.evaluateOutputs(x), close: () => onnx.close() };
    const cpu = process.cpuUsage();
    const run = await identifyAutoOutputs(box, { width1: truth.width1, width2: truth.width2, activation: { ...truth.activation }, seed: Number(values.seed), threads: Number(values.threads), pipelineAsIdentify: true, deadUnitRedraws: rounds });
    const u = process.cpuUsage(cpu);
    await box.close();
    const check = run.report.check;
    const fits = run.report.method.tried.filter((t) => t.method === 'fit').length;
    console.log(`| ${values.onnx} | ${rounds} | ${check.relativeResidual?.toExponential(2)} (${check.threshold.toExponential(2)}) | ${check.passed ? 'yes' : 'no'} | ${relL2(truth, run.network).toExponential(1)} | ${run.report.queries.rows} | ${fits} | ${((u.user + u.system) / 1e6).toFixed(1)} |`);
  }
  process.exit(0);
}

const nets: { name: string; net: GeneralNetwork }[] = [];
for (const file of values.truths!.split(',').filter(Boolean)) nets.push({ name: file.split('/').pop()!.replace('.truth.json', ''), net: parseNetworkV2(JSON.parse(readFileSync(file, 'utf8'))) });
for (const size of values.sizes!.split(';').filter(Boolean)) {
  const [d, m0, m1] = size.split(',').map(Number);
  for (const pair of values.pairs!.split(',')) {
    const [layer1, layer2] = pair.split('/') as ActivationName[];
    for (const k of values.outputs!.split(',').map(Number)) {
      for (const seed of values.seeds!.split(',').map(Number)) {
        nets.push({ name: `gen (${d}, ${m0}, ${m1}) k ${k} ${pair} seed ${seed}`, net: randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, outputs: k, activation: { layer1, layer2 }, directions: 'random', seed }) });
      }
    }
  }
}

const starts = Number(values.starts);
console.log(`# dead-redraws: ${starts} starts, seed ${values.seed}, ${values.points ? `${values.points} points` : `${values.factor} P`}, rounds 0 vs ${values.rounds}; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('| network | P | N | rounds | passed | first exact start | rel. L2 | residual | rounds run (start: units l1/l2 -> residual) | CPU s |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const { name, net } of nets) {
  const P = generalParameterCount(net);
  const N = values.points ? Number(values.points) : Math.floor(Number(values.factor) * P);
  const source = { inputDim: net.inputDim, outputs: net.outputs, evaluate: async (x: Float64View) => evaluateGeneral(net, x) };
  for (const rounds of [0, Number(values.rounds)]) {
    const cpu = process.cpuUsage();
    const { network, report } = await studentFitGeneral(source, { width1: net.width1, width2: net.width2, activation: { ...net.activation }, dataPoints: N, starts, seed: Number(values.seed), threads: 1, deadUnitRedraws: rounds });
    const u = process.cpuUsage(cpu);
    const ran = report.starts
      .filter((s) => s.deadRedraws.length > 0)
      .map((s) => `${s.start}: ${s.deadRedraws.map((r) => `[${r.layer1.join(' ')}]/[${r.layer2.join(' ')}] -> ${r.relativeResidual.toExponential(1)}`).join(' then ')}`)
      .join('; ');
    const first = report.check.passed ? String(report.chosenStart) : '-';
    console.log(`| ${name} | ${P} | ${N} | ${rounds} | ${report.check.passed ? 'yes' : 'no'} | ${first} | ${relL2(net, network).toExponential(1)} | ${report.check.relativeResidual.toExponential(2)} | ${ran || '-'} | ${((u.user + u.system) / 1e6).toFixed(1)} |`);
  }
}
