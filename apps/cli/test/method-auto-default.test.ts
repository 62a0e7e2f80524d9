/**
 * The default method for black boxes that are not v1 network files: auto (the pipeline exactly as
 * --method pipeline runs it, then the student fit only when its check fails). Said in the
 * defaults line and report.defaults; the same bits as --method pipeline where the pipeline passes;
 * --method pipeline keeps the pipeline alone; a v1 file keeps the pipeline; refusals in one line.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeNetwork, serializeNetworkV2 } from '@nnid/core';
import { randomGeneralNetwork, randomNetwork } from '@nnid/oracle';
import { run } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'nnid-auto-default-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const v2 = join(dir, 'v2.json');
writeFileSync(v2, JSON.stringify(serializeNetworkV2(randomGeneralNetwork({ inputDim: 6, width1: 3, width2: 2, outputs: 1, activation: 'tanh', seed: 1, directions: 'orthonormal' }))));
const v1 = join(dir, 'v1.json');
writeFileSync(v1, JSON.stringify(serializeNetwork(randomNetwork({ inputDim: 6, width1: 3, width2: 2, activation: 'tanh', seed: 1 }))));
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const AUTO_WHY = 'a nnid.network/v2 file, not a v1 network file: the pipeline as --method pipeline runs it (the second pass of its activation search only after the fit failed), then, only when its check fails, the student fit over the widths and activation pairs it found (every m1 <= m0 when m1 is not established, the best 5 pairs of the activation search, then the 2 best of its other pairs by a screen)';

describe('the default method for a black box that is not a v1 network file', () => {
  it('a v2 file: --method auto by default (said), the same network as --method pipeline where the pipeline passes', async () => {
    const outAuto = join(dir, 'auto.json');
    const outPipeline = join(dir, 'pipeline.json');
    const auto = await run(['identify', '--network', v2, '--width1', '3', '--width2', '2', '--seed', '1', '--threads', '2', '--out', outAuto, '--quiet']);
    const pipeline = await run(['identify', '--network', v2, '--width1', '3', '--width2', '2', '--seed', '1', '--threads', '2', '--out', outPipeline, '--method', 'pipeline', '--quiet']);
    expect([auto.code, pipeline.code]).toEqual([0, 0]);
    expect(auto.out[0]).toContain(`--method auto (${AUTO_WHY}`);
    expect(pipeline.out[0] ?? '').not.toContain('--method auto');
    const [a, p] = [read(outAuto), read(outPipeline)];
    expect(a.report.defaults.map((c: { option: string; value: string }) => `${c.option} ${c.value}`)).toContain('--method auto');
    expect(a.report.method.tried.map((t: { method: string; passed: boolean }) => `${t.method} ${t.passed}`)).toEqual(['pipeline true']);
    expect(p.report.method).toBeUndefined();
    expect(a.layers).toEqual(p.layers);
    expect(a.report.score.afterRefinement.function.gaussian.relativeL2).toBeLessThan(1e-8);
    // the identified lines as the pipeline's (no fit ran: no method line)
    const same = (l: string) => l.replace(/ in \S+ s /, ' ').replace(/wrote \S+$/, 'wrote FILE');
    expect(auto.out.slice(1).map(same)).toEqual(pipeline.out.slice(pipeline.out[0].startsWith('defaults:') ? 1 : 0).map(same));
    expect(auto.err).toEqual([]);
  });

  it('a v1 network file keeps the pipeline: no --method default, --starts refused in one line', async () => {
    const out = join(dir, 'v1-out.json');
    const r = await run(['identify', '--network', v1, '--width1', '3', '--width2', '2', '--seed', '1', '--threads', '1', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).not.toContain('--method auto');
    expect(read(out).report.method).toBeUndefined();
    const s = await run(['identify', '--network', v1, '--starts', '4', '--out', join(dir, 'x.json')]);
    expect([s.code, s.err]).toEqual([2, ['nnid identify: --starts is an option of --method fit']]);    const h = await run(['identify', '--network', v1, '--held-out', '50', '--out', join(dir, 'x.json')]);
    expect([h.code, h.err]).toEqual([2, ['nnid identify: --held-out is an option of --method auto (the default for every black box but a v1 network file)']]);
    const p = await run(['identify', '--network', v2, '--method', 'pipeline', '--held-out', '50', '--out', join(dir, 'x.json')]);
    expect([p.code, p.err]).toEqual([2, ['nnid identify: --held-out is an option of --method auto']]);
    const n = await run(['identify', '--network', v2, '--held-out', '1.5', '--out', join(dir, 'x.json')]);
    expect([n.code, n.err]).toEqual([2, ["nnid identify: --held-out must be an integer >= 0, got '1.5'"]]);
  });

  it('combinations that cannot run: one line, exit 2', async () => {
    const fit = await run(['identify', '--network', v2, '--method', 'fit', '--activation', 'auto', '--width1', '3', '--width2', '2', '--out', join(dir, 'y.json')]);
    expect(fit.code).toBe(2);
    expect(fit.err).toEqual(["nnid identify: --activation auto is available with --method pipeline and refinement only, or --method auto (the candidates are told apart by the refinement's residual)"]);
    const noRefine = await run(['identify', '--network', v2, '--method', 'auto', '--no-refine', '--out', join(dir, 'z.json')]);
    expect([noRefine.code, noRefine.err]).toEqual([2, ['nnid identify: --no-refine is an option of --method pipeline']]);
  });
});
