#!/usr/bin/env bash
# The main job on the embedded default: generate the corpus's demo core (a
# small service that leaks sessions) with the newest Go release in
# corpus/versions, then look at it with goheap.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/bin/goheap ] || { echo "demo: build first: scripts/setup.sh" >&2; exit 1; }
version=$(grep -v '^#' corpus/versions | grep . | tail -n 1)
python3 scripts/corpus.py gen "$version" --programs demo
dir=build/corpus/$version/demo
addr=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["sentinels"][0]["addr"])' "$dir/manifest.json")
run() {
  echo
  echo "\$ goheap $dir/core $*"
  build/bin/goheap "$dir/core" "$@"
}
run overview
run heap --top 8
run objects --type '^main\.Session$' --limit 3
session=$(build/bin/goheap "$dir/core" objects --type '^main\.Session$' --limit 1 --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["objects"][0]["addr"])')
run paths "$session"
run print "$session"
run goroutines
run breakdown
