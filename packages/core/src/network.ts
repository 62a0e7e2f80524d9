/**
 * The network file format `nnid.network/v1` (docs/DESIGN.md section 4) and its in-memory form.
 *
 * f(x) = sum_l phi2( b_l . phi1(A^T x + theta) + tau_l )
 *
 * In memory, `A` is a width1 x inputDim view whose row i is a_i, and `B` a width2 x width1 view
 * whose row l is b_l, exactly as in the file.
 *
 * @example
 * const net = parseNetwork(JSON.parse(text));      // throws NetworkFormatError naming the field
 * const json = serializeNetwork(net);               // back to the file's form
 */
import { describe, isObject, readMatrix, readVector } from './json-fields.ts';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ACTIVATIONS, activation, type ActivationName } from './activation.ts';
import { ErrorCodes, NetworkFormatError, NnidError } from './errors.ts';
import { matrix, toRows, type AllocOptions, type Float64View } from './view.ts';

export const NETWORK_FORMAT = 'nnid.network/v1';

export interface Network {
  readonly activation: { readonly layer1: ActivationName; readonly layer2: ActivationName };
  readonly inputDim: number;
  readonly width1: number;
  readonly width2: number;
  /** width1 x inputDim; row i is a_i. */
  readonly A: Float64View;
  readonly theta: Float64Array;
  /** width2 x width1; row l is b_l. */
  readonly B: Float64View;
  readonly tau: Float64Array;
}

/** The JSON form of a network file (plus any extra fields such as `report`). */
export interface NetworkJson {
  format: typeof NETWORK_FORMAT;
  activation: { layer1: ActivationName; layer2: ActivationName };
  inputDim: number;
  A: number[][];
  theta: number[];
  B: number[][];
  tau: number[];
  [extra: string]: unknown;
}



function readActivation(path: string, v: unknown): ActivationName {
  if (typeof v !== 'string' || !(ACTIVATIONS as readonly string[]).includes(v)) {
    throw new NetworkFormatError(path, `is ${describe(v)}: unknown activation, expected one of ${ACTIVATIONS.join(', ')}`);
  }
  return v as ActivationName;
}



/**
 * Validates a parsed JSON value as nnid.network/v1 and returns the network. Errors name the
 * field and index: `A[3]` has 19 numbers, expected inputDim = 20.
 */
export function parseNetwork(json: unknown, options: AllocOptions = {}): Network {
  if (!isObject(json)) throw new NetworkFormatError('(root)', `is ${describe(json)}, expected an object`);
  if (json.format !== NETWORK_FORMAT) {
    throw new NetworkFormatError('format', `is ${describe(json.format)}, expected "${NETWORK_FORMAT}"`);
  }
  if (!isObject(json.activation)) {
    throw new NetworkFormatError('activation', `is ${describe(json.activation)}, expected { "layer1": ..., "layer2": ... }`);
  }
  const layer1 = readActivation('activation.layer1', json.activation.layer1);
  const layer2 = readActivation('activation.layer2', json.activation.layer2);
  const inputDim = json.inputDim;
  if (typeof inputDim !== 'number' || !Number.isInteger(inputDim) || inputDim < 1) {
    throw new NetworkFormatError('inputDim', `is ${describe(inputDim)}, expected a positive integer`);
  }
  const A = readMatrix('A', json.A, inputDim, 'inputDim', options);
  const width1 = A.shape[0];
  if (width1 > inputDim) {
    throw new NetworkFormatError('A', `has ${width1} rows (m0 = ${width1}) but inputDim = ${inputDim}: m0 > d is not allowed`);
  }
  const theta = new Float64Array(width1);
  readVector('theta', json.theta, width1, 'm0 (rows of A)', theta, 0);
  const B = readMatrix('B', json.B, width1, 'm0 (rows of A)', options);
  const width2 = B.shape[0];
  if (width2 > width1) {
    throw new NetworkFormatError('B', `has ${width2} rows (m1 = ${width2}) but A has ${width1} rows (m0 = ${width1}): m1 > m0 is not allowed`);
  }
  const tau = new Float64Array(width2);
  readVector('tau', json.tau, width2, 'm1 (rows of B)', tau, 0);
  return { activation: { layer1, layer2 }, inputDim, width1, width2, A, theta, B, tau };
}

/** The JSON form of a network (numbers in full precision). */
export function serializeNetwork(net: Network): NetworkJson {
  return {
    format: NETWORK_FORMAT,
    activation: { layer1: net.activation.layer1, layer2: net.activation.layer2 },
    inputDim: net.inputDim,
    A: toRows(net.A),
    theta: Array.from(net.theta),
    B: toRows(net.B),
    tau: Array.from(net.tau),
  };
}

/** Reads and validates a network file. Unreadable files and bad JSON get their own errors. */
export function readNetworkFile(path: string, options: AllocOptions = {}): Network {
  return parseNetwork(readJsonFile(path), options);
}

/**
 * The most bytes a JSON file may hold (500 MiB): its text must fit in one string (Node's longest
 * is just under 512 MiB), and a device such as /dev/zero or an endless pipe must end in an error.
 */
const MAX_JSON_FILE_BYTES = 500 * 2 ** 20;

/** Reads at most `maxBytes` bytes of a file, device or pipe; throws RangeError beyond. */
function readLimited(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isFile() && st.size > maxBytes) throw new RangeError(`${st.size}`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(st.isFile() ? Math.min(maxBytes, st.size) + 1 : 1 << 20);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new RangeError(`${total}`);
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a JSON file, with an `E_FILE_READ` error naming the file on any failure; a file, device
 * or pipe longer than 500 MiB (e.g. /dev/zero) is refused once that much has been read.
 */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readLimited(path, MAX_JSON_FILE_BYTES).toString('utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      e instanceof RangeError
        ? `longer than ${MAX_JSON_FILE_BYTES / 2 ** 20} MiB, the most a JSON file may hold`
        : code === 'ENOENT'
          ? 'no such file'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (e as Error).message;
    throw new NnidError(ErrorCodes.fileRead, `cannot read ${path}: ${reason}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new NnidError(ErrorCodes.fileRead, `cannot read ${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

/** Number of parameters P = d m0 + m0 + m0 m1 + m1. */
export function parameterCount(net: Pick<Network, 'inputDim' | 'width1' | 'width2'>): number {
  return net.inputDim * net.width1 + net.width1 + net.width1 * net.width2 + net.width2;
}

/**
 * The entangled weights v_l = A^T G_0 b_l / |A^T G_0 b_l| (docs/DESIGN.md section 1), G_0 =
 * diag(phi1'(theta)), as rows of a width2 x inputDim view. (In the file's row convention,
 * v_l = sum_i phi1'(theta_i) b_li a_i.)
 */
export function entangledWeights(net: Network, options: AllocOptions = {}): Float64View {
  const { inputDim: d, width1: m0, width2: m1, A, B } = net;
  const phi1 = activation(net.activation.layer1);
  const out = matrix(m1, d, options);
  for (let l = 0; l < m1; l++) {
    const row = out.data.subarray(l * d, (l + 1) * d);
    for (let i = 0; i < m0; i++) {
      const w = phi1.d1(net.theta[i]) * B.data[B.offset + l * B.strides[0] + i * B.strides[1]];
      for (let j = 0; j < d; j++) row[j] += w * A.data[A.offset + i * A.strides[0] + j * A.strides[1]];
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += row[j] * row[j];
    norm = Math.sqrt(norm);
    if (norm > 0) for (let j = 0; j < d; j++) row[j] /= norm;
  }
  return out;
}
