/**
 * The sweep's results file: one JSON line per run, appended and fsynced as each run ends, so a
 * sweep killed midway loses nothing already written and a rerun skips what is there.
 *
 * Two kinds of line. A finished run is an `ExperimentRecord`; its `error` is set when identify
 * itself failed on that network, which is a result (the same seed fails the same way). A crashed
 * run (an exception outside identify's guard in the worker, or the worker thread dying) is a
 * `CrashRecord`: `crashed: true`, `error` set, figures null. A crash is not a result: a rerun of
 * the same command runs that id again and appends its record, and the last line of an id wins.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { experimentId, type ExperimentRecord, type ExperimentSpec } from '@nnid/pipeline';

export interface CrashRecord {
  id: string;
  spec: ExperimentSpec;
  crashed: true;
  error: string;
  cause: string;
  exact: false;
  targetMet: false;
  checkPassed: null;
  silentFailure: false;
  before: null;
  after: null;
  queries: null;
  seconds: null;
  wallSeconds: null;
}

export type SweepRecord = ExperimentRecord | CrashRecord;

export function isCrash(r: SweepRecord): r is CrashRecord {
  return (r as Partial<CrashRecord>).crashed === true;
}

/** The message of whatever a worker rejected with, with its class when that says something. */
export function crashMessage(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
}

export function crashRecord(spec: ExperimentSpec, e: unknown): CrashRecord {
  const error = crashMessage(e);
  return {
    id: experimentId(spec),
    spec,
    crashed: true,
    error,
    cause: `crash: ${error}`,
    exact: false,
    targetMet: false,
    checkPassed: null,
    silentFailure: false,
    before: null,
    after: null,
    queries: null,
    seconds: null,
    wallSeconds: null,
  };
}

/**
 * Reads the records, the last line of each id (a crash followed by its retry reads as the retry).
 * A torn last line (killed while writing) is cut off the file.
 */
export function readRecords(path: string): SweepRecord[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, end)));
  const records = new Map<string, SweepRecord>();
  for (const line of text.slice(0, end).split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as SweepRecord;
      if (typeof r.id === 'string') {
        records.delete(r.id); // keep the order of last appearance
        records.set(r.id, r);
      }
    } catch {
      // a line that is not JSON is not a finished run: it will be run again
    }
  }
  return [...records.values()];
}

export class RecordWriter {
  private readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, 'a');
  }
  append(record: SweepRecord): void {
    writeSync(this.fd, JSON.stringify(record) + '\n');
    fsyncSync(this.fd);
  }
  close(): void {
    closeSync(this.fd);
  }
}
