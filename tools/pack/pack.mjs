#!/usr/bin/env node
// Builds and packs workspace packages for use outside the workspace:
//
//   node tools/pack/pack.mjs --out DIR @nnid/pipeline [@nnid/... ...]
//
// The named packages and every workspace package they depend on (their `dependencies`, followed
// through) are built with TypeScript's project references (tsc -b over their tsconfig.build.json:
// dist/ with .js and .d.ts) and packed with the pinned pnpm (`pnpm pack`: `workspace:*` and
// `catalog:` become versions, publishConfig's exports/types point at dist). One JSON line on
// stdout lists the tarballs: [{ "name", "version", "tarball" }], dependencies first.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const usage = 'usage: node tools/pack/pack.mjs --out DIR PACKAGE...';

function fail(message) {
  console.error(`pack: ${message}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
if (outAt < 0 || !args[outAt + 1]) fail(`--out DIR is missing. ${usage}`);
const out = path.resolve(args[outAt + 1]);
const wanted = args.filter((_, i) => i !== outAt && i !== outAt + 1);
if (wanted.length === 0) fail(`no package named. ${usage}`);

const workspace = new Map();
for (const group of ['packages', 'apps']) {
  for (const dir of readdirSync(path.join(root, group))) {
    const file = path.join(root, group, dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    workspace.set(manifest.name, { dir: path.join(root, group, dir), manifest });
  }
}

// dependencies first (a depth-first post-order over `dependencies`)
const order = [];
const seen = new Set();
function visit(name, from) {
  const pkg = workspace.get(name);
  if (!pkg) fail(`${name}${from ? ` (a dependency of ${from})` : ''} is not a package of this workspace`);
  if (seen.has(name)) return;
  seen.add(name);
  if (pkg.manifest.private) fail(`${name} is private: it is not packed`);
  if (!existsSync(path.join(pkg.dir, 'tsconfig.build.json'))) fail(`${name} has no tsconfig.build.json (copy another package's and set its references)`);
  if (!pkg.manifest.publishConfig?.exports || !pkg.manifest.files) fail(`${name}'s package.json needs publishConfig.exports (into dist) and files, as the other packages have`);
  const config = JSON.parse(readFileSync(path.join(pkg.dir, 'tsconfig.build.json'), 'utf8'));
  const references = new Set((config.references ?? []).map((r) => path.resolve(pkg.dir, r.path)));
  for (const dep of Object.keys(pkg.manifest.dependencies ?? {})) {
    if (!workspace.has(dep)) continue;
    const needed = path.join(workspace.get(dep).dir, 'tsconfig.build.json');
    if (!references.has(needed)) fail(`${path.relative(root, pkg.dir)}/tsconfig.build.json must reference ${path.relative(pkg.dir, needed)} (${name} depends on ${dep})`);
    visit(dep, name);
  }
  order.push(name);
}
for (const name of wanted) visit(name, null);

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const build = spawnSync(process.execPath, [tsc, '-b', ...order.map((n) => path.join(workspace.get(n).dir, 'tsconfig.build.json'))], {
  cwd: root,
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (build.status !== 0) {
  console.error('pack: the TypeScript build failed (errors above)');
  process.exit(1);
}

mkdirSync(out, { recursive: true });
const pnpm = path.join(root, 'tools', 'pnpm', 'node_modules', '.bin', 'pnpm');

function pack(name) {
  const { dir, manifest } = workspace.get(name);
  return new Promise((resolve, reject) => {
    const child = spawn(pnpm, ['pack', '--pack-destination', out], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (b) => (log += b));
    child.stderr.on('data', (b) => (log += b));
    child.on('error', reject);
    child.on('close', (code) => {
      const tarball = path.join(out, `${name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`);
      if (code !== 0 || !existsSync(tarball)) reject(new Error(`pnpm pack of ${name} failed (exit ${code}):\n${log}`));
      else resolve({ name, version: manifest.version, tarball });
    });
  });
}

// a few at a time: each pnpm start costs about a second
const packed = new Array(order.length);
let next = 0;
async function lane() {
  while (next < order.length) {
    const i = next++;
    packed[i] = await pack(order[i]);
  }
}
try {
  await Promise.all([lane(), lane(), lane()]);
} catch (error) {
  console.error(`pack: ${error.message}`);
  process.exit(1);
}
console.log(JSON.stringify(packed));
