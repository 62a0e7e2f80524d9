/**
 * The files a command writes. Every output path is checked before any query is paid
 * (`checkOutputs`), never names one of the command's inputs (`checkOutputs`' `inputs`), and is
 * written atomically (`writeOutput`: a temporary file in the same directory, fsynced, renamed over
 * the target), so a full disk or a crash mid-write leaves the earlier file whole, never a 0-byte
 * or half-written one.
 */
import { closeSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './cli.ts';

/** An output: the flag that named it (for messages) and its path. */
export interface OutputPath {
  flag: string;
  path: string;
}

function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such directory';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'ENAMETOOLONG':
      return 'file name too long';
    default:
      return code ?? (e as Error).message;
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** The path a write lands on: a symbolic link is followed, so the link stays and its target changes. */
function targetOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

let probeCount = 0;
function tempName(target: string, tag: string): string {
  // the name kept short: a target name near the file system's limit still gets a temporary file
  return join(dirname(target), `.${basename(target).slice(0, 120)}.${tag}-${process.pid}-${Date.now().toString(36)}-${probeCount++}`);
}

/**
 * Throws a UsageError (one line, exit 2) unless `path` can be written: not empty, not a directory,
 * its directory exists and a file can be created in it (tried: catches permissions and read-only
 * file systems alike), an existing file is writable.
 */
export function checkOutputPath(output: OutputPath): void {
  const { flag, path } = output;
  if (path.trim() === '') throw new UsageError(`${flag} must name a file`);
  const fail = (reason: string): never => {
    throw new UsageError(`${flag}: cannot write ${path}: ${reason}`);
  };
  if (/[/\\]$/.test(path)) fail('it names a directory');
  const target = targetOf(path);
  const st = statOrNull(target);
  if (st?.isDirectory()) fail('it is a directory');
  if (st && !st.isFile() && !st.isFIFO() && !st.isCharacterDevice()) fail('not a regular file');
  const dir = dirname(target);
  const dst = statOrNull(dir);
  if (!dst) fail(`no such directory ${dirname(path)}`);
  if (!dst!.isDirectory()) fail(`${dirname(path)} is not a directory`);
  if (st && !st.isFile()) return; // a device or a pipe (e.g. /dev/null) is written in place
  const probe = tempName(target, 'nnid-probe');
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    fail(reasonOf(e));
  }
  if (st) {
    try {
      closeSync(openSync(target, 'r+'));
    } catch (e) {
      fail(reasonOf(e));
    }
  }
}

/** The identity of a file on disk (device and inode: hard links share it), or null when absent. */
function fileId(path: string): string | null {
  const st = statOrNull(path);
  return st ? `${st.dev}:${st.ino}` : null;
}

/**
 * Checks every output (see checkOutputPath) and that no output is one of the inputs or another
 * output: paths are compared after resolving symbolic links, and existing files by device and
 * inode, so a hard link or `./a.json` vs `a.json` is caught too.
 */
export function checkOutputs(outputs: OutputPath[], inputs: OutputPath[] = []): void {
  const seen: { flag: string; path: string; real: string; id: string | null; input: boolean }[] = [];
  for (const x of inputs) seen.push({ ...x, real: targetOf(x.path), id: fileId(x.path), input: true });
  for (const o of outputs) {
    const real = targetOf(o.path);
    const id = fileId(o.path);
    const same = seen.find((s) => s.real === real || (id !== null && s.id === id));
    if (same) {
      throw new UsageError(
        same.input
          ? `${o.flag} ${o.path} is the file given as ${same.flag}: a command never overwrites its own input; choose another file`
          : `${o.flag} ${o.path} is also the file of ${same.flag}: two outputs cannot share a file`,
      );
    }
    checkOutputPath(o);
    seen.push({ ...o, real, id, input: false });
  }
}

/**
 * Writes `data` to `path` atomically: into a temporary file beside it (same directory, so the
 * rename stays on one file system), fsynced, then renamed over `path`. On any failure the
 * temporary file is removed, the earlier `path` is untouched, and the error is one line.
 * A device or pipe (e.g. /dev/null, /dev/stdout) is written in place.
 */
export function writeOutput(output: OutputPath, data: string | Uint8Array): void {
  const target = targetOf(output.path);
  const st = statOrNull(target);
  if (st && !st.isFile() && !st.isDirectory()) {
    writeInPlace(output, target, data);
    return;
  }
  replaceAtomically(output, (tmp) => {
    const fd = openSync(tmp, 'wx', st ? st.mode & 0o777 : 0o666);
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let at = 0;
      while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

function writeInPlace(output: OutputPath, target: string, data: string | Uint8Array): void {
  let fd: number | null = null;
  try {
    fd = openSync(target, 'w');
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
  } catch (e) {
    throw new UsageError(`${output.flag}: cannot write ${output.path}: ${reasonOf(e)}`);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Runs `write(tmp)` on a temporary path beside the output (a symbolic link followed), then renames
 * it over the output; used
 * directly when another library writes the file (e.g. the ONNX exporter).
 */
export function replaceAtomically(output: OutputPath, write: (tmp: string) => void | Promise<void>): Promise<void> | void {
  const target = targetOf(output.path);
  const tmp = tempName(target, 'nnid-tmp');
  const fail = (e: unknown): never => {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already gone
    }
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${output.flag}: cannot write ${output.path}: ${reasonOf(e)}${statOrNull(target) ? ' (the earlier file is kept)' : ''}`);
  };
  const finish = () => {
    try {
      renameSync(tmp, target);
    } catch (e) {
      fail(e);
    }
    // the rename itself on disk too (best effort: some file systems cannot fsync a directory)
    try {
      const fd = openSync(dirname(target), 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // the file is complete either way
    }
  };
  let pending;
  try {
    pending = write(tmp);
  } catch (e) {
    fail(e);
  }
  if (pending instanceof Promise) return pending.then(finish, fail);
  finish();
}

const GIB = 2 ** 30;

/** "1.2 GB", "350 MB": for messages about sizes. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e12) return `${(bytes / 1e12).toPrecision(3)} TB`;
  if (bytes >= 1e9) return `${(bytes / 1e9).toPrecision(3)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toPrecision(3)} MB`;
  return `${Math.ceil(bytes / 1e3)} kB`;
}

/** Most elements of one typed array in Node 20. */
const MAX_TYPED_ARRAY = 2 ** 32 - 1;

/**
 * Refuses work whose arrays cannot fit: `bytes` (the memory the command would need, estimated)
 * above the machine's memory, or one array of more elements than a Float64Array holds.
 * `what` says what is being sized, e.g. "--input-dim 100000 --width1 100000".
 */
export function checkMemory(what: string, bytes: number, largestArray = 0): void {
  const total = totalmem();
  const reasons = [
    ...(bytes <= total ? [] : [`more than this machine has (${(total / GIB).toFixed(0)} GiB)`]),
    ...(largestArray <= MAX_TYPED_ARRAY ? [] : [`in arrays larger than Node allows (${MAX_TYPED_ARRAY} numbers)`]),
  ];
  if (reasons.length > 0) throw new UsageError(`${what} needs about ${formatBytes(bytes)} of memory, ${reasons.join(' and ')}`);
}
