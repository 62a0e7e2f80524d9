/**
 * `nnid report`: one self-contained HTML page with plots, for a sweep (its JSON lines) or for one
 * identification (its result file); which of the two is told from the content. The plots are
 * drawn by @nnid/report (Vega-Lite rendered to inline SVG in Node).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readNetworkFile, type Network } from '@nnid/core';
import { parseReportInput, runReport, sweepReport, type RunResultInput } from '@nnid/report';
import { intOption, stringOption, UsageError, type Command, type CommandIo, type Values } from '../cli.ts';
import { checkOutputs, writeOutput, type OutputPath } from '../files.ts';

const help = `usage: nnid report RUNS.jsonl --out report.html
       nnid report result.json [--truth net.json] --out report.html

Writes one self-contained HTML file with plots (inline SVG: no script, nothing fetched; opens
offline in any browser and prints). The input is told from its content:

  a sweep's results (the JSON lines of nnid sweep): the exact rate over the grid as a heat map
    (size x family, one panel per noise level, one row per method), queries per P and seconds
    against P on log axes with every method side by side, a table of the numbers below each
    plot, then the runs that missed the target and those that crashed
  one result of nnid identify (a network file with a "report"): the truth-free check's verdict
    in words, the singular values of the Hessian stack with the chosen dimension of W-hat and
    its gap, 1 - |cos| of every recovered weight before and after refinement (against --truth,
    else against the network identify opened when it was a network file, else against the
    refined network), the refinement's residual per iteration, queries and seconds per stage

options:
  --out FILE           where to write the HTML page (required)
  --truth FILE         the true network (nnid.network/v1), for a single run: its weights are
                       matched to the recovered ones (as nnid score does)
  --points N           test points per distribution for the function errors against --truth
                       (default 10000)
  --title TEXT         the page's title
  -h, --help           this help

examples:
  nnid sweep --sizes 10x6x2,12x8x3 --seeds 1-3 --out runs.jsonl
  nnid report runs.jsonl --out sweep.html
  nnid identify --network net.json --out result.json --report result.html
  nnid report result.json --truth net.json --out result.html`;

/** Larger inputs are no sweep or result file of nnid (a 10 000-run sweep is ~25 MB). */
const MAX_INPUT_BYTES = 500 * 2 ** 20;

/** The text of the input file; a missing or unreadable file is a UsageError naming it. */
function readInput(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? (e as Error).message);
    throw new UsageError(`cannot read ${path}: ${why}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UsageError(`cannot read ${path}: it is a directory`);
    if (st.size > MAX_INPUT_BYTES) throw new UsageError(`${path} is larger than ${MAX_INPUT_BYTES / 2 ** 20} MiB: no sweep or result file of nnid`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(1 << 20);
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (n === 0) break;
      total += n;
      if (total > MAX_INPUT_BYTES) throw new UsageError(`${path} is larger than ${MAX_INPUT_BYTES / 2 ** 20} MiB: no sweep or result file of nnid`);
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the report of one identify result (its output already checked writable); used by
 * `nnid identify --report` too. Returns the line to print.
 */
export async function writeRunReport(
  result: RunResultInput,
  output: OutputPath,
  options: { truth?: Network; points?: number; title?: string; source?: string } = {},
): Promise<string> {
  writeOutput(output, await runReport(result, options));
  const passed = result.report.check?.passed;
  return `wrote ${output.path}: report of one identification (truth-free check ${passed === true ? 'passed' : passed === false ? 'FAILED' : 'not run'})`;
}

export const command: Command = {
  name: 'report',
  summary: 'write an HTML report with plots of a sweep (runs.jsonl) or of one identification (result.json)',
  help,
  positional: 'input',
  options: {
    out: { type: 'string' },
    truth: { type: 'string' },
    points: { type: 'string' },
    title: { type: 'string' },
  },
  async run(values: Values, io: CommandIo) {
    if (values.input === undefined) throw new UsageError('missing the input file: nnid report RUNS.jsonl|result.json --out report.html');
    const input = String(values.input);
    const out = stringOption(values, 'out');
    const truthPath = values.truth as string | undefined;
    const points = intOption(values, 'points', 10_000);
    const title = values.title as string | undefined;
    // before any work: the page can be written, and it is none of the inputs
    checkOutputs(
      [{ flag: '--out', path: out }],
      [{ flag: 'the input', path: input }, ...(truthPath !== undefined ? [{ flag: '--truth', path: truthPath }] : [])],
    );
    const text = readInput(input);
    let parsed;
    try {
      parsed = parseReportInput(text);
    } catch (e) {
      const detail = /line (\d+) is neither\. Value: `([\s\S]*)`\.$/.exec((e as Error).message);
      throw new UsageError(
        `${input} is neither the JSON lines of nnid sweep nor a result file of nnid identify (a network with a "report")` +
          (detail ? `: line ${detail[1]} is ${JSON.stringify(detail[2])}` : ': it is empty'),
      );
    }
    if (parsed.kind === 'sweep') {
      if (truthPath !== undefined) throw new UsageError(`--truth applies to one identification (result.json); ${input} is a sweep, whose runs carry their own scores`);
      const html = await sweepReport(parsed.records, { source: input, ...(title !== undefined ? { title } : {}) });
      writeOutput({ flag: '--out', path: out }, html);
      io.out(`wrote ${out}: report of a sweep of ${parsed.records.length} runs`);
      return 0;
    }
    let truth: Network | undefined;
    if (truthPath !== undefined) {
      truth = readNetworkFile(truthPath);
      const d = Number(parsed.result.inputDim);
      if (truth.inputDim !== d) throw new UsageError(`--truth ${truthPath} has input dimension ${truth.inputDim}, the result in ${input} ${d}: not its truth`);
    }
    io.out(await writeRunReport(parsed.result, { flag: '--out', path: out }, { truth, points, source: input, ...(title !== undefined ? { title } : {}) }));
    return 0;
  },
};
