import { describe, expect, it } from 'vitest';
import { fromDescriptor, get2, isShared, matrix, set2, toDescriptor, transposeView } from '@nnid/core';

describe('views', () => {
  it('a descriptor rebuilds a view on the same shared memory', () => {
    const m = matrix(3, 4, { shared: true });
    expect(isShared(m)).toBe(true);
    const d = structuredClone(toDescriptor(m));
    const again = fromDescriptor(d);
    set2(again, 2, 1, 7.5);
    expect(get2(m, 2, 1)).toBe(7.5);
  });

  it('transpose swaps strides without copying', () => {
    const m = matrix(2, 3);
    set2(m, 1, 2, 4);
    const t = transposeView(m);
    expect(t.shape).toEqual([3, 2]);
    expect(get2(t, 2, 1)).toBe(4);
    expect(t.data).toBe(m.data);
  });
});
