/**
 * The persistent query store: every answered query, keyed by (oracle identity, exact input
 * bits), in an LMDB file (why LMDB: README.md, "Query store").
 *
 * Key:   sha256(identity)[0..16) ++ the 8 little-endian bytes of each input coordinate
 *        (16 + 8 d bytes). When that exceeds LMDB's key limit (1978 bytes, d > 245), the
 *        coordinates are replaced by their SHA-256 and the value carries them for a check.
 * Value: the output double's 8 bytes (then, for hashed keys, the 8 d input bytes).
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, statfsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { ErrorCodes, NnidError, invalidArgument, type ErrorCode, type Float64View, type QueryCache } from '@nnid/core';

const PREFIX_BYTES = 16;
/** lmdb-js's largest key at the default page size. */
const MAX_KEY_BYTES = 1978;
export const STORE_FILE = 'queries.mdb';

export interface QueryStore extends QueryCache {
  readonly path: string;
  /** Number of answers stored for `identity`. */
  count(identity: string): number;
  /**
   * Up to `k` stored answers of `identity` for inputs of dimension `d`, spread over the store's
   * key order (keys begin with the raw bits of the first coordinate: a spread of queries):
   * `inputs` (k x d) and `values`. Deterministic for a given store content.
   */
  sample(identity: string, d: number, k: number): { inputs: Float64View; values: Float64Array };
}

/**
 * The store cannot be used: it cannot be opened or written (a full or read-only disk:
 * `reason` 'open' or 'write'), or it holds answers that the oracle no longer gives ('stale').
 * The message names the store's path and what to do; answers committed before stay readable.
 */
