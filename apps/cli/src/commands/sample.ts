/**
 * `nnid sample`: finite-difference Hessians of a network file at random points on a sphere, and
 * the singular-value spectrum of the Hessian stack.
 */
import { availableParallelism } from 'node:os';
import { readNetworkFile, toRows } from '@nnid/core';
import { createOracle, networkBlackBox } from '@nnid/oracle';
import { DEFAULT_STEP, sampleHessians, spherePoints } from '@nnid/hessian-sampler';
import { svd } from '@nnid/linalg';
import { intOption, numberOption, optionalInt, stringOption, UsageError, type Command, type Values } from '../cli.ts';
import { progressBar } from '../progress.ts';
import { networkText } from './generate.ts';
import { checkMemory, checkOutputs, writeOutput } from '../files.ts';

const help = `usage: nnid sample --network net.json [options]

Samples finite-difference Hessians of the network at points uniform on a sphere and prints the
singular values of the Hessian stack (one vectorized Hessian per row; min(points, columns) of
them, from @nnid/linalg's svd) and the queries used.

options:
  --network FILE       the network (nnid.network/v1), required
  --points N           number of Hessians (default 40)
  --radius R           radius of the sphere of points (default 1)
  --scheme S           forward ((d+1)(d+2)/2 queries per Hessian) or central (2d^2+1) (default forward)
  --step H             finite-difference step (default ${DEFAULT_STEP.forward} forward, ${DEFAULT_STEP.central} central)
  --layout L           full (d^2 columns) or packed (d(d+1)/2, off-diagonal x sqrt 2) (default full)
  --threads T          worker threads (default: the number of cores)
  --seed N             seed of the points (default 0)
  --noise S            std of Gaussian noise added to each query (default 0)
  --noise-seed N       seed of that noise (default 0)
  --max-queries N      query budget
  --out FILE           write the stack: FILE.bin (float64 little-endian, row-major) or FILE.json
  --quiet              no progress bar
  -h, --help           this help

example:
  nnid sample --network net.json --points 30 --scheme central --threads 2 --out stack.bin`;

function choice<T extends string>(values: Values, name: string, choices: readonly T[], fallback: T): T {
  const raw = values[name] ?? fallback;
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${String(raw)}'`);
  }
  return raw as T;
}

