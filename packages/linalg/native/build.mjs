#!/usr/bin/env node
// Builds the native tier of @nnid/linalg (an N-API addon over OpenBLAS + LAPACKE) into
// native/build/Release/nnid_linalg.node. When the C compiler, Node's headers, node-gyp or the
// OpenBLAS/LAPACKE development files are missing, it says so and exits 0: the TypeScript tier is
// then used. A build that fails although everything is present exits 1 with the compiler's log.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const addon = path.join(here, 'build', 'Release', 'nnid_linalg.node');
const hint = 'install libopenblas-dev and liblapacke-dev (apt-get install -y libopenblas-dev liblapacke-dev), then rerun tools/setup.sh';

function skip(reason, fix = hint) {
  console.log(`linalg: native tier not built (${reason}); the TypeScript tier will be used. To get it: ${fix}.`);
  process.exit(0);
}

// 1. A C compiler that finds CBLAS and LAPACKE and links against them (a probe program is built and run).
const cc = process.env.CC || 'cc';
const probe = `#include <cblas.h>
#include <lapacke.h>
int main(void) { openblas_set_num_threads(1); double a = 4, w; lapack_int m;
  return LAPACKE_dsyevr(LAPACK_COL_MAJOR, 'N', 'A', 'L', 1, &a, 1, 0, 0, 1, 1, 0, &m, &w, 0, 1, 0) == 0 && w == 4 ? 0 : 1; }
`;
const dir = mkdtempSync(path.join(tmpdir(), 'nnid-linalg-probe-'));
let includeDir = null;
let noCompiler = false;
try {
  writeFileSync(path.join(dir, 'probe.c'), probe);
  for (const inc of ['', '/usr/include/openblas', '/usr/include/x86_64-linux-gnu/openblas-pthread', '/usr/local/include']) {
    if (inc !== '' && !existsSync(inc)) continue;
    const args = [...(inc ? [`-I${inc}`] : []), path.join(dir, 'probe.c'), '-o', path.join(dir, 'probe'), '-llapacke', '-lopenblas'];
    const r = spawnSync(cc, args, { encoding: 'utf8' });
    if (r.error && r.error.code === 'ENOENT') {
      noCompiler = true;
      break;
    }
    if (r.status === 0 && spawnSync(path.join(dir, 'probe')).status === 0) {
      includeDir = inc;
      break;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (noCompiler) skip(`no C compiler ('${cc}')`, `install a C toolchain (apt-get install -y build-essential), then ${hint}`);
if (includeDir === null) skip('OpenBLAS/LAPACKE headers or libraries not found');

// 2. Node's own headers (node-gyp must not try to download them).
const nodedir = process.env.npm_config_nodedir || path.resolve(process.execPath, '..', '..');
if (!existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))) skip(`no node_api.h under ${nodedir}/include/node`, 'set npm_config_nodedir to the prefix of a Node installation that has its headers, then rerun tools/setup.sh');

// 3. node-gyp, a devDependency of this package, and the Python it runs.
const python = process.env.PYTHON || 'python3';
if (spawnSync(python, ['--version']).status !== 0) skip(`node-gyp needs Python 3 ('${python}' does not run)`, 'install python3 (or set PYTHON), then rerun tools/setup.sh');
let gyp;
try {
  gyp = createRequire(path.join(here, '..', 'package.json')).resolve('node-gyp/bin/node-gyp.js');
} catch {
  // installed from a tarball (native/install.mjs): npm's own node-gyp, which npm names to install scripts
  gyp = process.env.npm_config_node_gyp;
  if (!gyp || !existsSync(gyp)) skip('node-gyp is not installed', 'run tools/setup.sh (it installs the workspace, node-gyp included)');
}

const env = { ...process.env, npm_config_nodedir: nodedir, NNID_BLAS_INCLUDE: includeDir };
const build = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--directory', here], { encoding: 'utf8', env });
if (build.status !== 0) {
  process.stderr.write(build.stdout + build.stderr);
  console.error('linalg: building the native tier failed (log above); the TypeScript tier will be used.');
  process.exit(1);
}

// 4. Check that the addon loads and computes in a fresh process.
const check = spawnSync(
  process.execPath,
  [
    '-e',
    `const a = require(${JSON.stringify(addon)}); const c = new Float64Array(1);
     a.gemm(false, false, 1, 1, 2, new Float64Array([1, 2]), 2, new Float64Array([3, 4]), 1, c);
     if (c[0] !== 11 || a.threads() !== 1) process.exit(1);`,
  ],
  { encoding: 'utf8' },
);
if (check.status !== 0) {
  process.stderr.write(check.stderr);
  rmSync(addon, { force: true });
  console.error('linalg: the native addon was built but does not load or compute; the TypeScript tier will be used.');
  process.exit(1);
}
console.log(`linalg: native tier built (OpenBLAS + LAPACKE): ${path.relative(process.cwd(), addon)}`);
