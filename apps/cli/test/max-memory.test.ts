/**
 * nnid identify --max-memory SIZE: the plan's memory limit (identify's maxMemory). A plan over it
 * is refused before any query, in one line (exit 2) naming the stage and what would fit.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeNetwork } from '@nnid/core';
import { randomNetwork } from '@nnid/oracle';
import { run } from './run-cli.ts';
import { parseMemorySize } from '../src/commands/identify.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-max-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const net = join(dir, 'net.json');
writeFileSync(net, JSON.stringify(serializeNetwork(randomNetwork({ inputDim: 12, width1: 6, width2: 2, activation: 'tanh', seed: 5 }))));

describe('nnid identify --max-memory', () => {
  it('reads sizes in powers of 1024', () => {
    expect(parseMemorySize('12G')).toBe(12 * 1024 ** 3);
    expect(parseMemorySize('2GiB')).toBe(2 * 1024 ** 3);
    expect(parseMemorySize('512m')).toBe(512 * 1024 ** 2);
    expect(parseMemorySize('1.5K')).toBe(1536);
    expect(parseMemorySize('1000')).toBe(1000);
  });

  it('refuses a plan over the limit before any query: exit 2, one line naming the stage and what would fit; nothing written', async () => {
    const out = join(dir, 'r.json');
    const r = await run(['identify', '--network', net, '--out', out, '--width1', '6', '--width2', '2', '--threads', '1', '--quiet', '--max-memory', '1M']);
    expect(r.code).toBe(2);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(
      /^nnid identify: identify: the plan needs 0\.\d\d GiB at its peak \(\w+: .*\), more than the 0\.00 GiB of maxMemory at \(12, 6, 2\), P = 92\. What would fit: .*more memory \(maxMemory >= 0\.\d\d GiB, or a larger machine\)\. \[E_INVALID_ARGUMENT\]$/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a size it cannot read, and the option with --method fit, in one line (exit 2)', async () => {
    const out = join(dir, 'r2.json');
    for (const [argv, line] of [
      [['--max-memory', '12X'], "nnid identify: --max-memory must be a size such as 12G, 512M or 2GiB, got '12X'"],
      [['--max-memory', '0'], "nnid identify: --max-memory must be a size such as 12G, 512M or 2GiB, got '0'"],
      [['--max-memory', '1G', '--method', 'fit'], 'nnid identify: --max-memory is an option of --method pipeline'],
    ] as const) {
      const r = await run(['identify', '--network', net, '--out', out, '--width1', '6', '--width2', '2', '--quiet', ...argv]);
      expect({ code: r.code, err: r.err }).toEqual({ code: 2, err: [line] });
    }
  });
});