export class QueryStoreError extends NnidError {
  constructor(
    code: ErrorCode,
    readonly reason: 'open' | 'write' | 'stale',
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

const WHAT_TO_DO = 'pass --no-store, or --store DIR on a writable disk with free space';

/** Why a file system call failed, in words; a read-only disk is named even where mkdir says ENOENT. */
function fsReason(e: unknown, dir: string): string {
  const err = e as NodeJS.ErrnoException & { commitError?: unknown };
  let code = err?.code ?? '';
  const text = String(err?.message ?? e);
  if (code === 'EROFS' || /read-only file system/i.test(text)) return 'the file system is read-only (EROFS)';
  if (code === 'ENOENT' || code === '') {
    // mkdir -p on a read-only mount answers ENOENT: ask the nearest existing ancestor.
    for (let at = resolve(dir); ; at = dirname(at)) {
      try {
        accessSync(at, constants.F_OK);
      } catch {
        if (dirname(at) === at) break;
        continue;
      }
      try {
        accessSync(at, constants.W_OK);
      } catch (w) {
        code = (w as NodeJS.ErrnoException).code ?? code;
      }
      break;
    }
    if (code === 'EROFS') return 'the file system is read-only (EROFS)';
  }
  if (code === 'ENOSPC' || /no space left/i.test(text)) return 'no space left on the disk (ENOSPC)';
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'a part of the path is a file, not a directory';
  if (code === 'EIO' || (err as { code?: unknown })?.code === 5 || /input\/output error/i.test(text)) {
    // LMDB reports a short write as EIO: say whether the disk is full.
    try {
      const fs = statfsSync(dir);
      if (fs.bavail * fs.bsize < 64 * 1024) return `no space left on the disk (${Math.round((fs.bavail * fs.bsize) / 1024)} KiB free)`;
    } catch {
      // no statfs: the general reason below
    }
    return 'the disk refused the write (EIO: full, read-only or failing)';
  }
  return text.split('\n')[0];
}

interface Layout {
  prefix: Buffer;
  d: number;
  hashed: boolean;
  /** Scratch key for lookups (reused: lookups are synchronous). */
  key: Buffer;
  coords: Float64Array;
}

/** The keys of one identity: [prefix, the first key after every key with this prefix). */
function prefixRange(prefix: Buffer): { start: Buffer; end: Buffer } {
  const end = Buffer.from(prefix);
  // The prefix is a hash: never all 0xff.
  let i = end.length - 1;
  while (end[i] === 0xff) end[i--] = 0;
  end[i]++;
  return { start: Buffer.from(prefix), end };
}

function checkIntegerLike(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) invalidArgument(name, 'must be a nonnegative integer', value);
}

function rowAccess(inputs: Float64View): { rows: number; d: number; rowStride: number; colStride: number } {
  if (inputs.shape.length === 1) return { rows: 1, d: inputs.shape[0], rowStride: 0, colStride: inputs.strides[0] };
  return { rows: inputs.shape[0], d: inputs.shape[1], rowStride: inputs.strides[0], colStride: inputs.strides[1] };
}

/**
 * Opens (creating when needed) the query store in directory `dir`. `lookup` is synchronous
 * (LMDB reads are memory-mapped); `put` writes the rows in one transaction and resolves once it
 * is committed and flushed to disk, so an answer whose put resolved survives a Ctrl-C, a crash
 * of the process and a power cut. Several processes may share one store.
 *
 * @example
 * const store = openQueryStore('.nnid-store');
 * const oracle = createOracle(box, { cache: store, maxQueries: 50_000 });
 * ... await oracle.evaluate(points) ...     // a rerun pays only for new points
 * await store.close();
 */
export function openQueryStore(dir: string): QueryStore {
  let db: RootDatabase<Buffer, Buffer>;
  const path = join(dir, STORE_FILE);
  try {
    mkdirSync(dir, { recursive: true });
    // overlappingSync (lmdb-js's default off Windows) resolves writes at commit and flushes
    // afterwards; put awaits `flushed` as well, so the default is kept.
    db = open<Buffer, Buffer>({ path, keyEncoding: 'binary', encoding: 'binary', compression: false });
  } catch (e) {
    throw new QueryStoreError(ErrorCodes.fileRead, 'open', path, `cannot open the query store in ${dir}: ${fsReason(e, dir)}; ${WHAT_TO_DO}`, { cause: e });
  }
  let broken: QueryStoreError | undefined;
  const layouts = new Map<string, Layout>();

  function layout(identity: string, d: number): Layout {
    const id = `${identity}\u0000${d}`;
    let l = layouts.get(id);
    if (!l) {
      if (typeof identity !== 'string' || identity === '') invalidArgument('identity', 'must be a nonempty string', identity);
      const prefix = createHash('sha256').update(identity).digest().subarray(0, PREFIX_BYTES);
      const hashed = PREFIX_BYTES + 8 * d > MAX_KEY_BYTES;
      const key = Buffer.alloc(PREFIX_BYTES + (hashed ? 32 : 8 * d));
      prefix.copy(key, 0);
      l = { prefix, d, hashed, key, coords: new Float64Array(d) };
      layouts.set(id, l);
    }
    return l;
  }

  /** Writes row r's key into `key` (and its coordinates into l.coords). */
  function fillKey(l: Layout, inputs: Float64View, r: number, rowStride: number, colStride: number, key: Buffer): void {
    const { data, offset } = inputs;
    const base = offset + r * rowStride;
    for (let j = 0; j < l.d; j++) l.coords[j] = data[base + j * colStride];
    const bytes = new Uint8Array(l.coords.buffer, 0, 8 * l.d);
    if (l.hashed) createHash('sha256').update(bytes).digest().copy(key, PREFIX_BYTES);
    else key.set(bytes, PREFIX_BYTES);
  }

  function sameInput(l: Layout, value: Buffer): boolean {
    return value.length === 8 + 8 * l.d && Buffer.compare(value.subarray(8, 8 + 8 * l.d), Buffer.from(l.coords.buffer, 0, 8 * l.d)) === 0;
  }

  return {
    path,
    lookup(identity, inputs, out, found) {
      const { rows, d, rowStride, colStride } = rowAccess(inputs);
      const l = layout(identity, d);
      let hits = 0;
      for (let r = 0; r < rows; r++) {
        fillKey(l, inputs, r, rowStride, colStride, l.key);
        const value = db.getBinaryFast(l.key);
        if (value && value.length >= 8 && (!l.hashed || sameInput(l, value))) {
          out[r] = value.readDoubleLE(0);
          found[r] = 1;
          hits++;
        } else {
          found[r] = 0;
        }
      }
      return hits;
    },

    async put(identity, inputs, rows, values) {
      if (rows.length !== values.length) invalidArgument('values', `must have one value per row (${rows.length})`, values.length);
      const { d, rowStride, colStride } = rowAccess(inputs);
      const l = layout(identity, d);
      const writes: [Buffer, Buffer][] = [];
      for (let k = 0; k < rows.length; k++) {
        const v = values[k];
        if (typeof v !== 'number' || !Number.isFinite(v)) invalidArgument(`values[${k}]`, 'must be a finite number', v);
        const key = Buffer.alloc(l.key.length);
        l.prefix.copy(key, 0);
        fillKey(l, inputs, rows[k], rowStride, colStride, key);
        const value = Buffer.alloc(l.hashed ? 8 + 8 * d : 8);
        value.writeDoubleLE(v, 0);
        if (l.hashed) Buffer.from(l.coords.buffer, 0, 8 * d).copy(value, 8);
        // Answers already stored (by the adapter's per-batch listener) cost no second write.
        const old = db.getBinaryFast(key);
        if (old && Buffer.compare(old, value) === 0) continue;
        writes.push([key, value]);
      }
      if (writes.length === 0) return;
      // After a failed commit the environment is not written again: the same clear error.
      if (broken) throw broken;
      // Inserting in key order touches each B-tree page once in a row: ~20% cheaper (bench).
      writes.sort((a, b) => Buffer.compare(a[0], b[0]));
      try {
        // A synchronous transaction: a failed commit throws here, where it is caught (the
        // asynchronous one rejects promises of its own and logs to the console).
        db.transactionSync(() => {
          for (const [key, value] of writes) db.putSync(key, value);
        });
        await db.flushed;
      } catch (e) {
        // lmdb-js rejects with "Commit failed" and keeps the reason in a second promise, which
        // would otherwise end the process as an unhandled rejection.
        const commitError = (e as { commitError?: Promise<unknown> }).commitError;
        const reason = commitError ? await commitError.then(() => e, (c: unknown) => c) : e;
        broken = new QueryStoreError(
          ErrorCodes.fileWrite,
          'write',
          path,
          `cannot write to the query store ${path}: ${fsReason(reason, dir)}; the answers stored before stay readable; ${WHAT_TO_DO}`,
          { cause: reason },
        );
        throw broken;
      }
    },

    sample(identity, d, k) {
      checkIntegerLike('k', k);
      const l = layout(identity, d);
      const { start, end } = prefixRange(l.prefix);
      const total = db.getKeysCount({ start, end });
      const n = Math.min(k, total);
      const inputs = { data: new Float64Array(n * d), offset: 0, shape: [n, d], strides: [d, 1] };
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        // The middle of the i-th of n equal slices of the key range.
        const offset = Math.floor(((i + 0.5) * total) / n);
        for (const { key, value } of db.getRange({ start, end, offset, limit: 1 })) {
          values[i] = value.readDoubleLE(0);
          const bytes = l.hashed ? value.subarray(8, 8 + 8 * d) : key.subarray(PREFIX_BYTES, PREFIX_BYTES + 8 * d);
          for (let j = 0; j < d; j++) inputs.data[i * d + j] = bytes.readDoubleLE(8 * j);
        }
      }
      return { inputs, values };
    },

    count(identity) {
      const prefix = createHash('sha256').update(identity).digest().subarray(0, PREFIX_BYTES);
      return db.getKeysCount(prefixRange(prefix));
    },

    async close() {
      await db.close();
    },
  };
}
