/**
 * `nnid generate`: a random network as in the paper's experiments, written as nnid.network/v1.
 */
import { writeFileSync } from 'node:fs';
import { ACTIVATIONS, parameterCount, serializeNetwork, type ActivationName } from '@nnid/core';
import { DEFAULT_SHIFT_STD, randomNetwork } from '@nnid/oracle';
import { intOption, numberOption, UsageError, type Command, type Values } from '../cli.ts';

const help = `usage: nnid generate --input-dim D --width1 M0 --width2 M1 [options] [--out net.json]

Writes a random two-hidden-layer network (format nnid.network/v1):
A has orthonormal rows (Haar-random), B unit-norm Gaussian rows, theta and tau ~ N(0, S^2).

options:
  --input-dim D        input dimension d (>= 1)
  --width1 M0          first hidden layer width, m0 <= d
  --width2 M1          second hidden layer width, m1 <= m0
  --activation NAME    tanh or sigmoid for both layers, or one per layer: tanh,sigmoid  (default tanh)
  --shift-std S        std of the shifts theta and tau (default ${DEFAULT_SHIFT_STD})
  --perturb E          move A away from orthogonality: A + E * Gaussian, rows renormalized (default 0)
  --seed N             random seed, a nonnegative integer (default 0)
  --out FILE           where to write the network (default: print it)
  -h, --help           this help

example:
  nnid generate --input-dim 20 --width1 10 --width2 5 --activation tanh --seed 1 --out net.json`;

export function parseActivation(raw: string | undefined): { layer1: ActivationName; layer2: ActivationName } {
  const parts = (raw ?? 'tanh').split(',').map((s) => s.trim());
  const ok = (s: string): s is ActivationName => (ACTIVATIONS as readonly string[]).includes(s);
  if ((parts.length === 1 || parts.length === 2) && parts.every(ok)) {
    return { layer1: parts[0] as ActivationName, layer2: (parts[1] ?? parts[0]) as ActivationName };
  }
  throw new UsageError(`--activation must be ${ACTIVATIONS.join(' or ')}, or one per layer as layer1,layer2 (e.g. tanh,sigmoid), got '${raw}'`);
}

/** The file text: one matrix row per line, numbers in full precision. */
export function networkText(json: object): string {
  return (
    JSON.stringify(json, null, 2).replace(/\[\s+(-?[\d.e+-]+(?:,\s+-?[\d.e+-]+)*)\s+\]/g, (_m, inner: string) => `[${inner.replace(/,\s+/g, ', ')}]`) + '\n'
  );
}

export function writeOut(path: string, text: string | Uint8Array): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such directory' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new UsageError(`cannot write ${path}: ${reason}`);
  }
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
    const net = randomNetwork({ inputDim, width1, width2, activation, shiftStd, orthogonalityPerturbation: perturb, seed });
    const json = { ...serializeNetwork(net), generator: { tool: 'nnid generate', seed, shiftStd, orthogonalityPerturbation: perturb } };
    const text = networkText(json);
    const out = values.out as string | undefined;
    if (out === undefined) {
      io.out(text.trimEnd());
      return 0;
    }
    writeOut(out, text);
    io.out(
      `wrote ${out}: d = ${inputDim}, m0 = ${width1}, m1 = ${width2}, ${activation.layer1}/${activation.layer2}, ` +
        `shift std ${shiftStd}, perturbation ${perturb}, seed ${seed} (P = ${parameterCount(net)} parameters)`,
    );
    return 0;
  },
};
