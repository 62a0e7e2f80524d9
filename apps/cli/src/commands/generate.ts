/**
 * `nnid generate`: a random network as in the paper's experiments, written as nnid.network/v1.
 */
import { ACTIVATIONS, ErrorCodes, NnidError, activation as activationFunctions, parameterCount, serializeNetwork, type ActivationName, type Network } from '@nnid/core';
import { DEFAULT_SHIFT_STD, randomNetwork } from '@nnid/oracle';
import { intOption, numberOption, UsageError, type Command, type Values } from '../cli.ts';
import { checkMemory, checkOutputs, formatBytes, writeOutput } from '../files.ts';

const help = `usage: nnid generate --input-dim D --width1 M0 --width2 M1 [options] [--out net.json]

Writes a random two-hidden-layer network (format nnid.network/v1):
A has orthonormal rows (Haar-random), B unit-norm Gaussian rows, theta and tau ~ N(0, S^2).

options:
  --input-dim D        input dimension d (>= 1)
  --width1 M0          first hidden layer width, m0 <= d
  --width2 M1          second hidden layer width, m1 <= m0
  --activation NAME    tanh or sigmoid for both layers, or a layer1/layer2 pair such as
                       tanh/sigmoid (default tanh)
  --shift-std S        std of the shifts theta and tau (default ${DEFAULT_SHIFT_STD})
  --perturb E          move A away from orthogonality: A + E * Gaussian, rows renormalized (default 0)
  --seed N             random seed, a nonnegative integer (default 0)
  --out FILE           where to write the network (default: print it)
  -h, --help           this help

Values that leave a degenerate network are refused (--perturb so large that A + E G overflows to
zero rows; a --shift-std that saturates every unit of a layer at x = 0); units saturated at x = 0
(phi' below 1e-3 phi'(0)) are counted in a warning on stderr. Sizes whose file would exceed the
500 MiB a network file may hold are refused with the memory and file size they would need.
The file format: docs/DESIGN.md section 4.

example:
  nnid generate --input-dim 20 --width1 10 --width2 5 --activation tanh --seed 1 --out net.json`;

/**
 * One syntax for activations in every command: a name means both layers, a pair is written
 * layer1/layer2 (tanh/sigmoid), and lists (sweep's --activations) are comma-separated. The old
 * pair form tanh,sigmoid is refused with a line showing the new one.
 */
export function parseActivation(raw: string | undefined, flag = '--activation'): { layer1: ActivationName; layer2: ActivationName } {
  const text = (raw ?? 'tanh').trim();
  const ok = (s: string): s is ActivationName => (ACTIVATIONS as readonly string[]).includes(s);
  const parts = text.split('/').map((s) => s.trim());
  if ((parts.length === 1 || parts.length === 2) && parts.every(ok)) {
    return { layer1: parts[0] as ActivationName, layer2: (parts[1] ?? parts[0]) as ActivationName };
  }
  const comma = text.split(',').map((s) => s.trim());
  if (comma.length === 2 && comma.every(ok)) {
    throw new UsageError(`${flag}: a pair is written layer1/layer2, e.g. ${comma[0]}/${comma[1]}, got '${raw}'`);
  }
  throw new UsageError(`${flag} must be one of ${ACTIVATIONS.join(', ')} (both layers) or a layer1/layer2 pair such as tanh/sigmoid, got '${raw}'`);
}

/** Bytes per number in a network file's text (17 significant digits, sign, exponent, separator). */
const FILE_BYTES_PER_NUMBER = 24;
/** The most bytes a network file may hold (core's readNetworkFile reads at most 500 MiB). */
const MAX_NETWORK_FILE_BYTES = 500 * 2 ** 20;

/**
 * Refuses sizes whose network cannot be held or written: the file of P numbers must stay under
 * the 500 MiB a network file may hold, and its arrays within memory. `what` names the options.
 */
export function checkNetworkSize(what: string, d: number, m0: number, m1: number): void {
  const P = parameterCount({ inputDim: d, width1: m0, width2: m1 });
  const fileBytes = P * FILE_BYTES_PER_NUMBER;
  const memoryBytes = 8 * (2 * d * m0 + m0 * m1 + m0 + m1);
  if (fileBytes > MAX_NETWORK_FILE_BYTES) {
    throw new UsageError(
      `${what} gives P = ${P.toLocaleString('en-US')} parameters: about ${formatBytes(memoryBytes)} of memory and a ${formatBytes(fileBytes)} network file, ` +
        `more than the ${MAX_NETWORK_FILE_BYTES / 2 ** 20} MiB a network file may hold (about ${Math.floor(MAX_NETWORK_FILE_BYTES / FILE_BYTES_PER_NUMBER / 1e6)} million parameters)`,
    );
  }
  checkMemory(what, memoryBytes, d * m0);
}

/**
 * Units whose activation is saturated at x = 0: phi'(shift) below 1e-3 phi'(0) (the level at
 * which shift recovery calls a unit deep in saturation). For the warning of nnid generate.
 */
