#!/usr/bin/env python3
"""Replays the fuzzing findings and a fixed run of generated recipes through
the sanitizer build of the fuzz harness (tests/fuzz).

Bases: the demo core of the oldest and the newest Go release of the corpus.
For each: every saved finding (tests/fuzz/findings/TARGET/*), then a fixed
number of recipes from the harness's own generator with fixed seeds (the
seeds of the campaigns that found the first crashes among them), every
target in turn; and a few recipes run twice, with the executable the
harness parses once and with one opened afresh, whose outputs must agree. Any sanitizer report (AddressSanitizer, LeakSanitizer,
UndefinedBehaviorSanitizer), crash, hang or allocation past the limit fails
the test with the last recipe saved where the report says.

usage: test_fuzz.py BUILD_DIR
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from harness import check, summary  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
FINDINGS = os.path.join(ROOT, "tests", "fuzz", "findings")
RECIPES = int(os.environ.get("GOHEAP_FUZZ_RECIPES", "400"))  # per base and seed
SEEDS = (7, 99)
SHARED = int(os.environ.get("GOHEAP_FUZZ_SHARED_RECIPES", "60"))  # recipes run both ways


def replay_binary():
    """The sanitizer build's harness: lldb-asan/ beside a plain build, or
    this build when it is the sanitizer build."""
    cache = open(os.path.join(BUILD, "CMakeCache.txt")).read()
    if "GOHEAP_SANITIZE:BOOL=ON" in cache:
        return os.path.join(BUILD, "bin", "fuzz_replay"), True
    asan = os.path.join(BUILD, "lldb-asan", "bin", "fuzz_replay")
    if os.path.exists(asan):
        return asan, True
    return os.path.join(BUILD, "bin", "fuzz_replay"), False


def run(binary, base, args, what):
    last = os.path.join(BUILD, "fuzz-last-input")
    env = dict(os.environ, GOHEAP_FUZZ_BASE=base,
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:malloc_limit_mb=4096",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    p = subprocess.run([binary] + args + ["--last", last], capture_output=True, text=True, timeout=900, env=env)
    said = p.stderr.strip()
    assert p.returncode == 0 and "no crash" in said, "%s: exit %d; the input is saved in %s:\n%s" % (
        what, p.returncode, last, said[-2500:])
    return said.splitlines()[-1].replace("fuzz_replay: ", "")


def main():
    binary, sanitized = replay_binary()
    if not os.path.exists(binary):
        print("FAIL  no fuzz_replay in %s" % binary)
        print("0 passed, 1 failed")
        return 1
    print("harness: %s%s" % (binary, "" if sanitized else " (not a sanitizer build: crashes only)"))
    versions = corpus.versions()
    for version in (versions[0], versions[-1]):
        skip, dirs = corpus.generate(version, "", ["demo"], out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (version, skip))
            continue
        base = dirs[0]
        if os.path.isdir(FINDINGS) and any(files for _, _, files in os.walk(FINDINGS)):
            check("%s demo: saved findings replayed" % version, run, binary, base, [FINDINGS],
                  "%s findings" % version)
        for seed in SEEDS:
            check("%s demo: %d generated recipes, seed %d, every target" % (version, RECIPES, seed), run, binary,
                  base, ["--random", str(RECIPES), "--seed", str(seed)], "%s seed %d" % (version, seed))
        # The harness parses the executable once and shares it between
        # inputs that leave it as it is: every command's output and error
        # must be what a session that opens the executable itself gives.
        check("%s demo: %d recipes give the same output with the executable parsed once as opened afresh"
              % (version, SHARED), run, binary, base, ["--random", str(SHARED), "--seed", "3", "--check-shared"],
              "%s shared executable" % version)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
