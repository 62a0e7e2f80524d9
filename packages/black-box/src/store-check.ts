/**
 * Before a run trusts the store: re-ask a few stored queries of the oracle (paid) and refuse
 * the store when an answer differs beyond the noise level. Answers of a third-party HTTP
 * service are keyed by its URL (or an identity it announces), so a model deployed at the same
 * URL would otherwise be answered by the previous model's stored answers, silently.
 */
import { ErrorCodes, QueryBudgetError, checkInteger, checkPositive, type BlackBox, type Float64View } from '@nnid/core';
import { QueryStoreError, type QueryStore } from './store.ts';

export interface StoreCheckOptions {
  /** Stored queries asked again at the start of a run (default 4). */
  queries?: number;
  /**
   * Relative tolerance (default 1e-6 of the largest answer checked): above float32 rounding,
   * far below what another model answers. A service whose own answers vary (repeated queries
   * answered differently) is measured: its spread widens the threshold.
   */
  tolerance?: number;
}

export const STORE_CHECK_DEFAULTS = { queries: 4, tolerance: 1e-6, noiseFactor: 10 } as const;

/** What the check did; in the report as `oracle.storeCheck`. */
export interface StoreCheckReport {
  /** Answers of this oracle in the store when the run began. */
  stored: number;
  /** Stored queries asked again. */
  checked: number;
  /** Queries paid for the check: `checked`, twice when the first answers differed (to measure the noise). */
  paid: number;
  /** Largest |stored - fresh| over the checked queries. */
  maxDifference: number;
  /** tolerance x the largest answer + 10 x the spread of repeated answers. */
  threshold: number;
  /** Why nothing was checked: the store holds no answer of this oracle, or its identity is a hash of the model. */
  skipped?: 'empty' | 'content-addressed' | 'disabled';
}

/** A source of k answers per row (`evaluateOutputs` n x k row-major), as the store check reads it. */
export interface OutputsSource extends BlackBox {
  readonly outputs?: number;
  evaluateOutputs?(inputs: Float64View): Promise<Float64Array>;
}

/**
 * Asks `source` (not the store) again for up to `queries` stored queries of its identity, and
 * throws a QueryStoreError ('stale', naming the store and what to do) when an answer differs
 * from the stored one by more than the threshold. `budget` is what the run may pay; the check
 * counts against it. A source with k > 1 outputs (`outputs`, `evaluateOutputs`) is compared on
 * all k numbers of each row (the largest difference over them).
 */
export async function checkStoredAnswers(
  store: QueryStore,
  source: OutputsSource,
  label: string,
  options: StoreCheckOptions & { budget?: number } = {},
): Promise<StoreCheckReport> {
  const queries = checkInteger('storeCheck.queries', options.queries ?? STORE_CHECK_DEFAULTS.queries);
  const tolerance = checkPositive('storeCheck.tolerance', options.tolerance ?? STORE_CHECK_DEFAULTS.tolerance, true);
  const stored = store.count(source.identity);
  if (stored === 0) return { stored, checked: 0, paid: 0, maxDifference: 0, threshold: 0, skipped: 'empty' };
  const k = Math.min(queries, stored);
  if (options.budget !== undefined && options.budget < k) throw new QueryBudgetError(options.budget, 0, k);
  const outputs = source.outputs ?? 1;
  const ask = outputs > 1 && source.evaluateOutputs ? (x: Float64View) => source.evaluateOutputs!(x) : (x: Float64View) => source.evaluate(x);
  const { inputs, values } = store.sampleOutputs(source.identity, source.inputDim, outputs, k);
  const fresh = await ask(inputs);
  let scale = 0;
  let maxDifference = 0;
  for (let i = 0; i < k * outputs; i++) {
    scale = Math.max(scale, Math.abs(values[i]), Math.abs(fresh[i]));
    maxDifference = Math.max(maxDifference, Math.abs(values[i] - fresh[i]));
  }
  let threshold = tolerance * scale;
  let paid = k;
  if (maxDifference > threshold && (options.budget === undefined || options.budget >= 2 * k)) {
    // A noisy service answers a repeated query differently: measure how much, and allow for it.
    const again = await ask(inputs);
    paid += k;
    let spread = 0;
    for (let i = 0; i < k * outputs; i++) spread = Math.max(spread, Math.abs(again[i] - fresh[i]));
    threshold += STORE_CHECK_DEFAULTS.noiseFactor * spread;
  }
  if (maxDifference > threshold) {
    const show = (v: number) => Number(v.toPrecision(3)).toString();
    throw new QueryStoreError(
      ErrorCodes.oracle,
      'stale',
      store.path,
      `the query store ${store.path} holds answers that ${label} no longer gives (another model deployed there?): ` +
        `of ${k} stored queries asked again, the largest difference is ${show(maxDifference)} (noise level ${show(threshold)}); ` +
        'pass --no-store, or --store with a fresh directory',
    );
  }
  return { stored, checked: k, paid, maxDifference, threshold };
}
