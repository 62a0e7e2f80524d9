/**
 * `nnid score`: the measures of docs/DESIGN.md section 5 for a recovered network against the truth.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readNetworkAny, type GeneralNetwork, type Network } from '@nnid/core';
import { importOnnx } from '@nnid/black-box';
import { inputKind } from './convert.ts';
import { score, scoreGeneral, type GeneralScore, type Score } from '@nnid/pipeline';
import { intOption, stringOption, UsageError, type Command, type Values } from '../cli.ts';
import { checkMemory } from '../files.ts';

const help = `usage: nnid score --truth net.json --recovered result.json [--points N] [--seed N] [--json]

Compares a recovered network (e.g. the output of nnid identify) with the true one:
  weights  a_i and v_l matched up to sign and permutation (Hungarian assignment on |cos|):
           min and median |cos|, share with |cos| >= 0.999, share with |w - w_hat| <= 0.05
  function relative L2 error and max error of f - f_hat on N fresh points from the unit
           sphere and from N(0, I_d)

options:
  --truth FILE       the true network (nnid.network/v1, or v2: then the rows of W1 by their
                     directions and norms, W2's rows and C once W1's units are matched, the
                     function over its k outputs and output by output)
  --recovered FILE   the recovered network (a network file or ONNX model; a "report" is ignored)
  --points N         test points per distribution (default 10000)
  --seed N           seed of the test points (default 20260101)
  --json             print the full score as JSON
  -h, --help         this help`;

function fmtCos(c: number): string {
  if (!Number.isFinite(c)) return 'n/a';
  const gap = 1 - c;
  if (gap <= 0) return '1';
  return gap < 1e-4 ? `1 - ${gap.toExponential(1)}` : c.toFixed(6);
}

/** A readable summary of a score, one measure per line (a general score: W1's row directions, no v_l). */
export function scoreLines(s: Score | GeneralScore): string[] {
  const w = (name: string, x: Score['firstLayer']) =>
    `${name.padEnd(16)} n=${String(x.count).padEnd(3)} min|cos| ${fmtCos(x.minCos).padEnd(14)} median|cos| ${fmtCos(x.medianCos).padEnd(14)} ` +
    `|cos|>=0.999: ${(100 * x.shareCos999).toFixed(0)}%  |w-w^|<=0.05: ${(100 * x.shareWithin005).toFixed(0)}%`;
  const f = (name: string, e: Score['function']['sphere']) =>
    `${name.padEnd(16)} relative L2 ${e.relativeL2.toExponential(2)}   max error ${e.maxError.toExponential(2)}`;
  if (!('entangled' in s)) {
    // v2: scales (row norms), W2 and C after the matching, and the function output by output
    const scale = (name: string, x: GeneralScore['firstLayerScales'] | null) => `${name.padEnd(16)} max |norm^/norm - 1| ${x ? x.maxRelativeError.toExponential(2) : 'n/a (widths differ)'}`;
    const perOutput = (name: string, e: GeneralScore['function']['sphere']) =>
      e.perOutput.length > 1 ? [`${name.padEnd(16)} per output relative L2 ${e.perOutput.map((o) => o.relativeL2.toExponential(2)).join(' ')}`] : [];
    return [
      w('W1 directions', s.firstLayer),
      scale('W1 scales', s.firstLayerScales),
      s.secondLayer ? w('W2 rows', s.secondLayer) : `${'W2 rows'.padEnd(16)} n/a (widths differ)`,
      scale('W2 scales', s.secondLayerScales),
      `${'C'.padEnd(16)} relative error ${s.outputLayerRelativeError === null ? 'n/a (widths differ)' : s.outputLayerRelativeError.toExponential(2)}`,
      f('f on sphere', s.function.sphere),
      ...perOutput('f on sphere', s.function.sphere),
      f('f on N(0, I)', s.function.gaussian),
      ...perOutput('f on N(0, I)', s.function.gaussian),
      `(${s.function.points} test points per distribution)`,
    ];
  }
  return [
    w('a_i (layer 1)', s.firstLayer),
    w('v_l (entangled)', s.entangled),
    f('f on sphere', s.function.sphere),
    f('f on N(0, I)', s.function.gaussian),
    `(${s.function.points} test points per distribution)`,
  ];
}

/**
 * An ONNX model: named .onnx, or a file whose first byte is an ONNX ModelProto's first field tag
 * (0x08, ir_version). Anything else is read as a network file, whose reader names the problem in one
 * line and stops at 500 MiB (/dev/null, /dev/zero, a truncated or foreign file are not models to import).
 */
function looksOnnx(path: string): boolean {
  if (/\.onnx$/i.test(path)) return true;
  if (inputKind(path) !== 'onnx') return false;
  try {
    const fd = openSync(path, 'r');
    try {
      const b = Buffer.alloc(1);
      return readSync(fd, b, 0, 1, 0) === 1 && b[0] === 0x08;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** A network file (v1 or v2), or an ONNX model read into v2 (a user's model.onnx as the truth). */
async function readAny(path: string): Promise<{ format: 'nnid.network/v1'; network: Network; general: GeneralNetwork } | { format: 'nnid.network/v2'; general: GeneralNetwork }> {
  if (!looksOnnx(path)) return readNetworkAny(path);
  return { format: 'nnid.network/v2', general: (await importOnnx(path)).network };
}

export const command: Command = {
  name: 'score',
  summary: 'compare a recovered network with the true one (weights and function errors)',
  help,
  options: {
    truth: { type: 'string' },
    recovered: { type: 'string' },
    points: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values: Values, io) {
    const points = intOption(values, 'points', 10_000);
    const seed = intOption(values, 'seed', 20260101, 0);
    const truthFile = await readAny(stringOption(values, 'truth'));
    const recoveredFile = await readAny(stringOption(values, 'recovered'));
    const truth = truthFile.general;
    const recovered = recoveredFile.general;
    if (truth.inputDim !== recovered.inputDim) {
      throw new UsageError(`--recovered has input dimension ${recovered.inputDim}, --truth ${truth.inputDim}: they are not the same network's`);
    }
    // two distributions of points x d inputs, and the two networks' answers
    checkMemory(`--points ${points} at d = ${truth.inputDim}`, 8 * 2 * points * (truth.inputDim + 4), points * truth.inputDim);
    if (truthFile.format === 'nnid.network/v1' && recoveredFile.format === 'nnid.network/v1') {
      const s = score(truthFile.network, recoveredFile.network, { points, seed });
      if (values.json) io.out(JSON.stringify(s, null, 2));
      else for (const line of scoreLines(s)) io.out(line);
      return;
    }
    // a v2 file on either side: both in the general form
    if (truth.outputs !== recovered.outputs) throw new UsageError(`--recovered has ${recovered.outputs} outputs, --truth ${truth.outputs}: they are not the same network's`);
    const g = scoreGeneral(truth, recovered, { points, seed });
    if (values.json) io.out(JSON.stringify(g, null, 2));
    else for (const line of scoreLines(g)) io.out(line);
  },
};
