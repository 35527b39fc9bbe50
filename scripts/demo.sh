#!/usr/bin/env bash
# The main job on the embedded default: generate the corpus's demo core (a
# small service that leaks sessions) with the newest Go release in
# corpus/versions and show its heap and the path that keeps a leaked object
# alive.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/bin/goheap ] || { echo "demo: build first: scripts/setup.sh" >&2; exit 1; }
version=$(grep -v '^#' corpus/versions | grep . | tail -n 1)
python3 scripts/corpus.py gen "$version" --programs demo
dir=build/corpus/$version/demo
addr=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["sentinels"][0]["addr"])' "$dir/manifest.json")
echo
echo "\$ goheap --exe $dir/exe $dir/core heap --top 10"
build/bin/goheap --exe "$dir/exe" "$dir/core" heap --top 10 || {
  echo "demo: goheap could not run 'heap' on the demo core (see the message above)."; exit 1; }
echo
echo "\$ goheap --exe $dir/exe $dir/core paths $addr"
build/bin/goheap --exe "$dir/exe" "$dir/core" paths "$addr"
