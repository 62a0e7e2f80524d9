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
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { ErrorCodes, NnidError, invalidArgument, type Float64View, type QueryCache } from '@nnid/core';

const PREFIX_BYTES = 16;
/** lmdb-js's largest key at the default page size. */
const MAX_KEY_BYTES = 1978;
export const STORE_FILE = 'queries.mdb';

export interface QueryStore extends QueryCache {
  readonly path: string;
  /** Number of answers stored for `identity`. */
  count(identity: string): number;
}

interface Layout {
  prefix: Buffer;
  d: number;
  hashed: boolean;
  /** Scratch key for lookups (reused: lookups are synchronous). */
  key: Buffer;
  coords: Float64Array;
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
    throw new NnidError(ErrorCodes.fileRead, `cannot open the query store in ${dir}: ${(e as Error).message}`, { cause: e });
  }
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
      // Inserting in key order touches each B-tree page once in a row: ~20% cheaper (bench).
      writes.sort((a, b) => Buffer.compare(a[0], b[0]));
      await db.transaction(() => {
        for (const [key, value] of writes) db.put(key, value);
      });
      await db.flushed;
    },

    count(identity) {
      const prefix = createHash('sha256').update(identity).digest().subarray(0, PREFIX_BYTES);
      const end = Buffer.from(prefix);
      // The first key after every key with this prefix (the prefix is a hash: never all 0xff).
      let i = end.length - 1;
      while (end[i] === 0xff) end[i--] = 0;
      end[i]++;
      return db.getKeysCount({ start: prefix, end });
    },

    async close() {
      await db.close();
    },
  };
}
