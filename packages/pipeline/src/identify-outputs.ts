/**
 * identify on a black box with k >= 1 outputs (the general model, f(x) in R^k). Every output's
 * Hessian lies in the same span{a_i a_i^T, v_l v_l^T}, and so does that of any fixed combination
 * w . f(x) = (w^T C) phi2(...) + w . c: a general network with one output. identify (model
 * 'general') runs on that projection, with w drawn from the seed; every query still returns all k
 * numbers, and they are kept. With the hidden layers found, the output layer (C, c) of all k
 * outputs is solved by linear least squares on the refinement's data, and every weight and bias
 * is refitted on all k outputs of those data (no new queries). The truth-free check judges the
 * last fit. With activation 'auto' and secondPassPairs 0 (method auto), a failed search's second
 * pass comes back as `secondPassLater` (as identify's): run on request, then the k outputs fitted
 * again from the network it moved, on the data of its result.
 *
 * @example
 * const box = { inputDim: 64, outputs: 10, identity: 'digits', evaluate: async (x) => evaluateGeneral(net, x) };
 * const { network, report } = await identifyOutputs(box, { activation: { layer1: 'tanh', layer2: 'tanh' }, seed: 1 });
 */
import { checkChoice, checkInteger, generalParameterCount, invalidArgument, matrix, rng, toDense, type Float64View, type GeneralNetwork, type ViewLike } from '@nnid/core';
import { createOracle } from '@nnid/oracle';
import { fitGeneralNetwork, fitOutputLayer, type RefineReport } from '@nnid/refine';
import type { AutoIdentifyOptions, AutoIdentifyResult } from './activation-auto.ts';
import { identify } from './identify.ts';
import { pruneDeadUnits, type PruneReport } from './prune.ts';
import type { IdentifyReport } from './report.ts';

/** A black box with k outputs: `evaluate` answers n x k (an n x k view or n k numbers, row-major). */
export interface MultiOutputBlackBox {
  readonly inputDim: number;
  readonly outputs: number;
  /** Stable identity (as BlackBox's). */
  readonly identity: string;
  evaluate(inputs: Float64View): Promise<Float64Array | ViewLike>;
}

/** identify's options (model 'general'); `activation: 'auto'` searches the pairs as identify does. */
export interface IdentifyOutputsOptions extends Omit<AutoIdentifyOptions, 'model'> {
  /** Budget on queries (input rows; each returns k numbers). Default: none. */
  maxQueries?: number;
  /**
   * Whose Hessians feed the subspace: 'projection' (default): those of w^T f alone; 'all': those of
   * w^T f and of the k - 1 combinations completing w to an orthonormal basis, at the same points
   * (answers already paid, no query), so that the stack spans every output's Hessians (its right
   * singular vectors do not depend on w) and no unit hides behind a small weight in w^T C. Measured
   * worse on the generator's k = 3 networks (9 of 15 exact against 13: BENCHMARKS.md, "Every output's
   * Hessians in the stack"), hence not the default.
   */
  outputHessians?: 'all' | 'projection';
}

export interface IdentifyOutputsReport {
  /** identify's report on the projected black box (queries there are input rows). */
  identify: IdentifyReport;
  outputs: number;
  /** The projection w (unit, from the seed) identify ran on. */
  projection: number[];
  /** Queries (input rows) and numbers received (rows x k). */
  queries: { rows: number; numbersReceived: number };
  /** The fit of every weight and bias on all k outputs of the refinement's data. */
  refine: RefineReport;
  /** The truth-free check on that fit: relative residual against identify's threshold. */
  check: { relativeResidual: number; threshold: number; passed: boolean };
  /**
   * With a width inferred: units of the k-output fit with no contribution to any output (or
   * duplicating another unit) removed and the rest refitted on the same data, kept when that refit
   * passes the check (as identify's report.pruning for k = 1). Absent with both widths given.
   */
  pruning?: PruneReport;
  /** P = d m0 + m0 + m0 m1 + m1 + k m1 + k, and rows / P. */
  parameterCount: number;
  multipleOfP: number;
}

