#!/usr/bin/env python3
"""Build the goheap corpus: every program x Go release x variant, run to a core.

Layout (cached, incremental):
  <out>/<go-version>[-<variant>]/<program>/{exe,core,manifest.json,stderr.txt,stamp}

  corpus.py matrix                    version/variant pairs, one per line
  corpus.py gen VERSION [--variant V] [--programs a,b] [--out DIR]
  corpus.py programs                  program names

Exit 77 from gen when the Go release cannot be had (the reason is printed).
"""
import argparse
import fcntl
import hashlib
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "corpus")
DEFAULT_OUT = os.path.join(ROOT, "build", "corpus")
SKIP = 77


def log(msg):
    print(msg, flush=True)


def versions():
    with open(os.path.join(CORPUS, "versions")) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def minor(version):
    m = re.match(r"go1\.(\d+)", version)
    return int(m.group(1)) if m else 0


def _minor_matches(spec, version):
    n = minor(version)
    if spec.endswith("+"):
        return n >= int(spec[:-1].split(".")[1])
    if "-" in spec:
        lo, hi = spec.split("-")
        return int(lo.split(".")[1]) <= n <= int(hi.split(".")[1])
    return n == int(spec.split(".")[1])


def variants():
    """name -> (minor spec, programs or None for all, build settings)."""
    out = {}
    with open(os.path.join(CORPUS, "variants")) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, spec, progs, rest = line.split(None, 3)
            out[name] = (spec, None if progs == "all" else progs.split(","), shlex.split(rest))
    return out


def programs():
    return sorted(d for d in os.listdir(CORPUS)
                  if os.path.isfile(os.path.join(CORPUS, d, "main.go")))


def matrix():
    vs = variants()
    rows = []
    for v in versions():
        rows.append((v, ""))
        for name, (spec, _, _) in vs.items():
            if _minor_matches(spec, v):
                rows.append((v, name))
    return rows


def tag(version, variant):
    return version + ("-" + variant if variant else "")


def toolchain(version):
    """(ok, reason): is this Go release available through GOTOOLCHAIN?"""
    env = dict(os.environ, GOTOOLCHAIN=version)
    try:
        p = subprocess.run(["go", "version"], env=env, capture_output=True, text=True, timeout=900)
    except FileNotFoundError:
        return False, "no go command on PATH (run scripts/setup.sh)"
    except subprocess.TimeoutExpired:
        return False, "fetching the toolchain timed out"
    if p.returncode != 0 or version + " " not in p.stdout:
        return False, (p.stderr.strip() or p.stdout.strip()).splitlines()[-1:] or ["go version failed"]
    return True, ""


def build_settings(variant):
    """(env additions, go build flags) for a variant."""
    if not variant:
        return {}, []
    env, flags = {}, []
    for s in variants()[variant][2]:
        if s.startswith("GOEXPERIMENT=") or s.startswith("GOARCH="):
            k, v = s.split("=", 1)
            env[k] = v
        else:
            flags.append(s)
    return env, flags


def source_hash(program, version, variant):
    h = hashlib.sha256()
    h.update(("%s|%s|%r" % (version, variant, build_settings(variant))).encode())
    for d in ("manifest", program):
        base = os.path.join(CORPUS, d)
        for name in sorted(os.listdir(base)):
            if name.endswith(".go"):
                h.update(name.encode())
                with open(os.path.join(base, name), "rb") as f:
                    h.update(f.read())
    with open(os.path.join(CORPUS, "go.mod"), "rb") as f:
        h.update(f.read())
    h.update(open(__file__, "rb").read())
    return h.hexdigest()


def kernel_writes_core_here():
    """The kernel writes `core` (or core.PID) in the cwd only for a plain pattern."""
    try:
        pat = open("/proc/sys/kernel/core_pattern").read().strip()
    except OSError:
        return False, "cannot read /proc/sys/kernel/core_pattern"
    if pat.startswith("|") or "/" in pat or not pat.startswith("core"):
        return False, "kernel core_pattern is %r" % pat
    return True, pat


