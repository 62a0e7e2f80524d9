/**
 * The sweep's results file: one JSON line per finished run, appended and fsynced as each run
 * ends, so a sweep killed midway loses nothing already written and a rerun skips what is there.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import type { ExperimentRecord } from '@nnid/pipeline';

/** Reads the finished records; a torn last line (killed while writing) is cut off the file. */
export function readRecords(path: string): ExperimentRecord[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) truncateSync(path, Buffer.byteLength(text.slice(0, end)));
  const records: ExperimentRecord[] = [];
  for (const line of text.slice(0, end).split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as ExperimentRecord;
      if (typeof r.id === 'string') records.push(r);
    } catch {
      // a line that is not JSON is not a finished run: it will be run again
    }
  }
  return records;
}

export class RecordWriter {
  private readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, 'a');
  }
  append(record: ExperimentRecord): void {
    writeSync(this.fd, JSON.stringify(record) + '\n');
    fsyncSync(this.fd);
  }
  close(): void {
    closeSync(this.fd);
  }
}
