/**
 * What a report is made from, told from the content alone: the JSON lines of `nnid sweep` (one
 * record per run, `id` and `spec`) or the result file of `nnid identify` (a network file with a
 * `report` object). Reading never changes the file (unlike the sweep's own reader, which cuts a
 * torn last line so that a rerun can append).
 */
import { invalidArgument } from '@nnid/core';
import type { RunResultInput } from './run.ts';
import type { SweepRecordInput } from './sweep.ts';

export type ReportInput = { kind: 'sweep'; records: SweepRecordInput[] } | { kind: 'run'; result: RunResultInput };

const EXPECTED = "must be the JSON lines of nnid sweep (one record with \"id\" and \"spec\" per line) or the result file of nnid identify (a network file with a \"report\")";

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isSweepRecord(x: unknown): x is SweepRecordInput {
  return isObject(x) && typeof x.id === 'string' && isObject(x.spec);
}

function isRunResult(x: unknown): x is RunResultInput {
  return isObject(x) && isObject(x.report) && typeof x.format === 'string' && x.format.startsWith('nnid.network/');
}

function preview(text: string): string {
  const t = text.trim();
  return t.length > 40 ? `${t.slice(0, 40)}...` : t;
}

/**
 * Parses the text of a report's input and says which kind it is. A torn last line of a sweep
 * (killed while writing, no final newline) is left out; the last line of an id wins (a crashed
 * run followed by its rerun reads as the rerun).
 *
 * @example
 * const input = parseReportInput(readFileSync('runs.jsonl', 'utf8'));
 * const html = input.kind === 'sweep' ? await sweepReport(input.records) : await runReport(input.result);
 */
export function parseReportInput(text: string): ReportInput {
  if (typeof text !== 'string' || text.trim() === '') invalidArgument('text', EXPECTED, typeof text === 'string' ? text : typeof text);
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    whole = undefined;
  }
  if (isRunResult(whole)) return { kind: 'run', result: whole };
  const lines = text.split('\n');
  const records = new Map<string, SweepRecordInput>();
  const complete = text.endsWith('\n') ? lines.length : lines.length - 1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      r = undefined;
    }
    if (!isSweepRecord(r)) {
      // the torn last line of a sweep killed while writing: not a run yet
      if (i >= complete && records.size > 0 && line.startsWith('{"id":')) continue;
      invalidArgument('text', `${EXPECTED}; line ${i + 1} is neither`, preview(line));
    }
    records.delete(r.id);
    records.set(r.id, r);
  }
  return { kind: 'sweep', records: [...records.values()] };
}