def _unlimited_core():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _find_core(d):
    for name in os.listdir(d):
        if name == "core" or re.fullmatch(r"core\.\d+", name):
            return os.path.join(d, name)
    return None


def run_kernel_core(exe, d):
    with open(os.path.join(d, "manifest.json.tmp"), "w") as out, \
            open(os.path.join(d, "stderr.txt"), "w") as err:
        p = subprocess.run([exe], cwd=d, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                           preexec_fn=_unlimited_core, timeout=300)
    if p.returncode != -6:
        raise RuntimeError("%s exited with %d, expected SIGABRT (see %s/stderr.txt)" % (exe, p.returncode, d))
    core = _find_core(d)
    if not core:
        raise RuntimeError("%s aborted but the kernel wrote no core in %s" % (exe, d))
    os.replace(core, os.path.join(d, "core"))


# GOARCH of a variant -> the qemu-user emulator that runs its programs on
# another host (Debian's qemu-user). qemu writes the guest's own ELF core,
# qemu_<prog>_<date>_<pid>.core, in the cwd when the guest dies of a signal.
QEMU = {"arm64": "qemu-aarch64"}


def host_goarch():
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def emulator(variant):
    """The emulator a variant's programs run under, or None (native)."""
    goarch = build_settings(variant)[0].get("GOARCH") if variant else None
    if not goarch or goarch == host_goarch():
        return None
    return QEMU.get(goarch, "qemu-" + goarch)


def run_qemu_core(qemu, exe, d):
    with open(os.path.join(d, "manifest.json.tmp"), "w") as out, \
            open(os.path.join(d, "stderr.txt"), "w") as err:
        p = subprocess.run([qemu, exe], cwd=d, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                           preexec_fn=_unlimited_core, timeout=600)
    # The host kernel may also dump qemu itself (a host core, hundreds of MB).
    host = _find_core(d)
    if host:
        os.remove(host)
    if p.returncode != -6:
        raise RuntimeError("%s %s exited with %d, expected SIGABRT (see %s/stderr.txt)" % (qemu, exe, p.returncode, d))
    cores = [n for n in os.listdir(d) if n.startswith("qemu_") and n.endswith(".core")]
    if len(cores) != 1:
        raise RuntimeError("%s aborted but qemu wrote %d guest cores in %s" % (exe, len(cores), d))
    core = os.path.join(d, "core")
    os.replace(os.path.join(d, cores[0]), core)
    # qemu writes every page, zeros too (about 50 MB a core); holes where
    # they are zeros keep the cache near the kernel's sparse cores' size.
    if shutil.which("fallocate"):
        subprocess.run(["fallocate", "--dig-holes", core], check=False)


def run_gcore(exe, d):
    env = dict(os.environ, GOHEAP_HOLD="1")
    with open(os.path.join(d, "stderr.txt"), "w") as err:
        p = subprocess.Popen([exe], cwd=d, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.PIPE, env=env)
        line = p.stdout.readline()
        with open(os.path.join(d, "manifest.json.tmp"), "wb") as out:
            out.write(line)
        g = subprocess.run(["gcore", "-o", os.path.join(d, "core"), str(p.pid)],
                           capture_output=True, text=True, timeout=300)
        p.stdin.close()
        p.wait(timeout=60)
    core = os.path.join(d, "core.%d" % p.pid)
    if g.returncode != 0 or not os.path.exists(core):
        raise RuntimeError("gcore failed: %s" % g.stderr.strip()[-300:])
    os.replace(core, os.path.join(d, "core"))


