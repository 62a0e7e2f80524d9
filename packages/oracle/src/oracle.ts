/**
 * The Oracle: the only door to the black box. It counts every query, enforces a budget on the
 * paid ones before they are made, checks the answers, and consults a query store when given.
 */
import {
  checkInteger,
  ErrorCodes,
  invalidArgument,
  NnidError,
  QueryBudgetError,
  type BlackBox,
  type Float64View,
  type ViewLike,
  type Oracle,
  type QueryCache,
  type QueryCounts,
} from '@nnid/core';
import { checkBatch } from './evaluate.ts';

export interface OracleOptions {
  /** Budget on paid queries (answered by the source itself). Default: none. */
  maxQueries?: number;
  /** A query store: rows found there are answered from it (reused), new answers are stored. */
  cache?: QueryCache;
}

function show(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/** Checks a source's answer: one finite number per row. */
function checkAnswer(values: unknown, rows: number, rowIndex: (k: number) => number): Float64Array {
  const arr = values as ArrayLike<number> | null;
  if (!arr || typeof arr.length !== 'number') {
    throw new NnidError(ErrorCodes.oracleOutput, `black box answered ${String(values)} for a batch of ${rows} rows, expected ${rows} finite numbers`);
  }
  if (arr.length !== rows) {
    throw new NnidError(ErrorCodes.oracleOutput, `black box answered ${arr.length} values for a batch of ${rows} rows`);
  }
  for (let k = 0; k < rows; k++) {
    const v = arr[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new NnidError(
        ErrorCodes.oracleOutput,
        `black box answered \`${typeof v === 'number' ? show(v) : String(v)}\` for row ${rowIndex(k)} of the batch, expected a finite number`,
      );
    }
  }
  return arr instanceof Float64Array ? arr : Float64Array.from(arr);
}

/**
 * Wraps a black box into an Oracle.
 *
 * - `maxQueries` limits PAID queries; a batch that would exceed it throws `QueryBudgetError`
 *   before any of its queries is made (queries in flight count as spent).
 * - With a `cache`, rows found there are answered from it and counted as `reused`; the others
 *   are asked of the source (`paid`) and stored with `cache.put` before `evaluate` resolves.
 *   Such an oracle offers no `workerSpec`: every query must pass through the store.
 * - `reserve(n)` only checks that n more paid queries fit (it holds nothing);
 *   `recordExternal(n)` counts n queries that workers evaluated from `workerSpec()`.
 *
 * @example
 * const oracle = createOracle(networkBlackBox(net), { maxQueries: 50_000 });
 * const values = await oracle.evaluate(points);
 * oracle.counts();   // { total, paid, reused }
 */
export function createOracle(source: BlackBox, options: OracleOptions = {}): Oracle {
  if (!source || typeof source.evaluate !== 'function' || typeof source.inputDim !== 'number') {
    invalidArgument('source', 'must be a BlackBox (inputDim, identity, evaluate)', source);
  }
  const budget = options.maxQueries === undefined ? Infinity : checkInteger('maxQueries', options.maxQueries, 0);
  const cache = options.cache;
  if (cache !== undefined && (typeof cache.lookup !== 'function' || typeof cache.put !== 'function')) {
    invalidArgument('cache', 'must be a QueryCache (lookup, put, close)', cache);
  }
  let paid = 0;
  let reused = 0;
  let inFlight = 0;

  function check(n: number): void {
    if (paid + inFlight + n > budget) throw new QueryBudgetError(budget, paid + inFlight, n);
  }

  async function ask(batch: Float64View, rows: number, rowIndex: (k: number) => number): Promise<Float64Array> {
    check(rows);
    inFlight += rows;
    let answer: unknown;
    try {
      answer = await source.evaluate(batch);
    } finally {
      inFlight -= rows;
    }
    // The source was asked: the queries are spent, whatever it answered.
    paid += rows;
    return checkAnswer(answer, rows, rowIndex);
  }

  async function evaluate(points: ViewLike): Promise<Float64Array> {
    const { view: inputs, rows } = checkBatch(points, source.inputDim);
    if (rows === 0) return new Float64Array(0);
    if (!cache) return ask(inputs, rows, (k) => k);

    const out = new Float64Array(rows);
    const found = new Uint8Array(rows);
    cache.lookup(source.identity, inputs, out, found);
    const missing: number[] = [];
    for (let r = 0; r < rows; r++) if (!found[r]) missing.push(r);
    if (missing.length === 0) {
      reused += rows;
      return out;
    }
    const d = source.inputDim;
    const sub = { data: new Float64Array(missing.length * d), offset: 0, shape: [missing.length, d], strides: [d, 1] };
    const { data, offset, strides } = inputs.shape.length === 1 ? { ...inputs, strides: [0, inputs.strides[0]] } : inputs;
    for (let k = 0; k < missing.length; k++) {
      const base = offset + missing[k] * strides[0];
      for (let j = 0; j < d; j++) sub.data[k * d + j] = data[base + j * strides[1]];
    }
    const values = await ask(sub, missing.length, (k) => missing[k]);
    for (let k = 0; k < missing.length; k++) out[missing[k]] = values[k];
    reused += rows - missing.length;
    await cache.put(source.identity, inputs, missing, values);
    return out;
  }

  const oracle: Oracle = {
    inputDim: source.inputDim,
    identity: source.identity,
    evaluate,
    counts: (): QueryCounts => ({ total: paid + reused, paid, reused }),
    reserve(n: number) {
      checkInteger('n', n, 0);
      check(n);
    },
    recordExternal(n: number) {
      checkInteger('n', n, 0);
      paid += n;
    },
    close: async () => {
      await source.close?.();
    },
  };
  if (!cache && typeof source.workerSpec === 'function') {
    const spec = source.workerSpec.bind(source);
    (oracle as { workerSpec?: () => unknown }).workerSpec = spec;
  }
  return oracle;
}
