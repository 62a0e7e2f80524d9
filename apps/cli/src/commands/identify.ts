/**
 * `nnid identify`: identify the weights of a network from queries alone. The network file is
 * opened as a black box (every query goes through the Oracle); the result is the recovered
 * network (nnid.network/v1) with the report of DESIGN.md section 4 under "report".
 */
import { availableParallelism } from 'node:os';
import { readNetworkFile, serializeNetwork, type ActivationName, type Network, type Oracle } from '@nnid/core';
import { createOracle, networkBlackBox } from '@nnid/oracle';
import { identify, score, type IdentifyProgress } from '@nnid/pipeline';
import { intOption, optionalInt, stringOption, UsageError, type Command, type Values } from '../cli.ts';
import { progressBar, type Progress } from '../progress.ts';
import { networkText, parseActivation, writeOut } from './generate.ts';

const help = `usage: nnid identify --network net.json --out result.json [options]

Identifies the weights of a two-hidden-layer network from input-output queries alone, by the
method of Fornasier, Klock and Rauchensteiner (arXiv:1907.00485): range(A) from gradients,
finite-difference Hessians, the matrix space W-hat, its rank-one elements, attribution, shift
fit; then Levenberg-Marquardt refinement on all parameters (unless --no-refine). The network
file is used ONLY as a black box. Writes the recovered network (nnid.network/v1) with a "report":
queries and seconds per stage, the spectra, the candidates with their certificates, the
attribution margin, every option resolved, the network before refinement, and (since the true
network is known here) the errors of DESIGN.md section 5 before and after refinement.

options:
  --network FILE       the network to identify, opened as a black box (nnid.network/v1)
  --out FILE           where to write the result (required)
  --seed N             seed of every random choice (default 0)
  --width1 M0          first hidden layer width (default: dimension of range(A) from gradients)
  --width2 M1          second hidden layer width (default: the entangled weights found)
  --activation NAME    tanh, sigmoid, or layer1,layer2 (default: the activations the network file
                       names; the method assumes them known)
  --threads T          worker threads (default: the number of cores); results do not depend on it
  --no-refine          the paper's pipeline alone, without refinement
  --quiet              no progress on stderr
  -h, --help           this help

example:
  nnid generate --input-dim 20 --width1 10 --width2 3 --seed 1 --out net.json
  nnid identify --network net.json --out result.json --width1 10 --width2 3 --threads 2
  nnid score --truth net.json --recovered result.json`;

/**
 * The black box to identify. Today: a network file. (The black-box engineer adds --oracle
 * onnx:/http: sources here through openOracleFromSpec from @nnid/black-box; such a source has
 * no truth to score against and no activation to default to.)
 */
function openSource(values: Values): { oracle: Oracle; truth: Network | null; activation: { layer1: ActivationName; layer2: ActivationName } | null } {
  const file = stringOption(values, 'network');
  const truth = readNetworkFile(file);
  return { oracle: createOracle(networkBlackBox(truth)), truth, activation: truth.activation };
}

/** One progress bar per stage on stderr. */
function stageProgress(quiet: boolean): { update: (e: IdentifyProgress) => void; done: () => void } {
  let stage = '';
  let bar: Progress | null = null;
  return {
    update(e) {
      if (e.stage !== stage) {
        bar?.done();
        stage = e.stage;
        bar = progressBar(e.stage, { quiet });
      }
      // single-step stages get their 'done' line only
      if (e.total > 1) bar?.update(e.done, e.total, e.message ?? '');
    },
    done() {
      bar?.done();
      bar = null;
    },
  };
}

export const command: Command = {
  name: 'identify',
  summary: 'identify the weights of a network from queries alone (the paper\'s pipeline, then refinement)',
  help,
  options: {
    network: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    width1: { type: 'string' },
    width2: { type: 'string' },
    activation: { type: 'string' },
    threads: { type: 'string' },
    'no-refine': { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
  async run(values: Values, io) {
    if (values.network === undefined) throw new UsageError('missing required option --network');
    const out = stringOption(values, 'out');
    const seed = intOption(values, 'seed', 0, 0);
    const width1 = optionalInt(values, 'width1');
    const width2 = optionalInt(values, 'width2');
    if (width1 !== undefined && width2 !== undefined && width2 > width1) {
      throw new UsageError(`--width2 must be <= --width1 (${width1}), got '${width2}'`);
    }
    const threads = intOption(values, 'threads', availableParallelism());
    const refine = !values['no-refine'];
    const { oracle, truth, activation: fileActivation } = openSource(values);
    if (width1 !== undefined && width1 > oracle.inputDim) {
      throw new UsageError(`--width1 must be <= the input dimension (${oracle.inputDim}), got '${width1}'`);
    }
    const activation =
      values.activation !== undefined ? parseActivation(values.activation as string) : (fileActivation ?? parseActivation(undefined));
    const progress = stageProgress(Boolean(values.quiet));
    let result;
    try {
      result = await identify(oracle, {
        ...(width1 !== undefined ? { width1 } : {}),
        ...(width2 !== undefined ? { width2 } : {}),
        activation,
        seed,
        threads,
        refine,
        onProgress: progress.update,
      });
    } finally {
      progress.done();
      await oracle.close();
    }
    const report: Record<string, unknown> = {
      ...result.report,
      activationSource: values.activation !== undefined ? 'option' : fileActivation ? 'network file' : 'default',
    };
    if (truth) {
      report.score = {
        beforeRefinement: score(truth, result.networkBeforeRefinement),
        ...(refine ? { afterRefinement: score(truth, result.network) } : {}),
      };
    }
    writeOut(out, networkText({ ...serializeNetwork(result.network), report }));
    const q = result.report.queries;
    io.out(
      `identified m0 = ${result.network.width1}, m1 = ${result.network.width2} from ${q.total} queries (${q.multipleOfP.toFixed(1)} P) ` +
        `in ${result.report.seconds.total.toFixed(2)} s on ${result.report.threads} thread(s); wrote ${out}`,
    );
    const check = result.report.check;
    if (check.passed !== null) {
      io.out(`truth-free check: relative residual ${check.relativeResidual?.toExponential(2)} (threshold ${check.threshold}): ${check.passed ? 'passed' : 'FAILED'}`);
    }
    return check.passed === false ? 1 : 0;
  },
};
