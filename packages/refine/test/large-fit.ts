/**
 * Run by matrix-free.test.ts in a child process (its peak memory its own): the matrix-free fit of
 * all P = 6,070 parameters of a (100, 50, 20) tanh network from a start near the answer (every
 * parameter + eps N(0, 1)), on 1.25 P Gaussian points; prints one JSON line (parameters, success,
 * relative residual, the largest parameter error, maxRSS in bytes). The dense solver would hold J
 * (1.25 P^2 numbers) and J^T J (P^2).
 *
 *   node --import tsx packages/refine/test/large-fit.ts [solver eps residualTolerance cgIterations]
 *   (defaults: matrix-free 1e-6 1e-8 100; the bench: normal-equations|matrix-free 1e-5 1e-11 0 = no cap)
 */
import { matrix, parameterCount, rng } from '@nnid/core';
import { evaluateNetwork, randomNetwork } from '@nnid/oracle';
import { fitNetwork, layoutOf, packParameters } from '@nnid/refine';
import { perturb } from './helpers.ts';

const truth = randomNetwork({ inputDim: 100, width1: 50, width2: 20, activation: 'tanh', shiftStd: 0.3, seed: 1 });
const P = parameterCount(truth);
const inputs = matrix(Math.round(1.25 * P), 100);
rng(2).fillNormal(inputs.data);
const data = { inputs, values: evaluateNetwork(truth, inputs) };
const [solver, eps, tol, cg] = [process.argv[2] ?? 'matrix-free', Number(process.argv[3] ?? 1e-6), Number(process.argv[4] ?? 1e-8), Number(process.argv[5] ?? 100)];
const start = perturb(truth, eps, 3);
const cpu0 = process.cpuUsage();
const { network, report } = await fitNetwork(start, data, {
  solver: solver as 'matrix-free',
  residualTolerance: tol,
  ...(cg > 0 ? { matrixFree: { maxIterations: cg } } : {}),
});
const layout = layoutOf(truth);
const a = packParameters(truth, layout);
const b = packParameters(network, layout);
const maxParameterError = a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);
const s0 = packParameters(start, layout);
const initialParameterError = a.reduce((m, v, k) => Math.max(m, Math.abs(v - s0[k])), 0);
console.log(
  JSON.stringify({
    solver: report.strategy,
    parameters: P,
    success: report.success,
    relativeResidual: report.relativeResidual,
    maxParameterError,
    initialParameterError,
    initialRelativeResidual: report.initialRelativeResidual,
    iterations: report.iterations,
    cg: report.strategyStats,
    seconds: report.seconds,
    cpuSeconds: (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6,
    maxRSS: process.resourceUsage().maxRSS * 1024,
  }),
);
