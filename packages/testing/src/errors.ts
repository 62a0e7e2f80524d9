/** What a test of an error needs: the NnidError a promise rejects with. */
import { expect } from 'vitest';
import { NnidError } from '@nnid/core';

/** Awaits `promise`, expects it to reject with an NnidError, and returns that error. */
export async function rejection(promise: Promise<unknown>): Promise<NnidError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NnidError);
  return error as NnidError;
}
