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
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
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

/** Thrown when the results file is not one that nnid sweep wrote. */
export class ForeignFileError extends Error {}

function isRecord(x: unknown): x is SweepRecord {
  return typeof x === 'object' && x !== null && typeof (x as SweepRecord).id === 'string' && typeof (x as SweepRecord).spec === 'object' && (x as SweepRecord).spec !== null;
}

/**
 * Reads the records, the last line of each id (a crash followed by its retry reads as the retry).
 * The file must be the sweep's own: every complete line one of its JSON records, else a
 * ForeignFileError and the file is left as it is. A torn last line of its own (killed while
 * writing: a line begun as a record, {"id":..., with no final newline) is cut off the file, and
 * that run is done again.
 */
export function readRecords(path: string): SweepRecord[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  const records = new Map<string, SweepRecord>();
  const lines = text.slice(0, end).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      r = undefined;
    }
    if (!isRecord(r)) throw new ForeignFileError(`line ${i + 1} is not one of its JSON records`);
    records.delete(r.id); // keep the order of last appearance
    records.set(r.id, r);
  }
  if (end < text.length) {
    const torn = text.slice(end);
    let whole: unknown;
    try {
      whole = JSON.parse(torn);
    } catch {
      whole = undefined;
    }
    if (isRecord(whole)) {
      // a whole record that lost only its newline (an editor, say): kept, the newline restored
      records.delete(whole.id);
      records.set(whole.id, whole);
      appendFileSync(path, '\n');
      return [...records.values()];
    }
    if (!torn.startsWith('{"id":')) {
      throw new ForeignFileError(`its last line (${end === 0 ? 1 : lines.length}) has no final newline and is not one of its records`);
    }
    truncateSync(path, Buffer.byteLength(text.slice(0, end)));
  }
  return [...records.values()];
}

/** A write to the results file failed (a full disk, say): what was written before stays. */
export class RecordWriteError extends Error {}

function writeFailure(path: string, e: unknown): RecordWriteError {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code === 'ENOSPC' ? 'no space left on device' : code === 'EROFS' ? 'read-only file system' : code === 'EACCES' ? 'permission denied' : (code ?? (e as Error).message);
  return new RecordWriteError(`--out: cannot write ${path}: ${reason} (the runs written before are kept; a rerun goes on from them)`);
}

export class RecordWriter {
  private readonly fd: number;
  constructor(private readonly path: string) {
    try {
      this.fd = openSync(path, 'a');
    } catch (e) {
      throw writeFailure(path, e);
    }
  }
  append(record: SweepRecord): void {
    const bytes = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    try {
      let at = 0;
      while (at < bytes.length) at += writeSync(this.fd, bytes, at, bytes.length - at);
    } catch (e) {
      throw writeFailure(this.path, e);
    }
    try {
      fsyncSync(this.fd);
    } catch (e) {
      // a device or pipe (/dev/null, /dev/stdout) cannot be fsynced: nothing to keep there
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EROFS') throw writeFailure(this.path, e);
    }
  }
  close(): void {
    closeSync(this.fd);
  }
}
