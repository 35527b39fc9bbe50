"""What every integration driver shares: named checks and the closing line
`N passed, N failed` that CI reads. A driver that ran no check fails."""
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
