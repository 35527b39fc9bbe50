#!/usr/bin/env bash
# A fuzzing campaign: every libFuzzer target of tests/fuzz for SECONDS each,
# JOBS at a time, on a corpus core as the base. Builds a clang tree with the
# sanitizers and libFuzzer (build-fuzz/), keeps each target's corpus in
# build-fuzz/fuzz-corpus/TARGET/, copies crashes into
# tests/fuzz/findings/TARGET/, and appends one line per target to
# build-fuzz/fuzz-campaigns.log: date, target, seconds, executions,
# coverage (edges), corpus size, findings.
#
#   scripts/fuzz.sh [SECONDS [JOBS [BASE_DIR]]]   (defaults 300, 2, the newest demo core)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-300}
JOBS=${2:-2}
ROOT=$PWD
B=${GOHEAP_FUZZ_BUILD:-$ROOT/build-fuzz}
CLANG=$(command -v clang-19 || command -v clang || true)
[ -n "$CLANG" ] || { echo "fuzz: clang is needed (scripts/setup.sh installs clang-19)"; exit 1; }
CLANGXX=$(command -v clang++-19 || command -v clang++)
if [ ! -f "$B/CMakeCache.txt" ]; then
  cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$CLANG" \
    -DCMAKE_CXX_COMPILER="$CLANGXX" -DGOHEAP_SANITIZE=ON -DGOHEAP_FUZZ=ON -DGOHEAP_LLDB_ASAN=OFF >/dev/null
fi
TARGETS=${GOHEAP_FUZZ_TARGETS:-"core exe heap roots print trunc"}
ninja -C "$B" $(for t in $TARGETS; do echo fuzz_$t; done) fuzz_replay >/dev/null
BASE=${3:-}
if [ -z "$BASE" ]; then
  V=$(grep '^go' corpus/versions | tail -1)
  python3 scripts/corpus.py gen "$V" --programs demo --out build/corpus >/dev/null
  BASE=$ROOT/build/corpus/$V/demo
fi
export GOHEAP_FUZZ_BASE=$BASE
export ASAN_OPTIONS=detect_leaks=1:malloc_limit_mb=4096
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in $TARGETS; do
  C=$B/fuzz-corpus/$t
  A=$B/fuzz-artifacts/$t/
  mkdir -p "$C" "$A" "tests/fuzz/findings/$t"
  # Seeds: a few recipes of 1 to 8 steps (8 bytes each), so every run changes something.
  if [ -z "$(ls -A "$C")" ]; then
    for i in 1 2 3 4 5 6 7 8; do head -c $((8 * i)) /dev/urandom >"$C/seed-$i"; done
  fi
  log=$B/fuzz-$t.log
  start=$(date +%s)
  # -fork keeps going after a crash and collects every distinct one.
  "$B/bin/fuzz_$t" "$C" -fork="$JOBS" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$SECS" -max_len=128 -len_control=0 -timeout=30 -rss_limit_mb=4096 -artifact_prefix="$A" >"$log" 2>&1 || true
  execs=$(grep -o 'exec/s: [0-9]*\|execs: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  total=$(grep -o '#[0-9]*' "$log" | tail -1 | tr -d '#' || echo 0)
  found=0
  for f in "$A"crash-* "$A"leak-* "$A"timeout-* "$A"oom-*; do
    [ -e "$f" ] || continue
    cp -n "$f" "tests/fuzz/findings/$t/" && found=$((found + 1))
  done
  printf '%s target=%s seconds=%s execs=%s cov=%s corpus=%s findings=%s base=%s\n' "$(date -u +%FT%TZ)" "$t" \
    "$(( $(date +%s) - start ))" "$total" "$cov" "$(ls "$C" | wc -l)" "$found" "$BASE" | tee -a "$B/fuzz-campaigns.log"
done
echo "fuzz: findings (if any) are in tests/fuzz/findings/; replay: $B/bin/fuzz_replay tests/fuzz/findings"
