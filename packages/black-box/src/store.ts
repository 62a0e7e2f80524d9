/**
 * The persistent query store: every answered query, keyed by (oracle identity, exact input
 * bits), in an LMDB file (why LMDB: README.md, "Query store").
 *
 * Key:   sha256(identity)[0..16) ++ the 8 little-endian bytes of each input coordinate
 *        (16 + 8 d bytes). When that exceeds LMDB's key limit (1978 bytes, d > 245), the
 *        coordinates are replaced by their SHA-256 and the value carries them for a check.
 * Value: the k output doubles' 8 k bytes (then, for hashed keys, the 8 d input bytes).
 *
 * Format nnid.query-store/v2 (k outputs per row): each identity has a record under its 16-byte
 * prefix alone (a key no answer has: those are longer), `{"format": "nnid.query-store/v2",
 * "outputs": k}`, written with its first answers. A store of format v1 (before k > 1) has no
 * such record and one double per value: it reads as k = 1 unchanged. An identity's k is fixed
 * by its first answers: asked for another k, the store refuses (QueryStoreError 'outputs').
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
export const STORE_FORMAT = 'nnid.query-store/v2';

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
  /**
   * k numbers per row: `lookup` into `out` (n x k, row-major). Throws QueryStoreError
   * ('outputs') when the identity's answers hold another number of outputs.
   */
  lookupOutputs(identity: string, outputs: number, inputs: Float64View, out: Float64Array, found: Uint8Array): number;
  /** k numbers per row: `put`, `values` holding rows.length x k numbers row-major. */
  putOutputs(identity: string, outputs: number, inputs: Float64View, rows: ArrayLike<number>, values: ArrayLike<number>): Promise<void>;
  /** `sample` with k numbers per row: `values` is n x k row-major. */
  sampleOutputs(identity: string, d: number, outputs: number, n: number): { inputs: Float64View; values: Float64Array };
  /** The number of outputs the identity's answers hold: its v2 record, 1 for v1 answers, undefined when none is stored. */
  outputsOf(identity: string): number | undefined;
  /** Throws QueryStoreError ('outputs', naming `label`) when the identity's stored answers hold another k than `outputs`. */
  checkOutputs(identity: string, outputs: number, label?: string): void;
}

/**
 * The store cannot be used: it cannot be opened or written (a full or read-only disk:
 * `reason` 'open' or 'write'), or it holds answers that the oracle no longer gives ('stale').
 * The message names the store's path and what to do; answers committed before stay readable.
 */
