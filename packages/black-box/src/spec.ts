/**
 * From what a user types after `--oracle` (or `--network`) to an Oracle: the adapter, the
 * budget, the store and its check. Adapters are rows of one table (as vitest looks up its pool
 * runners): adding a kind of black box is one row.
 */
import {
  ErrorCodes,
  NnidError,
  QueryBudgetError,
  asView,
  checkInteger,
  checkPositive,
  invalidArgument,
  readNetworkFile,
  type BlackBox,
  type Float64View,
  type Oracle,
  type ViewLike,
} from '@nnid/core';
import { createOracle, networkBlackBox } from '@nnid/oracle';
import type { BatchListener } from './batches.ts';
import { httpBlackBox, type HttpBlackBoxOptions } from './http.ts';
import { onnxBlackBox } from './onnx.ts';
import { redactUrl } from './request.ts';
import { checkStoredAnswers, type StoreCheckOptions, type StoreCheckReport } from './store-check.ts';
import { openQueryStore, type QueryStore } from './store.ts';

export const TOKEN_ENV = 'NNID_ORACLE_TOKEN';

export interface OracleSpecOptions {
  /** Force an adapter by its kind ('network', 'onnx', 'http', ...) instead of matching the spec. */
  kind?: string;
  /** The input dimension: needed by a black box that does not declare it (a POST-only server, an ONNX model with a symbolic dimension); checked against one that does. */
  inputDim?: number;
  /** Bearer token for an HTTP oracle (default: the NNID_ORACLE_TOKEN environment variable). */
  token?: string;
  /** Budget on paid queries (the store check's queries count against it). */
  maxQueries?: number;
  /** Directory of the query store; without it nothing is stored. */
  storeDir?: string;
  /** The stale-answer check of a store that already holds answers of this oracle; `false` skips it. */
  storeCheck?: StoreCheckOptions | false;
  /** Simulated noise (std) and its seed: in-process networks only. */
  noise?: number;
  seed?: number;
  /** HTTP: the longest one request may take, retries included (ms; default 30 000). Same as http.timeoutMs. */
  timeoutMs?: number;
  /** HTTP: retries per request (default 5). Same as http.retries. */
  retries?: number;
  /** HTTP tuning (concurrency, timeoutMs, retries, backoffMs, batchSize, onRetry). */
  http?: Pick<HttpBlackBoxOptions, 'concurrency' | 'timeoutMs' | 'retries' | 'backoffMs' | 'batchSize' | 'onRetry'>;
  /** Rows per ONNX run and onnxruntime threads. */
  onnx?: { batchSize?: number; threads?: number };
  /** The adapter table to look the spec up in (default ORACLE_ADAPTERS). */
  adapters?: readonly OracleAdapter[];
  /**
   * 'one' (default): one number per row. 'many': an ONNX model or HTTP endpoint answering k numbers
   * per row is taken too (`outputs` and `evaluateOutputs` of the result; k > 1 answers are stored
   * k per row, and the store check compares all k). An HTTP endpoint that does not announce k is
   * asked one row of zeros when it opens (paid, counted, not stored).
   */
  outputs?: 'one' | 'many';
}

/** What an adapter's `open` receives: the options that concern it, resolved. */
export interface AdapterContext {
  inputDim?: number;
  token?: string;
  noise: number;
  seed: number;
  http: OracleSpecOptions['http'] & { timeoutMs?: number; retries?: number };
  onnx: OracleSpecOptions['onnx'];
  /** Stores each sub-batch's answers as they arrive (when there is a store). */
  onBatch?: BatchListener;
  /** 'many': the black box may answer k numbers per row (`outputs`, `evaluateOutputs`). */
  outputs?: 'one' | 'many';
}

/** A black box an adapter opened with outputs 'many': k numbers per row (k unknown until the first answer for an HTTP endpoint that does not announce it). */
interface ManyOutputs extends BlackBox {
  readonly outputs?: number;
  evaluateOutputs?(inputs: Float64View): Promise<Float64Array>;
}

/** One kind of black box: how to recognise its spec and how to open it. */
export interface OracleAdapter {
  readonly kind: string;
  /** How the kind is named in messages: "a network file (.json)". */
  readonly description: string;
  matches(spec: string): boolean;
  open(spec: string, context: AdapterContext): Promise<BlackBox>;
  /** The identity is a hash of the model itself (its weights, its file): stored answers cannot go stale, so the store is not re-checked. */
  readonly contentAddressed?: boolean;
  /** The command line keeps a store by default (answers cost money or time). */
  readonly storeByDefault?: boolean;
  /** The spec as it may be printed (credentials masked). */
  shown?(spec: string): string;
}

