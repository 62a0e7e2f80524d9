/** Shared by the CLI tests: run `nnid` in process, capturing its lines; the real exporters' fixtures. */
import { main } from '../src/main.ts';

export async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** A file of packages/black-box/test/fixtures/real (models written by PyTorch's and scikit-learn's exporters). */
export const real = (name: string): string => new URL(`../../../packages/black-box/test/fixtures/real/${name}`, import.meta.url).pathname;
