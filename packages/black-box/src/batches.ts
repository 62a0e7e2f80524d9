/**
 * What the adapters share: checking a batch's shape, copying rows into dense arrays, checking
 * answers, and the per-batch listener through which answers are stored as they arrive.
 */
import { ErrorCodes, NnidError, invalidArgument, type Float64View } from '@nnid/core';

/**
 * Called once per sub-batch as soon as its answers arrived and passed the checks, before
 * `evaluate` resolves. `inputs` is the sub-batch (dense rows x inputDim), `values` its answers
 * (rows x k row-major for a black box of k outputs). `evaluate` waits for the returned promise, so answers stored here survive a later failure of
 * the same call (this is how `openOracleFromSpec` keeps every answer received).
 */
export type BatchListener = (inputs: Float64View, values: Float64Array) => void | Promise<void>;

/** Rows, row stride and column stride of a batch; a 1-d view is one row. */
export function batchShape(inputs: Float64View, inputDim: number, source: string): { rows: number; rowStride: number; colStride: number } {
  if (!inputs || !(inputs.data instanceof Float64Array) || !Array.isArray(inputs.shape)) {
    invalidArgument('inputs', 'must be a Float64View (n x inputDim)', inputs);
  }
  if (inputs.shape.length === 1) {
    if (inputs.shape[0] !== inputDim) {
      throw new NnidError(ErrorCodes.dimensionMismatch, `${source} takes inputs of dimension ${inputDim}, but a point of dimension ${inputs.shape[0]} was given`);
    }
    return { rows: 1, rowStride: 0, colStride: inputs.strides[0] };
  }
  if (inputs.shape.length !== 2) invalidArgument('inputs', 'must be a 2-d view (n x inputDim)', inputs.shape);
  if (inputs.shape[1] !== inputDim) {
    throw new NnidError(ErrorCodes.dimensionMismatch, `${source} takes inputs of dimension ${inputDim}, but a batch of dimension ${inputs.shape[1]} was given`);
  }
  return { rows: inputs.shape[0], rowStride: inputs.strides[0], colStride: inputs.strides[1] };
}

/** Rows [start, end) of a batch as a dense row-major Float64Array. */
export function copyRows(inputs: Float64View, inputDim: number, start: number, end: number, rowStride: number, colStride: number): Float64Array {
  const out = new Float64Array((end - start) * inputDim);
  const { data, offset } = inputs;
  for (let r = start; r < end; r++) {
    const base = offset + r * rowStride;
    const at = (r - start) * inputDim;
    if (colStride === 1) out.set(data.subarray(base, base + inputDim), at);
    else for (let j = 0; j < inputDim; j++) out[at + j] = data[base + j * colStride];
  }
  return out;
}

/**
 * Finite doubles as a JSON array text. JavaScript writes the shortest digits that read back to
 * the same double, so the numbers cross exactly; -0 is written "-0" (JSON.stringify writes 0,
 * and JSON.parse reads "-0" back as -0), so even its sign survives.
 */
export function jsonNumbers(values: ArrayLike<number>, start = 0, end = values.length): string {
  let text = '[';
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (i > start) text += ',';
    text += v === 0 && 1 / v < 0 ? '-0' : String(v);
  }
  return text + ']';
}

function show(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s.length > 40 ? `${s.slice(0, 37)}...` : s;
  } catch {
    return String(v);
  }
}

/**
 * Checks one sub-batch's answers: exactly `rows` finite numbers. `first` is the index of the
 * sub-batch's first row in the caller's batch, so errors name the caller's row.
 * Throws E_ORACLE_OUTPUT.
 */
export function checkOutputs(source: string, values: ArrayLike<unknown> | null | undefined, rows: number, first: number): Float64Array {
  const last = first + rows - 1;
  if (!values || typeof values.length !== 'number') {
    throw new NnidError(ErrorCodes.oracleOutput, `${source} answered ${show(values)} for rows ${first}–${last}, expected ${rows} outputs`);
  }
  if (values.length !== rows) {
    throw new NnidError(ErrorCodes.oracleOutput, `${source} answered ${values.length} outputs for rows ${first}–${last}, expected ${rows}`);
  }
  const out = new Float64Array(rows);
  for (let k = 0; k < rows; k++) {
    const v = values[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new NnidError(ErrorCodes.oracleOutput, `${source} answered \`${show(v)}\` for row ${first + k}, expected a finite number`);
    }
    out[k] = v;
  }
  return out;
}

/** k answers per row, row-major, each finite; errors name the row and the output. */
export function checkRowsOfK(source: string, values: ArrayLike<number>, rows: number, first: number, k: number): Float64Array {
  if (values.length !== rows * k) {
    throw new NnidError(ErrorCodes.oracleOutput, `${source} answered ${values.length} numbers for rows ${first}–${first + rows - 1}, expected ${rows} x ${k}`);
  }
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new NnidError(ErrorCodes.oracleOutput, `${source} answered \`${out[i]}\` for row ${first + Math.floor(i / k)} (output ${i % k}), expected a finite number`);
  }
  return out;
}

