/**
 * A PyTorch `state_dict` of an `nn.Sequential(Linear, act, Linear, act, Linear)` in the
 * safetensors format, read into and written from a GeneralNetwork (nnid.network/v2).
 *
 * The format: an 8-byte little-endian header length N, N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": { string: string } }`,
 * then the tensors' raw little-endian bytes (offsets relative to the end of the header). The
 * Linear layers are the keys `P.weight` (out x in) and `P.bias` (`0.weight`, `0.bias`,
 * `2.weight`, ...), in the numeric order of their prefixes. The activations are not in a
 * state_dict: they come from the caller, or from the `nnid.activation` metadata nnid writes.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { ErrorCodes, NnidError, checkActivation, matrixFrom, toDense, type ActivationName, type GeneralNetwork } from '@nnid/core';

/** Metadata key under which nnid records the activations ("tanh/gelu"). */
export const SAFETENSORS_ACTIVATION_KEY = 'nnid.activation';

export interface SafetensorsReadOptions {
  /** The hidden layers' activations; default: the file's `nnid.activation` metadata. */
  activation?: { layer1: ActivationName; layer2: ActivationName };
}

interface Entry {
  dtype: string;
  shape: number[];
  values: Float64Array;
}

/**
 * The general network a safetensors file's bytes hold (`source` names it in errors). One line
 * (E_NETWORK_FORMAT) for anything else: a dtype other than F32/F64, a number of Linear layers
 * other than three, mismatched shapes, no activations given.
 *
 * @example
 * const { network, dtype } = parseSafetensors(readFileSync('model.safetensors'), 'model.safetensors', { activation: { layer1: 'tanh', layer2: 'tanh' } });
 */
export function parseSafetensors(bytes: Uint8Array, source: string, options: SafetensorsReadOptions = {}): { network: GeneralNetwork; dtype: 'float32' | 'float64' } {
  const fail = (problem: string): never => {
    throw new NnidError(ErrorCodes.networkFormat, `cannot import ${source}: ${problem}`);
  };
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 8) fail(`${buffer.length} bytes, not a safetensors file (8-byte header length, JSON header, data)`);
  const n = Number(buffer.readBigUInt64LE(0));
  if (n < 2 || 8 + n > buffer.length) fail(`header length ${n} does not fit in ${buffer.length} bytes: not a safetensors file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buffer.subarray(8, 8 + n).toString('utf8')) as Record<string, unknown>;
  } catch (e) {
    return fail(`the header is not JSON (${(e as Error).message}): not a safetensors file`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('the header is not a JSON object');
  const data = buffer.subarray(8 + n);
  const entries = new Map<string, Entry>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = Array.isArray(t.shape) ? t.shape.map(Number) : [];
    const [begin, end] = Array.isArray(t.data_offsets) ? t.data_offsets.map(Number) : [NaN, NaN];
    if (t.dtype !== 'F32' && t.dtype !== 'F64') fail(`tensor '${name}' is ${String(t.dtype)}; nnid reads F32 and F64 (save with model.float() or model.double())`);
    const width = t.dtype === 'F32' ? 4 : 8;
    const count = shape.reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end <= data.length && end - begin === count * width)) {
      fail(`tensor '${name}' has data_offsets [${begin}, ${end}] for shape [${shape.join(', ')}] ${t.dtype} in ${data.length} bytes of data`);
    }
    const copy = Uint8Array.from(data.subarray(begin, end));
    const values = t.dtype === 'F32' ? Float64Array.from(new Float32Array(copy.buffer)) : new Float64Array(copy.buffer);
    entries.set(name, { dtype: t.dtype as string, shape, values });
  }
  // Linear layers: prefixes with a .weight, in numeric order of their last component
  const prefixes = [...entries.keys()].filter((k) => k.endsWith('.weight')).map((k) => k.slice(0, -'.weight'.length));
  const order = (p: string) => Number(p.split('.').pop());
  prefixes.sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1));
  const others = [...entries.keys()].filter((k) => !prefixes.some((p) => k === `${p}.weight` || k === `${p}.bias`));
  if (others.length > 0) fail(`tensor '${others[0]}' is neither a Linear layer's weight nor its bias: nnid reads an nn.Sequential of Linear and activation layers`);
  if (prefixes.length !== 3) {
    fail(`${prefixes.length} Linear layer${prefixes.length === 1 ? '' : 's'} (${prefixes.map((p) => `${p}.weight`).join(', ')}), ${Math.max(0, prefixes.length - 1)} hidden: nnid takes two hidden layers and a linear output layer`);
  }
  let layers = prefixes.map((p, i) => {
    const w = entries.get(`${p}.weight`)!;
    if (w.shape.length !== 2) fail(`'${p}.weight' has shape [${w.shape.join(', ')}], expected [out, in]`);
    const [out, inn] = w.shape;
    const b = entries.get(`${p}.bias`);
    if (b && (b.shape.length !== 1 || b.shape[0] !== out)) fail(`'${p}.bias' has shape [${b.shape.join(', ')}], expected [${out}]`);
    return { name: p, i, out, in: inn, weight: w.values, bias: b ? b.values : new Float64Array(out), dtype: w.dtype };
  });
  if (!prefixes.every((p) => Number.isInteger(order(p)))) {
    // a custom module's names (l1, fc2, out, ...): the order in which the shapes chain, when only one does
    const chains = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]].filter(([a, b, c]) => layers[b].in === layers[a].out && layers[c].in === layers[b].out);
    if (chains.length === 1) layers = chains[0].map((i) => layers[i]);
    else if (chains.length > 1 && !chains.some((c) => c.join() === '0,1,2')) {
      fail(`the Linear layers ${prefixes.map((p) => `'${p}'`).join(', ')} chain in more than one order: name them 0, 2, 4 as nn.Sequential does`);
    }
  }
  for (let i = 1; i < 3; i++) {
    if (layers[i].in !== layers[i - 1].out) fail(`'${layers[i].name}.weight' takes ${layers[i].in} inputs, but '${layers[i - 1].name}.weight' has ${layers[i - 1].out} outputs`);
  }
  let activation = options.activation;
  if (activation) {
    activation = { layer1: checkActivation('activation.layer1', activation.layer1), layer2: checkActivation('activation.layer2', activation.layer2) };
  } else {
    const meta = header.__metadata__ as Record<string, unknown> | undefined;
    const recorded = meta?.[SAFETENSORS_ACTIVATION_KEY];
    if (typeof recorded !== 'string') return fail('a state_dict holds no activations: give them (--activation layer1/layer2, e.g. tanh/tanh)');
    const [a, b] = recorded.split('/');
    activation = { layer1: checkActivation(`${SAFETENSORS_ACTIVATION_KEY} (layer 1)`, a), layer2: checkActivation(`${SAFETENSORS_ACTIVATION_KEY} (layer 2)`, b) };
  }
  const [l1, l2, l3] = layers;
  const network: GeneralNetwork = {
    activation: { layer1: activation.layer1, layer2: activation.layer2 },
    inputDim: l1.in,
    width1: l1.out,
    width2: l2.out,
    outputs: l3.out,
    W1: matrixFrom(l1.weight, l1.out, l1.in),
    b1: l1.bias,
    W2: matrixFrom(l2.weight, l2.out, l2.in),
    b2: l2.bias,
    C: matrixFrom(l3.weight, l3.out, l3.in),
    c: l3.bias,
  };
  return { network, dtype: layers.every((l) => l.dtype === 'F64') ? 'float64' : 'float32' };
}

