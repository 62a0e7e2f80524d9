import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { matrix, transposeView, toDense } from '@nnid/core';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { openQueryStore, QueryStoreError } from '../src/index.ts';
import { gaussianPoints } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openQueryStore', () => {
  it('returns stored answers bit for bit, per identity, keyed by the exact input bits; survives reopening', async () => {
    const path = join(dir, 'a');
    let store = openQueryStore(path);
    const X = gaussianPoints(6, 4, 1);
    X.data[0] = -0;
    const values = Float64Array.of(0.1, -2.5e-300, Math.PI, 1 / 3, -0, 7);
    await store.put('box-1', X, [0, 1, 2, 3, 4, 5], values);
    await store.close();

    store = openQueryStore(path);
    const out = new Float64Array(6);
    const found = new Uint8Array(6);
    // Column-major copy of the same rows: strides must not matter.
    const strided = transposeView(toDense(transposeView(X)));
    expect(store.lookup('box-1', strided, out, found)).toBe(6);
    expect(Array.from(found)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(out)).toEqual(Array.from(values));
    expect(Object.is(out[4], -0)).toBe(true);
    expect(store.lookup('box-2', X, out.fill(9), found)).toBe(0);
    expect(Array.from(out)).toEqual([9, 9, 9, 9, 9, 9]);
    // +0 is another input than -0 (row 0); a couple of ulp away is another input (row 1).
    const Y = toDense(X);
    Y.data[0] = 0;
    Y.data[4] = X.data[4] + Number.EPSILON * Math.abs(X.data[4]) * 2;
    expect(store.lookup('box-1', Y, out, found)).toBe(4);
    expect(Array.from(found)).toEqual([0, 0, 1, 1, 1, 1]);
    expect(store.count('box-1')).toBe(6);
    expect(store.count('box-2')).toBe(0);
    await store.close();
  });

  it('hashes the coordinates of inputs too long for an LMDB key (d = 300), still exact', async () => {
    const store = openQueryStore(join(dir, 'wide'));
    const X = gaussianPoints(3, 300, 2);
    await store.put('wide', X, [0, 2], [1.5, 2.5]);
    const out = new Float64Array(3);
    const found = new Uint8Array(3);
    expect(store.lookup('wide', X, out, found)).toBe(2);
    expect(Array.from(found)).toEqual([1, 0, 1]);
    expect([out[0], out[2]]).toEqual([1.5, 2.5]);
    expect(store.count('wide')).toBe(2);
    await store.close();
  });

  it('sample: up to k stored queries with their answers, for short and hashed (d = 300) keys', async () => {
    for (const d of [4, 300]) {
      const store = openQueryStore(join(dir, `sample-${d}`));
      const X = gaussianPoints(10, d, 7);
      const values = Array.from({ length: 10 }, (_, i) => i + 0.25);
      await store.put('s', X, [...values.keys()], values);
      await store.put('other', X, [0], [99]);
      const { inputs, values: got } = store.sample('s', d, 4);
      expect(inputs.shape).toEqual([4, d]);
      const seen = new Set<number>();
      for (let i = 0; i < 4; i++) {
        const row = got[i] - 0.25;
        seen.add(row);
        expect(Array.from(inputs.data.subarray(i * d, (i + 1) * d))).toEqual(Array.from(X.data.subarray(row * d, (row + 1) * d)));
      }
      expect(seen.size).toBe(4);
      expect(store.sample('s', d, 20).values.length).toBe(10);
      expect(store.sample('none', d, 3).values.length).toBe(0);
      await store.close();
    }
  });

  it('rejects non-finite values', async () => {
    const store = openQueryStore(join(dir, 'bad'));
    await expect(store.put('x', matrix(1, 2), [0], [NaN])).rejects.toThrow('invalid argument. `values[0]` must be a finite number. Value: `NaN`.');
    await store.close();
  });

  it('with createOracle: a second run over the same queries pays nothing', async () => {
    const net = randomNetwork({ inputDim: 10, width1: 5, width2: 3, activation: 'tanh', seed: 3 });
    const X = gaussianPoints(500, 10, 4);
    const path = join(dir, 'runs');
    const run = async (n: number) => {
      const store = openQueryStore(path);
      const oracle = createOracle(networkBlackBox(net), { cache: store, maxQueries: 500 });
      const values = await oracle.evaluate({ ...X, shape: [n, 10] });
      await store.close();
      return { values, counts: oracle.counts() };
    };
    const first = await run(300);
    expect(first.counts).toEqual({ total: 300, paid: 300, reused: 0 });
    const second = await run(300);
    expect(second.counts).toEqual({ total: 300, paid: 0, reused: 300 });
    expect(Array.from(second.values)).toEqual(Array.from(first.values));
    const third = await run(500);
    expect(third.counts).toEqual({ total: 500, paid: 200, reused: 300 });
  });
});

