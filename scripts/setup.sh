#!/usr/bin/env bash
# Installs everything goheap needs to build and test, from Debian's packages,
# then configures and builds into build/. Run as root (or with sudo) on a fresh
# machine; running it again does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

LLVM=19
PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libelf-dev libdw-dev elfutils zlib1g-dev libcmocka-dev libedit-dev
  libzstd-dev liblzma-dev liblz4-dev zstd xz-utils gzip lz4
  gdb "lldb-$LLVM" "liblldb-$LLVM-dev"
  "clang-$LLVM" "libclang-rt-$LLVM-dev"
  python3 graphviz
  qemu-user gdb-multiarch # the arm64 corpus variant: run under qemu-aarch64, cross-checked with gdb-multiarch
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The corpus needs a Go toolchain of 1.21 or later on PATH: it fetches each
# tested release with GOTOOLCHAIN=go1.N.M through the Go module proxy.
if ! command -v go >/dev/null 2>&1; then
  for d in /usr/local/go/bin /usr/lib/go/bin; do [ -x "$d/go" ] && export PATH="$d:$PATH"; done
fi
if ! command -v go >/dev/null 2>&1; then
  echo "setup: error: no Go toolchain on PATH; install Go 1.21 or later (https://go.dev/doc/install)" >&2
  exit 1
fi
gov=$(go env GOVERSION)
case "$gov" in
  go1.2[1-9]*|go1.[3-9][0-9]*) ;;
  *) echo "setup: error: $gov cannot fetch toolchains with GOTOOLCHAIN; need Go 1.21 or later" >&2; exit 1 ;;
esac
echo "setup: $(go version)"

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
echo "setup: built build/bin/goheap and build/lib/libgoheap-lldb.so"
