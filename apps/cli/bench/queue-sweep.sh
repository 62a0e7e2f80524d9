#!/usr/bin/env bash
# The same 48-run sweep on one machine (nnid sweep --workers 2) and through Redis with two
# `nnid worker --concurrency 1` processes on this machine, pass after pass (ORDER=queue-first
# runs the queue first). Prints each wall time and the queue's cost per run (queue-jobtimes.ts).
#   bash apps/cli/bench/queue-sweep.sh            (PASSES="1 2" by default; needs redis-server)
set -euo pipefail
cd "$(dirname "$0")/../../.."
B=${B:-$(mktemp -d)}
PORT=${PORT:-6399}
mkdir -p "$B/redis"
GRID="--sizes 10x10x3,20x10x3 --activations tanh,sigmoid --shift-stds 0.3 --seeds 1-12 --score-points 2000"
URL=redis://127.0.0.1:$PORT/0
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$B/redis" > "$B/redis.log" 2>&1 &
RP=$!
trap 'kill $RP' EXIT
until redis-cli -p "$PORT" ping > /dev/null 2>&1; do sleep 0.1; done
now() { date +%s.%N; }
single() {
  local s e; s=$(now)
  node apps/cli/bin/nnid.js sweep $GRID --workers 2 --out "$B/r-single-$1.jsonl" > /dev/null 2>&1
  e=$(now); echo "single pass $1: $(echo "$e - $s" | bc) s"
}
queued() {
  local s e w1 w2
  redis-cli -p "$PORT" flushall > /dev/null
  node apps/cli/bin/nnid.js worker --queue "$URL" --concurrency 1 > "$B/w1-$1.log" 2>&1 & w1=$!
  node apps/cli/bin/nnid.js worker --queue "$URL" --concurrency 1 > "$B/w2-$1.log" 2>&1 & w2=$!
  until grep -q waiting "$B/w1-$1.log" && grep -q waiting "$B/w2-$1.log"; do sleep 0.2; done
  s=$(now)
  node apps/cli/bin/nnid.js sweep $GRID --queue "$URL" --out "$B/r-queue-$1.jsonl" > /dev/null 2>&1
  e=$(now); echo "queue pass $1: $(echo "$e - $s" | bc) s (the workers started before)"
  (cd apps/cli && npx tsx bench/queue-jobtimes.ts "$PORT" "$B/r-queue-$1.jsonl" 2)
  kill $w1 $w2; wait $w1 $w2 || true
}
for pass in ${PASSES:-1 2}; do
  if [ "${ORDER:-}" = queue-first ]; then queued "$pass"; single "$pass"; else single "$pass"; queued "$pass"; fi
done
echo "results in $B"