export class QueryStoreError extends NnidError {
  constructor(
    code: ErrorCode,
    readonly reason: 'open' | 'write' | 'stale' | 'outputs',
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
  // Past the prefix alone (the identity's v2 record): answers' keys are longer.
  return { start: Buffer.concat([prefix, Buffer.of(0)]), end };
}

function identityPrefix(identity: string): Buffer {
  return createHash('sha256').update(identity).digest().subarray(0, PREFIX_BYTES);
}

function checkOutputCount(outputs: number): number {
  if (!Number.isInteger(outputs) || outputs < 1) invalidArgument('outputs', 'must be a positive integer', outputs);
  return outputs;
}

function perRow(k: number): string {
  return k === 1 ? '1 number per row' : `${k} numbers per row`;
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

  function sameInput(l: Layout, value: Buffer, k: number): boolean {
    return value.length === 8 * k + 8 * l.d && Buffer.compare(value.subarray(8 * k, 8 * k + 8 * l.d), Buffer.from(l.coords.buffer, 0, 8 * l.d)) === 0;
  }

  /** The identity's k: its v2 record; else 1 when it has answers (format v1); else undefined. */
  const outputsKnown = new Map<string, number>();
  function outputsOf(identity: string): number | undefined {
    const known = outputsKnown.get(identity);
    if (known !== undefined) return known;
    const prefix = identityPrefix(identity);
    const record = db.getBinary(prefix);
    let k: number | undefined;
    if (record) {
      try {
        const parsed = JSON.parse(Buffer.from(record).toString('utf8')) as { outputs?: unknown };
        if (typeof parsed.outputs === 'number' && Number.isInteger(parsed.outputs) && parsed.outputs > 0) k = parsed.outputs;
      } catch {
        // unreadable: treated as absent below
      }
      if (k === undefined) throw new QueryStoreError(ErrorCodes.fileRead, 'open', path, `the query store ${path} holds an unreadable record for ${identity}; pass --no-store, or --store with a fresh directory`);
    } else if (db.getKeysCount(prefixRange(prefix)) > 0) {
      k = 1;
    }
    if (k !== undefined) outputsKnown.set(identity, k);
    return k;
  }

  function checkOutputs(identity: string, outputs: number, label = identity): void {
    const k = outputsOf(identity);
    if (k !== undefined && k !== outputs) {
      throw new QueryStoreError(
        ErrorCodes.oracle,
        'outputs',
        path,
        `the query store ${path} holds answers of ${perRow(k)} for ${label}, which now answers ${perRow(outputs)}; pass --no-store, or --store with a fresh directory`,
      );
    }
  }

  function lookupOutputs(identity: string, outputs: number, inputs: Float64View, out: Float64Array, found: Uint8Array): number {
    const k = checkOutputCount(outputs);
    const { rows, d, rowStride, colStride } = rowAccess(inputs);
    const l = layout(identity, d);
    if (outputsOf(identity) === undefined) {
      found.fill(0, 0, rows);
      return 0;
    }
    checkOutputs(identity, k);
    let hits = 0;
    for (let r = 0; r < rows; r++) {
      fillKey(l, inputs, r, rowStride, colStride, l.key);
      const value = db.getBinaryFast(l.key);
      if (value && value.length >= 8 * k && (!l.hashed || sameInput(l, value, k))) {
        for (let o = 0; o < k; o++) out[r * k + o] = value.readDoubleLE(8 * o);
        found[r] = 1;
        hits++;
      } else {
        found[r] = 0;
      }
    }
    return hits;
  }

  async function putOutputs(identity: string, outputs: number, inputs: Float64View, rows: ArrayLike<number>, values: ArrayLike<number>): Promise<void> {
    const k = checkOutputCount(outputs);
    if (rows.length * k !== values.length) invalidArgument('values', `must have ${k === 1 ? 'one value' : `${k} values`} per row (${rows.length * k})`, values.length);
    const { d, rowStride, colStride } = rowAccess(inputs);
    const l = layout(identity, d);
    const known = outputsOf(identity);
    checkOutputs(identity, k);
    const writes: [Buffer, Buffer][] = [];
    // The identity's v2 record goes with its first answers (a v1 store's identities keep none: they read as k = 1).
    if (known === undefined) writes.push([Buffer.from(l.prefix), Buffer.from(JSON.stringify({ format: STORE_FORMAT, outputs: k }), 'utf8')]);
    for (let r = 0; r < rows.length; r++) {
      for (let o = 0; o < k; o++) {
        const v = values[r * k + o];
        if (typeof v !== 'number' || !Number.isFinite(v)) invalidArgument(`values[${r * k + o}]`, 'must be a finite number', v);
      }
      const key = Buffer.alloc(l.key.length);
      l.prefix.copy(key, 0);
      fillKey(l, inputs, rows[r], rowStride, colStride, key);
      const value = Buffer.alloc(8 * k + (l.hashed ? 8 * d : 0));
      for (let o = 0; o < k; o++) value.writeDoubleLE(values[r * k + o], 8 * o);
      if (l.hashed) Buffer.from(l.coords.buffer, 0, 8 * d).copy(value, 8 * k);
      // Answers already stored (by the adapter's per-batch listener) cost no second write.
      const old = db.getBinaryFast(key);
      if (old && Buffer.compare(old, value) === 0) continue;
      writes.push([key, value]);
    }
    if (writes.length === (known === undefined ? 1 : 0)) return;
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
      if (known === undefined) outputsKnown.set(identity, k);
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
  }

  function sampleOutputs(identity: string, d: number, outputs: number, n: number): { inputs: Float64View; values: Float64Array } {
    checkIntegerLike('k', n);
    const k = checkOutputCount(outputs);
    const l = layout(identity, d);
    if (outputsOf(identity) !== undefined) checkOutputs(identity, k);
    const { start, end } = prefixRange(l.prefix);
    const total = db.getKeysCount({ start, end });
    const m = Math.min(n, total);
    const inputs = { data: new Float64Array(m * d), offset: 0, shape: [m, d], strides: [d, 1] };
    const values = new Float64Array(m * k);
    for (let i = 0; i < m; i++) {
      // The middle of the i-th of m equal slices of the key range.
      const offset = Math.floor(((i + 0.5) * total) / m);
      for (const { key, value } of db.getRange({ start, end, offset, limit: 1 })) {
        for (let o = 0; o < k; o++) values[i * k + o] = value.readDoubleLE(8 * o);
        const bytes = l.hashed ? value.subarray(8 * k, 8 * k + 8 * d) : key.subarray(PREFIX_BYTES, PREFIX_BYTES + 8 * d);
        for (let j = 0; j < d; j++) inputs.data[i * d + j] = bytes.readDoubleLE(8 * j);
      }
    }
    return { inputs, values };
  }

  return {
    path,
    lookup: (identity, inputs, out, found) => lookupOutputs(identity, 1, inputs, out, found),
    put: (identity, inputs, rows, values) => putOutputs(identity, 1, inputs, rows, values),
    sample: (identity, d, k) => sampleOutputs(identity, d, 1, k),
    lookupOutputs,
    putOutputs,
    sampleOutputs,
    outputsOf,
    checkOutputs,

    count(identity) {
      return db.getKeysCount(prefixRange(identityPrefix(identity)));
    },

    async close() {
      await db.close();
    },
  };
}