/** Mounts a tmpfs of `size` on a new directory; undefined where mounting is not allowed (not root, no CAP_SYS_ADMIN). */
function smallFilesystem(size: string): { dir: string; remountReadOnly(): boolean; unmount(): void } | undefined {
  // NNID_TEST_NO_MOUNT=1 runs the fallbacks (as on a machine where mounting is not allowed).
  if (process.env.NNID_TEST_NO_MOUNT) return undefined;
  const mnt = mkdtempSync(join(tmpdir(), 'nnid-tmpfs-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt]).status !== 0) {
    rmSync(mnt, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir: mnt,
    remountReadOnly: () => spawnSync('mount', ['-o', 'remount,ro', mnt]).status === 0,
    unmount() {
      spawnSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    },
  };
}

describe('a full or read-only disk under the store', () => {
  const fill = fileURLToPath(new URL('./fixtures/fill-store.ts', import.meta.url));

  it('a full disk: put rejects with one clear line, the process lives on (no SIGBUS, no unhandled rejection), committed answers stay readable', () => {
    // A real 1 MB tmpfs where the test may mount one; else a 1 MB file size limit (the kernel
    // refuses the write past it just as a full disk does).
    const fs = smallFilesystem('1m');
    const dir = fs ? join(fs.dir, 'store') : join(dir0(), 'limited');
    try {
      const child = fs
        ? spawnSync(process.execPath, ['--import', 'tsx', fill, dir], { encoding: 'utf8' })
        : spawnSync('bash', ['-c', 'ulimit -f 1024 && exec "$0" --import tsx "$1" "$2"', process.execPath, fill, dir], { encoding: 'utf8' });
      expect([child.status, child.signal, child.stderr]).toEqual([0, null, '']);
      const result = JSON.parse(child.stdout);
      const path = join(dir, 'queries.mdb');
      expect(result.error).toEqual({
        name: 'QueryStoreError',
        code: 'E_FILE_WRITE',
        reason: 'write',
        message: expect.stringMatching(
          new RegExp(`^cannot write to the query store ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (no space left on the disk \\(\\d+ KiB free\\)|the disk refused the write \\(EIO: full, read-only or failing\\)); the answers stored before stay readable; pass --no-store, or --store DIR on a writable disk with free space$`),
        ),
      });
      if (fs) expect(result.error.message).toMatch(/no space left on the disk/);
      // Some batches were committed before the disk filled up; all of them are still there.
      expect(result.committed).toBeGreaterThan(0);
      expect(result.committed).toBeLessThan(1000 * 200);
      expect([result.countAfterError, result.countReopened, result.readBack, result.values]).toEqual([result.committed, result.committed, 200, [0.5]]);
    } finally {
      fs?.unmount();
    }
  }, 60_000);

  it('a read-only disk: opening the store fails with one clear line', async (ctx) => {
    const fs = smallFilesystem('1m');
    if (!fs && process.getuid?.() === 0) return ctx.skip('cannot mount a tmpfs here, and as root a directory without write permission is still writable');
    let parent: string;
    if (fs) {
      const store = openQueryStore(join(fs.dir, 'store'));
      await store.put('box', matrix(1, 2), [0], [1]);
      await store.close();
      expect(fs.remountReadOnly()).toBe(true);
      parent = fs.dir;
    } else {
      parent = join(dir0(), 'read-only');
      mkdirSync(parent);
      chmodSync(parent, 0o555);
    }
    try {
      for (const name of fs ? ['store', 'new-store'] : ['new-store']) {
        const where = join(parent, name);
        let error: unknown;
        try {
          openQueryStore(where);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(QueryStoreError);
        expect((error as QueryStoreError).code).toBe('E_FILE_READ');
        const reason = fs ? 'the file system is read-only (EROFS)' : 'permission denied (EACCES)';
        expect((error as Error).message).toBe(`cannot open the query store in ${where}: ${reason}; pass --no-store, or --store DIR on a writable disk with free space`);
      }
    } finally {
      fs?.unmount();
    }
  });
});

function dir0(): string {
  return dir;
}
