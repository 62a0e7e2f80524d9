/**
 * refine's fit (fitNetwork, all parameters) by the dense normal equations and by the matrix-free
 * solver (J v, J^T w through the layers by GEMM, never J; CG preconditioned per unit or by Jacobi),
 * each (size, solver) in its own process so that its peak memory (maxRSS) is its own. Random tanh
 * networks (A orthonormal, shifts N(0, 0.3^2), seed 1), every parameter perturbed by eps N(0, 1),
 * N = 4 P points from N(0, I) (identify's refinement data), one thread.
 *
 *   npx tsx packages/optimize/bench/matrix-free.ts [--sizes 20,10,3:30,20,8] [--solvers normal-equations,blocks,jacobi] [--eps 0.02]
 *     [--threads 1] [--iterations 200] [--cg 0] [--rows 4]
 *
 * --threads: fitNetwork's threads (the matrix-free products' row blocks run on them past
 * OPERATOR_BLOCKED_FROM); --iterations: at most this many LM iterations (a per-iteration figure at
 * sizes whose whole fit is too long); --cg: at most this many CG iterations per solve (0: the
 * default, 2 F + 20); --rows: N as a multiple of P. CG seconds: the fit's CPU and wall seconds per CG
 * iteration (its linearizations included).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { matrix, parameterCount, rng, type Network } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { tier } from '@nnid/linalg';
import { fitNetwork, layoutOf, packParameters, unpackParameters } from '@nnid/refine';

const argOf = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const sizes = argOf('--sizes', '20,10,3:30,20,8:50,30,10:100,50,20').split(':').map((s) => s.split(',').map(Number));
const solvers = argOf('--solvers', 'normal-equations,blocks,jacobi').split(',');
const eps = Number(argOf('--eps', '0.02'));
const one = process.argv.includes('--one');
const threads = Number(argOf('--threads', '1'));
const iterations = Number(argOf('--iterations', '200'));
const cgCap = Number(argOf('--cg', '0'));
const rowsPerP = Number(argOf('--rows', '4'));

function perturb(net: Network, e: number, seed: number): Network {
  const layout = layoutOf(net);
  const p = packParameters(net, layout);
  const s = rng(seed);
  for (let k = 0; k < p.length; k++) p[k] += e * s.normal();
  return unpackParameters(p, layout);
}

/**
 * This (the main) thread's CPU seconds, from /proc (Linux; NaN elsewhere): with the products' second
 * row block in a worker, a quiet machine's wall time is about this thread's CPU time, whatever the load.
 */
function mainThreadCpu(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

if (one) {
  const [d, m0, m1] = sizes[0];
  const solver = solvers[0];
  const truth = randomNetwork({ inputDim: d, width1: m0, width2: m1, activation: 'tanh', shiftStd: 0.3, seed: 1 });
  const P = parameterCount(truth);
  // on shared memory: the operator's row blocks read it in a worker without a copy
  const inputs = matrix(Math.round(rowsPerP * P), d, { shared: true });
  rng(2).fillNormal(inputs.data);
  const data = { inputs, values: evaluateNetwork(truth, inputs) };
  const start = perturb(truth, eps, 3);
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpu();
  const t0 = performance.now();
  const { network, report } = await fitNetwork(start, data, {
    rowBlocks: 1,
    threads,
    maxIterations: iterations,
    ...(solver === 'normal-equations' ? {} : { solver: 'matrix-free', matrixFree: { preconditioner: solver === 'blocks' ? 'blocks' : 'jacobi', ...(cgCap > 0 ? { maxIterations: cgCap } : {}) } }),
  } as Parameters<typeof fitNetwork>[2]);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const a = packParameters(truth, layoutOf(truth));
  const b = packParameters(network, layoutOf(truth));
  const err = a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);
  const st = report.strategyStats;
  const cg = st ? `${st.cgIterations}, ${st.maxCgIterations}` : '-';
  const rss = process.resourceUsage().maxRSS / 1024;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const mainSeconds = mainThreadCpu() - main0;
  const perCg = st && st.cgIterations > 0 ? `${(cpuSeconds / st.cgIterations).toFixed(3)}, ${(seconds / st.cgIterations).toFixed(3)}` : '-';
  console.log(`| (${d}, ${m0}, ${m1}) | ${P} | ${solver} | ${threads} | ${seconds.toFixed(2)} | ${cpuSeconds.toFixed(2)} | ${mainSeconds.toFixed(2)} | ${report.iterations} | ${report.njev} | ${cg} | ${perCg} | ${rss.toFixed(0)} | ${report.stopReason} | ${report.relativeResidual.toExponential(1)} | ${err.toExponential(1)} |`);
} else {
  console.log(`linear algebra tier: ${tier()}; start perturbed by ${eps} N(0, 1); N = ${rowsPerP} P`);
  console.log('| (d, m0, m1) | P | solver | threads | seconds | CPU seconds | main thread CPU s | LM iterations | linearizations | CG iterations (total, max per solve) | CPU s, wall s per CG iteration | peak RSS MB | stop | relative residual | max parameter error |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const size of sizes) {
    for (const solver of solvers) {
      const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], '--one', '--sizes', size.join(','), '--solvers', solver, '--eps', String(eps), '--threads', String(threads), '--iterations', String(iterations), '--cg', String(cgCap), '--rows', String(rowsPerP)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      process.stdout.write(r.stdout);
    }
  }
}
