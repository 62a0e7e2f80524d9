/**
 * `nnid convert`: a network between nnid.network/v1, nnid.network/v2, ONNX and safetensors.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { extname } from 'node:path';
import {
  ErrorCodes,
  NnidError,
  checkActivation,
  generalParameterCount,
  readNetworkAny,
  serializeNetwork,
  serializeNetworkV2,
  toNetworkV1,
  type GeneralNetwork,
} from '@nnid/core';
import { OnnxImportError, importOnnx, onnxGeneralModelBytes, readSafetensors, safetensorsBytes } from '@nnid/black-box';
import { checkOutputs, writeOutput } from '../files.ts';
import { stringOption, UsageError, type Command, type Values } from '../cli.ts';

const help = `usage: nnid convert --in FILE --out FILE [--activation a/b] [--float32] [--v1]

Converts a network between the formats nnid reads. The input's format is read from its content
(JSON: nnid.network/v1 or v2 by its "format"; safetensors; ONNX), the output's from its extension:
  .json          nnid.network/v2 (nnid.network/v1 with --v1, when the network is one)
  .onnx          an ONNX model: x [n, d] -> y [n, k], MatMul + Add and the activations' operators
  .safetensors   a PyTorch state_dict of nn.Sequential(Linear, act, Linear, act, Linear)

options:
  --in FILE            the network: .json, .onnx or .safetensors
  --out FILE           where to write it (format by extension)
  --activation A/B     the hidden layers' activations of a safetensors input (a state_dict holds
                       none; files nnid wrote record them), e.g. tanh/gelu, or one name for both
  --float32            write the ONNX model or safetensors in float32 (default float64)
  --v1                 write nnid.network/v1 (one output, C = 1^T, c = 0, m1 <= m0 <= d)
  -h, --help           this help

example:
  nnid convert --in model.onnx --out net.json
  nnid convert --in model.safetensors --activation tanh/tanh --out model.onnx`;

type Kind = 'json' | 'onnx' | 'safetensors';

const OUTPUT_KINDS: Record<string, Kind> = { '.json': 'json', '.onnx': 'onnx', '.safetensors': 'safetensors' };

/** The input's format from its first bytes: JSON text, a safetensors header, or else ONNX (protobuf). */
export function inputKind(path: string): Kind {
  let head = Buffer.alloc(0);
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(16);
      head = buf.subarray(0, readSync(fd, buf, 0, 16, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return 'json'; // readNetworkAny names the problem (no such file, a directory, ...)
  }
  const text = head.toString('latin1').trimStart();
  if (text.startsWith('{') || text.startsWith('[')) return 'json';
  if (head.length >= 9 && head[8] === 0x7b && head.readBigUInt64LE(0) < 2n ** 40n) return 'safetensors';
  return 'onnx';
}

/**
 * Before an ONNX model is asked any query: a graph the import reads and finds outside what nnid
 * identifies (a ReLU-like activation, other than two hidden layers, a Softmax or other final
 * activation, a convolution, an input of rank > 2) is refused in one line (exit 2). A graph the
 * import cannot read for another reason (an operator it does not know) is left to the black box.
 */
export async function refuseUnidentifiableOnnx(path: string, flag = '--oracle'): Promise<void> {
  try {
    await importOnnx(path);
  } catch (e) {
    if (e instanceof OnnxImportError && e.unidentifiable) throw new UsageError(`${flag} ${e.message}`);
  }
}

function parsePair(raw: string): { layer1: ReturnType<typeof checkActivation>; layer2: ReturnType<typeof checkActivation> } {
  const parts = raw.split('/').map((s) => s.trim());
  if (parts.length > 2) throw new UsageError(`--activation is one name or a layer1/layer2 pair such as tanh/gelu, got '${raw}'`);
  const layer1 = checkActivation('--activation', parts[0]);
  return { layer1, layer2: parts.length === 2 ? checkActivation('--activation', parts[1]) : layer1 };
}

export const command: Command = {
  name: 'convert',
  summary: 'convert a network between nnid.network/v1, v2, ONNX and safetensors',
  help,
  options: {
    in: { type: 'string' },
    out: { type: 'string' },
    activation: { type: 'string' },
    float32: { type: 'boolean' },
    v1: { type: 'boolean' },
  },
  async run(values: Values, io) {
    const input = stringOption(values, 'in');
    const out = stringOption(values, 'out');
    const outKind = OUTPUT_KINDS[extname(out).toLowerCase()];
    if (!outKind) throw new UsageError(`--out ${out}: the format is read from the extension: .json (nnid.network/v2), .onnx or .safetensors`);
    if (values.float32 && outKind === 'json') throw new UsageError('--float32 applies to an .onnx or .safetensors output (a .json file holds float64 numbers)');
    if (values.v1 && outKind !== 'json') throw new UsageError('--v1 applies to a .json output');
    checkOutputs([{ flag: '--out', path: out }], [{ flag: '--in', path: input }]);
    const kind = inputKind(input);
    if (values.activation !== undefined && kind !== 'safetensors') {
      throw new UsageError(`--activation applies to a safetensors input; ${input} holds its activations`);
    }
    let network: GeneralNetwork;
    let from: string;
    if (kind === 'json') {
      const read = readNetworkAny(input);
      network = read.general;
      from = read.format;
    } else if (kind === 'safetensors') {
      const read = await readSafetensors(input, values.activation !== undefined ? { activation: parsePair(String(values.activation)) } : {});
      network = read.network;
      from = `safetensors ${read.dtype}`;
    } else {
      const read = await importOnnx(input).catch((e: unknown) => {
        if (e instanceof NnidError && e.code === ErrorCodes.fileRead && /not an ONNX model/.test(e.message)) {
          throw new UsageError(`--in ${input}: not a network file nnid reads (JSON nnid.network/v1 or v2, ONNX, safetensors)`);
        }
        throw e;
      });
      network = read.network;
      from = `ONNX ${read.dtype}`;
    }
    const float32 = values.float32 === true;
    let bytes: Uint8Array | string;
    let to: string;
    if (outKind === 'json') {
      const json = values.v1 ? serializeNetwork(toNetworkV1(network)) : serializeNetworkV2(network);
      bytes = JSON.stringify(json, null, 1) + '\n';
      to = json.format;
    } else if (outKind === 'onnx') {
      bytes = onnxGeneralModelBytes(network, { float32 });
      to = `ONNX opset 13 ${float32 ? 'float32' : 'float64'}`;
    } else {
      bytes = safetensorsBytes(network, { float32 });
      to = `safetensors ${float32 ? 'F32' : 'F64'}`;
    }
    writeOutput({ flag: '--out', path: out }, bytes);
    const { inputDim: d, width1: m0, width2: m1, outputs: k } = network;
    io.out(
      `wrote ${out}: ${to}, d = ${d}, m0 = ${m0}, m1 = ${m1}, k = ${k}, ${network.activation.layer1}/${network.activation.layer2}, ` +
        `P = ${generalParameterCount(network)} (from ${from} ${input})`,
    );
    return 0;
  },
};
