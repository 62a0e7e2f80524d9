/**
 * Queries from worker threads to a black box that lives on the main thread (ONNX, HTTP, the query
 * store: anything without a worker spec), so that a stage's workers stay parallel with a real
 * black box. The main thread serves the oracle on a named channel; a worker asks with
 * `bridgeBlackBox(name, inputDim)`, a BlackBox whose `evaluate` posts the batch and waits for the
 * answer. Every query still goes through the main thread's `oracle.evaluate`: counted, budgeted
 * and stored there, once.
 *
 * Channels are node:worker_threads BroadcastChannels named after the service, so a task carries a
 * string, not a transferred port (piscina's tasks are plain data): requests on `<name>/ask` (only
 * the main thread listens), answers on `<name>/answer/<worker>` (only that worker listens). A batch
 * crosses the thread boundary as one structured-cloned Float64Array each way. (comlink would wrap
 * the same messages in a proxy; it needs a port per worker, which piscina's tasks do not carry.)
 */
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { ErrorCodes, matrixFrom, NnidError, type BlackBox, type ErrorCode, type Float64View } from '@nnid/core';
import { checkBatch } from './evaluate.ts';

interface Ask {
  worker: string;
  id: number;
  rows: number;
  data: Float64Array;
}
type Answer = { id: number; values: Float64Array } | { id: number; error: { code?: string; message: string } };

/** What a worker needs to ask: the service's name and the black box's shape. */
export interface BridgeSpec {
  readonly kind: 'nnid.oracle-bridge/v1';
  readonly name: string;
  readonly inputDim: number;
  readonly identity: string;
}

export interface OracleService {
  readonly spec: BridgeSpec;
  /** Batches answered so far. */
  readonly answered: () => number;
  /** Stops serving (call it once the workers' tasks have ended). */
  close(): void;
}

let services = 0;

/**
 * Serves `box` (typically the run's Oracle) to worker threads until `close()`.
 *
 * @example
 * const service = serveBlackBox(oracle);
 * try { await pool.run(tasks.map((t) => ({ ...t, bridge: service.spec }))); } finally { service.close(); }
 */
export function serveBlackBox(box: Pick<BlackBox, 'evaluate' | 'inputDim' | 'identity'>): OracleService {
  const name = `nnid.oracle/${process.pid}/${threadId}/${++services}`;
  const asks = new BroadcastChannel(`${name}/ask`);
  const answers = new Map<string, BroadcastChannel>();
  const d = box.inputDim;
  let answered = 0;
  asks.onmessage = async (event) => {
    const ask = (event as { data: Ask }).data;
    // batches from several workers are in flight together: an HTTP server or an ONNX session
    // answers them concurrently (a point's answer does not depend on its batch-mates)
    let reply: Answer;
    try {
      const values = await box.evaluate(matrixFrom(ask.data, ask.rows, d));
      reply = { id: ask.id, values };
    } catch (e) {
      const err = e as Error & { code?: string };
      reply = { id: ask.id, error: { code: err?.code, message: err?.message ?? String(e) } };
    }
    let channel = answers.get(ask.worker);
    if (!channel) {
      channel = new BroadcastChannel(`${name}/answer/${ask.worker}`);
      answers.set(ask.worker, channel);
    }
    answered++;
    channel.postMessage(reply);
  };
  return {
    spec: { kind: 'nnid.oracle-bridge/v1', name, inputDim: d, identity: box.identity },
    answered: () => answered,
    close() {
      asks.close();
      for (const c of answers.values()) c.close();
    },
  };
}

let clients = 0;

/**
 * In a worker thread: the served black box. `evaluate` copies the batch (any strides) into one
 * array, asks the main thread and resolves with its answer; an error there (a budget reached, an
 * unreachable server) is thrown here with its code.
 */
export function bridgeBlackBox(spec: BridgeSpec): BlackBox {
  if (!spec || spec.kind !== 'nnid.oracle-bridge/v1') throw new NnidError(ErrorCodes.invalidArgument, `invalid argument. \`spec\` must be a bridge spec of kind 'nnid.oracle-bridge/v1'. Value: \`${String(spec?.kind)}\`.`);
  const worker = `${threadId}.${++clients}`;
  const asks = new BroadcastChannel(`${spec.name}/ask`);
  const answers = new BroadcastChannel(`${spec.name}/answer/${worker}`);
  const pending = new Map<number, { resolve: (v: Float64Array) => void; reject: (e: Error) => void }>();
  let next = 0;
  answers.onmessage = (event) => {
    const answer = (event as { data: Answer }).data;
    const waiting = pending.get(answer.id);
    if (!waiting) return;
    pending.delete(answer.id);
    if ('error' in answer) waiting.reject(new NnidError((answer.error.code ?? ErrorCodes.oracle) as ErrorCode, answer.error.message));
    else waiting.resolve(answer.values);
  };
  // a worker waiting for nothing must not be kept alive by its channels
  (asks as unknown as { unref?: () => void }).unref?.();
  (answers as unknown as { unref?: () => void }).unref?.();
  return {
    inputDim: spec.inputDim,
    identity: spec.identity,
    evaluate(inputs: Float64View): Promise<Float64Array> {
      const { view, rows, rowStride, colStride } = checkBatch(inputs, spec.inputDim);
      const d = spec.inputDim;
      const data = new Float64Array(rows * d);
      for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) data[r * d + j] = view.data[view.offset + r * rowStride + j * colStride];
      const id = next++;
      return new Promise<Float64Array>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        (answers as unknown as { ref?: () => void }).ref?.();
        asks.postMessage({ worker, id, rows, data } satisfies Ask);
      }).finally(() => {
        if (pending.size === 0) (answers as unknown as { unref?: () => void }).unref?.();
      });
    },
    close: async () => {
      asks.close();
      answers.close();
    },
  };
}
