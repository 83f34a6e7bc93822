#!/usr/bin/env bash
# What --attention-maps costs: a model compiled three ways (no maps, class maps, class maps +
# rollout), run in rotating order for ROUNDS rounds of `vit-run --repeat 20 --profile`; prints
# each one's best and median run and its attention kernel's best-call GFLOP/s.
# Usage: benchmarks/attention_maps_cost.sh [MODEL (vit-b16)] [BATCH (1)] [ROUNDS (6)]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${VITC_BUILD:-$here/build}
model=${1:-vit-b16} batch=${2:-1} rounds=${3:-6}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -c "import numpy as np; np.save('$work/images.npy', np.random.default_rng(0).uniform(-1, 1, ($batch, 3, 224, 224)).astype(np.float32))"
declare -A flags=([off]="" [class]="--attention-maps" [rollout]="--attention-maps=rollout")
for kind in off class rollout; do
  "$build/compiler/tools/vitc/vitc" --model "$model" --random-weights 1 ${flags[$kind]} \
    --emit=lib -o "$work/lib$kind.so"
done
grep -m1 "model name" /proc/cpuinfo
kinds=(off class rollout)
for round in $(seq 1 "$rounds"); do
  for k in 0 1 2; do
    kind=${kinds[$(( (round + k) % 3 ))]}
    extra=()
    [ "$kind" != off ] && extra+=(--attention-maps "$work/maps.npy")
    [ "$kind" = rollout ] && extra+=(--rollout "$work/rollout.npy")
    "$build/runtime/vit-run" --library "$work/lib$kind.so" "$work/images.npy" --top 0 \
      --repeat 20 --profile "${extra[@]}" |
      awk -v k="$kind" '/runs:/ {printf "%s %s ", k, $8} /fused_attention/ && !seen {print $6; seen=1}'
  done
done > "$work/runs.txt"
python3 - "$work/runs.txt" "$model" "$batch" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    kind, best, rate = line.split()
    runs.setdefault(kind, []).append((float(best), float(rate)))
print(f"{sys.argv[2]}, batch {sys.argv[3]}, {len(runs['off'])} rounds of 20 runs each")
print(f"{'maps':8s} {'best run ms':>12s} {'median best':>12s} {'vs off':>7s} {'attention GFLOP/s':>18s}")
base = statistics.median(b for b, _ in runs["off"])
for kind in ("off", "class", "rollout"):
    v = runs[kind]
    med = statistics.median(b for b, _ in v)
    print(f"{kind:8s} {min(b for b, _ in v):12.2f} {med:12.2f} {med / base:7.3f} "
          f"{statistics.median(r for _, r in v):18.1f}")
PY
