#!/usr/bin/env bash
# The issue-4 measurements with `nnid sweep`: the grid (seeds 1-5, and 6-10 held out), noise, networks
# the grid does not cover (other activations, perturbed A, m0 < d; other sizes), widths inferred, and
# smaller query budgets. Results go to bench-results/ (JSON lines, resumable: rerun to finish an
# interrupted sweep) and the summary tables to bench-results/*.md. About 1.5 h on 2 cores.
# Usage: bash tools/bench/sweep.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench-results
run() { # name, then sweep options
  local name=$1; shift
  npx nnid sweep "$@" --out "bench-results/$name.jsonl" --summary "bench-results/$name.md"
}
run grid --sizes 10x10x3,20x20x5,30x20x10,50x30x10 --activations tanh,sigmoid --shift-stds 0.3,1 --seeds 1-5
run grid-heldout --sizes 10x10x3,20x20x5,30x20x10,50x30x10 --activations tanh,sigmoid --shift-stds 0.3,1 --seeds 6-10
run noise --sizes 20x10x3,30x20x10 --activations tanh,sigmoid --shift-stds 0.3 --noises 1e-6 --seeds 1-3
run other --sizes 20x10x3,30x10x3 --activations tanh/tanh,tanh/sigmoid --shift-stds 0.3 --perturbs 0,0.3 --seeds 1-3
run sigtanh --sizes 20x10x3,30x10x3 --activations sigmoid/tanh --shift-stds 0.3,1 --perturbs 0,0.3 --seeds 1-3
run offgrid --sizes 15x8x4,25x15x5,40x20x8,12x12x6,30x30x3,40x10x2 --activations tanh,sigmoid,tanh/sigmoid --shift-stds 0.5,1 --seeds 1-2
run widths --sizes 10x10x3,20x20x5,30x10x3 --activations tanh,sigmoid,tanh/sigmoid --shift-stds 0.3,1 --seeds 1-3 --widths auto
run budget --sizes 10x10x3,20x20x5,30x20x10 --activations tanh,sigmoid --shift-stds 0.3,1 --query-targets 10,15 --seeds 1-3
