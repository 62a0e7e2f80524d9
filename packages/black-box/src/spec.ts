/**
 * From what a user types after `--oracle` to an Oracle: the adapter, the budget, the store.
 */
import { checkPositive, invalidArgument, readNetworkFile, type BlackBox, type Float64View, type Oracle } from '@nnid/core';
import { createOracle, networkBlackBox } from '@nnid/oracle';
import type { BatchListener } from './batches.ts';
import { httpBlackBox, type HttpBlackBoxOptions } from './http.ts';
import { onnxBlackBox } from './onnx.ts';
import { openQueryStore, type QueryStore } from './store.ts';

export const TOKEN_ENV = 'NNID_ORACLE_TOKEN';

export interface OracleSpecOptions {
  /** Bearer token for an HTTP oracle (default: the NNID_ORACLE_TOKEN environment variable). */
  token?: string;
  /** Budget on paid queries. */
  maxQueries?: number;
  /** Directory of the query store; without it nothing is stored. */
  storeDir?: string;
  /** Simulated noise (std) and its seed: in-process networks only. */
  noise?: number;
  seed?: number;
  /** HTTP tuning (concurrency, timeoutMs, retries, backoffMs, batchSize, onRetry). */
  http?: Pick<HttpBlackBoxOptions, 'concurrency' | 'timeoutMs' | 'retries' | 'backoffMs' | 'batchSize' | 'onRetry'>;
  /** Rows per ONNX run and onnxruntime threads. */
  onnx?: { batchSize?: number; threads?: number };
}

/** The Oracle openOracleFromSpec returns: also says which adapter it chose and where it stores. */
export interface SpecOracle extends Oracle {
  readonly kind: 'network' | 'onnx' | 'http';
  readonly store: QueryStore | undefined;
}

/** Which adapter a spec names, or undefined. */
export function oracleKind(spec: string): SpecOracle['kind'] | undefined {
  if (/^https?:\/\//i.test(spec)) return 'http';
  if (/\.onnx$/i.test(spec)) return 'onnx';
  if (/\.json$/i.test(spec)) return 'network';
  return undefined;
}

/**
 * Opens the oracle a spec names: `*.json` an in-process network (nnid.network/v1), `*.onnx` an
 * ONNX model, `http(s)://...` an HTTP black box. With `storeDir`, every answer is kept in the
 * query store and every query found there is answered from it (counted `reused`, not `paid`);
 * ONNX and HTTP answers are stored batch by batch as they arrive, so a run that fails midway
 * keeps every answer it received. `maxQueries` limits paid queries.
 *
 * Note: with a store, the oracle offers no `workerSpec` (every query must pass the store), so
 * samplers evaluate an in-process network in one thread.
 *
 * @example
 * const oracle = await openOracleFromSpec('http://127.0.0.1:8080/', { storeDir: '.nnid-store', maxQueries: 50_000 });
 * const values = await oracle.evaluate(points);
 * oracle.counts();   // { total, paid, reused }
 * await oracle.close();
 */
export async function openOracleFromSpec(spec: string, options: OracleSpecOptions = {}): Promise<SpecOracle> {
  const kind = typeof spec === 'string' ? oracleKind(spec) : undefined;
  if (!kind) invalidArgument('oracle', 'must be a network file (.json), an ONNX model (.onnx) or an http(s):// URL', spec);
  if (kind !== 'network' && (options.noise ?? 0) !== 0) {
    invalidArgument('noise', 'applies to in-process networks (.json) only; a real black box has its own noise', options.noise);
  }
  const store = options.storeDir !== undefined ? openQueryStore(options.storeDir) : undefined;
  // The adapters report each sub-batch as it arrives; its identity is known once it is open.
  let identity = '';
  const onBatch: BatchListener | undefined = store
    ? (inputs: Float64View, values: Float64Array) => store.put(identity, inputs, Array.from({ length: values.length }, (_, k) => k), values)
    : undefined;
  let source: BlackBox;
  try {
    if (kind === 'network') {
      const noise = checkPositive('noise', options.noise ?? 0, true);
      source = networkBlackBox(readNetworkFile(spec), { noise, noiseSeed: options.seed ?? 0 });
    } else if (kind === 'onnx') {
      source = await onnxBlackBox(spec, { ...options.onnx, onBatch });
    } else {
      source = await httpBlackBox(spec, { ...options.http, token: options.token || process.env[TOKEN_ENV] || undefined, onBatch });
    }
  } catch (e) {
    await store?.close();
    throw e;
  }
  identity = source.identity;
  const oracle = createOracle(source, { maxQueries: options.maxQueries, cache: store });
  return {
    ...oracle,
    kind,
    store,
    async close() {
      try {
        await oracle.close();
      } finally {
        await store?.close();
      }
    },
  };
}