export interface IdentifyOutputsResult {
  network: GeneralNetwork;
  report: IdentifyOutputsReport;
  /** The data of the k-output fit: the refinement's inputs [n, d] and their n k answers (row-major; paid, for a fit after a failed check). */
  refinementData: { inputs: Float64View; values: Float64Array };
  /**
   * activation 'auto' with secondPassPairs 0, none passed: the search's second pass (identify's
   * secondPassLater, run once), then the k-output fit of its result; the result as it then stands.
   */
  secondPassLater?: () => Promise<IdentifyOutputsResult>;
}

const OUTPUT_HESSIANS = ['all', 'projection'] as const;

/**
 * k - 1 unit vectors completing the unit w to an orthonormal basis of R^k: the columns 2..k of the
 * Householder reflection that maps e_1 to w (the sign chosen so that no cancellation occurs).
 */
export function orthonormalComplement(w: Float64Array): Float64Array[] {
  const k = w.length;
  // H = I - 2 v v^T / (v^T v), v = w - s e_1 with s = -sign(w_1): H e_1 = s' w, columns of H orthonormal
  const s = w[0] >= 0 ? -1 : 1;
  const v = Float64Array.from(w);
  v[0] -= s;
  const vv = v.reduce((a, x) => a + x * x, 0);
  const out: Float64Array[] = [];
  for (let j = 1; j < k; j++) {
    const col = new Float64Array(k);
    col[j] = 1;
    const f = (2 * v[j]) / vv;
    for (let i = 0; i < k; i++) col[i] -= f * v[i];
    out.push(col);
  }
  return out;
}

/** u . y: a combination of a row's k outputs (the projection's and the companions'). */
function dot(u: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let o = 0; o < u.length; o++) s += u[o] * y[o];
  return s;
}

/** A row's bits as a map key. */
function rowKey(data: Float64Array, at: number, d: number): string {
  return Array.from(data.subarray(at, at + d), (v) => v.toString(36)).join(',');
}

