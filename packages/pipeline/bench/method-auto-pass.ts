/**
 * The activation search's second pass under method auto (issue 13, session 10): the same generator
 * network identified by identifyAuto (k = 1) or identifyAutoOutputs (k > 1), activation 'auto',
 * model 'general', once per `--second-pass-pairs` value (SECOND_PASS_PAIRS: the search's pass for
 * its closest pairs, as identify alone runs it; 0: none, method auto's default, the fit over widths
 * and pairs following a failed search). Per run: exact (relative L2 <= 1e-8 on 2000 Gaussian
 * points), the check, queries / P, the pass's queries and whether it made the search pass, CPU
 * seconds of the search, of its pass and of the continuation (process.cpuUsage), what the
 * continuation ended with; beside each, the student fit told the pair and widths (baselineFit, best
 * of 3 starts) at that run's queries / P.
 *
 *   npx tsx packages/pipeline/bench/method-auto-pass.ts --sizes 8,4,2 --pairs gelu/tanh --seeds 6 [--outputs 1]
 *     [--second-pass-pairs 2,0] [--widths given|inferred] [--threads 2] [--no-fit]
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { type ActivationName, type GeneralNetwork } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox, randomGeneralNetwork } from '@nnid/oracle';
import { identifyAuto, identifyAutoOutputs, scoreGeneral, type ActivationSearchReport, type MethodTry } from '@nnid/pipeline';
import { baselineFit } from '@nnid/student-fit';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '8,4,2' },
    pairs: { type: 'string', default: 'gelu/tanh' },
    seeds: { type: 'string', default: '6' },
    outputs: { type: 'string', default: '1' },
    'second-pass-pairs': { type: 'string', default: '2,0' },
    widths: { type: 'string', default: 'given' },
    directions: { type: 'string', default: 'random' },
    threads: { type: 'string', default: '2' },
    'no-fit': { type: 'boolean', default: false },
  },
});
const threads = Number(values.threads);
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

console.log('| network | search pass pairs | exact (rel. L2) | check | queries / P | second pass: queries (P), passed | CPU s: search (its pass) | continuation: CPU s, ended | CPU s total | fit told the truth, same P | load |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
const [d, m0, m1] = values.sizes!.split(',').map(Number);
for (const k of values.outputs!.split(',').map(Number)) {
  for (const pair of values.pairs!.split(',')) {
    const [layer1, layer2] = pair.split('/') as ActivationName[];
    for (const seed of values.seeds!.split(',').map(Number)) {
      const truth = randomGeneralNetwork({ inputDim: d, width1: m0, width2: m1, outputs: k, activation: { layer1, layer2 }, seed, directions: values.directions as 'random' | 'orthonormal' });
      for (const secondPassPairs of values['second-pass-pairs']!.split(',').map(Number)) {
        const widths = values.widths === 'given' ? { width1: m0, width2: m1 } : {};
        const options = { ...widths, activation: 'auto' as const, model: 'general' as const, seed: 1, threads, secondPassPairs };
        const cpu0 = cpuNow();
        let network: GeneralNetwork;
        let tried: MethodTry[];
        let search: ActivationSearchReport | undefined;
        let check: { relativeResidual: number | null; passed: boolean };
        let multipleOfP: number;
        let P: number;
        if (k === 1) {
          const r = await identifyAuto(createOracle(generalBlackBox(truth)), options);
          network = r.networkGeneral!;
          tried = r.report.method.tried;
          search = (r.report.pipeline as { activationSearch?: ActivationSearchReport } | null)?.activationSearch;
          check = r.report.check;
          multipleOfP = r.report.queries.multipleOfP!;
          P = r.report.method.parameterCount!;
        } else {
          const box = { inputDim: d, outputs: k, identity: `method-auto-pass-${seed}`, evaluate: async (x: Parameters<typeof evaluateGeneral>[1]) => evaluateGeneral(truth, x) };
          const r = await identifyAutoOutputs(box, options);
          network = r.network;
          tried = r.report.method.tried;
          search = (r.report.pipeline.identify as { activationSearch?: ActivationSearchReport }).activationSearch;
          check = r.report.check;
          multipleOfP = r.report.queries.multipleOfP;
          P = r.report.method.parameterCount!;
        }
        const cpu = cpuNow() - cpu0;
        const err = scoreGeneral(truth, network, { points: 2000 }).function.gaussian.relativeL2;
        const passQueries = sum((search?.secondPass ?? []).map((x) => x.queries));
        const passPassed = (search?.secondPass ?? []).some((x) => x.passed);
        const searchCpu = search ? sum(Object.values(search.cpuSeconds)) : NaN;
        const fits = tried.slice(1);
        const ended = fits.length === 0 ? 'not run (the pipeline passed)' : (() => {
          const ok = fits.find((f) => f.passed);
          const best = ok ?? fits.filter((f) => f.relativeResidual !== null).sort((a, b) => a.relativeResidual! - b.relativeResidual!)[0];
          const pairScreen = fits.filter((f) => f.why.includes('pair screen (')).length;
          return `${sum(fits.map((f) => f.cpuSeconds ?? 0)).toFixed(0)}, ${fits.length} fits${pairScreen ? ` (${pairScreen} in the pair screen)` : ''}, ${ok ? 'passed' : 'best'} ${best ? `${best.activation?.layer1}/${best.activation?.layer2} (${best.widths?.width1}, ${best.widths?.width2}) ${best.relativeResidual!.toExponential(1)}` : '-'}`;
        })();
        let fitCell = '-';
        if (!values['no-fit']) {
          const fit = await baselineFit(truth, { budget: multipleOfP, starts: 3, seed: 1, threads, model: 'general' });
          fitCell = `${fit.exact ? 'exact' : 'no'} (${fit.seconds.toFixed(0)} s)`;
        }
        console.log(
          `| ${pair} (${d}, ${m0}, ${m1}) k = ${k} seed ${seed}, widths ${values.widths} | ${secondPassPairs} | ${err <= 1e-8 ? 'yes' : 'no'} (${err.toExponential(1)}) | ${check.passed ? 'passed' : 'FAILED'} ${check.relativeResidual?.toExponential(1)} | ${multipleOfP.toFixed(1)} | ${passQueries} (${(passQueries / P).toFixed(1)}), ${search?.secondPass.length ? (passPassed ? 'passed' : 'no') : '-'} | ${searchCpu.toFixed(0)} (${(search?.cpuSeconds.secondPass ?? 0).toFixed(0)}) | ${ended} | ${cpu.toFixed(0)} | ${fitCell} | ${loadavg()[0].toFixed(1)} |`,
        );
      }
    }
  }
}
