"""What every integration driver shares: named checks and the closing line
`N passed, N failed` that CI reads. A driver that ran no check fails."""
import os
import shutil
import subprocess

results = []  # (name, passed)


def record(name, ok):
    results.append((name, bool(ok)))


def check(name, fn, *args):
    """Runs fn(*args); an AssertionError (or a failed tool: timeout, OS error,
    unparsable output) is a failed check, its message printed after the name."""
    try:
        detail = fn(*args)
        record(name, True)
        print("ok    %s%s" % (name, "  (" + detail + ")" if detail else ""), flush=True)
    except subprocess.TimeoutExpired as e:
        record(name, False)
        print("FAIL  %s: timed out: %s" % (name, e), flush=True)
    except (AssertionError, OSError, ValueError, KeyError) as e:
        record(name, False)
        print("FAIL  %s: %s" % (name, e), flush=True)


def summary():
    """Prints the closing line; returns the exit code (1 on a failure or when
    nothing was checked)."""
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not results else 0


EM_X86_64, EM_AARCH64 = 62, 183


def elf_machine(path):
    """The ELF e_machine of an executable or core."""
    with open(path, "rb") as f:
        h = f.read(20)
    return int.from_bytes(h[18:20], "little") if h[:4] == b"\x7fELF" else None


def is_amd64(path):
    return elf_machine(path) == EM_X86_64


def gdb_for(path):
    """gdb for a file of this machine: Debian's gdb reads x86-64 only, the
    arm64 corpus needs gdb-multiarch (scripts/setup.sh installs it)."""
    if is_amd64(path):
        return "gdb"
    if not shutil.which("gdb-multiarch"):
        raise OSError("gdb-multiarch is not installed (scripts/setup.sh installs it)")
    return "gdb-multiarch"
