/**
 * The contracts between the stages and whatever answers queries. Stages see only `Oracle`;
 * sources (an in-process network, an ONNX model, an HTTP endpoint) implement `BlackBox`; a
 * persistent store implements `QueryCache`. `@nnid/oracle` wraps a source into an Oracle that
 * counts, enforces a budget and consults the cache.
 */
import type { Float64View } from './view.ts';
import type { ViewLike } from './ndarray.ts';

/** Something that answers f(x) for each row x of a batch. */
export interface BlackBox {
  readonly inputDim: number;
  /** Stable identity: equal identities answer equal inputs equally (keys the query store). */
  readonly identity: string;
  /** f at each row of `inputs` (n x inputDim, any strides). Resolves to n finite numbers. */
  evaluate(inputs: Float64View): Promise<Float64Array>;
  /**
   * Optional: a structured-clone-safe description from which a worker thread can rebuild and
   * evaluate this black box itself (in-process networks only). Lets samplers run the
   * evaluations in parallel; the queries are still counted by the Oracle.
   */
  workerSpec?(): unknown;
  close?(): Promise<void>;
}

export interface QueryCounts {
  /** All queries answered: paid + reused. */
  total: number;
  /** Answered by the black box itself (what a budget limits). */
  paid: number;
  /** Answered from the query store. */
  reused: number;
}

/** The only door to the black box that stages use. */
export interface Oracle extends BlackBox {
  /** f at each row of `inputs` (n x inputDim, or one point of inputDim numbers): a Float64View or an ndarray, any strides. */
  evaluate(inputs: ViewLike): Promise<Float64Array>;
  /** Counts so far (a snapshot). */
  counts(): QueryCounts;
  /** Throws QueryBudgetError if `n` more paid queries would exceed the budget. */
  reserve(n: number): void;
  /** Records `n` queries that were evaluated elsewhere (by workers from `workerSpec`). */
  recordExternal(n: number): void;
  close(): Promise<void>;
}

/** A persistent store of answered queries keyed by (identity, exact input bits). */
export interface QueryCache {
  /**
   * For each row of `inputs`, writes the stored answer into `out[i]` and sets `found[i] = 1`,
   * or leaves `found[i] = 0`. Returns the number found.
   */
  lookup(identity: string, inputs: Float64View, out: Float64Array, found: Uint8Array): number;
  /** Stores the answers of the given rows of `inputs` (durably before it returns). */
  put(identity: string, inputs: Float64View, rows: ArrayLike<number>, values: ArrayLike<number>): Promise<void>;
  close(): Promise<void>;
}
