/**
 * baselineFit: the student fit as the baseline beside nnid in a benchmark, in one call. Given a
 * network (the truth, opened as a black box with a budget of floor(budget P) queries) or a black
 * box (an Oracle, or a MultiOutputSource with k outputs), it runs the fit with all of that budget
 * as data and says whether it is exact (relative L2 <= 1e-8 on 10^4 fresh N(0, I_d) points, when
 * the truth is known), its residual on its own data, the check, seconds and queries.
 *
 * @example
 * const b = await baselineFit(truth, { budget: 5, starts: 3, seed: 1, threads: 2 });
 * b.exact; b.relativeL2; b.residual; b.seconds; b.queries.total;
 */
import { checkInteger, checkPositive, invalidArgument, matrix, rng, type ActivationName, type Float64View, type GeneralNetwork, type Network, type Oracle } from '@nnid/core';
import { createOracle, evaluateGeneral, evaluateNetwork, generalBlackBox, networkBlackBox } from '@nnid/oracle';
import { studentFit, studentFitGeneral, type MultiOutputSource, type StudentFitReport } from './student-fit.ts';
import type { StudentModel } from './start.ts';

export interface BaselineOptions {
  /** Queries as a multiple of P (the model's parameter count): N = floor(budget P), all of them data. */
  budget: number;
  /** Random starts at most; the first passing one is returned (default 3: "best of 3"). */
  starts?: number;
  seed?: number;
  threads?: number;
  /** 'paper' (default for a v1 Network or an Oracle) or 'general' (default for a GeneralNetwork). */
  model?: StudentModel;
  /** Required for a black box; default: the network's. */
  width1?: number;
  width2?: number;
  activation?: ActivationName | { layer1: ActivationName; layer2: ActivationName };
  maxIterations?: number;
  /** Exact when the relative L2 error on the score points is at most this (default 1e-8, issue 14's). */
  exactBelow?: number;
  /** Fresh N(0, I_d) points of the score (default 10^4; their own seed, not the data's). */
  scorePoints?: number;
}

export interface BaselineResult {
  /** null: the truth is not known (a black box was given). */
  exact: boolean | null;
  relativeL2: number | null;
  /** Relative residual on the fit's own data, and whether the truth-free check passed. */
  residual: number;
  passed: boolean;
  /** Wall time of the fit (data, starts and its worker threads), without the score. */
  seconds: number;
  queries: { total: number; paid: number; multipleOfP: number };
  /** Starts run up to the one returned. */
  starts: number;
  network: Network | GeneralNetwork;
  report: StudentFitReport;
}

const SCORE_SEED = 0x5c0e;

function isNetwork(t: unknown): t is Network {
  return !!t && typeof t === 'object' && 'A' in t && 'theta' in t;
}
function isGeneral(t: unknown): t is GeneralNetwork {
  return !!t && typeof t === 'object' && 'W1' in t && 'C' in t;
}

/** ||F - G||_F / ||F||_F on n Gaussian points (k outputs of general networks row-major). */
function relativeError(truth: Network | GeneralNetwork, other: Network | GeneralNetwork, n: number): number {
  const X = matrix(n, truth.inputDim);
  rng(SCORE_SEED).fillNormal(X.data);
  const values = (net: Network | GeneralNetwork) => (isGeneral(net) ? evaluateGeneral(net, X).data : evaluateNetwork(net, X));
  const f = values(truth);
  const g = values(other);
  let num = 0;
  let den = 0;
  for (let i = 0; i < f.length; i++) {
    num += (f[i] - g[i]) ** 2;
    den += f[i] ** 2;
  }
  return Math.sqrt(num / (den || 1));
}

/** The student fit on floor(budget P) queries of `target`, scored when `target` is a network. */
export async function baselineFit(target: Network | GeneralNetwork | Oracle | MultiOutputSource, options: BaselineOptions): Promise<BaselineResult> {
  if (!options || typeof options !== 'object') invalidArgument('options', 'must be an object', options);
  const budget = checkPositive('budget', options.budget);
  const scorePoints = checkInteger('scorePoints', options.scorePoints ?? 10_000);
  const exactBelow = checkPositive('exactBelow', options.exactBelow ?? 1e-8);
  const truth = isNetwork(target) || isGeneral(target) ? target : null;
  const model: StudentModel = options.model ?? (isGeneral(target) ? 'general' : 'paper');
  if (model === 'paper' && isGeneral(target)) invalidArgument('model', "must be 'general' for a GeneralNetwork", model);
  const width1 = options.width1 ?? truth?.width1;
  const width2 = options.width2 ?? truth?.width2;
  if (width1 === undefined || width2 === undefined) invalidArgument('width1', 'must be given with width2 for a black box (the fit must be told the shape)', width1);
  const activation = options.activation ?? truth?.activation ?? 'tanh';
  const d = target.inputDim;
  const k = isGeneral(target) ? target.outputs : 'outputs' in target && typeof target.outputs === 'number' ? target.outputs : 1;
  const P = d * width1 + width1 + width1 * width2 + width2 + (model === 'general' ? k * width2 + k : 0);
  const N = Math.floor(budget * P);
  if (N < 1) invalidArgument('budget', `must give at least one query (P = ${P})`, budget);
  let source: Oracle | MultiOutputSource;
  let close = async () => {};
  if (isNetwork(target)) {
    const o = createOracle(networkBlackBox(target), { maxQueries: N });
    source = o;
    close = () => o.close();
  } else if (isGeneral(target) && k === 1) {
    const o = createOracle(generalBlackBox(target), { maxQueries: N });
    source = o;
    close = () => o.close();
  } else if (isGeneral(target)) {
    const net = target;
    source = { inputDim: d, outputs: k, evaluate: async (x: Float64View) => evaluateGeneral(net, x) };
  } else {
    source = target;
  }
  const common = {
    width1,
    width2,
    activation: typeof activation === 'string' ? activation : { layer1: activation.layer1, layer2: activation.layer2 },
    seed: options.seed ?? 0,
    threads: options.threads ?? 1,
    starts: options.starts ?? 3,
    dataPoints: N,
    ...(options.maxIterations !== undefined ? { maxIterations: options.maxIterations } : {}),
  };
  const started = performance.now();
  let network: Network | GeneralNetwork;
  let report: StudentFitReport;
  try {
    if (model === 'paper') {
      if (!('counts' in source)) invalidArgument('model', "must be 'general' for a source with k outputs", model);
      ({ network, report } = await studentFit(source as Oracle, common));
    } else {
      ({ network, report } = await studentFitGeneral(source, { ...common, maxQueries: N }));
    }
  } finally {
    await close();
  }
  const seconds = (performance.now() - started) / 1000;
  // a paper-form fit of a general truth, or the reverse, is scored on its function all the same
  const relativeL2 = truth ? relativeError(truth, network, scorePoints) : null;
  return {
    exact: relativeL2 === null ? null : relativeL2 <= exactBelow,
    relativeL2,
    residual: report.check.relativeResidual,
    passed: report.check.passed,
    seconds,
    queries: { total: report.queries.total, paid: report.queries.paid, multipleOfP: report.queries.multipleOfP },
    starts: report.starts.length,
    network,
    report,
  };
}