/**
 * The safetensors bytes of a general network as the state_dict of
 * nn.Sequential(Linear, phi1, Linear, phi2, Linear): keys 0.weight, 0.bias, 2.weight, 2.bias,
 * 4.weight, 4.bias; F64, or F32 with `float32`; the activations in the metadata
 * (`nnid.activation`: "tanh/gelu"). PyTorch loads it with safetensors.torch.load_file.
 */
export function safetensorsBytes(network: GeneralNetwork, options: { float32?: boolean } = {}): Uint8Array {
  const float32 = options.float32 === true;
  const width = float32 ? 4 : 8;
  const tensors: [string, number[], Float64Array][] = [
    ['0.weight', [network.width1, network.inputDim], toDense(network.W1).data],
    ['0.bias', [network.width1], Float64Array.from(network.b1)],
    ['2.weight', [network.width2, network.width1], toDense(network.W2).data],
    ['2.bias', [network.width2], Float64Array.from(network.b2)],
    ['4.weight', [network.outputs, network.width2], toDense(network.C).data],
    ['4.bias', [network.outputs], Float64Array.from(network.c)],
  ];
  const header: Record<string, unknown> = {
    __metadata__: { format: 'pt', [SAFETENSORS_ACTIVATION_KEY]: `${network.activation.layer1}/${network.activation.layer2}` },
  };
  let at = 0;
  const blobs: Uint8Array[] = [];
  for (const [name, shape, values] of tensors) {
    const bytes = float32 ? new Uint8Array(Float32Array.from(values).buffer) : new Uint8Array(Float64Array.from(values).buffer);
    header[name] = { dtype: float32 ? 'F32' : 'F64', shape, data_offsets: [at, at + values.length * width] };
    blobs.push(bytes);
    at += bytes.length;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const head = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(head.length));
  return Buffer.concat([length, head, ...blobs]);
}

/**
 * Reads a safetensors file (see parseSafetensors).
 *
 * @example
 * const { network } = await readSafetensors('model.safetensors', { activation: { layer1: 'tanh', layer2: 'gelu' } });
 */
export async function readSafetensors(path: string, options: SafetensorsReadOptions = {}): Promise<{ network: GeneralNetwork; dtype: 'float32' | 'float64' }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new NnidError(ErrorCodes.fileRead, `cannot read ${path}: ${reason}`, { cause: e });
  }
  return parseSafetensors(bytes, path, options);
}

/** Writes a general network as a safetensors file (see safetensorsBytes). */
export async function writeSafetensors(network: GeneralNetwork, path: string, options: { float32?: boolean } = {}): Promise<void> {
  try {
    await writeFile(path, safetensorsBytes(network, options));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such directory' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new NnidError(ErrorCodes.fileWrite, `cannot write ${path}: ${reason}`, { cause: e });
  }
}
