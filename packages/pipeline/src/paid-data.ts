/**
 * Answers already paid, kept for a later fit: an Oracle that records the (x, f(x)) pairs asked
 * through it while recording is on (the gradients' and Hessians' stencils of a budgeted run), and
 * the helpers that stack paid sets and draw fresh refinement points. Sampling through it runs in
 * the main thread (workers would evaluate the black box themselves, unseen): same answers.
 */
import { matrix, rng, toDense, type Float64View, type Oracle } from '@nnid/core';
import type { PaidData } from './attempt.ts';

export interface RecordingOracle {
  /** Forwards every query to the oracle; records the answered pairs while `recording`. */
  oracle: Oracle;
  recording: boolean;
  /** The pairs recorded so far, stacked (null: none). */
  recorded(): PaidData | null;
}

/** Wraps `oracle` (no workerSpec: samplers query through it in the main thread). */
export function recordingOracle(oracle: Oracle): RecordingOracle {
  const parts: PaidData[] = [];
  const state: RecordingOracle = {
    recording: false,
    oracle: {
      inputDim: oracle.inputDim,
      identity: oracle.identity,
      counts: () => oracle.counts(),
      reserve: (n) => oracle.reserve(n),
      recordExternal: (n) => oracle.recordExternal(n),
      close: () => oracle.close(),
      async evaluate(inputs) {
        const values = await oracle.evaluate(inputs);
        if (state.recording && values.length > 0) {
          const dense = toDense(inputs);
          const rows = dense.shape.length === 1 ? 1 : dense.shape[0];
          const d = oracle.inputDim;
          parts.push({ inputs: { data: dense.data, offset: 0, shape: [rows, d], strides: [d, 1] }, values: Float64Array.from(values) });
        }
        return values;
      },
    },
    recorded: () => (parts.length === 0 ? null : stackPaid(parts)),
  };
  return state;
}

/** Stacks (inputs, values) sets into one (on shared memory: attempt lanes read it without a copy). */
export function stackPaid(parts: readonly PaidData[]): PaidData {
  const d = parts[0].inputs.shape[1];
  const n = parts.reduce((acc, part) => acc + part.inputs.shape[0], 0);
  const inputs = matrix(n, d, { shared: true });
  const values = new Float64Array(new SharedArrayBuffer(n * 8));
  let row = 0;
  for (const part of parts) {
    inputs.data.set(toDense(part.inputs).data, row * d);
    values.set(part.values, row);
    row += part.inputs.shape[0];
  }
  return { inputs, values };
}

/**
 * n fresh points: even rows uniform on the unit sphere, odd rows from N(0, I_d) (the two scoring
 * distributions), as the refinement's own (attempt-refine.ts), from their own stream.
 */
export function freshPoints(n: number, d: number, seed: number): Float64View {
  const X = matrix(n, d);
  const root = rng(seed);
  for (let i = 0; i < n; i++) {
    const row = X.data.subarray(i * d, (i + 1) * d);
    if (i % 2 === 0) root.split(i).fillSphere(row, 1);
    else root.split(i).fillNormal(row);
  }
  return X;
}

export interface MemoOracle {
  /** Answers a row asked before (or added) from memory, unpaid; asks the oracle for the others. */
  oracle: Oracle;
  /** Rows answered from memory so far. */
  hits(): number;
}

const rowKey = (row: Float64Array) => Buffer.from(row.buffer, row.byteOffset, row.byteLength).toString('base64');

/**
 * Wraps `oracle` so that no point is paid twice within a run that combines methods: every answered
 * row is kept (keyed by its exact bits) and a row asked again is answered from memory; counts()
 * says so (`reused`). No workerSpec: samplers query through it in the main thread.
 */
export function memoOracle(oracle: Oracle): MemoOracle {
  const memo = new Map<string, number>();
  let hits = 0;
  const d = oracle.inputDim;
  const wrapped: Oracle = {
    inputDim: d,
    identity: oracle.identity,
    counts: () => {
      const c = oracle.counts();
      return { total: c.total + hits, paid: c.paid, reused: c.reused + hits };
    },
    reserve: (n) => oracle.reserve(n),
    recordExternal: (n) => oracle.recordExternal(n),
    close: () => oracle.close(),
    async evaluate(inputs) {
      const dense = toDense(inputs);
      const n = dense.shape.length === 1 ? 1 : dense.shape[0];
      const out = new Float64Array(n);
      const keys: string[] = new Array(n);
      const missing: number[] = [];
      for (let i = 0; i < n; i++) {
        keys[i] = rowKey(dense.data.subarray(i * d, (i + 1) * d));
        const v = memo.get(keys[i]);
        if (v === undefined) missing.push(i);
        else out[i] = v;
      }
      hits += n - missing.length;
      if (missing.length > 0) {
        const ask = matrix(missing.length, d);
        missing.forEach((i, k) => ask.data.set(dense.data.subarray(i * d, (i + 1) * d), k * d));
        const answers = await oracle.evaluate(ask);
        missing.forEach((i, k) => {
          out[i] = answers[k];
          memo.set(keys[i], answers[k]);
        });
      }
      return out;
    },
  };
  return { oracle: wrapped, hits: () => hits };
}
