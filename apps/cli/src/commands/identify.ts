/**
 * `nnid identify`: identify the weights of a network from queries alone. The network file is
 * opened as a black box (every query goes through the Oracle); the result is the recovered
 * network (nnid.network/v1) with the report of docs/DESIGN.md section 4 under "report".
 */
import { availableParallelism } from 'node:os';
import { readNetworkAny, toDense, serializeNetwork, serializeNetworkV2, type ActivationName, type GeneralNetwork, type Network, type Oracle } from '@nnid/core';
import { createOracle, evaluateGeneral, generalBlackBox } from '@nnid/oracle';
import {
  findAdapter,
  onnxBlackBox,
  openOracleFromSpec,
  ORACLE_ADAPTERS,
  oracleKind,
  QueryStoreError,
  redactUrl,
  specKinds,
  TOKEN_ENV,
  type SpecOracle,
} from '@nnid/black-box';
import {
  identify,
  identifyAuto,
  identifyAutoOutputs,
  identifyOutputs,
  heldOutText,
  probeNoise,
  score,
  scoreGeneral,
  type ActivationSearchReport,
  type HeldOutCheck,
  type IdentifyAutoResult,
  type IdentifyModel,
  type IdentifyProgress,
  type MethodReport,
  type MultiOutputBlackBox,
} from '@nnid/pipeline';
import { studentFit, studentFitGeneral, type MultiOutputSource } from '@nnid/student-fit';
import { intOption, optionalInt, stringOption, UsageError, type Command, type Values } from '../cli.ts';
import { progressBar, stageProgress, thresholdText } from '../progress.ts';
import { networkText, parseActivation } from './generate.ts';
import { checkOutputs, writeOutput } from '../files.ts';
import { refuseUnidentifiableOnnx } from './convert.ts';

const help = `usage: nnid identify (--network net.json | --oracle SPEC) --out result.json [options]

Identifies the weights of a two-hidden-layer network from input-output queries alone, by the
method of Fornasier, Klock and Rauchensteiner (arXiv:1907.00485): range(A) from gradients,
finite-difference Hessians, the matrix space W-hat, its rank-one elements, attribution, shift
fit; then Levenberg-Marquardt refinement on all parameters (unless --no-refine). The network
file is used ONLY as a black box. Writes the recovered network (nnid.network/v1, or v2 for the
general model) with a "report":
queries and seconds per stage, the spectra, the candidates with their certificates, the
attribution margin, every option resolved, the network before refinement, and (since the true
network is known here) the errors of docs/DESIGN.md section 5 before and after refinement.

options:
  --network FILE       the network to identify, opened as a black box (nnid.network/v1, or
                       v2: identified as --model general, the result in v2; with k > 1
                       outputs through one projection of them, then all k fitted; no --store)
  --oracle SPEC        the black box: a network file (.json), an ONNX model (.onnx) or an
                       http(s):// endpoint (POST {"inputs": [[...]]} -> {"outputs": [...]}
                       or {"outputs": [[...], ...]}); credentials in the URL are never printed
  --oracle-token T     bearer token of an HTTP oracle (default: the ${TOKEN_ENV} variable)
  --input-dim D        the input dimension, for a black box that does not announce it (an
                       endpoint that answers POST only, an ONNX model with a symbolic dimension)
  --timeout SECONDS    HTTP: the longest one request may take, its retries included (default 30)
  --retries N          HTTP: retries of a request after a connection error, 429, 502, 503, 504
                       (default 5; a 500 twice at most; other statuses are not retried)
  --store DIR          keep every answer in the query store in DIR and answer repeated queries
                       from it (a rerun or a resumed run pays only for new queries); default
                       .nnid-store for an http(s) oracle, none otherwise (with a store, every
                       query runs in the main thread: it must pass through the store). Before
                       stored answers of an http(s) oracle are used, 4 of them are asked again
                       (paid): if the oracle now answers otherwise, the run stops (exit 2)
  --no-store           no query store, even for an http(s) oracle
  --max-queries N      budget on paid queries (answered by the black box, not by the store);
                       the pipeline plans its stages within it (fewer Hessians and refinement
                       points, down to its floor; below the floor it refuses, naming it)
  --max-memory SIZE    memory the run may plan for, e.g. 12G, 512M (default: this machine's);
                       a plan whose peak exceeds it is refused before the first query, naming
                       the stage and what would fit (--method pipeline)
  --out FILE           where to write the result (required)
  --report FILE        also write the report with plots to FILE (HTML, as nnid report does)
  --seed N             seed of every random choice (default 0)
  --width1 M0          first hidden layer width (default: dimension of range(A) from gradients)
  --width2 M1          second hidden layer width (default: the entangled weights found)
  --activation NAME    tanh, sigmoid, softplus, gelu, gelu_tanh, silu, arctan, or a layer1/layer2
                       pair such as tanh/gelu, or auto: tanh/tanh first, then every candidate pair
                       tried on the answers already paid (report.activationSearch; no extra query,
                       up to 5 identify runs of compute). Default: the activations a network file
                       names; auto for an ONNX model or an endpoint (required there with --method
                       fit or auto and with --no-refine, which cannot search them)
  --threads T          worker threads (default: the number of cores); results do not depend on it
  --no-refine          the paper's pipeline alone, without refinement
  --model NAME         paper (default for a v1 network file): f = sum_l phi2(...), unit-norm
                       rows, result in nnid.network/v1; general (default for every other black
                       box: a v2 file, an ONNX model, an endpoint): f = C phi2(W2 phi1(W1 x + b1)
                       + b2) + c, k >= 1 outputs, rows of any norm, result in nnid.network/v2 (the
                       same stages, then the general refinement; not with --no-refine, which makes
                       an ONNX model's or endpoint's default paper; with --method fit or auto, the
                       student fits every weight and bias, and k outputs with fit)
                       Every choice made by default is printed in one line (defaults: ...) before
                       any query, and kept in report.defaults
  --method NAME        pipeline (the paper's method above; the default for a v1 network file), auto
                       (the default for every other black box), or fit: the student fit, a
                       network of the shape --width1/--width2 (both required) fitted by
                       Levenberg-Marquardt from random starts to answers at Gaussian points
                       (all of --max-queries, else 5 P), one start per thread; the first start
                       whose residual on its data passes the check is returned, else the best.
                       auto: the fit where --max-queries is below the pipeline's floor, else the
                       pipeline first and, when its check fails, the fit on the answers already
                       paid plus what is left of the budget (no point paid twice); without the
                       widths or with --activation auto (and as the default), the pipeline
                       as --method pipeline runs it (the second pass of its activation search
                       only after the fit failed), then, when its check fails, the fit
                       over the widths and pairs it found: m0 as found, every m1 <= m0 when m1
                       is not established, the activation search's best 5 pairs, then the 2
                       best of its other pairs by a screen at the pipeline's m1; each candidate
                       screened, then fitted in full, each pair's best first, until one passes
                       (at most 4 rounds of full fits); extra units pruned (report.pipelineNetwork
                       keeps the pipeline's); k >= 1 outputs; report.method says what ran and why
  --starts N           --method fit or auto: random starts of the fit at most (default 3; auto 6)
  --held-out N         --method auto: a network that passed the truth-free check on its own data
                       is judged again on N fresh points from each of the unit sphere, N(0, I)
                       and N(0, 4 I), and fails when its relative residual on any is above 10x
                       the check's threshold (then the next method runs); default 100 when a
                       width is inferred (surplus units can fit the data without being the
                       function), else 0 (none); within --max-queries not run above 10% of it
  --quiet              no progress on stderr
  -h, --help           this help

example:
  nnid generate --input-dim 20 --width1 10 --width2 3 --seed 1 --out net.json
  nnid identify --network net.json --out result.json --width1 10 --width2 3 --threads 2
  nnid score --truth net.json --recovered result.json
  nnid identify --oracle model.onnx --out result.json     (a PyTorch export: general, auto, widths inferred)
  nnid score --truth model.onnx --recovered result.json
  nnid identify --oracle https://models.example.com/f --activation tanh --out result.json
  nnid identify --oracle http://127.0.0.1:8000/predict --input-dim 20 --activation tanh --out r.json`;

