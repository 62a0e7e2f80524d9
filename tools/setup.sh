#!/usr/bin/env bash
# One-time (and idempotent) set-up on a machine that has only Node >= 20 and npm:
# brings the pinned pnpm, installs the workspace, and builds the OpenBLAS tier of @nnid/linalg
# when the system has OpenBLAS + LAPACKE (otherwise the TypeScript tier is used).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x tools/pnpm/node_modules/.bin/pnpm ]; then
  npm ci --prefix tools/pnpm --no-audit --no-fund --loglevel=error
fi
# Native builds use the running Node's own headers; node-gyp must not try to download them.
export npm_config_nodedir="$(node -p "require('path').resolve(process.execPath, '../..')")"
tools/pnpm/node_modules/.bin/pnpm install --frozen-lockfile --reporter=append-only --loglevel=warn
if [ -f packages/linalg/native/build.mjs ]; then
  node packages/linalg/native/build.mjs || echo "setup: the OpenBLAS tier was not built; the TypeScript tier will be used."
fi
