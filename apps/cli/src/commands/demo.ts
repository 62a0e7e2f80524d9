/**
 * `nnid demo`: the main job on a built-in default. Generates a network as in the paper, identifies
 * it through the oracle alone (the paper's pipeline, then refinement) and scores the result.
 */
import { availableParallelism } from 'node:os';
import { parameterCount, serializeNetwork } from '@nnid/core';
import { createOracle, networkBlackBox } from '@nnid/oracle';
import { identify, score } from '@nnid/pipeline';
import { intOption, numberOption, type Command } from '../cli.ts';
import { progressBar, thresholdText } from '../progress.ts';
import { scoreLines } from './score.ts';
import { checkNetworkSize, generateNetwork, parseActivation, networkText, saturationWarnings } from './generate.ts';
import { checkMemory, checkOutputs, writeOutput } from '../files.ts';
import { identifyBytes } from './sweep.ts';
import { UsageError } from '../cli.ts';

const help = `usage: nnid demo [--input-dim D --width1 M0 --width2 M1] [--activation A] [--seed N] [--threads T] [--out result.json]

The main job on a built-in default: a random tanh network with d = 20, m0 = 10, m1 = 3 (shifts
from N(0, 0.3^2), seed 1) is identified from queries alone, then scored against the truth,
before and after refinement.

options:
  --input-dim D, --width1 M0, --width2 M1   the network's sizes (default 20, 10, 3)
  --activation NAME    tanh, sigmoid, or a layer1/layer2 pair such as tanh/sigmoid (default tanh)
  --shift-std S        std of the shifts theta, tau (default 0.3)
  --seed N             seed of the network and of the identification (default 1)
  --threads T          worker threads (default: the number of cores)
  --out FILE           also write the recovered network with its report
  -h, --help           this help`;

export const command: Command = {
  name: 'demo',
  summary: 'identify a built-in default network and score the result',
  help,
  options: {
    'input-dim': { type: 'string' },
    width1: { type: 'string' },
    width2: { type: 'string' },
    activation: { type: 'string' },
    'shift-std': { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
    out: { type: 'string' },
  },
  async run(values, io) {
    const inputDim = intOption(values, 'input-dim', 20);
    const width1 = intOption(values, 'width1', 10);
    const width2 = intOption(values, 'width2', 3);
    const activation = parseActivation(values.activation as string | undefined);
    const seed = intOption(values, 'seed', 1, 0);
    const shiftStd = numberOption(values, 'shift-std', 0.3, 0);
    const threads = intOption(values, 'threads', availableParallelism());
    if (width1 > inputDim) throw new UsageError(`--width1 must be <= --input-dim (${inputDim}), got '${width1}'`);
    if (width2 > width1) throw new UsageError(`--width2 must be <= --width1 (${width1}), got '${width2}'`);
    const what = `--input-dim ${inputDim} --width1 ${width1} --width2 ${width2}`;
    checkNetworkSize(what, inputDim, width1, width2);
    const need = identifyBytes(inputDim, width1, width2);
    checkMemory(`${what} (identify)`, need.bytes, need.largest);
    const out = values.out as string | undefined;
    if (out) checkOutputs([{ flag: '--out', path: out }]);
    const truth = generateNetwork({ inputDim, width1, width2, activation, shiftStd, seed });
    for (const line of saturationWarnings(truth, shiftStd)) io.err(`nnid demo: ${line}`);
    const P = parameterCount(truth);
    io.out(`network: d = ${inputDim}, m0 = ${width1}, m1 = ${width2}, ${activation.layer1}/${activation.layer2}, shifts N(0, ${shiftStd}^2), seed ${seed} (P = ${P} parameters); identifying it from queries alone on ${threads} thread(s)`);
    const oracle = createOracle(networkBlackBox(truth));
    const bar = progressBar('identify');
    let result;
    try {
      result = await identify(oracle, { width1, width2, activation, seed, threads, onProgress: (e) => bar.update(e.done, e.total, e.stage) });
    } finally {
      await oracle.close();
    }
    bar.done();
    const { report } = result;
    const q = report.queries;
    io.out(`queries: ${q.total} in all = ${(q.total / P).toFixed(1)} P (gradients ${q.gradients}, hessians ${q.hessians}, shifts ${q.shifts}, refine ${q.refine})`);
    io.out(`seconds: ${Object.entries(report.seconds).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    io.out(`truth-free check: relative residual ${report.check.relativeResidual?.toExponential(2) ?? 'n/a'} (threshold ${thresholdText(report.check.threshold)}) -> ${report.check.passed ? 'passed' : 'FAILED'}`);
    io.out('');
    io.out('the paper\'s pipeline alone (before refinement):');
    for (const line of scoreLines(score(truth, result.networkBeforeRefinement))) io.out('  ' + line);
    io.out('after refinement:');
    const after = score(truth, result.network);
    for (const line of scoreLines(after)) io.out('  ' + line);
    if (out) {
      writeOutput({ flag: '--out', path: out }, networkText({ ...serializeNetwork(result.network), report }));
      io.out(`wrote ${out}`);
    }
    return report.check.passed === false ? 1 : 0;
  },
};