export function saturatedUnits(net: Network): { layer1: number[]; layer2: number[] } {
  const find = (name: ActivationName, atZero: ArrayLike<number>) => {
    const phi = activationFunctions(name);
    const floor = 1e-3 * phi.d1(0);
    const out: number[] = [];
    for (let i = 0; i < atZero.length; i++) if (!(Math.abs(phi.d1(atZero[i])) >= floor)) out.push(i);
    return out;
  };
  // a second-layer unit sees b_l . phi1(theta) + tau_l at x = 0
  const phi1 = activationFunctions(net.activation.layer1);
  const { B, width1: m0 } = net;
  const s0 = Array.from(net.tau, (t, l) => {
    let s = t;
    for (let i = 0; i < m0; i++) s += B.data[B.offset + l * B.strides[0] + i * B.strides[1]] * phi1.value(net.theta[i]);
    return s;
  });
  return { layer1: find(net.activation.layer1, net.theta), layer2: find(net.activation.layer2, s0) };
}

/** One warning line per layer with units saturated at x = 0 (see saturatedUnits). */
export function saturationWarnings(net: Network, shiftStd: number): string[] {
  const saturated = saturatedUnits(net);
  const lines: string[] = [];
  for (const [layer, units, count] of [['first', saturated.layer1, net.width1], ['second', saturated.layer2, net.width2]] as const) {
    if (units.length > 0) {
      lines.push(
        `warning: --shift-std ${shiftStd} saturates ${units.length} of ${count} ${layer}-layer units at x = 0 ` +
          `(phi'(t) < 1e-3 phi'(0)): they are nearly constant and hard to identify`,
      );
    }
  }
  return lines;
}

/**
 * randomNetwork with its refusals (degenerate values) said in the command's words: the option
 * names are the flags (--shift-std, --perturb), not the library's.
 */
export function generateNetwork(options: Parameters<typeof randomNetwork>[0]): Network {
  try {
    return randomNetwork(options);
  } catch (e) {
    if (e instanceof NnidError && e.code === ErrorCodes.invalidArgument) {
      throw new UsageError(e.message.replace('`shiftStd`', '--shift-std').replace('`orthogonalityPerturbation`', '--perturb').replace(/^invalid argument\. /, ''));
    }
    throw e;
  }
}

/** The file text: one matrix row per line, numbers in full precision. */
export function networkText(json: object): string {
  return (
    JSON.stringify(json, null, 2).replace(/\[\s+(-?[\d.e+-]+(?:,\s+-?[\d.e+-]+)*)\s+\]/g, (_m, inner: string) => `[${inner.replace(/,\s+/g, ', ')}]`) + '\n'
  );
}


export const command: Command = {
  name: 'generate',
  summary: 'write a random network (nnid.network/v1) as in the paper',
  help,
  options: {
    'input-dim': { type: 'string' },
    width1: { type: 'string' },
    width2: { type: 'string' },
    activation: { type: 'string' },
    'shift-std': { type: 'string' },
    perturb: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
  },
  async run(values: Values, io) {
    const inputDim = intOption(values, 'input-dim');
    const width1 = intOption(values, 'width1');
    const width2 = intOption(values, 'width2');
    if (width1 > inputDim) throw new UsageError(`--width1 must be <= --input-dim (${inputDim}), got '${width1}'`);
    if (width2 > width1) throw new UsageError(`--width2 must be <= --width1 (${width1}), got '${width2}'`);
    const activation = parseActivation(values.activation as string | undefined);
    const shiftStd = numberOption(values, 'shift-std', DEFAULT_SHIFT_STD, 0);
    const perturb = numberOption(values, 'perturb', 0, 0);
    const seed = intOption(values, 'seed', 0, 0);
    checkNetworkSize(`--input-dim ${inputDim} --width1 ${width1} --width2 ${width2}`, inputDim, width1, width2);
    const out = values.out as string | undefined;
    if (out !== undefined) checkOutputs([{ flag: '--out', path: out }]);
    const net = generateNetwork({ inputDim, width1, width2, activation, shiftStd, orthogonalityPerturbation: perturb, seed });
    for (const line of saturationWarnings(net, shiftStd)) io.err(`nnid generate: ${line}`);
    const json = { ...serializeNetwork(net), generator: { tool: 'nnid generate', seed, shiftStd, orthogonalityPerturbation: perturb } };
    const text = networkText(json);
    if (out === undefined) {
      io.out(text.trimEnd());
      return 0;
    }
    writeOutput({ flag: '--out', path: out }, text);
    io.out(
      `wrote ${out}: d = ${inputDim}, m0 = ${width1}, m1 = ${width2}, ${activation.layer1}/${activation.layer2}, ` +
        `shift std ${shiftStd}, perturbation ${perturb}, seed ${seed} (P = ${parameterCount(net)} parameters)`,
    );
    return 0;
  },
};