/**
 * The built-in adapters, looked up in order (the first whose `matches` accepts the spec opens it).
 *
 * @example
 * // One more kind of black box is one more row:
 * const adapters = [...ORACLE_ADAPTERS, { kind: 'grpc', description: 'a grpc:// endpoint', matches: (s) => s.startsWith('grpc://'), open: openGrpc }];
 * await openOracleFromSpec('grpc://host:50051/model', { adapters, inputDim: 50 });
 */
export const ORACLE_ADAPTERS: readonly OracleAdapter[] = [
  {
    kind: 'network',
    description: 'a network file (.json)',
    contentAddressed: true,
    matches: (spec) => /\.json$/i.test(spec),
    open: async (spec, c) => networkBlackBox(readNetworkFile(spec), { noise: c.noise, noiseSeed: c.seed }),
  },
  {
    kind: 'onnx',
    description: 'an ONNX model (.onnx)',
    contentAddressed: true,
    matches: (spec) => /\.onnx$/i.test(spec),
    open: (spec, c) => onnxBlackBox(spec, { ...c.onnx, inputDim: c.inputDim, onBatch: c.onBatch, ...(c.outputs ? { outputs: c.outputs } : {}) }),
  },
  {
    kind: 'http',
    description: 'an http(s):// URL',
    storeByDefault: true,
    matches: (spec) => /^https?:\/\//i.test(spec),
    open: (spec, c) => httpBlackBox(spec, { ...c.http, inputDim: c.inputDim, token: c.token, onBatch: c.onBatch, ...(c.outputs ? { outputs: c.outputs } : {}) }),
    shown: redactUrl,
  },
];

/** The adapter a spec names (the first row that matches), or undefined. */
export function findAdapter(spec: string, adapters: readonly OracleAdapter[] = ORACLE_ADAPTERS): OracleAdapter | undefined {
  return typeof spec === 'string' ? adapters.find((a) => a.matches(spec)) : undefined;
}

/** Which adapter a spec names, or undefined. */
export function oracleKind(spec: string, adapters: readonly OracleAdapter[] = ORACLE_ADAPTERS): string | undefined {
  return findAdapter(spec, adapters)?.kind;
}

/** How to write a spec, listing the adapters: "a network file (.json), an ONNX model (.onnx) or an http(s):// URL". */
export function specKinds(adapters: readonly OracleAdapter[] = ORACLE_ADAPTERS): string {
  const names = adapters.map((a) => a.description);
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? '');
}

/** The Oracle openOracleFromSpec returns: also says which adapter it chose, where it stores, what the store check did. */
export interface SpecOracle extends Oracle {
  readonly kind: string;
  /** The spec as it may be printed or reported (credentials masked). */
  readonly shownSpec: string;
  readonly store: QueryStore | undefined;
  /** The stale-answer check (null without a store). */
  readonly storeCheck: StoreCheckReport | null;
  /** k, the numbers each row's answer holds (1 unless opened with outputs 'many' on a black box of k > 1 outputs). */
  readonly outputs: number;
  /**
   * Every output of each row, n x k row-major, through the budget and the store (k = 1: `evaluate`).
   * With k > 1, `evaluate` refuses (a query is one input row and returns k numbers); a
   * MultiOutputBlackBox for identifyOutputs of @nnid/pipeline is `{ inputDim, outputs, identity,
   * evaluate: (x) => oracle.evaluateOutputs(x) }`.
   */
  evaluateOutputs(inputs: ViewLike): Promise<Float64Array>;
  /** Paid queries before the first evaluate: the store check's, and the probe that told k (when one was asked). */
  readonly paidAtOpen: number;
}

/**
 * Opens the oracle a spec names through the adapter table: `*.json` an in-process network
 * (nnid.network/v1), `*.onnx` an ONNX model, `http(s)://...` an HTTP black box (`kind` forces
 * one). With `storeDir`, every answer is kept in the query store and every query found there is
 * answered from it (counted `reused`, not `paid`); ONNX and HTTP answers are stored batch by
 * batch as they arrive, so a run that fails midway keeps every answer it received.
 *
 * Before a store that holds answers of this oracle is trusted, a few of its queries are asked
 * again (paid; `storeCheck` in the result; skipped for a network file or an ONNX model, whose
 * identity is a hash of the model): when an answer differs beyond the noise level, a
 * QueryStoreError ('stale') says so and nothing is answered from the store. `maxQueries`
 * limits paid queries, the check's included.
 *
 * Note: with a store, the oracle offers no `workerSpec` (every query must pass the store), so
 * samplers evaluate an in-process network in one thread.
 *
 * @example
 * const oracle = await openOracleFromSpec('http://127.0.0.1:8080/', { storeDir: '.nnid-store', maxQueries: 50_000, inputDim: 50 });
 * const values = await oracle.evaluate(points);
 * oracle.counts();   // { total, paid, reused }
 * await oracle.close();
 */
