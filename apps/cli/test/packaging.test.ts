/**
 * The packages outside the workspace: @nnid/core, linalg, oracle and pipeline (and every workspace
 * package they depend on) are built to JavaScript and packed by tools/pack/pack.mjs, installed from
 * their tarballs with plain npm into a scratch project in a temporary directory outside the
 * repository, and run there under plain node (no tsx): an identification with 2 threads, and each
 * worker pool (sampler, rank-one solver, refinement's row blocks, the student fit's starts) with 2
 * threads against 1 thread.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { serializeNetwork } from '@nnid/core';
import { tier } from '@nnid/linalg';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify } from '@nnid/pipeline';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const PACKED = ['@nnid/core', '@nnid/linalg', '@nnid/oracle', '@nnid/pipeline'];
// (and @nnid/student-fit, whose worker pool the scratch run checks too)

// The same network and options in the scratch project and in this process (from the sources).
const NETWORK = { inputDim: 6, width1: 4, width2: 2, activation: 'tanh', seed: 3 } as const;
const IDENTIFY = { width1: 4, width2: 2, seed: 1, threads: 2 } as const;

const SCRATCH_RUN = `
import { serializeNetwork } from '@nnid/core';
import { tier } from '@nnid/linalg';
import { createOracle, networkBlackBox, randomNetwork } from '@nnid/oracle';
import { identify, score } from '@nnid/pipeline';
import { sampleHessians } from '@nnid/hessian-sampler';
import { rankOneSpan } from '@nnid/subspace';
import { findRankOne } from '@nnid/rank1-solver';
import { refineNetwork } from '@nnid/refine';
import { studentFit } from '@nnid/student-fit';

const truth = randomNetwork(${JSON.stringify(NETWORK)});
const oracle = createOracle(networkBlackBox(truth), { maxQueries: 200000 });
const { network, report } = await identify(oracle, { activation: truth.activation, ...${JSON.stringify(IDENTIFY)} });
const s = score(truth, network);

// every worker pool, 2 threads against 1: the same bits
const rows = (v) => JSON.stringify(Array.from({ length: v.shape[0] * v.shape[1] }, (_, i) => v.data[v.offset + Math.floor(i / v.shape[1]) * v.strides[0] + (i % v.shape[1]) * v.strides[1]]));
const hessians = async (threads) => sampleHessians(createOracle(networkBlackBox(truth)), { count: 16, radius: 1 }, { seed: 3, threads });
const [h1, h2] = [await hessians(1), await hessians(2)];
const basis = rankOneSpan(truth.A, 'packed').basis;
const [r1, r2] = [await findRankOne(basis, { seed: 3, starts: 24, threads: 1 }), await findRankOne(basis, { seed: 3, starts: 24, threads: 2 })];
const refit = async (threads) => refineNetwork(createOracle(networkBlackBox(truth)), truth, { seed: 2, rowBlocks: 2, dataPoints: 60, maxIterations: 4, threads });
const [f1, f2] = [await refit(1), await refit(2)];
const fit = async (threads) => studentFit(createOracle(networkBlackBox(truth)), { width1: 4, width2: 2, starts: 2, maxIterations: 20, seed: 5, threads });
const [s1, s2] = [await fit(1), await fit(2)];

console.log(JSON.stringify({
  tier: tier(),
  queries: report.queries.total,
  relativeL2: s.function.gaussian.relativeL2,
  firstLayerMinCos: s.firstLayer.minCos,
  network: JSON.stringify(serializeNetwork(network)),
  sampler: { mode: h2.report.mode, sameBits: rows(h1.hessianStack) === rows(h2.hessianStack) },
  solver: { threads: r2.report.threads, candidates: r2.candidates.shape[0], sameBits: rows(r1.candidates) === rows(r2.candidates) },
  refine: { sameBits: JSON.stringify(serializeNetwork(f1.network)) === JSON.stringify(serializeNetwork(f2.network)) },
  studentFit: { sameBits: JSON.stringify(serializeNetwork(s1.network)) === JSON.stringify(serializeNetwork(s2.network)) },
}));
`;

/** The environment of the scratch commands: no npm/pnpm settings of the workspace's own run, no tsx. */
function scratchEnv(cache: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|NODE_OPTIONS$|INIT_CWD$|VITEST|NX_)/.test(k)) continue;
    env[k] = v;
  }
  env.npm_config_cache = cache;
  env.npm_config_update_notifier = 'false';
  return env;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout = 300_000) {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

describe('the packages outside the workspace', () => {
  it('packed, installed with npm into a scratch project and run under plain node: an exact identification with 2 threads, worker pools with the same bits as 1 thread', async (ctx) => {
    const scratch = mkdtempSync(join(tmpdir(), 'nnid-packaging-'));
    try {
      expect(relative(root, scratch).startsWith('..'), `the scratch project ${scratch} must lie outside ${root}`).toBe(true);
      const env = scratchEnv(join(scratch, 'npm-cache'));
      const ping = run('npm', ['ping', '--loglevel=error'], scratch, env, 60_000);
      if (ping.status !== 0) {
        console.log(`packaging test skipped: npm cannot reach its registry (npm ping: ${(ping.stderr || ping.error?.message || '').trim().split('\n')[0]})`);
        ctx.skip();
        return;
      }

      // build and pack (a fresh clone has no dist: pack.mjs builds what it packs)
      const t0 = performance.now();
      const packed = run(process.execPath, [join(root, 'tools', 'pack', 'pack.mjs'), '--out', join(scratch, 'tarballs'), ...PACKED, '@nnid/student-fit'], root, env);
      expect(packed.stderr + packed.stdout, 'tools/pack/pack.mjs').toMatch(/^\[/m);
      expect(packed.status).toBe(0);
      const tPacked = performance.now();
      const tarballs = JSON.parse(packed.stdout.trim().split('\n').pop()!) as { name: string; tarball: string }[];
      const names = tarballs.map((t) => t.name);
      for (const name of [...PACKED, '@nnid/hessian-sampler', '@nnid/subspace', '@nnid/rank1-solver', '@nnid/attribution', '@nnid/shift-recovery', '@nnid/refine', '@nnid/optimize']) {
        expect(names).toContain(name);
      }
      // tarballs hold the built package, not sources or tests
      for (const { name, tarball } of tarballs) {
        const list = run('tar', ['tzf', tarball], scratch, env).stdout.split('\n').filter(Boolean);
        expect(list, name).toContain('package/dist/index.js');
        expect(list, name).toContain('package/dist/index.d.ts');
        expect(list.filter((f) => /^package\/(src|test|bench)\/|\.test\.|tsbuildinfo$/.test(f)), name).toEqual([]);
      }

      // a project of its own: every @nnid dependency from its tarball (overrides: never the registry)
      const app = join(scratch, 'app');
      const deps = Object.fromEntries(tarballs.map((t) => [t.name, `file:${t.tarball}`]));
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'nnid-scratch', private: true, type: 'module', dependencies: deps, overrides: deps }, null, 2));
      writeFileSync(join(app, 'run.mjs'), SCRATCH_RUN);
      const install = run('npm', ['install', '--no-audit', '--no-fund', '--foreground-scripts', '--loglevel=error'], app, env);
      expect(install.status, `npm install:\n${install.stdout}\n${install.stderr}`).toBe(0);
      // the native tier built on install, or the TypeScript tier said so in one line; never a failed install
      expect(install.stdout).toMatch(/linalg: native tier (built|not built)/);
      expect(existsSync(join(app, 'node_modules', 'tsx')), 'tsx is not installed').toBe(false);
      expect(readdirSync(join(app, 'node_modules', '@nnid')).sort()).toEqual(names.map((n) => n.slice('@nnid/'.length)).sort());

      const tInstalled = performance.now();
      const out = run(process.execPath, ['run.mjs'], app, env, 120_000);
      const tRan = performance.now();
      expect(out.status, `node run.mjs:\n${out.stdout}\n${out.stderr}`).toBe(0);
      const got = JSON.parse(out.stdout.trim().split('\n').pop()!);
      expect(got.relativeL2).toBeLessThanOrEqual(1e-8);
      expect(got.firstLayerMinCos).toBeGreaterThan(1 - 1e-8);
      expect(got.sampler).toEqual({ mode: 'workers', sameBits: true });
      expect(got.solver.threads).toBe(2);
      expect(got.solver.candidates).toBe(4);
      expect(got.solver.sameBits).toBe(true);
      expect(got.refine.sameBits).toBe(true);
      expect(got.studentFit.sameBits).toBe(true);
      if (process.env.NNID_LINALG !== 'typescript' && tier() === 'native') expect(got.tier).toBe('native');

      // the built package computes the same bits as the sources do here, on the same tier
      if (got.tier === tier()) {
        const truth = randomNetwork(NETWORK);
        const here = await identify(createOracle(networkBlackBox(truth), { maxQueries: 200_000 }), { activation: truth.activation, ...IDENTIFY });
        expect(got.network).toBe(JSON.stringify(serializeNetwork(here.network)));
      }
      const s = (a: number, b: number) => ((b - a) / 1000).toFixed(1);
      console.log(`packaging: ${tarballs.length} tarballs installed with npm outside the workspace; tier ${got.tier}; relative L2 ${got.relativeL2.toExponential(1)} with ${got.queries} queries; seconds: build and pack ${s(t0, tPacked)}, npm install ${s(tPacked, tInstalled)}, run ${s(tInstalled, tRan)}`);
      expect(readFileSync(join(app, 'node_modules', '@nnid', 'pipeline', 'package.json'), 'utf8')).toMatch(/"import": "\.\/dist\/index\.js"/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 600_000);
});
