#!/usr/bin/env bash
# Runs the whole test suite: builds what changed, then every CTest entry (unit
# tests and one corpus entry per Go release and variant). The corpus is
# generated on first use and cached under build/corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/CMakeCache.txt ] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
exec ctest --test-dir build --output-on-failure -j2 "$@"