export async function openOracleFromSpec(spec: string, options: OracleSpecOptions = {}): Promise<SpecOracle> {
  const adapters = options.adapters ?? ORACLE_ADAPTERS;
  const adapter = options.kind !== undefined ? adapters.find((a) => a.kind === options.kind) : findAdapter(spec, adapters);
  if (options.kind !== undefined && !adapter) invalidArgument('kind', `must be one of ${adapters.map((a) => a.kind).join(', ')}`, options.kind);
  if (!adapter || typeof spec !== 'string') return invalidArgument('oracle', `must be ${specKinds(adapters)}`, typeof spec === 'string' ? redactUrl(spec) : spec);
  const shownSpec = adapter.shown ? adapter.shown(spec) : spec;
  if (adapter.kind !== 'network' && (options.noise ?? 0) !== 0) {
    invalidArgument('noise', 'applies to in-process networks (.json) only; a real black box has its own noise', options.noise);
  }
  const noise = checkPositive('noise', options.noise ?? 0, true);
  if (options.inputDim !== undefined) checkInteger('inputDim', options.inputDim);
  if (options.maxQueries !== undefined) checkInteger('maxQueries', options.maxQueries, 0);
  const store = options.storeDir !== undefined ? openQueryStore(options.storeDir) : undefined;
  // The adapters report each sub-batch as it arrives; its identity is known once it is open.
  // The store check's answers are compared, not stored.
  let identity = '';
  let checking = false;
  const onBatch: BatchListener | undefined = store
    ? (inputs: Float64View, values: Float64Array) => {
        if (checking) return undefined;
        const rows = inputs.shape.length === 1 ? 1 : inputs.shape[0];
        return store.putOutputs(identity, values.length / rows, inputs, Array.from({ length: rows }, (_, r) => r), values);
      }
    : undefined;
  const many = options.outputs === 'many';
  if (options.outputs !== undefined && options.outputs !== 'one' && !many) invalidArgument('outputs', "must be 'one' or 'many'", options.outputs);
  let probePaid = 0;
  let source: BlackBox | undefined;
  try {
    source = await adapter.open(spec, {
      inputDim: options.inputDim,
      token: options.token || process.env[TOKEN_ENV] || undefined,
      noise,
      seed: options.seed ?? 0,
      http: {
        ...options.http,
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.retries !== undefined ? { retries: options.retries } : {}),
      },
      onnx: options.onnx,
      onBatch,
      ...(many ? { outputs: 'many' as const } : {}),
    });
    if (options.inputDim !== undefined && source.inputDim !== options.inputDim) {
      throw new NnidError(ErrorCodes.dimensionMismatch, `${shownSpec} takes inputs of dimension ${source.inputDim}, but inputDim = ${options.inputDim} was requested`);
    }
    identity = source.identity;
    const multi = source as ManyOutputs;
    if (many && multi.outputs === undefined && multi.evaluateOutputs) {
      // k not announced: one row of zeros tells it (paid and counted, not stored)
      if (options.maxQueries !== undefined && options.maxQueries < 1) throw new QueryBudgetError(options.maxQueries, 0, 1);
      checking = true;
      try {
        await multi.evaluateOutputs({ data: new Float64Array(source.inputDim), offset: 0, shape: [1, source.inputDim], strides: [source.inputDim, 1] });
      } finally {
        checking = false;
      }
      probePaid = 1;
    }
    const outputs = many ? (multi.outputs ?? 1) : 1;
    let storeCheck: StoreCheckReport | null = null;
    if (store) {
      // a store of another k refuses at once, naming both
      store.checkOutputs(identity, outputs, shownSpec);
      const stored = store.count(identity);
      if (adapter.contentAddressed || options.storeCheck === false) {
        storeCheck = { stored, checked: 0, paid: 0, maxDifference: 0, threshold: 0, skipped: adapter.contentAddressed ? 'content-addressed' : 'disabled' };
      } else {
        checking = true;
        try {
          storeCheck = await checkStoredAnswers(store, source, shownSpec, { ...options.storeCheck, budget: options.maxQueries === undefined ? undefined : options.maxQueries - probePaid });
        } finally {
          checking = false;
        }
      }
    }
    const paidAtOpen = (storeCheck?.paid ?? 0) + probePaid;
    const maxQueries = options.maxQueries === undefined ? undefined : options.maxQueries - paidAtOpen;
    const oracle = outputs > 1 ? outputsOracle(multi as Required<ManyOutputs>, outputs, shownSpec, maxQueries, store) : createOracle(source, { maxQueries, cache: store });
    return {
      ...oracle,
      kind: adapter.kind,
      shownSpec,
      store,
      storeCheck,
      outputs,
      paidAtOpen,
      evaluateOutputs: outputs > 1 ? (oracle as ReturnType<typeof outputsOracle>).evaluateOutputs : (x: ViewLike) => oracle.evaluate(x),
      async close() {
        try {
          await oracle.close();
        } finally {
          await store?.close();
        }
      },
    };
  } catch (e) {
    await source?.close?.().catch(() => undefined);
    await store?.close();
    throw e;
  }
}