export const command: Command = {
  name: 'sample',
  summary: 'sample finite-difference Hessians of a network and print their spectrum',
  help,
  options: {
    network: { type: 'string' },
    points: { type: 'string' },
    radius: { type: 'string' },
    scheme: { type: 'string' },
    step: { type: 'string' },
    layout: { type: 'string' },
    threads: { type: 'string' },
    seed: { type: 'string' },
    noise: { type: 'string' },
    'noise-seed': { type: 'string' },
    'max-queries': { type: 'string' },
    out: { type: 'string' },
    quiet: { type: 'boolean' },
  },
  async run(values: Values, io) {
    const file = stringOption(values, 'network');
    const count = intOption(values, 'points', 40);
    const radius = numberOption(values, 'radius', 1);
    if (radius <= 0) throw new UsageError(`--radius must be a number > 0, got '${String(values.radius)}'`);
    const scheme = choice(values, 'scheme', ['forward', 'central'] as const, 'forward');
    const layout = choice(values, 'layout', ['full', 'packed'] as const, 'full');
    const step = numberOption(values, 'step', DEFAULT_STEP[scheme]);
    if (step <= 0) throw new UsageError(`--step must be a number > 0, got '${String(values.step)}'`);
    // a stencil wider than the sphere of points measures no Hessian at those points
    if (step >= radius) throw new UsageError(`--step must be smaller than --radius (${radius}), got '${String(values.step)}'`);
    const threads = intOption(values, 'threads', availableParallelism());
    const seed = intOption(values, 'seed', 0, 0);
    const noise = numberOption(values, 'noise', 0, 0);
    const noiseSeed = intOption(values, 'noise-seed', 0, 0);
    const maxQueries = optionalInt(values, 'max-queries', 0);
    const out = values.out as string | undefined;
    if (out !== undefined && !/\.(bin|json)$/.test(out)) throw new UsageError(`--out must end in .bin or .json, got '${out}'`);
    if (out !== undefined) checkOutputs([{ flag: '--out', path: out }], [{ flag: '--network', path: file }]);

    const net = readNetworkFile(file);
    const d = net.inputDim;
    const columns = layout === 'full' ? d * d : (d * (d + 1)) / 2;
    // the stack, its copy for the svd, and (with --out FILE.json) its text
    checkMemory(`--points ${count} Hessians of d = ${d}`, 8 * count * columns * (out?.endsWith('.json') ? 5 : 2), count * columns);
    const oracle = createOracle(networkBlackBox(net, { noise, noiseSeed }), { maxQueries });
    const points = spherePoints(count, d, radius, seed);
    const perPoint = scheme === 'forward' ? ((d + 1) * (d + 2)) / 2 : 2 * d * d + 1;
    const bar = progressBar('sampling Hessians', { quiet: Boolean(values.quiet) || count * perPoint < 200_000 });
    const result = await sampleHessians(oracle, points, { scheme, step, layout, threads, onProgress: (done, total) => bar.update(done, total) });
    bar.done(`${result.queries} queries`);
    // svd of the stack itself, not the eigenvalues of its Gram matrix: the squared route would
    // floor the small singular values at ~1e-8 sigma_1, where finite-difference error lives
    const sv = svd(result.hessianStack).values;
    const { report } = result;
    const k = net.width1 + net.width2;

    io.out(`network: ${file} (d = ${d}, m0 = ${net.width1}, m1 = ${net.width2}, ${net.activation.layer1}/${net.activation.layer2})`);
    io.out(
      `sampled ${count} Hessians (${scheme}, h = ${step}) at points on the sphere of radius ${radius}, seed ${seed}, ` +
        `${report.threads} thread${report.threads > 1 ? 's' : ''} (${report.mode}): ${result.queries} queries ` +
        `(${report.queriesPerPoint} per Hessian) in ${report.seconds.toFixed(2)} s`,
    );
    io.out(`singular values of the ${count} x ${result.hessianStack.shape[1]} Hessian stack (sigma_k / sigma_1):`);
    sv.forEach((s, i) => {
      const mark = i + 1 === k ? `   <- m0 + m1 = ${k}` : '';
      io.out(`  ${String(i + 1).padStart(4)}  ${s.toExponential(4).padStart(11)}  ${(sv[0] > 0 ? s / sv[0] : 0).toExponential(3)}${mark}`);
    });
    if (k < sv.length && sv[k] > 0) io.out(`gap at m0 + m1: sigma_${k} / sigma_${k + 1} = ${(sv[k - 1] / sv[k]).toPrecision(4)}`);
    io.out(`queries: ${oracle.counts().total}`);

    if (out !== undefined) {
      const stack = result.hessianStack;
      if (out.endsWith('.bin')) {
        writeOutput({ flag: '--out', path: out }, new Uint8Array(stack.data.buffer, stack.data.byteOffset, stack.data.byteLength).slice());
        io.out(`wrote ${out}: ${stack.shape[0]} x ${stack.shape[1]} float64, little-endian, row-major (${layout} layout)`);
      } else {
        const json = {
          format: 'nnid.hessian-stack/v1',
          network: file,
          layout,
          shape: stack.shape,
          singularValues: Array.from(sv),
          report,
          points: toRows(points),
          hessians: toRows(stack),
        };
        writeOutput({ flag: '--out', path: out }, networkText(json));
        io.out(`wrote ${out}: ${stack.shape[0]} x ${stack.shape[1]} (${layout} layout), with points, spectrum and report`);
      }
    }
    return 0;
  },
};