interface Source {
  oracle: Oracle;
  truth: Network | null;
  /** A v2 network file's network (the truth of --model general), else null. */
  truthGeneral: GeneralNetwork | null;
  activation: { layer1: ActivationName; layer2: ActivationName } | null;
  /** What the report says about the oracle. */
  description: Record<string, unknown>;
}

/** --max-memory: bytes from a size such as 12G, 12GiB, 512M or a plain number of bytes (K, M, G, T: powers of 1024). */
export function parseMemorySize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?\s*$/i.exec(text);
  const bytes = m ? Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] ?? ' ').toLowerCase()) : NaN;
  if (!(bytes >= 1) || !Number.isFinite(bytes)) throw new UsageError(`--max-memory must be a size such as 12G, 512M or 2GiB, got '${text}'`);
  return Math.floor(bytes);
}

/** A store that cannot be used (full or read-only disk, stale answers) is bad input: exit 2, one line. */
function storeErrorAsUsage(e: unknown): never {
  if (e instanceof QueryStoreError) throw new UsageError(`${e.message} [${e.code}]`);
  throw e;
}

/** A choice identify made because its option was not given: printed in one line (`defaults: ...`) and kept in report.defaults. */
export interface DefaultChoice {
  option: string;
  value: string;
  why: string;
  /** Read from the network file given (its format, its activations): recorded, not printed. */
  fromFile?: boolean;
}

const KIND_TEXT: Record<string, string> = { onnx: 'an ONNX model', http: 'an HTTP endpoint', network: 'a network file' };

/**
 * The model, the activations and the widths when their options are not given. A v1 network file
 * is the paper's form; every other black box (ONNX, HTTP, a v2 file) is the general one (an output
 * layer with weights and bias: what trained networks have); for an ONNX model or an endpoint,
 * --no-refine takes the paper's (it does not fit the general form). A network file names its activations; an ONNX model or an endpoint does not
 * (to a black-box user), so the pipeline searches them (--activation auto); the student fit and
 * --no-refine cannot, and require them. Returns the values with --activation filled in.
 */
function defaultChoices(
  values: Values,
  s: { kind: string | undefined; file: ReturnType<typeof readNetworkAny> | null; method: 'pipeline' | 'fit' | 'auto'; refine: boolean; autoDefault?: boolean },
): { values: Values; model: IdentifyModel; activationSource: string; choices: DefaultChoice[] } {
  const choices: DefaultChoice[] = [];
  const methodChoice = (): void => {
    if (!s.autoDefault) return;
    choices.push({
      option: '--method',
      value: 'auto',
      why: `${s.file ? `a ${s.file.format} file` : (KIND_TEXT[s.kind ?? ''] ?? 'the black box')}, not a v1 network file: the pipeline as --method pipeline runs it (the second pass of its activation search only after the fit failed), then, only when its check fails, the student fit over the widths and activation pairs it found (every m1 <= m0 when m1 is not established, the best 5 pairs of the activation search, then the 2 best of its other pairs by a screen), on the answers paid (and fresh ones within the budget); --method pipeline for the pipeline alone`,
    });
  };
  const what = s.file ? `a ${s.file.format} file` : (KIND_TEXT[s.kind ?? ''] ?? 'the black box');
  let model: IdentifyModel = 'general';
  if (s.file?.format === 'nnid.network/v1') model = 'paper';
  else if (!s.file && !s.refine) model = 'paper';
  if (values.model === undefined) {
    const why =
      model === 'general'
        ? `${what}, not a v1 network file: f = C phi2(W2 phi1(W1 x + b1) + b2) + c, the result in nnid.network/v2`
        : s.file?.format === 'nnid.network/v1'
          ? `${what}: the paper's form, the result in nnid.network/v1`
          : `--no-refine takes the paper's form only`;
    choices.push({ option: '--model', value: model, why, ...(s.file && (model === 'paper') === (s.file.format === 'nnid.network/v1') ? { fromFile: true } : {}) });
  }
  let activationSource = 'option';
  if (values.activation === undefined) {
    if (s.file) {
      const a = s.file.general.activation;
      choices.push({ option: '--activation', value: a.layer1 === a.layer2 ? a.layer1 : `${a.layer1}/${a.layer2}`, why: 'named by the network file', fromFile: true });
      activationSource = 'network file';
    } else if (s.kind !== 'network') {
      if (s.method === 'fit' || !s.refine) {
        throw new UsageError(
          `--activation is required with ${KIND_TEXT[s.kind ?? ''] ?? 'this oracle'} and ${s.method === 'fit' ? `--method ${s.method}` : '--no-refine'} (the default, auto, needs the pipeline's refinement to tell the candidates apart)`,
        );
      }
      choices.push({
        option: '--activation',
        value: 'auto',
        why: `${what} does not name its activations: tanh/tanh first, then the candidate pairs on the answers already paid, no extra query, up to 5 identify runs of compute; give --activation A/B when known`,
      });
      values = { ...values, activation: 'auto' };
      activationSource = 'default (auto)';
    }
  }
  if (s.method !== 'fit') {
    const inferred = [values.width1 === undefined ? '--width1' : null, values.width2 === undefined ? '--width2' : null].filter((w) => w !== null);
    if (inferred.length > 0) {
      const why = [
        values.width1 === undefined ? 'm0 from the gradients\' spectrum' : null,
        values.width2 === undefined ? `m1 from the entangled weights${model === 'general' ? ', units with no contribution pruned' : ''}` : null,
      ].filter((w) => w !== null);
      choices.push({ option: inferred.join(', '), value: 'inferred', why: why.join('; ') });
    }
  }
  methodChoice();
  return { values, model, activationSource, choices };
}

/**
 * The black box to identify, through openOracleFromSpec (its adapter table, the budget, the
 * query store and its check): `--network FILE` (an in-process network, the short form: stored
 * only with --store) or `--oracle SPEC` (a .json network, an ONNX model, an HTTP endpoint).
 * Only a network file gives a truth to score against and activations to default to.
 */