/**
 * The Oracle of a black box with k > 1 outputs: the budget and the counts are in input rows (a
 * query returns k numbers), the store holds k numbers per row; `evaluate` refuses.
 */
function outputsOracle(source: Required<ManyOutputs>, k: number, shownSpec: string, maxQueries: number | undefined, store: QueryStore | undefined): Oracle & { evaluateOutputs(x: ViewLike): Promise<Float64Array> } {
  const budget = maxQueries ?? Infinity;
  const d = source.inputDim;
  let paid = 0;
  let reused = 0;
  let inFlight = 0;
  const reserve = (n: number) => {
    if (paid + inFlight + n > budget) throw new QueryBudgetError(budget, paid + inFlight, n);
  };
  async function ask(batch: Float64View, rows: number): Promise<Float64Array> {
    reserve(rows);
    inFlight += rows;
    try {
      return await source.evaluateOutputs(batch);
    } finally {
      inFlight -= rows;
      paid += rows;
    }
  }
  async function evaluateOutputs(points: ViewLike): Promise<Float64Array> {
    const inputs = asView(points);
    const one = inputs.shape.length === 1;
    if ((one ? inputs.shape[0] : inputs.shape[1]) !== d) {
      throw new NnidError(ErrorCodes.dimensionMismatch, `${shownSpec} takes inputs of dimension ${d}, but a batch of dimension ${one ? inputs.shape[0] : inputs.shape[1]} was given`);
    }
    const rows = one ? 1 : inputs.shape[0];
    const view = one ? { ...inputs, shape: [1, d], strides: [0, inputs.strides[0]] } : inputs;
    if (rows === 0) return new Float64Array(0);
    if (!store) return ask(view, rows);
    const out = new Float64Array(rows * k);
    const found = new Uint8Array(rows);
    store.lookupOutputs(source.identity, k, view, out, found);
    const missing: number[] = [];
    for (let r = 0; r < rows; r++) if (!found[r]) missing.push(r);
    reused += rows - missing.length;
    if (missing.length === 0) return out;
    const sub = { data: new Float64Array(missing.length * d), offset: 0, shape: [missing.length, d], strides: [d, 1] };
    for (let m = 0; m < missing.length; m++) {
      const base = view.offset + missing[m] * view.strides[0];
      for (let j = 0; j < d; j++) sub.data[m * d + j] = view.data[base + j * view.strides[1]];
    }
    const values = await ask(sub, missing.length);
    for (let m = 0; m < missing.length; m++) out.set(values.subarray(m * k, (m + 1) * k), missing[m] * k);
    // the adapter's per-batch listener stored them already; this finds them and writes nothing
    await store.putOutputs(source.identity, k, sub, Array.from(missing, (_, m) => m), values);
    return out;
  }
  return {
    inputDim: d,
    identity: source.identity,
    evaluate: async () => {
      throw new NnidError(ErrorCodes.oracleOutput, `${shownSpec} answers ${k} numbers per row: evaluate takes one; use evaluateOutputs (identifyOutputs; nnid identify does)`);
    },
    evaluateOutputs,
    counts: () => ({ total: paid + reused, paid, reused }),
    reserve,
    recordExternal: (n: number) => {
      paid += n;
    },
    close: async () => {
      await source.close?.();
    },
  };
}
