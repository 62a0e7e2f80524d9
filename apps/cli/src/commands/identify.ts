/**
 * `nnid identify`: identify the weights of a network from queries alone. The network file is
 * opened as a black box (every query goes through the Oracle); the result is the recovered
 * network (nnid.network/v1) with the report of DESIGN.md section 4 under "report".
 */
import { availableParallelism } from 'node:os';
import { readNetworkFile, serializeNetwork, type ActivationName, type Network, type Oracle } from '@nnid/core';
import { createOracle, networkBlackBox } from '@nnid/oracle';
import { openOracleFromSpec, openQueryStore, oracleKind, TOKEN_ENV, type SpecOracle } from '@nnid/black-box';
import { identify, score, type IdentifyProgress } from '@nnid/pipeline';
import { intOption, optionalInt, stringOption, UsageError, type Command, type Values } from '../cli.ts';
import { progressBar, type Progress } from '../progress.ts';
import { networkText, parseActivation, writeOut } from './generate.ts';

const help = `usage: nnid identify (--network net.json | --oracle SPEC) --out result.json [options]

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
  --oracle SPEC        the black box: a network file (.json), an ONNX model (.onnx) or an
                       http(s):// endpoint (POST {"inputs": [[...]]} -> {"outputs": [...]})
  --oracle-token T     bearer token of an HTTP oracle (default: the ${TOKEN_ENV} variable)
  --store DIR          keep every answer in the query store in DIR and answer repeated queries
                       from it (a rerun or a resumed run pays only for new queries); default
                       .nnid-store for an http(s) oracle, none otherwise (with a store, every
                       query runs in the main thread: it must pass through the store)
  --no-store           no query store, even for an http(s) oracle
  --max-queries N      budget on paid queries (answered by the black box, not by the store)
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
  nnid score --truth net.json --recovered result.json
  nnid identify --oracle https://models.example.com/f --activation tanh --out result.json`;

interface Source {
  oracle: Oracle;
  truth: Network | null;
  activation: { layer1: ActivationName; layer2: ActivationName } | null;
  /** What the report says about the oracle. */
  description: Record<string, unknown>;
}

/**
 * The black box to identify: `--network` (an in-process network, the short form), or `--oracle`
 * through openOracleFromSpec (a .json network, an ONNX model, an HTTP endpoint; with the query
 * store and the budget). Only a network file gives a truth to score against and activations to
 * default to.
 */
async function openSource(values: Values, io: { err: (line: string) => void }): Promise<Source> {
  const maxQueries = optionalInt(values, 'max-queries', 0);
  const storeOption = values.store as string | undefined;
  if (values.network !== undefined && values.oracle !== undefined) throw new UsageError('give --network or --oracle, not both');
  if (values.oracle === undefined) {
    const file = stringOption(values, 'network');
    const truth = readNetworkFile(file);
    const store = storeOption !== undefined && !values['no-store'] ? openQueryStore(storeOption) : undefined;
    const inner = createOracle(networkBlackBox(truth), { maxQueries, cache: store });
    const oracle: Oracle = store
      ? {
          ...inner,
          async close() {
            try {
              await inner.close();
            } finally {
              await store.close();
            }
          },
        }
      : inner;
    return {
      oracle,
      truth,
      activation: truth.activation,
      description: { kind: 'network', spec: file, identity: inner.identity, store: store ? storeOption : null, maxQueries: maxQueries ?? null },
    };
  }
  const spec = String(values.oracle);
  const kind = oracleKind(spec);
  if (!kind) throw new UsageError(`--oracle must be a network file (.json), an ONNX model (.onnx) or an http(s):// URL, got '${spec}'`);
  if (values['no-store'] && storeOption !== undefined) throw new UsageError('give --store or --no-store, not both');
  const storeDir = values['no-store'] ? undefined : (storeOption ?? (kind === 'http' ? '.nnid-store' : undefined));
  if (storeDir !== undefined && storeDir.trim() === '') throw new UsageError('--store must name a directory');
  const token = values['oracle-token'] as string | undefined;
  const oracle: SpecOracle = await openOracleFromSpec(spec, {
    token,
    maxQueries,
    storeDir,
    http: {
      onRetry: (r) => {
        if (!values.quiet) io.err(`oracle: ${r.reason}; retry ${r.attempt} in ${r.delayMs} ms`);
      },
    },
  });
  const truth = kind === 'network' ? readNetworkFile(spec) : null;
  return {
    oracle,
    truth,
    activation: truth?.activation ?? null,
    description: { kind, spec, identity: oracle.identity, store: storeDir ?? null, maxQueries: maxQueries ?? null },
  };
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
    oracle: { type: 'string' },
    'oracle-token': { type: 'string' },
    store: { type: 'string' },
    'no-store': { type: 'boolean' },
    'max-queries': { type: 'string' },
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
    if (values.network === undefined && values.oracle === undefined) throw new UsageError('missing required option --network (or --oracle)');
    const out = stringOption(values, 'out');
    const seed = intOption(values, 'seed', 0, 0);
    const width1 = optionalInt(values, 'width1');
    const width2 = optionalInt(values, 'width2');
    if (width1 !== undefined && width2 !== undefined && width2 > width1) {
      throw new UsageError(`--width2 must be <= --width1 (${width1}), got '${width2}'`);
    }
    const threads = intOption(values, 'threads', availableParallelism());
    const refine = !values['no-refine'];
    if (values.activation === undefined && values.oracle !== undefined && oracleKind(String(values.oracle)) !== 'network') {
      throw new UsageError('--activation is required with an ONNX or HTTP oracle (the method assumes the activations known)');
    }
    const { oracle, truth, activation: fileActivation, description } = await openSource(values, io);
    if (width1 !== undefined && width1 > oracle.inputDim) {
      await oracle.close();
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
      oracle: description,
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
      `identified m0 = ${result.network.width1}, m1 = ${result.network.width2} from ${q.total} queries (${q.multipleOfP.toFixed(1)} P` +
        `${q.reused > 0 ? `; ${q.paid} paid, ${q.reused} from the store` : ''}) ` +
        `in ${result.report.seconds.total.toFixed(2)} s on ${result.report.threads} thread(s); wrote ${out}`,
    );
    const check = result.report.check;
    if (check.passed !== null) {
      io.out(`truth-free check: relative residual ${check.relativeResidual?.toExponential(2)} (threshold ${check.threshold}): ${check.passed ? 'passed' : 'FAILED'}`);
    }
    return check.passed === false ? 1 : 0;
  },
};