def generate_one(version, variant, program, out):
    d = os.path.join(out, tag(version, variant), program)
    os.makedirs(d, exist_ok=True)
    stamp = os.path.join(d, "stamp")
    want = source_hash(program, version, variant)
    files = [os.path.join(d, n) for n in ("exe", "core", "manifest.json")]
    if all(os.path.exists(f) for f in files) and os.path.exists(stamp) and open(stamp).read() == want:
        return "cached"
    for n in os.listdir(d):
        os.remove(os.path.join(d, n))
    env_add, flags = build_settings(variant)
    env = dict(os.environ, GOTOOLCHAIN=version, CGO_ENABLED="0", **env_add)
    cmd = ["go", "build", "-C", CORPUS, "-o", os.path.join(d, "exe")] + flags + ["./" + program]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise RuntimeError("build failed: %s\n%s" % (" ".join(cmd), p.stderr))
    here, why = kernel_writes_core_here()
    if os.environ.get("GOHEAP_CORPUS_GCORE") == "1":  # exercise the fallback on purpose
        here, why = False, "GOHEAP_CORPUS_GCORE=1"
    qemu = emulator(variant)
    if qemu:
        run_qemu_core(qemu, os.path.join(d, "exe"), d)
        how = "qemu"
    elif here:
        run_kernel_core(os.path.join(d, "exe"), d)
        how = "kernel"
    else:
        log("  note: %s; taking the core with gcore instead" % why)
        run_gcore(os.path.join(d, "exe"), d)
        how = "gcore"
    with open(os.path.join(d, "manifest.json.tmp")) as f:
        lines = [l for l in f.read().splitlines() if l.startswith("{")]
    if len(lines) != 1:
        raise RuntimeError("%s printed %d manifest lines, expected 1" % (program, len(lines)))
    json.loads(lines[0])
    with open(os.path.join(d, "manifest.json"), "w") as f:
        f.write(lines[0] + "\n")
    os.remove(os.path.join(d, "manifest.json.tmp"))
    with open(os.path.join(d, "how"), "w") as f:
        f.write(how + "\n")
    with open(stamp, "w") as f:
        f.write(want)
    return "generated (%s core)" % how


def selected_programs(variant, only):
    progs = programs()
    if variant:
        vp = variants()[variant][1]
        if vp:
            progs = [p for p in progs if p in vp]
    if only:
        progs = [p for p in progs if p in only]
    return progs


def generate(version, variant="", only=None, out=DEFAULT_OUT):
    """Generate (or reuse) the cores of one version/variant. Returns
    (status, dirs): status is None on success or a skip reason."""
    if version not in versions():
        raise RuntimeError("%s is not listed in corpus/versions" % version)
    if variant and not _minor_matches(variants()[variant][0], version):
        raise RuntimeError("variant %s does not apply to %s" % (variant, version))
    out = os.path.abspath(out)
    ok, why = toolchain(version)
    if not ok:
        return "toolchain %s unavailable: %s" % (version, why), []
    qemu = emulator(variant)
    if qemu and not shutil.which(qemu):
        return "%s not installed (scripts/setup.sh installs qemu-user)" % qemu, []
    base = os.path.join(out, tag(version, variant))
    os.makedirs(base, exist_ok=True)
    dirs = []
    with open(os.path.join(base, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent runs of the same tag wait
        for prog in selected_programs(variant, only):
            t = time.time()
            what = generate_one(version, variant, prog, out)
            log("corpus %s %s: %s in %.1fs" % (tag(version, variant), prog, what, time.time() - t))
            dirs.append(os.path.join(base, prog))
    return None, dirs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("matrix")
    sub.add_parser("programs")
    g = sub.add_parser("gen")
    g.add_argument("version")
    g.add_argument("--variant", default="")
    g.add_argument("--programs", default="")
    g.add_argument("--out", default=DEFAULT_OUT)
    a = ap.parse_args()
    if a.cmd == "matrix":
        for v, var in matrix():
            print(v, var) if var else print(v)
    elif a.cmd == "programs":
        print("\n".join(programs()))
    else:
        try:
            skip, _ = generate(a.version, a.variant, [p for p in a.programs.split(",") if p], a.out)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            print("corpus: error: %s" % e, file=sys.stderr)
            return 1
        if skip:
            print("SKIPPED: %s" % skip)
            return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())