export async function identifyOutputs(source: MultiOutputBlackBox, options: IdentifyOutputsOptions): Promise<IdentifyOutputsResult> {
  if (!source || typeof source.evaluate !== 'function') invalidArgument('source', 'must be a MultiOutputBlackBox (inputDim, outputs, identity, evaluate)', source);
  const d = checkInteger('source.inputDim', source.inputDim);
  const k = checkInteger('source.outputs', source.outputs);
  const seed = checkInteger('seed', options?.seed, 0);
  // w: unit Gaussian, from its own stream of the seed
  const w = new Float64Array(k);
  rng(seed).split(0x0e7).fillSphere(w, 1);
  // every answered row's k numbers, by the row's bits
  const answers = new Map<string, Float64Array>();
  let numbersReceived = 0;
  const projected = {
    inputDim: d,
    identity: `${source.identity}|projection:${Array.from(w).join(',')}`,
    async evaluate(inputs: Float64View): Promise<Float64Array> {
      const X = toDense(inputs).data;
      const n = inputs.shape[0];
      const raw = await source.evaluate(inputs);
      const Y = raw instanceof Float64Array ? raw : toDense(raw).data;
      if (Y.length !== n * k) throw new Error(`the black box answered ${Y.length} numbers for ${n} rows, expected ${n} x ${k}`);
      numbersReceived += n * k;
      const out = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const y = Y.slice(r * k, (r + 1) * k);
        answers.set(rowKey(X, r * d, d), y);
        out[r] = dot(w, y);
      }
      return out;
    },
  };
  const { maxQueries, outputHessians, ...identifyOptions } = options;
  const hessiansOf = checkChoice('outputHessians', outputHessians ?? 'projection', OUTPUT_HESSIANS);
  const oracle = createOracle(projected, maxQueries !== undefined ? { maxQueries } : {});
  // the other outputs: w's orthonormal complement, each answering from the rows already paid
  const companions = hessiansOf === 'all' ? orthonormalComplement(w).map((u, j) => createOracle(combination(u, j))) : [];
  function combination(u: Float64Array, j: number) {
    return {
      inputDim: d,
      identity: `${source.identity}|companion ${j}:${Array.from(u).join(',')}`,
      async evaluate(inputs: Float64View): Promise<Float64Array> {
        const X = toDense(inputs).data;
        const n = inputs.shape[0];
        // a row not paid yet (not expected: the companions ask identify's own Hessian rows) is paid through the counted oracle
        const missing: number[] = [];
        for (let r = 0; r < n; r++) if (!answers.has(rowKey(X, r * d, d))) missing.push(r);
        if (missing.length > 0) {
          const rows = matrix(missing.length, d);
          missing.forEach((r, i) => rows.data.set(X.subarray(r * d, (r + 1) * d), i * d));
          await oracle.evaluate(rows);
        }
        const out = new Float64Array(n);
        for (let r = 0; r < n; r++) {
          out[r] = dot(u, answers.get(rowKey(X, r * d, d))!);
        }
        return out;
      },
    };
  }
  const searched = await identify(oracle, { ...identifyOptions, model: 'general', ...(companions.length > 0 ? { companions } : {}) });
  /** identify's result (the search's, or its later pass's) with all k outputs fitted. */
  const withOutputs = async (found: AutoIdentifyResult): Promise<IdentifyOutputsResult> => {
    if (!found.networkGeneral || !found.refinementData) invalidArgument('refine', 'must be true for k outputs (the output layer is fitted by the refinement)', options.refine);
    // all k outputs of the refinement's data
    const { inputs } = found.refinementData;
    const n = inputs.shape[0];
    const X = toDense(inputs).data;
    const Y = new Float64Array(n * k);
    for (let r = 0; r < n; r++) Y.set(answers.get(rowKey(X, r * d, d))!, r * k);
    const hidden = found.networkGeneral;
    const start = fitOutputLayer({ ...hidden, outputs: k, C: matrix(k, hidden.width2), c: new Float64Array(k) }, { inputs, values: Y });
    const fitted = await fitGeneralNetwork(start, { inputs, values: Y }, { maxIterations: found.report.options.refineMaxIterations });
    const threshold = found.report.check.threshold;
    let network = fitted.network;
    let residual = fitted.report.relativeResidual;
    let pruning: PruneReport | undefined;
    // widths inferred: the projection's pruning saw one combination of the outputs; the k-output fit
    // can leave a unit whose C column is ~0 on all of them (duplicates split, then one emptied)
    if ((options.width1 === undefined || options.width2 === undefined) && residual <= threshold) {
      const pruned = await pruneDeadUnits(network, { inputs, values: Y }, { maxIterations: found.report.options.refineMaxIterations });
      pruning = pruned.report;
      if (pruned.report.refitResidual !== null && pruned.report.refitResidual <= threshold) {
        network = pruned.network;
        residual = pruned.report.refitResidual;
      }
    }
    const P = generalParameterCount(network);
    const rows = oracle.counts().total;
    return {
      network,
      refinementData: { inputs, values: Y },
      report: {
        identify: found.report,
        outputs: k,
        projection: Array.from(w),
        queries: { rows, numbersReceived },
        refine: fitted.report,
        check: { relativeResidual: residual, threshold, passed: residual <= threshold },
        ...(pruning ? { pruning } : {}),
        parameterCount: P,
        multipleOfP: rows / P,
      },
    };
  };
  const result = await withOutputs(searched);
  const later = searched.secondPassLater;
  return later ? { ...result, secondPassLater: async () => withOutputs(await later()) } : result;
}
