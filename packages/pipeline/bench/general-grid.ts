/**
 * identify with model 'general' on the generator's general networks (rows scaled 0.3-3, biases
 * N(0, 0.25), C, c N(0, 1)), widths given: exact rate (relative L2 <= 1e-8 on 10^4 Gaussian
 * points), queries per P (P counts every weight and bias), seconds; beside it the student fit
 * (baselineFit of @nnid/student-fit, best of 3 starts) on the same network with nnid's budget of
 * that run (its queries / P). k = 1 through identify, k > 1 through identifyOutputs. "without the
 * second pass": the best of the run's other attempts scored (k = 1; what identify returned before
 * second-pass.ts); CPU seconds are the process's (process.cpuUsage) during the identify call.
 * --activation auto: identify searches the pair (the student fit is still told it); the second
 * pass then runs inside the search only, and "without the second pass" says in how many runs the
 * search ran it and how many of those it made pass. --pipeline DIR: the pipeline of another checkout
 * (a git worktree at an older commit, its packages/pipeline/node_modules linked to this tree's), for
 * a before/after in two processes.
 *
 *   npx tsx packages/pipeline/bench/general-grid.ts [--seeds 3] [--first-seed 1] [--sizes 10,6,3] [--directions orthonormal,random]
 *     [--pairs tanh/tanh,...] [--outputs 1,3] [--threads 2] [--no-fit] [--activation auto] [--pipeline DIR]
 *     [--output-hessians all|projection]   (k > 1: identifyOutputs' outputHessians)
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parseNetworkV2, type ActivationName, type GeneralNetwork } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import * as here from '@nnid/pipeline';
import { baselineFit } from '@nnid/student-fit';

const PAIRS = 'tanh/tanh,sigmoid/sigmoid,softplus/softplus,gelu/gelu,gelu_tanh/gelu_tanh,silu/silu,arctan/arctan,tanh/sigmoid,sigmoid/tanh,gelu/silu';
const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    'first-seed': { type: 'string', default: '1' },
    sizes: { type: 'string', default: '10,6,3' },
    directions: { type: 'string', default: 'orthonormal,random' },
    pairs: { type: 'string', default: PAIRS },
    outputs: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    'no-fit': { type: 'boolean', default: false },
    activation: { type: 'string', default: 'given' },
    pipeline: { type: 'string', default: '' },
    'output-hessians': { type: 'string', default: 'all' },
  },
});
const { identify, identifyOutputs, scoreGeneral } = (values.pipeline ? await import(pathToFileURL(resolve(values.pipeline, 'packages/pipeline/src/index.ts')).href) : here) as typeof here;
const auto = values.activation === 'auto';
const seeds = Number(values.seeds);
const threads = Number(values.threads);
const med = (a: number[]) => (a.length ? [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] : NaN);
console.log('| directions | (d, m0, m1) | k | activations | nnid exact | without the second pass | median queries / P | median s | median CPU s | fit exact (same budget) | fit median s |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const directions of values.directions!.split(',') as ('orthonormal' | 'random')[]) {
  for (const size of values.sizes!.split(';')) {
    const [d, m0, m1] = size.split(',').map(Number);
    for (const k of values.outputs!.split(',').map(Number)) {
      for (const pair of values.pairs!.split(',')) {
        const [layer1, layer2] = pair.split('/') as ActivationName[];
        const activation = { layer1, layer2 };
        let exact = 0;
        let exactBefore = 0;
        let secondPassK = 0;
        let searchPassRan = 0;
        let searchPassPassed = 0;
        const cpus: number[] = [];
        let fitExact = 0;
        const qs: number[] = [];
        const secs: number[] = [];
        const fitSecs: number[] = [];
        const errors: string[] = [];
        for (let seed = Number(values['first-seed']); seed < Number(values['first-seed']) + seeds; seed++) {
          const truth = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, outputs: k, activation, seed, directions });
          let network: GeneralNetwork;
          let multipleOfP: number;
          let seconds: number;
          const started = performance.now();
          const cpu0 = process.cpuUsage();
          // the network identify returns without the second pass (second-pass.ts): the best of the other attempts
          let before: GeneralNetwork | null = null;
          if (k === 1) {
            const r = await identify(createOracle(generalBlackBox(truth)), { width1: m0, width2: m1, activation: auto ? 'auto' : activation, seed: 1, threads, model: 'general' });
            network = r.networkGeneral!;
            const rows = ((r.report.activationSearch as { secondPass?: { residual: number | null; passed: boolean }[] } | undefined)?.secondPass ?? []).filter((x) => x.residual !== null);
            if (rows.length) searchPassRan++;
            if (rows.some((x) => x.passed)) searchPassPassed++;
            const others = r.report.attempts.filter((a) => !a.reason.startsWith('second pass') && a.networkGeneralAfterRefinement);
            if (others.length < r.report.attempts.length && others.length > 0) {
              const prior = others.reduce((b, a) => ((a.refinedResidual ?? Infinity) < (b.refinedResidual ?? Infinity) ? a : b));
              before = parseNetworkV2(prior.networkGeneralAfterRefinement);
            }
            multipleOfP = r.report.queries.multipleOfP;
            seconds = r.report.seconds.total;
          } else {
            const box = { inputDim: d, outputs: k, identity: `general-grid-${seed}`, evaluate: async (x: Parameters<typeof evaluateGeneral>[1]) => evaluateGeneral(truth, x) };
            const r = await identifyOutputs(box, { width1: m0, width2: m1, activation: auto ? 'auto' : activation, seed: 1, threads, outputHessians: values['output-hessians'] as 'all' | 'projection' });
            network = r.network;
            multipleOfP = r.report.multipleOfP;
            if (r.report.identify.attempts.some((a) => a.reason.startsWith('second pass'))) secondPassK++;
            seconds = (performance.now() - started) / 1000;
          }
          const cpu = process.cpuUsage(cpu0);
          cpus.push((cpu.user + cpu.system) / 1e6);
          const err = scoreGeneral(truth, network).function.gaussian.relativeL2;
          const errBefore = before ? scoreGeneral(truth, before).function.gaussian.relativeL2 : err;
          errors.push(err.toExponential(0) + (before ? ` (${errBefore.toExponential(0)} before the second pass)` : ''));
          if (err <= 1e-8) exact++;
          if (errBefore <= 1e-8) exactBefore++;
          qs.push(multipleOfP);
          secs.push(seconds);
          if (!values['no-fit']) {
            const fit = await baselineFit(truth, { budget: multipleOfP, starts: 3, seed: 1, threads, model: 'general' });
            if (fit.exact) fitExact++;
            fitSecs.push(fit.seconds);
          }
        }
        // k > 1: identifyOutputs' k-output fit follows the projection's identify; no network without the second pass to score
        const withoutCell = auto ? `- (search's pass ran in ${searchPassRan}, passed in ${searchPassPassed})` : k === 1 ? `${exactBefore}/${seeds}` : `- (second pass made in ${secondPassK})`;
        const fitCells = values['no-fit'] ? '- | -' : `${fitExact}/${seeds} | ${med(fitSecs).toFixed(1)}`;
        console.log(`| ${directions} | (${d}, ${m0}, ${m1}) | ${k} | ${pair} | ${exact}/${seeds} | ${withoutCell} | ${med(qs).toFixed(1)} | ${med(secs).toFixed(1)} | ${med(cpus).toFixed(1)} | ${fitCells} |`);
        console.error(`  ${directions} ${size} k=${k} ${pair}: nnid errors ${errors.join(' ')}`);
      }
    }
  }
}
