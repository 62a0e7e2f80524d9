#!/usr/bin/env bash
# One-time (and idempotent) set-up on a machine that has only Node >= 20 and npm:
# brings the pinned pnpm, installs the workspace, and builds the OpenBLAS tier of @nnid/linalg.
# OpenBLAS/LAPACKE: when this runs as root on a machine with apt-get (containers, CI) and they are
# missing, it installs them (libopenblas-dev liblapacke-dev); NNID_SETUP_APT=0 skips that. Without
# them everything runs on the TypeScript tier, and one line says how to get the fast one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x tools/pnpm/node_modules/.bin/pnpm ]; then
  npm ci --prefix tools/pnpm --no-audit --no-fund --loglevel=error
fi
# Native builds use the running Node's own headers; node-gyp must not try to download them.
export npm_config_nodedir="$(node -p "require('path').resolve(process.execPath, '../..')")"
tools/pnpm/node_modules/.bin/pnpm install --frozen-lockfile --reporter=append-only --loglevel=warn

have_blas() { dpkg -s libopenblas-dev liblapacke-dev >/dev/null 2>&1; }
if command -v dpkg >/dev/null 2>&1 && ! have_blas; then
  if [ "${NNID_SETUP_APT:-1}" != 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing libopenblas-dev liblapacke-dev (the fast linear-algebra tier; NNID_SETUP_APT=0 skips this)"
    (timeout 600 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq libopenblas-dev liblapacke-dev >/dev/null) \
      || echo "setup: apt-get could not install OpenBLAS/LAPACKE; the TypeScript tier will be used."
  fi
fi
if [ -f packages/linalg/native/build.mjs ]; then
  # build.mjs says in one line how to get the fast tier when the libraries are missing
  node packages/linalg/native/build.mjs || echo "setup: the OpenBLAS tier was not built; the TypeScript tier will be used."
fi