async function openSource(values: Values, io: { err: (line: string) => void }): Promise<Source> {
  const maxQueries = optionalInt(values, 'max-queries', 0);
  const storeOption = values.store as string | undefined;
  if (values.network !== undefined && values.oracle !== undefined) throw new UsageError('give --network or --oracle, not both');
  if (values['no-store'] && storeOption !== undefined) throw new UsageError('give --store or --no-store, not both');
  const byNetwork = values.oracle === undefined;
  const spec = byNetwork ? stringOption(values, 'network') : String(values.oracle);
  const adapter = byNetwork ? ORACLE_ADAPTERS.find((a) => a.kind === 'network') : findAdapter(spec);
  if (!adapter) throw new UsageError(`--oracle must be ${specKinds()}, got '${redactUrl(spec)}'`);
  const storeDir = values['no-store'] ? undefined : (storeOption ?? (!byNetwork && adapter.storeByDefault ? '.nnid-store' : undefined));
  if (storeDir !== undefined && storeDir.trim() === '') throw new UsageError('--store must name a directory');
  const inputDim = optionalInt(values, 'input-dim');
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (String(values.timeout).trim() === '' || !Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout must be a number of seconds > 0, got '${String(values.timeout)}'`);
    timeoutMs = Math.max(1, Math.round(seconds * 1000));
  }
  const retries = optionalInt(values, 'retries', 0);
  // a network file of either format: a v2 one answers through the general form's black box
  const file = adapter.kind === 'network' ? readNetworkAny(spec) : null;
  const general = file?.format === 'nnid.network/v2' ? file.general : null;
  const adapters = general ? ORACLE_ADAPTERS.map((a) => (a.kind === 'network' ? { ...a, open: async () => generalBlackBox(general) } : a)) : undefined;
  const oracle: SpecOracle = await openOracleFromSpec(spec, {
    ...(adapters ? { adapters } : {}),
    kind: adapter.kind,
    // an http(s) endpoint may answer k numbers per row: k announced, or learnt from one row (paid)
    ...(adapter.kind === 'http' || adapter.kind === 'onnx' ? { outputs: 'many' as const } : {}),
    token: values['oracle-token'] as string | undefined,
    maxQueries,
    storeDir,
    inputDim,
    timeoutMs,
    retries,
    http: {
      onRetry: (r) => {
        if (!values.quiet) io.err(`oracle: ${r.reason}; retry ${r.attempt} in ${r.delayMs} ms`);
      },
    },
  }).catch(storeErrorAsUsage);
  const truth = file?.format === 'nnid.network/v1' ? file.network : null;
  return {
    oracle,
    truth,
    truthGeneral: general,
    activation: file?.general.activation ?? null,
    description: {
      kind: adapter.kind,
      spec: oracle.shownSpec,
      identity: oracle.identity,
      store: storeDir ?? null,
      storeCheck: oracle.storeCheck,
      maxQueries: maxQueries ?? null,
    },
  };
}

/** --method (pipeline, fit or auto) and the options that go with it, checked before any query. */
function methodOption(values: Values): 'pipeline' | 'fit' | 'auto' {
  const method = values.method === undefined ? 'pipeline' : String(values.method);
  if (method !== 'pipeline' && method !== 'fit' && method !== 'auto') throw new UsageError(`--method must be one of pipeline, fit, auto, got '${method}'`);
  if (method === 'auto') {
    if (values['no-refine']) throw new UsageError('--no-refine is an option of --method pipeline');
    if (values.report !== undefined) throw new UsageError('--report is an option of --method pipeline');
    if (values.starts !== undefined) intOption(values, 'starts', 3);
    heldOutOption(values);
  }
  if (method === 'pipeline' && values.method !== undefined && values.starts !== undefined) throw new UsageError('--starts is an option of --method fit');
  if (values.method !== undefined && method !== 'auto' && values['held-out'] !== undefined) throw new UsageError('--held-out is an option of --method auto');
  if (method === 'fit') {
    if (values.width1 === undefined || values.width2 === undefined) throw new UsageError('--method fit needs --width1 and --width2 (the student network\'s shape)');
    if (values['no-refine']) throw new UsageError('--no-refine is an option of --method pipeline');
    if (values.report !== undefined) throw new UsageError('--report is an option of --method pipeline');
    intOption(values, 'starts', 3);
  }
  return method;
}

/** The noise probe of --method fit: its rows and the sigma it measured (0: the answers read as exact). */
interface FitNoise {
  sigma: number;
  queries: number;
}

/**
 * --method fit on an ONNX model or an endpoint: identify's noise stage first (45 rows, within
 * --max-queries), so that the fit's check follows the black box's noise as the pipeline's does (a
 * float32 model's fit within its own rounding passes instead of failing at 1e-9). A network file
 * answers in float64: no probe (null). A k-output source is probed on its first output.
 */
async function fitNoise(source: Oracle | MultiOutputSource, kind: unknown, seed: number): Promise<FitNoise | null> {
  if (kind !== 'onnx' && kind !== 'http') return null;
  if ('counts' in source) {
    const probe = await probeNoise(source, seed);
    return { sigma: probe.sigma, queries: probe.queries };
  }
  const k = source.outputs;
  const first = createOracle({
    inputDim: source.inputDim,
    identity: 'noise probe: output 0',
    async evaluate(inputs) {
      const raw = await source.evaluate(inputs);
      const Y = raw instanceof Float64Array ? raw : toDense(raw).data;
      return Float64Array.from({ length: Y.length / k }, (_, r) => Y[r * k]);
    },
  });
  const probe = await probeNoise(first, seed);
  return { sigma: probe.sigma, queries: first.counts().total };
}

/** The fit's report with the noise probe's rows counted in its queries (they were asked before its data). */
function withNoiseRows<R extends { queries: { total: number; paid: number; multipleOfP: number; numbersReceived: number }; parameterCount: number }>(report: R, noise: FitNoise | null, k: number): R & { noise?: FitNoise } {
  if (!noise) return report;
  const total = report.queries.total + noise.queries;
  return { ...report, noise, queries: { ...report.queries, total, paid: report.queries.paid + noise.queries, multipleOfP: total / report.parameterCount, numbersReceived: report.queries.numbersReceived + noise.queries * k } };
}

/**
 * --method fit: the student fit (@nnid/student-fit) on the same oracle, budget and store; the data
 * are all of --max-queries (less what a store check paid), else 5 P. Writes the same result file.
 */
async function runFit(
  values: Values,
  io: { out: (line: string) => void; err: (line: string) => void },
  s: Omit<Source, 'activation'> & { activation: { layer1: ActivationName; layer2: ActivationName }; activationSource: string; defaults?: DefaultChoice[]; seed: number; threads: number; out: string },
): Promise<number> {
  const maxQueries = optionalInt(values, 'max-queries', 0);
  const bar = progressBar('fit', { quiet: Boolean(values.quiet) });
  let result;
  let noise: FitNoise | null = null;
  try {
    noise = await fitNoise(s.oracle, s.description.kind, s.seed);
    const dataPoints = maxQueries === undefined ? undefined : maxQueries - s.oracle.counts().paid;
    result = await studentFit(s.oracle, {
      ...(noise ? { noise: noise.sigma } : {}),
      width1: intOption(values, 'width1'),
      width2: intOption(values, 'width2'),
      activation: s.activation,
      seed: s.seed,
      threads: s.threads,
      starts: intOption(values, 'starts', 3),
      ...(dataPoints !== undefined ? { dataPoints: Math.max(1, dataPoints) } : {}),
      onProgress: (e) => bar.update(e.done, e.total, `start ${e.start}: residual ${e.relativeResidual.toExponential(1)}`),
    });
  } catch (e) {
    storeErrorAsUsage(e);
  } finally {
    bar.done();
    await s.oracle.close();
  }
  const fitReport = withNoiseRows(result.report, noise, 1);
  const report: Record<string, unknown> = { ...fitReport, activationSource: s.activationSource, defaults: s.defaults ?? [], oracle: s.description };
  if (s.truth) report.score = { fit: score(s.truth, result.network) };
  writeOutput({ flag: '--out', path: s.out }, networkText({ ...serializeNetwork(result.network), report }));
  const q = fitReport.queries;
  const check = result.report.check;
  io.out(
    `fitted m0 = ${result.network.width1}, m1 = ${result.network.width2} (student fit, start ${check.passed ? result.report.chosenStart : `${result.report.chosenStart}, the best`} of ${result.report.starts.length} run) from ${q.total} queries (${q.multipleOfP.toFixed(1)} P` +
      `${q.reused > 0 ? `; ${q.paid} paid, ${q.reused} from the store` : ''}) in ${result.report.seconds.total.toFixed(2)} s on ${result.report.threads} thread(s); wrote ${s.out}`,
  );
  for (const w of result.report.warnings) io.err(`warning: ${w}`);
  return checkLines(io, check);
}

/**
 * --method fit --model general: the student fit of every weight and bias (studentFitGeneral) on an
 * Oracle (k = 1: budget and store as runFit's) or a v2 file's k outputs in process; the result in v2.
 */
async function runFitGeneral(
  values: Values,
  io: { out: (line: string) => void; err: (line: string) => void },
  s: { source: Oracle | MultiOutputSource; close: () => Promise<void>; truth: GeneralNetwork | null; description: Record<string, unknown>; activation: { layer1: ActivationName; layer2: ActivationName }; activationSource: string; defaults?: DefaultChoice[]; seed: number; threads: number; out: string },
): Promise<number> {
  const maxQueries = optionalInt(values, 'max-queries', 0);
  const bar = progressBar('fit', { quiet: Boolean(values.quiet) });
  let result;
  let noise: FitNoise | null = null;
  try {
    noise = await fitNoise(s.source, s.description.kind, s.seed);
    // the rows paid before the fit's data: a store check's, and the noise probe's
    const paid = 'counts' in s.source ? s.source.counts().paid : (noise?.queries ?? 0);
    const dataPoints = maxQueries === undefined ? undefined : Math.max(1, maxQueries - paid);
    result = await studentFitGeneral(s.source, {
      ...(noise ? { noise: noise.sigma } : {}),
      width1: intOption(values, 'width1'),
      width2: intOption(values, 'width2'),
      activation: s.activation,
      seed: s.seed,
      threads: s.threads,
      starts: intOption(values, 'starts', 3),
      ...(dataPoints !== undefined ? { dataPoints, maxQueries: dataPoints } : {}),
      onProgress: (e) => bar.update(e.done, e.total, `start ${e.start}: residual ${e.relativeResidual.toExponential(1)}`),
    });
  } catch (e) {
    storeErrorAsUsage(e);
  } finally {
    bar.done();
    await s.close();
  }
  const fitReport = withNoiseRows(result.report, noise, result.network.outputs);
  const report: Record<string, unknown> = { ...fitReport, activationSource: s.activationSource, defaults: s.defaults ?? [], oracle: s.description };
  if (s.truth) report.score = { fit: scoreGeneral(s.truth, result.network) };
  writeOutput({ flag: '--out', path: s.out }, networkText({ ...serializeNetworkV2(result.network), report }));
  const q = fitReport.queries;
  const check = result.report.check;
  const k = result.network.outputs;
  io.out(
    `fitted m0 = ${result.network.width1}, m1 = ${result.network.width2}, k = ${k} (student fit, general model, start ${check.passed ? result.report.chosenStart : `${result.report.chosenStart}, the best`} of ${result.report.starts.length} run) from ${q.total} queries (${q.multipleOfP.toFixed(1)} P` +
      `${k > 1 ? `; ${q.numbersReceived} numbers received` : ''}${q.reused > 0 ? `; ${q.paid} paid, ${q.reused} from the store` : ''}) in ${result.report.seconds.total.toFixed(2)} s on ${result.report.threads} thread(s); wrote ${s.out}`,
  );
  for (const w of result.report.warnings) io.err(`warning: ${w}`);
  return checkLines(io, check);
}

/** --method fit on a v2 file with k > 1 outputs: the general student fit in process (no store), the result in v2. */
async function runFitOutputs(
  values: Values,
  io: { out: (line: string) => void; err: (line: string) => void },
  s: { truth: GeneralNetwork; model?: string; seed: number; threads: number; out: string; defaults?: DefaultChoice[] },
): Promise<number> {
  const net = s.truth;
  const k = net.outputs;
  if (s.model === 'paper') throw new UsageError(`a network with k = ${k} outputs is fitted as --model general only`);
  if (values.store !== undefined) throw new UsageError(`--store is not available for a network with k = ${k} outputs (it runs in process)`);
  const activation = values.activation !== undefined ? parseActivation(values.activation as string) : net.activation;
  const source: MultiOutputSource = { inputDim: net.inputDim, outputs: k, evaluate: async (x) => evaluateGeneral(net, x) };
  const description = { kind: 'network', spec: String(values.network ?? values.oracle), outputs: k, maxQueries: optionalInt(values, 'max-queries', 0) ?? null };
  return runFitGeneral(values, io, { source, close: async () => {}, truth: net, description, activation, activationSource: values.activation !== undefined ? 'option' : 'network file', defaults: s.defaults, seed: s.seed, threads: s.threads, out: s.out });
}

/**
 * --method auto: identifyAuto of @nnid/pipeline (the fit below the pipeline's floor, else the
 * pipeline, then the fit on the answers paid when its check fails). Writes the same result file;
 * report.method says what ran, in which order, why.
 */
async function runAuto(
  io: { out: (line: string) => void; err: (line: string) => void },
  s: {
    oracle: Oracle;
    truth: Network | null;
    /** A v2 file's network (model 'general'), else null. */
    truthGeneral: GeneralNetwork | null;
    model: IdentifyModel;
    description: Record<string, unknown>;
    activation: { layer1: ActivationName; layer2: ActivationName } | 'auto';
    activationSource: string;
    defaults: DefaultChoice[];
    seed: number;
    threads: number;
    out: string;
    width1?: number;
    width2?: number;
    maxQueries?: number;
    starts?: number;
    heldOut?: number;
    quiet: boolean;
  },
): Promise<number> {
  const progress = stageProgress({ quiet: s.quiet });
  let result;
  try {
    result = await identifyAuto(s.oracle, {
      ...(s.width1 !== undefined ? { width1: s.width1 } : {}),
      ...(s.width2 !== undefined ? { width2: s.width2 } : {}),
      ...(s.maxQueries !== undefined ? { maxQueries: s.maxQueries } : {}),
      ...(s.starts !== undefined ? { fitStarts: s.starts } : {}),
      ...(s.heldOut !== undefined ? { heldOutPoints: s.heldOut } : {}),
      model: s.model,
      activation: s.activation,
      seed: s.seed,
      threads: s.threads,
      onProgress: (e) => progress.update(e),
    });
  } catch (e) {
    storeErrorAsUsage(e);
  } finally {
    progress.done();
    await s.oracle.close();
  }
  const report: Record<string, unknown> = { ...result.report, activationSource: s.activationSource, defaults: s.defaults ?? [], oracle: s.description };
  // the fit chosen after the pipeline's check failed: the pipeline's own answer kept beside it (as the default's writeAutoFit)
  const p = result.pipeline;
  if (result.report.method.chosen === 'fit' && p) report.pipelineNetwork = p.networkGeneral ? serializeNetworkV2(p.networkGeneral) : serializeNetwork(p.network);
  if (s.truthGeneral && result.networkGeneral) {
    report.score = { afterRefinement: scoreGeneral(s.truthGeneral, result.networkGeneral) };
  } else if (s.truth) {
    report.score = {
      ...(result.pipeline ? { beforeRefinement: score(s.truth, result.pipeline.networkBeforeRefinement) } : {}),
      afterRefinement: score(s.truth, result.network),
    };
  }
  // model 'general': the general network in nnid.network/v2
  const written = result.networkGeneral ? serializeNetworkV2(result.networkGeneral) : serializeNetwork(result.network);
  writeOutput({ flag: '--out', path: s.out }, networkText({ ...written, report }));
  const q = result.report.queries;
  const m = result.report.method;
  io.out(
    `identified m0 = ${(result.networkGeneral ?? result.network).width1}, m1 = ${(result.networkGeneral ?? result.network).width2} by ${m.chosen} (method auto: ${triesText(m)}) from ${q.total} queries` +
      `${q.multipleOfP !== null ? ` (${q.multipleOfP.toFixed(1)} P)` : ''}${q.reused > 0 ? `; ${q.paid} paid, ${q.reused} from memory or the store` : ''} in ${result.report.seconds.total.toFixed(2)} s on ${s.threads} thread(s); wrote ${s.out}`,
  );
  methodLines(io, m);
  for (const w of result.report.warnings) io.err(`warning: ${w}`);
  const check = result.report.check;
  io.out(`truth-free check: relative residual ${check.relativeResidual?.toExponential(2)} (threshold ${thresholdText(check.threshold)}): ${check.passed ? 'passed' : 'FAILED'}`);
  const search = result.pipeline?.report.activationSearch;
  if (search) io.out(searchLine(search));
  return check.passed ? 0 : 1;
}

/**
 * A v2 network file with k > 1 outputs (in process), or an ONNX model answering k > 1 numbers per
 * row (`box`): identifyOutputs on it (no store), the result in v2.
 */
async function runOutputs(
  values: Values,
  io: { out: (line: string) => void; err: (line: string) => void },
  s: { truth: GeneralNetwork | null; box?: MultiOutputBlackBox & { close(): Promise<void> }; width1?: number; width2?: number; seed: number; threads: number; refine: boolean; method: string; continueFit?: boolean; model?: string; oracle?: { description: Record<string, unknown>; paidAtOpen: number; counts(): { total: number; paid: number; reused: number } }; out: string; activationSource?: string; defaults?: DefaultChoice[] },
): Promise<number> {
  const k = s.box ? s.box.outputs : s.truth!.outputs;
  if (!s.refine || s.method === 'fit' || s.model === 'paper') throw new UsageError(`a network with k = ${k} outputs is identified as --model general only (with refinement, not --method fit)`);
  if (values.store !== undefined && !s.oracle) throw new UsageError(`--store is not available for a ${s.box ? 'model' : 'network'} with k = ${k} outputs (${s.box ? 'answers of k numbers are not stored yet' : 'it runs in process'})`);
  const maxQueriesGiven = optionalInt(values, 'max-queries', 0);
  const maxQueries = maxQueriesGiven === undefined || !s.oracle ? maxQueriesGiven : Math.max(1, maxQueriesGiven - s.oracle.paidAtOpen);
  const auto = values.activation !== undefined && String(values.activation).trim() === 'auto';
  const activation = auto ? ('auto' as const) : values.activation !== undefined ? parseActivation(values.activation as string) : s.truth!.activation;
  const net = s.truth;
  const source: MultiOutputBlackBox = s.box ?? { inputDim: net!.inputDim, outputs: k, identity: `v2-file:${String(values.network ?? values.oracle)}`, evaluate: async (x) => evaluateGeneral(net!, x) };
  let result;
  // method auto (the default for these black boxes): identifyOutputs as alone, then the fit when its check fails
  let autoRun: Awaited<ReturnType<typeof identifyAutoOutputs>> | null = null;
  const progress = stageProgress({ quiet: Boolean(values.quiet) });
  try {
    const options = {
      ...(s.width1 !== undefined ? { width1: s.width1 } : {}),
      ...(s.width2 !== undefined ? { width2: s.width2 } : {}),
      ...(maxQueries !== undefined ? { maxQueries } : {}),
      activation,
      seed: s.seed,
      threads: s.threads,
      onProgress: (e: IdentifyProgress) => progress.update(e),
    };
    if (s.continueFit) {
      autoRun = await identifyAutoOutputs(source, { ...options, pipelineAsIdentify: true, ...(values.starts !== undefined ? { fitStarts: intOption(values, 'starts', 6) } : {}), ...heldOutOption(values) });
      result = autoRun.pipeline;
    } else {
      result = await identifyOutputs(source, options);
    }
  } finally {
    progress.done();
    await s.box?.close();
  }
  if (autoRun && autoRun.report.method.chosen === 'fit') {
    const report = { ...autoRun.report, pipelineNetwork: serializeNetworkV2(autoRun.pipeline.network), activationSource: s.activationSource ?? 'option', defaults: s.defaults ?? [], ...(s.oracle ? { oracle: { ...s.oracle.description, queries: s.oracle.counts() } } : s.box ? { oracle: { kind: 'onnx', spec: String(values.oracle), identity: s.box.identity, outputs: k } } : {}), ...(net ? { score: { afterRefinement: scoreGeneral(net, autoRun.network) } } : {}) };
    writeOutput({ flag: '--out', path: s.out }, networkText({ ...serializeNetworkV2(autoRun.network), report }));
    const q = autoRun.report.queries;
    methodOutLines(io, autoRun.report.method, autoRun.network, { total: q.rows, paid: q.rows, reused: 0, multipleOfP: q.multipleOfP }, autoRun.report.seconds.total, s.threads, s.out, (autoRun.pipeline.report.identify as { activationSearch?: ActivationSearchReport }).activationSearch);
    return checkLines(io, autoRun.report.check);
  }
  // method auto: the network it returned (the pipeline's, shrunk where units near-copied others), its check with the held-out verdict
  const found = autoRun ? autoRun.network : result.network;
  const check = autoRun ? withAutoCheck(result.report.check, autoRun.report.check) : result.report.check;
  // method auto: the run's rows in all (the fit's, the held-out check's), the pipeline's in report.method
  const report = { ...result.report, check, ...(autoRun ? { method: autoRun.report.method, queries: { rows: autoRun.report.queries.rows, numbersReceived: autoRun.report.queries.numbersReceived }, multipleOfP: autoRun.report.queries.multipleOfP } : {}), activationSource: s.activationSource ?? 'option', defaults: s.defaults ?? [], ...(s.oracle ? { oracle: { ...s.oracle.description, queries: s.oracle.counts() } } : s.box ? { oracle: { kind: 'onnx', spec: String(values.oracle), identity: s.box.identity, outputs: k } } : {}), ...(net ? { score: { afterRefinement: scoreGeneral(net, found) } } : {}) };
  writeOutput({ flag: '--out', path: s.out }, networkText({ ...serializeNetworkV2(found), report }));
  const q = result.report.queries;
  const stored = s.oracle?.counts();
  const fromStore = stored && stored.reused > 0 ? `; ${stored.paid} paid, ${stored.reused} from the store, checked by asking ${(s.oracle!.description.storeCheck as { paid?: number } | null)?.paid ?? 0} again` : '';
  // method auto: every row the run asked (the fit's, the held-out check's), not the pipeline's alone
  const rows = autoRun ? autoRun.report.queries.rows : q.rows;
  const P = q.rows / result.report.multipleOfP;
  io.out(`identified m0 = ${found.width1}, m1 = ${found.width2}, k = ${k} from ${rows} queries (${(rows / P).toFixed(1)} P; ${rows * k} numbers received${fromStore}) on ${s.threads} thread(s); wrote ${s.out}`);
  const code = checkLines(io, check);
  const search = (result.report.identify as { activationSearch?: ActivationSearchReport }).activationSearch;
  if (search) io.out(searchLine(search));
  if (autoRun && autoRun.report.method.tried.length > 1) methodLines(io, autoRun.report.method);
  return code;
}

/** method auto's tries: one line each on stderr after the pipeline's (what ran, why, its residual). */
function methodLines(io: { err: (line: string) => void }, m: MethodReport): void {
  for (const t of m.tried) {
    if (!t.activation) {
      io.err(`method auto: ${t.method}${t.stage ? ` ${t.stage}` : ''}: ${t.why}${t.error ? ` (stopped: ${t.error})` : ''}`);
      continue;
    }
    // a fit after the pipeline: its stage, pair, widths and outcome first
    const outcome = t.error ? `stopped: ${t.error}` : t.relativeResidual === null ? 'not run' : `residual ${t.relativeResidual.toExponential(2)} ${t.passed ? 'passed' : 'failed'}`;
    const shrunk = t.shrunk ? `; ${t.shrunk.layer1 ? `m0 ${t.shrunk.layer1.from} -> ${t.shrunk.layer1.to}, ` : ''}m1 ${t.shrunk.from} -> ${t.shrunk.to} (${t.shrunk.relativeResidual.toExponential(2)}): ${t.shrunk.why}` : '';
    const cpu = t.cpuSeconds !== undefined ? `, ${t.cpuSeconds.toFixed(1)} CPU s` : '';
    io.err(`method auto: fit${t.stage ? ` ${t.stage}` : ''} ${t.activation.layer1}/${t.activation.layer2} (${t.widths!.width1}, ${t.widths!.width2}): ${outcome}${cpu}${shrunk}; ${t.why}`);
  }
}

/** The tries in the identified line: each in order, the continuation's screens counted in one entry. */
function triesText(m: MethodReport): string {
  const one = (t: MethodReport['tried'][number]) => `${t.method}${t.activation ? ` ${t.activation.layer1}/${t.activation.layer2}${t.stage ? ` (${t.widths!.width1}, ${t.widths!.width2})` : ''}` : ''} ${t.passed ? 'passed' : t.error ? 'stopped' : t.relativeResidual === null ? 'not run' : 'failed'}`;
  const parts: string[] = [];
  const screens = m.tried.filter((t) => t.stage === 'screen' && t.activation);
  for (const t of m.tried) {
    if (t.stage === 'screen' && t.activation) {
      if (t === screens[0]) {
        const widths = [...new Set(screens.map((x) => x.widths!.width2))];
        const pairs = new Set(screens.map((x) => `${x.activation!.layer1}/${x.activation!.layer2}`));
        const passed = screens.find((x) => x.passed);
        parts.push(`fit screened ${screens.length} (m1 in ${widths.join(', ')} x ${pairs.size} pair${pairs.size === 1 ? '' : 's'})${passed ? `, ${one(passed).slice(4)}` : ''}`);
      }
      continue;
    }
    parts.push(one(t));
  }
  return parts.join(', then ');
}

/**
 * The default method auto after the pipeline's check failed and the fit was chosen: the fit's
 * network (v2 for the general model) with identifyAuto's report (the pipeline's under
 * report.pipeline), the identified line naming both.
 */
function writeAutoFit(
  values: Values,
  io: { out: (line: string) => void; err: (line: string) => void },
  s: { auto: IdentifyAutoResult; truth: Network | null; truthGeneral: GeneralNetwork | null; activationSource: string; defaults: DefaultChoice[]; description: Record<string, unknown>; out: string; threads: number },
): number {
  const { auto } = s;
  const report: Record<string, unknown> = { ...auto.report, activationSource: s.activationSource, defaults: s.defaults, oracle: s.description };
  // the pipeline's own answer (its check failed), kept beside the fit's
  const p = auto.pipeline;
  if (p) report.pipelineNetwork = p.networkGeneral ? serializeNetworkV2(p.networkGeneral) : serializeNetwork(p.network);
  if (s.truthGeneral && auto.networkGeneral) report.score = { afterRefinement: scoreGeneral(s.truthGeneral, auto.networkGeneral) };
  else if (s.truth && !auto.networkGeneral) report.score = { afterRefinement: score(s.truth, auto.network) };
  const written = auto.networkGeneral ? serializeNetworkV2(auto.networkGeneral) : serializeNetwork(auto.network);
  writeOutput({ flag: '--out', path: s.out }, networkText({ ...written, report }));
  if (values.report !== undefined) io.err(`warning: --report: not written (the network is the student fit's; its report is in ${s.out})`);
  methodOutLines(io, auto.report.method, (auto.networkGeneral ?? auto.network) as { width1: number; width2: number }, auto.report.queries, auto.report.seconds.total, s.threads, s.out, auto.pipeline?.report.activationSearch);
  return checkLines(io, auto.report.check);
}

/** The pipeline's check as method auto judged its returned network: that network's residual, the verdict with the held-out check's. */
function withAutoCheck<C extends { relativeResidual: number | null }>(pipeline: C, auto: { relativeResidual: number | null; passed: boolean; heldOut?: HeldOutCheck }): C & { passed: boolean; heldOut?: HeldOutCheck } {
  return { ...pipeline, relativeResidual: auto.relativeResidual ?? pipeline.relativeResidual, passed: auto.passed, ...(auto.heldOut ? { heldOut: auto.heldOut } : {}) };
}

/** --held-out N as identifyAuto's heldOutPoints (absent: its default). */
function heldOutOption(values: Values): { heldOutPoints?: number } {
  return values['held-out'] === undefined ? {} : { heldOutPoints: intOption(values, 'held-out', 0, 0) };
}

/**
 * The truth-free check's line, then the held-out check's where it ran (method auto: only on a
 * network that passed on its own data); the exit code: 1 when either failed.
 */
function checkLines(io: { out: (line: string) => void }, check: { relativeResidual: number | null; threshold: number; passed: boolean | null; heldOut?: HeldOutCheck | undefined }): number {
  const own = check.heldOut ? true : check.passed;
  if (own !== null) io.out(`truth-free check: relative residual ${check.relativeResidual?.toExponential(2)} (threshold ${thresholdText(check.threshold)}): ${own ? 'passed' : 'FAILED'}`);
  if (check.heldOut) io.out(heldOutText(check.heldOut));
  return check.passed === false ? 1 : 0;
}

/** The identified line of a fit chosen by method auto, and the activation search's line. */
function methodOutLines(
  io: { out: (line: string) => void; err: (line: string) => void },
  m: MethodReport,
  net: { width1: number; width2: number },
  q: { total: number; paid: number; reused: number; multipleOfP: number | null },
  seconds: number,
  threads: number,
  out: string,
  search: ActivationSearchReport | undefined,
): void {
  const chosenTry = m.tried.find((t) => t.method === 'fit' && t.passed) ?? m.tried.filter((t) => t.method === 'fit' && t.relativeResidual !== null).sort((a, b) => a.relativeResidual! - b.relativeResidual!)[0];
  const pair = chosenTry?.activation ? ` ${chosenTry.activation.layer1}/${chosenTry.activation.layer2}` : '';
  io.out(
    `identified m0 = ${net.width1}, m1 = ${net.width2} by the student fit${pair} after the pipeline's check failed (method auto: ${triesText(m)}) from ${q.total} queries` +
      `${q.multipleOfP !== null ? ` (${q.multipleOfP.toFixed(1)} P)` : ''}${q.reused > 0 ? `; ${q.paid} paid, ${q.reused} from memory or the store` : ''} in ${seconds.toFixed(2)} s on ${threads} thread(s); wrote ${out}`,
  );
  if (search) io.out(searchLine(search));
  methodLines(io, m);
}

/** --activation auto's outcome in one line: the pair chosen (or none) and every full candidate's residual. */
function searchLine(search: ActivationSearchReport): string {
  const tried = search.candidates.filter((c) => c.relativeResidual !== null).map((c) => `${c.layer1}/${c.layer2} ${c.relativeResidual!.toExponential(2)}`);
  return search.chosen
    ? `activation auto: ${search.chosen.layer1}/${search.chosen.layer2} (residuals: ${tried.join(', ')})`
    : `activation auto: no candidate pair passed the check (residuals: ${tried.join(', ')})`;
}

export const command: Command = {
  name: 'identify',
  summary: 'identify the weights of a network from queries alone (the paper\'s pipeline, then refinement)',
  help,
  options: {
    network: { type: 'string' },
    oracle: { type: 'string' },
    'oracle-token': { type: 'string' },
    'input-dim': { type: 'string' },
    timeout: { type: 'string' },
    retries: { type: 'string' },
    store: { type: 'string' },
    'no-store': { type: 'boolean' },
    'max-queries': { type: 'string' },
    'max-memory': { type: 'string' },
    out: { type: 'string' },
    report: { type: 'string' },
    seed: { type: 'string' },
    width1: { type: 'string' },
    width2: { type: 'string' },
    activation: { type: 'string' },
    threads: { type: 'string' },
    'no-refine': { type: 'boolean' },
    model: { type: 'string' },
    method: { type: 'string' },
    starts: { type: 'string' },
    'held-out': { type: 'string' },
    quiet: { type: 'boolean' },
  },
  async run(values: Values, io) {
    if (values.network === undefined && values.oracle === undefined) throw new UsageError('missing required option --network (or --oracle)');
    const out = stringOption(values, 'out');
    // before the black box is opened: no query is paid for a result that cannot be written
    checkOutputs(
      [{ flag: '--out', path: out }, ...(values.report !== undefined ? [{ flag: '--report', path: String(values.report) }] : [])],
      [
        ...(values.network !== undefined ? [{ flag: '--network', path: String(values.network) }] : []),
        ...(values.oracle !== undefined && oracleKind(String(values.oracle)) !== 'http' ? [{ flag: '--oracle', path: String(values.oracle) }] : []),
      ],
    );
    const seed = intOption(values, 'seed', 0, 0);
    const width1 = optionalInt(values, 'width1');
    const width2 = optionalInt(values, 'width2');
    if (width1 !== undefined && width2 !== undefined && width2 > width1) {
      throw new UsageError(`--width2 must be <= --width1 (${width1}), got '${width2}'`);
    }
    const threads = intOption(values, 'threads', availableParallelism());
    const refine = !values['no-refine'];
    const methodGiven = methodOption(values);
    const maxMemory = values['max-memory'] === undefined ? undefined : parseMemorySize(String(values['max-memory']));
    if (maxMemory !== undefined && methodGiven !== 'pipeline') throw new UsageError('--max-memory is an option of --method pipeline');
    const modelGiven = values.model === undefined ? undefined : String(values.model);
    if (modelGiven !== undefined && modelGiven !== 'paper' && modelGiven !== 'general') throw new UsageError(`--model must be one of paper, general, got '${modelGiven}'`);
    // a v2 file with k > 1 outputs: identifyOutputs (one projection identified, then all k fitted), in process
    const specFile = values.network !== undefined ? String(values.network) : oracleKind(String(values.oracle)) === 'network' ? String(values.oracle) : null;
    const anyFile = specFile !== null ? readNetworkAny(specFile) : null;
    // --method not given, a black box that is not a v1 network file: the pipeline as it runs alone,
    // then the student fit when its check fails (identifyAuto's pipelineAsIdentify; BENCHMARKS.md
    // "The default for real black boxes"); the pipeline alone with --no-refine (no fit follows it)
    const autoDefault = values.method === undefined && refine && anyFile?.format !== 'nnid.network/v1';
    if (!autoDefault && values.method === undefined && values.starts !== undefined) throw new UsageError('--starts is an option of --method fit');
    if (!autoDefault && values.method === undefined && values['held-out'] !== undefined) throw new UsageError('--held-out is an option of --method auto (the default for every black box but a v1 network file)');
    if (autoDefault) heldOutOption(values);
    // the default auto runs the pipeline's branch below (its options, lines and file), the fit after it
    const method = methodGiven;
    // the choices made because an option was not given: one line now, before any query, and report.defaults
    const chosen = defaultChoices(values, { kind: values.oracle !== undefined ? oracleKind(String(values.oracle)) : 'network', file: anyFile, method, refine, autoDefault });
    values = chosen.values;
    const activationSource = chosen.activationSource;
    const defaults = chosen.choices;
    // a network file's own format and activations are not news to its user: in the report only
    const shown = defaults.filter((c) => !c.fromFile);
    if (shown.length > 0) io.out(`defaults: ${shown.map((c) => `${c.option} ${c.value} (${c.why})`).join('; ')}`);
    if (anyFile && anyFile.general.outputs > 1 && method === 'fit') return runFitOutputs(values, io, { truth: anyFile.general, model: modelGiven, seed, threads, out, defaults });
    const continueFit = autoDefault || method === 'auto';
    if (anyFile && anyFile.general.outputs > 1) return runOutputs(values, io, { truth: anyFile.general, width1, width2, seed, threads, refine, method, continueFit, model: modelGiven, out, activationSource, defaults });
    // an ONNX model whose graph nnid reads and cannot identify (ReLU, Softmax, ...): one line before any query
    if (values.oracle !== undefined && oracleKind(String(values.oracle)) === 'onnx') await refuseUnidentifiableOnnx(String(values.oracle));
    // an ONNX model answering k > 1 numbers per row: identifyOutputs as for a v2 file (with --store: through openSource below)
    if (values.oracle !== undefined && oracleKind(String(values.oracle)) === 'onnx' && values.store === undefined) {
      const inputDim = optionalInt(values, 'input-dim');
      const box = await onnxBlackBox(String(values.oracle), { outputs: 'many', ...(inputDim !== undefined ? { inputDim } : {}) });
      if (box.outputs > 1) {
        const multi = { inputDim: box.inputDim, outputs: box.outputs, identity: box.identity, evaluate: (x: Parameters<typeof box.evaluateOutputs>[0]) => box.evaluateOutputs(x), close: () => box.close() };
        if (method === 'fit') {
          // the student fit of every weight and bias on the model's k outputs (its answers not stored)
          if (modelGiven === 'paper' || values.store !== undefined) {
            await box.close();
            throw new UsageError(modelGiven === 'paper' ? `a model with k = ${box.outputs} outputs is fitted as --model general only` : `--store is not available for a model with k = ${box.outputs} outputs (answers of k numbers are not stored yet)`);
          }
          const description = { kind: 'onnx', spec: String(values.oracle), identity: box.identity, outputs: box.outputs, maxQueries: optionalInt(values, 'max-queries', 0) ?? null };
          return runFitGeneral(values, io, { source: multi, close: () => box.close(), truth: null, description, activation: parseActivation(values.activation as string), activationSource, defaults, seed, threads, out });
        }
        return runOutputs(values, io, { truth: null, box: multi, width1, width2, seed, threads, refine, method, continueFit, model: modelGiven, out, activationSource, defaults });
      }
      await box.close();
    }
    const { oracle, truth, truthGeneral, activation: fileActivation, description } = await openSource(values, io);
    const spec = oracle as SpecOracle;
    if (spec.outputs > 1) {
      // an http(s) endpoint, or an ONNX model with --store, answering k > 1 numbers per row: identifyOutputs through its store (k numbers per row)
      const box = { inputDim: oracle.inputDim, outputs: spec.outputs, identity: oracle.identity, evaluate: (x: Parameters<typeof spec.evaluateOutputs>[0]) => spec.evaluateOutputs(x), close: () => oracle.close() };
      if (method === 'fit') {
        if (modelGiven === 'paper') {
          await oracle.close();
          throw new UsageError(`a black box with k = ${spec.outputs} outputs is fitted as --model general only`);
        }
        const fitDescription = { ...description, outputs: spec.outputs, paidAtOpen: spec.paidAtOpen };
        return runFitGeneral(values, io, { source: box, close: () => oracle.close(), truth: null, description: fitDescription, activation: parseActivation(values.activation as string), activationSource, defaults, seed, threads, out });
      }
      const withK = { description: { ...description, outputs: spec.outputs, paidAtOpen: spec.paidAtOpen }, paidAtOpen: spec.paidAtOpen, counts: () => oracle.counts() };
      return runOutputs(values, io, { truth: null, box, oracle: withK, width1, width2, seed, threads, refine, method, continueFit, model: modelGiven, out, activationSource, defaults });
    }
    const model: IdentifyModel = (modelGiven as IdentifyModel | undefined) ?? chosen.model;
    if (model === 'general' && !refine) {
      await oracle.close();
      throw new UsageError(`--no-refine is not available with --model general (the general form is fitted by the refinement)`);
    }
    if (width1 !== undefined && width1 > oracle.inputDim) {
      await oracle.close();
      throw new UsageError(`--width1 must be <= the input dimension (${oracle.inputDim}), got '${width1}'`);
    }
    if (width1 === undefined && width2 !== undefined && width2 > oracle.inputDim) {
      await oracle.close();
      throw new UsageError(`--width2 must be <= the input dimension (${oracle.inputDim}, the largest first width), got '${width2}'`);
    }
    // --activation auto: every candidate pair tried on the answers paid (identify's activation 'auto')
    const activationAuto = values.activation !== undefined && String(values.activation).trim() === 'auto';
    if (activationAuto && (method === 'fit' || !refine)) {
      await oracle.close();
      throw new UsageError(`--activation auto is available with --method pipeline and refinement only, or --method auto (the candidates are told apart by the refinement's residual)`);
    }
    const activation =
      values.activation !== undefined && !activationAuto ? parseActivation(values.activation as string) : (fileActivation ?? parseActivation(undefined));
    if (method === 'fit' && model === 'general') {
      return runFitGeneral(values, io, { source: oracle, close: () => oracle.close(), truth: truthGeneral, description, activation, activationSource, seed, threads, out, defaults });
    }
    if (method === 'fit') return runFit(values, io, { oracle, truth, truthGeneral, description, activation, activationSource, seed, threads, out, defaults });
    // the budget left after a store check (paid before identify): the plan fits within it
    const maxQueries = optionalInt(values, 'max-queries', 0);
    const budgetLeft = maxQueries === undefined ? undefined : Math.max(1, maxQueries - oracle.counts().paid);
    if (method === 'auto') {
      return runAuto(io, { oracle, truth, truthGeneral, model, description, activation: activationAuto ? 'auto' : activation, activationSource, defaults, seed, threads, out, width1, width2, maxQueries: budgetLeft, starts: values.starts !== undefined ? intOption(values, 'starts', 3) : undefined, heldOut: heldOutOption(values).heldOutPoints, quiet: Boolean(values.quiet) });
    }
    const progress = stageProgress({ quiet: Boolean(values.quiet) });
    // m0 inferred from the gradients is known at the revised plan, before the Hessians: a --width2
    // above it stops the run there (an m1 > m0 network is no nnid.network/v1 file)
    const width2Refused = (m0: number) =>
      new UsageError(`--width2 ${width2} is larger than the first width inferred from the gradients (${m0}): give --width1, or a --width2 <= ${m0}; nothing written to ${out}`);
    const checkWidth2 = (e: IdentifyProgress) => {
      const m0 = (e as { plan?: { widths?: { width1?: number } } }).plan?.widths?.width1;
      if (width2 !== undefined && m0 !== undefined && width2 > m0) throw width2Refused(m0);
    };
    let result;
    // the default method auto: identify as below, then the fit when its check fails (identifyAuto, pipelineAsIdentify)
    let auto: IdentifyAutoResult | null = null;
    try {
      const identifyOptions = {
        ...(width1 !== undefined ? { width1 } : {}),
        ...(width2 !== undefined ? { width2 } : {}),
        activation: activationAuto ? ('auto' as const) : activation,
        seed,
        threads,
        refine,
        model,
        ...(budgetLeft !== undefined ? { maxQueries: budgetLeft } : {}),
        ...(maxMemory !== undefined ? { maxMemory } : {}),
        onProgress: (e: IdentifyProgress) => {
          checkWidth2(e);
          progress.update(e);
        },
      };
      if (autoDefault) {
        auto = await identifyAuto(oracle, { ...identifyOptions, pipelineAsIdentify: true, ...(values.starts !== undefined ? { fitStarts: intOption(values, 'starts', 6) } : {}), ...heldOutOption(values) });
        result = auto.pipeline!;
      } else {
        result = await identify(oracle, identifyOptions);
      }
    } catch (e) {
      storeErrorAsUsage(e);
    } finally {
      progress.done();
      await oracle.close();
    }
    if (auto && auto.report.method.chosen === 'fit') return writeAutoFit(values, io, { auto, truth, truthGeneral, activationSource, defaults, description, out, threads });
    // method auto: the network it returned (the pipeline's, shrunk where units near-copied others), its check with the held-out verdict
    const foundGeneral = auto ? auto.networkGeneral : result.networkGeneral;
    const check = auto ? withAutoCheck(result.report.check, auto.report.check) : result.report.check;
    const report: Record<string, unknown> = {
      ...result.report,
      check,
      activationSource,
      defaults,
      oracle: description,
      ...(auto ? { method: auto.report.method } : {}),
    };
    if (truthGeneral && foundGeneral) {
      report.score = { afterRefinement: scoreGeneral(truthGeneral, foundGeneral) };
    } else if (truth) {
      report.score = {
        beforeRefinement: score(truth, result.networkBeforeRefinement),
        ...(refine ? { afterRefinement: score(truth, result.network) } : {}),
      };
    }
    // never written: a network score and serve refuse (when the pipeline gave no plan to stop at)
    if (!foundGeneral && result.network.width2 > result.network.width1) {
      if (width2 !== undefined) throw width2Refused(result.network.width1);
      throw new UsageError(
        `the second width inferred (${result.network.width2}) is larger than the first (${result.network.width1}): an nnid.network/v1 result needs m1 <= m0; give --width2 <= ${result.network.width1}, or --model general; nothing written to ${out}`,
      );
    }
    // --model general: the general network in nnid.network/v2 (the refinement's; when it failed, still its best)
    const written = foundGeneral ? { ...serializeNetworkV2(foundGeneral), report } : { ...serializeNetwork(result.network), report };
    writeOutput({ flag: '--out', path: out }, networkText(written));
    const q = result.report.queries;
    const storeChecked = (description.storeCheck as { paid?: number } | null)?.paid ?? 0;
    // --activation auto: the candidates' runs answered from the search's memory; the oracle counts what it answered
    const searched = result.report.activationSearch;
    const counts = oracle.counts();
    // --activation auto or method auto: what the oracle answered in all (the fit's, the held-out check's rows too)
    const asked = searched || auto ? counts.total : q.total;
    const fromStore = searched || auto ? counts.total - counts.paid : q.reused;
    const P = q.total / q.multipleOfP;
    io.out(
      `identified m0 = ${(foundGeneral ?? result.network).width1}, m1 = ${(foundGeneral ?? result.network).width2} from ${asked} queries (${(asked / P).toFixed(1)} P` +
        `${fromStore > 0 ? `; ${searched || auto ? counts.paid : q.paid} paid, ${fromStore} from the store${storeChecked > 0 ? `, checked by asking ${storeChecked} again` : ''}` : ''}` +
        `${searched ? `; the activation search's runs answered ${searched.queries.answered} from them` : ''}) ` +
        `in ${result.report.seconds.total.toFixed(2)} s on ${result.report.threads} thread(s); wrote ${out}`,
    );
    const code = checkLines(io, check);
    const search = result.report.activationSearch;
    if (search) io.out(searchLine(search));
    // the fit ran (and was not chosen): what it tried
    if (auto && auto.report.method.tried.length > 1) methodLines(io, auto.report.method);
    if (values.report !== undefined) {
      const { writeRunReport } = await import('./report.ts'); // loads Vega only when asked
      io.out(await writeRunReport(JSON.parse(JSON.stringify(written)), { flag: '--report', path: String(values.report) }));
    }
    return code;
  },
};
