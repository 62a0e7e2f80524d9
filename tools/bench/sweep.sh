#!/usr/bin/env bash
# The issue-4 measurements with `nnid sweep`: the grid, noise, and networks the grid does not
# cover. Results go to bench-results/ (JSON lines, resumable: rerun to finish an interrupted
# sweep) and the summary tables to bench-results/*.md. Usage: bash tools/bench/sweep.sh [seeds]
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=${1:-1-5}
mkdir -p bench-results
run() { # name, then sweep options
  local name=$1; shift
  npx nnid sweep "$@" --out "bench-results/$name.jsonl" --summary "bench-results/$name.md"
}
run grid --sizes 10x10x3,20x20x5,30x20x10,50x30x10 --activations tanh,sigmoid --shift-stds 0.3,1 --seeds "$seeds"
run noise --sizes 20x10x3,30x20x10 --activations tanh,sigmoid --shift-stds 0.3 --noises 1e-6 --seeds "$seeds"
run other --sizes 20x10x3,30x10x3 --activations tanh/tanh,tanh/sigmoid --shift-stds 0.3 --perturbs 0,0.3 --seeds "${2:-1-3}"
