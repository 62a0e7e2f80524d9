#!/usr/bin/env node
// The package's `install` script. Inside the nnid workspace it does nothing (tools/setup.sh builds
// the native tier). In a project that installed @nnid/linalg from its tarball it builds the native
// tier (native/build.mjs) when a C compiler and OpenBLAS/LAPACKE are there, and otherwise lets
// build.mjs say in one line that the TypeScript tier will be used. It never fails the installation:
// without the addon the package runs on its TypeScript tier.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
if (existsSync(path.join(here, '..', 'src', 'index.ts'))) process.exit(0);
if (process.env.NNID_LINALG_NATIVE === '0') {
  console.log('linalg: native tier not built (NNID_LINALG_NATIVE=0); the TypeScript tier will be used.');
  process.exit(0);
}
const build = spawnSync(process.execPath, [path.join(here, 'build.mjs')], { encoding: 'utf8' });
// build.mjs speaks to the workspace; here the way to build again is npm's
const forNpm = (text) => (text ?? '').replaceAll('rerun tools/setup.sh', 'run `npm rebuild @nnid/linalg`');
process.stdout.write(forNpm(build.stdout));
process.stderr.write(forNpm(build.stderr));
if (build.status !== 0) console.log('linalg: the TypeScript tier will be used (the native build above failed; the installation goes on).');
process.exit(0);
