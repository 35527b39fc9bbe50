#!/usr/bin/env python3
"""libgoheap as a user links it.

- Layers: tests/layout/check_layers.py on the sources and the built objects
  (no include or call goes to a higher layer; front ends include only
  public headers).
- The shared library: SONAME libgoheap.so.1; it exports exactly the gh_
  calls the public headers declare, nothing else.
- Installed: `cmake --install` into a fresh prefix gives the headers, both
  libraries, goheap.pc and the CMake package. docs/examples/top_types.c
  builds out of tree through pkg-config and through find_package(goheap),
  and tests/api/api_dump.c through pkg-config; no build-tree path is used.
- On corpus cores (every program of the oldest and newest release, the demo
  of every other release): api_dump's view through the public API against
  the manifest (live counts per type, each sentinel's object, type and root,
  user goroutines), against itself (object iteration vs per-type counts) and
  against the CLI (heap totals, breakdown); error codes for a missing core
  and a non-core; GH_EINTR from the interrupt callback. The example's
  output against the demo manifest.
- The 1.1 calls, on every program of the oldest and newest release and on
  demo, stacks, finalizers and sites of every other: goroutines in order of
  id with user and entry frames, creators, labels and waits equal to the
  CLI's on every goroutine and to the program's record (stacks, goroutines:
  user frame, go statement, labels); objects pending finalization against
  the manifest (finalizers, retained) and the CLI (each record = paths'
  record); the memory profile's sites against corpus/sites' manifest (the
  runtime's own MemProfile counts, live and garbage samples, stacks per
  site), every stack's user frame = its site, each sentinel's allocation
  stack at the site of its type; a stripped binary's GH_EUNSUPP; the
  dominator tree's children (gh_dominated, gh_root_dominated) adding up to
  the retained sizes below every sentinel and root group, and equal to the
  CLI's dominators ADDR; every new call's out-of-range index and bad
  address (GH_ENOENT with a message).

usage: test_library.py BUILD_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from harness import check, record, summary  # noqa: E402,F401
from check_heap import _root_ok  # noqa: E402

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
WORK = os.path.join(BUILD, "libtest")
PREFIX = os.path.join(WORK, "prefix")
GOHEAP = os.path.join(BUILD, "bin", "goheap")
SKIP = 77


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 600), **kw)
    assert p.returncode == 0, "%s: exit %d: %s" % (" ".join(cmd[:3]), p.returncode, (p.stderr or p.stdout)[-600:])
    return p.stdout


def check_layers():
    out = run([sys.executable, os.path.join(ROOT, "tests", "layout", "check_layers.py"), ROOT,
               os.path.join(BUILD, "engine", "CMakeFiles", "goheap_objs.dir")])
    return out.strip().splitlines()[-1]


def public_calls():
    names = set()
    for h in ("goheap.h", "common.h", "command.h", "target.h", "version.h.in"):
        text = open(os.path.join(ROOT, "engine", "include", "goheap", h)).read()
        names |= set(re.findall(r"GH_API[^;(]*?\b(gh_\w+)\s*\(", text, re.S))
    return names


def check_exports():
    lib = os.path.join(BUILD, "lib", "libgoheap.so.1")
    dyn = run(["readelf", "-d", lib])
    assert "Library soname: [libgoheap.so.1]" in dyn, "no SONAME libgoheap.so.1"
    syms = set(run(["nm", "-D", "--defined-only", "--format=posix", lib]).split("\n"))
    exported = {l.split()[0] for l in syms if l.strip()}
    declared = public_calls()
    assert len(declared) > 40, "found only %d GH_API calls in the headers" % len(declared)
    extra = sorted(exported - declared)
    missing = sorted(declared - exported)
    assert not extra, "exported but not public: %s" % ", ".join(extra[:20])
    assert not missing, "public but not exported: %s" % ", ".join(missing)
    return "%d calls exported, nothing else" % len(exported)


def install():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    run(["cmake", "--install", BUILD, "--prefix", PREFIX])
    for f in ["include/goheap/goheap.h", "include/goheap/version.h", "lib/libgoheap.so.1", "lib/libgoheap.a",
              "lib/pkgconfig/goheap.pc", "lib/cmake/goheap/goheapConfig.cmake"]:
        assert os.path.exists(os.path.join(PREFIX, f)), "not installed: " + f
    return PREFIX


def pc_env():
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(PREFIX, "lib", "pkgconfig"))
    env.pop("CPATH", None)
    env.pop("LIBRARY_PATH", None)
    return env


def build_pkgconfig(src, out):
    env = pc_env()
    flags = run(["pkg-config", "--cflags", "--libs", "goheap"], env=env).split()
    for f in flags:
        if f[:2] in ("-I", "-L"):
            assert os.path.realpath(f[2:]).startswith(PREFIX + os.sep), "pkg-config points outside the prefix: %s" % f
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", src, "-o", out] + flags +
        ["-Wl,-rpath," + os.path.join(PREFIX, "lib")], env=env)
    return " ".join(flags)


def build_cmake():
    b = os.path.join(WORK, "example-cmake")
    run(["cmake", "-S", os.path.join(ROOT, "docs", "examples"), "-B", b, "-DCMAKE_PREFIX_PATH=" + PREFIX,
         "-DCMAKE_BUILD_RPATH=" + os.path.join(PREFIX, "lib")])
    run(["cmake", "--build", b])
    exe = os.path.join(b, "top_types")
    libs = run(["ldd", exe])
    assert os.path.join(PREFIX, "lib", "libgoheap.so.1") in libs, "not linked to the installed library: " + libs
    return "find_package(goheap) build links %s" % os.path.join("prefix", "lib", "libgoheap.so.1")


def check_example(exe, d, m):
    out = run([exe, os.path.join(d, "core"), os.path.join(d, "exe")])
    lines = out.splitlines()
    assert lines[0].startswith(m["go"] + ","), "first line %r, manifest go %s" % (lines[0], m["go"])
    rows = {}
    for l in lines[1:11]:
        f = l.split(None, 2)
        if len(f) == 3 and f[0].isdigit():
            rows[f[2]] = int(f[0])
    for t, n in m["live"].items():
        if t in rows:
            assert rows[t] == n, "%s: example counts %d, manifest %d" % (t, rows[t], n)
    top = lines[1].split(None, 2)[2]
    want = [s for s in m["sentinels"] if s["type"] == top]
    assert want, "top type %s has no sentinel in the manifest" % top
    kept = [l for l in lines if "is kept alive by" in l]
    assert kept, "no path printed:\n" + out
    root = want[0]["root"]
    assert kept[0].endswith("by %s %s" % (root["kind"], root["name"])), "%r, manifest root %r" % (kept[0], root)
    return "%s: %s x%d, kept by %s %s" % (m["go"], top, rows[top], root["kind"], root["name"])


def cli(d, *words):
    return json.loads(run([GOHEAP, "--exe", os.path.join(d, "exe"), os.path.join(d, "core")] + list(words)))


def check_api(dump, d, m, named):
    ret = m.get("retained", [])
    extra = [r["addr"] for r in ret if "addr" in r] + (["T=" + r["type"] for r in ret if "type" in r] if named else [])
    p = subprocess.run([dump, os.path.join(d, "core"), os.path.join(d, "exe")] + [s["addr"] for s in m["sentinels"]]
                       + extra, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, "api_dump exit %d: %s%s" % (p.returncode, p.stdout[-400:], p.stderr[-400:])
    a = json.loads(p.stdout)
    assert a["version_macros"] == 1 and a["version"] == PROJECT_VERSION, "version %s" % a["version"]
    assert a["missing_core"]["code"] == -1 and "nonexistent" in a["missing_core"]["msg"], a["missing_core"]
    assert a["exe_as_core"]["code"] == -2 and "not a core" in a["exe_as_core"]["msg"], a["exe_as_core"]
    assert a["interrupt"] == -8, "interrupt callback: %d, want GH_EINTR" % a["interrupt"]
    assert a["go_version"] == m["go"], "go %s, manifest %s" % (a["go_version"], m["go"])
    limited = not named
    stats = {t["name"]: t for t in a["types"]}
    for t, n in m["live"].items():
        got = stats.get(t, {}).get("count", 0)
        assert got == n or (limited and got < n), "%s: API counts %d live, manifest %d" % (t, got, n)
    for t in a["types"]:
        if t["kind"] is not None:
            assert t["count"] == t["iter_count"], "%s: stats %d, iteration %d" % (t["name"], t["count"], t["iter_count"])
    assert a["iterated"]["ordered"] == 1, "objects not in address order"
    heap = cli(d, "heap", "--json")
    s = a["summary"]
    assert (s["live_bytes"], s["typed_bytes"]) == (heap["bytes"], heap["typed_bytes"]), \
        "summary %r, CLI heap %r" % (s, {k: heap[k] for k in ("objects", "bytes", "typed_bytes")})
    assert a["iterated"]["live"] == sum(t["count"] for t in heap["types"]), "iterated live objects differ from heap"
    c = a["coverage"]  # a complete core: the whole heap, reachability complete
    assert (c["truncated"], c["percent"], c["complete"], c["reach_partial"]) == (0, 100.0, 1, 0) and \
        c["readable_span_bytes"] == c["in_use_span_bytes"] > 0, "coverage of a complete core: %r" % c
    for want, got in zip(m["sentinels"], a["sentinels"]):
        where = "sentinel %s %s" % (want["type"], want["addr"])
        assert "error" not in got, "%s: %s" % (where, got.get("error"))
        assert got["live"] == 1, "%s: not live" % where
        assert named is False or got["type"] == want["type"], "%s: API type %s" % (where, got["type"])
        assert got["paths"] and got["paths"][0]["last"] == got["object"], "%s: no path to the object" % where
        also = re.search(r"also held by (\S+?)\)?$", want.get("note", ""))
        roots = [q["root"] for q in got["paths"]]
        ok = _root_ok(want["root"], roots[0], named) or (also and any(_root_ok(want["root"], r, named) for r in roots))
        assert ok, "%s: API root %r, manifest %r" % (where, roots[0], want["root"])
    # Retained sizes: the manifest's, known by construction (corpus/retained),
    # and the CLI's for the largest retainers.
    got_addr = {q["addr"]: q for q in a["sentinels"][len(m["sentinels"]):]}
    nret = 0
    for r in ret:
        want = (r["bytes"], r["objects"])
        if "addr" in r:
            g = got_addr[r["addr"]]["retained"]
            got = (g["bytes"], g["objects"])
        elif "type" in r:
            if not named:
                continue
            g = a["type_retained"][r["type"]]
            assert g["exact"] == 1, "type %s: retained size not exact" % r["type"]
            got = (g["bytes"], g["objects"])
        elif r["root"]["kind"] == "global":
            if not named:
                continue
            rows = [q for q in a["root_retained"] if q["root"]["kind"] == "global" and q["root"]["name"] == r["root"]["name"]]
            got = (rows[0]["bytes"], rows[0]["objects"]) if rows else (0, 0)
        else:
            rows = [(q["bytes"], q["objects"]) for q in a["root_retained"] if q["root"]["kind"] == r["root"]["kind"]
                    and (r["root"]["kind"] != "stack" or q["root"]["goroutine"] == r["root"]["goroutine"])]
            got = want if want in rows else (rows[0] if rows else None)
        ok = got == want or (r.get("at_least") and got and got[0] >= want[0] and got[1] >= want[1])
        assert ok, "retained %r: API %r" % (r, got)
        nret += 1
    top = cli(d, "top", "--all", "--limit", "5", "--json")["retainers"]
    assert [(q["addr"], q["retained_bytes"], q["retained_objects"]) for q in top] == \
        [(q["addr"], q["bytes"], q["objects"]) for q in a["retainers"]], "gh_retainers differs from top --all"
    user = [g for g in a["goroutines"] if not g["system"]]
    assert len(user) == m["goroutines"], "API %d user goroutines, manifest %d" % (len(user), m["goroutines"])
    assert all(g["frames"] for g in user), "a user goroutine without frames"
    bd = cli(d, "breakdown", "--json")
    assert [r["bytes"] for r in a["breakdown"]["rows"]] == [c["bytes"] for c in bd["classes"]], "breakdown rows differ"
    for c in a["breakdown"]["checks"]:
        assert c["goheap"] == c["runtime"] or c["explained"], "breakdown check fails: %r" % c
    assert a["heap_loads"] == 1, "heap loaded %d times" % a["heap_loads"]
    dom = check_api_dominated(a, d, m)
    delve = check_api_goroutines(a, d, m)
    pend = check_api_pending(a, d, m)
    prof = check_api_profile(a, m, named)
    return "%d types, %d sentinels, %d roots, %d goroutines, %d retained sizes; %s; %s; %s; %s" % (
        len(a["types"]), len(m["sentinels"]), a["roots"]["count"], len(a["goroutines"]), nret, dom, delve, pend, prof)


def check_api_dominated(a, d, m):
    """gh_dominated and gh_root_dominated: the tree's own arithmetic (an
    object retains its slot and what its children retain; a root group what
    its children retain), every child naming its parent as its dominator,
    largest first, limit 1 = the first; the CLI's dominators ADDR (folded by
    type) retains the same below each sentinel; errors."""
    nobj = 0
    for q in a["sentinels"]:
        if "dominated" not in q:
            continue
        r, dm = q["retained"], q["dominated"]
        kids = dm["children"]
        where = "dominated by %s" % q["addr"]
        assert dm["total"] == len(kids) and dm["first_alone"], "%s: total %d, %d listed, limit 1 ok %d" % (
            where, dm["total"], len(kids), dm["first_alone"])
        assert all(k["dominator"] == r["slot"] for k in kids), "%s: a child dominated by another object" % where
        assert [k["bytes"] for k in kids] == sorted((k["bytes"] for k in kids), reverse=True), "%s: not largest first" % where
        if r["bytes"]:
            assert r["bytes"] == r["slot_size"] + sum(k["bytes"] for k in kids) and \
                r["objects"] == 1 + sum(k["objects"] for k in kids), "%s: retains %d B %d objects, itself %d + children %d B %d" % (
                    where, r["bytes"], r["objects"], r["slot_size"], sum(k["bytes"] for k in kids), sum(k["objects"] for k in kids))
        else:
            assert not kids, "%s: garbage with dominated children" % where
        if nobj < 4 and r["bytes"]:
            node = cli(d, "dominators", q["addr"], "--json")["node"]
            cb = sum(c["retained_bytes"] for c in node.get("children", [])) + node.get("more_bytes", 0)
            cn = sum(c.get("count", 1) for c in node.get("children", [])) + node.get("more_objects", 0)
            assert node["retained_bytes"] == r["bytes"] and (cb, cn) == (sum(k["bytes"] for k in kids), len(kids)), \
                "%s: CLI dominators retains %d, %d children %d B; API %d, %d children %d B" % (
                    where, node["retained_bytes"], cn, cb, r["bytes"], len(kids), sum(k["bytes"] for k in kids))
            nobj += 1
    groups = 0
    for q in a["root_retained"]:
        dm = q["dominated"]
        assert (dm["bytes"], dm["objects"], dm["stray"]) == (q["bytes"], q["objects"], 0), \
            "root %r: retains %d B %d objects, its children %d B %d (%d stray)" % (
                q["root"], q["bytes"], q["objects"], dm["bytes"], dm["objects"], dm["stray"])
        groups += dm["n"] > 0
    e = a["dominated_errors"]
    assert e[0]["code"] == -10 and "0x10" in e[0]["msg"] and e[1]["code"] == -10 and "no root" in e[1]["msg"], \
        "dominated error paths: %r" % e
    return "dominator children add up below %d sentinels (%d = CLI) and %d root groups" % (
        sum(1 for q in a["sentinels"] if "dominated" in q), nobj, groups)


def frame_dict(g, i):
    if i is None:
        return None
    f = g["frames"][i]
    return {"function": f["function"], "file": f["file"], "line": f["line"]}


def check_api_goroutines(a, d, m):
    """gh_goroutine_index, _user_frame, _entry_frame, _labels and the
    creator: in order of id, equal to the CLI's goroutines --json on every
    goroutine, and to the program's own record (manifest parked: user frame,
    go statement, labels); the error paths give GH_ENOENT with a message."""
    gs = a["goroutines"]
    ids = [g["id"] for g in gs]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), "API goroutines not in order of id: %s" % ids[:20]
    assert all(g["index_ok"] for g in gs), "gh_goroutine_index disagrees with the order"
    cli_gs = {g["id"]: g for g in cli(d, "goroutines", "--json")["goroutines"]}
    assert set(cli_gs) == set(ids), "API goroutines %d, CLI %d" % (len(ids), len(cli_gs))
    for g in gs:
        c = cli_gs[g["id"]]
        where = "goroutine %d" % g["id"]
        assert frame_dict(g, g["user_frame"]) == c["user_frame"], "%s: API user frame %s, CLI %s" % (
            where, frame_dict(g, g["user_frame"]), c["user_frame"])
        if g["user_frame"] is None:
            e = g["user_frame_error"]
            assert e["code"] == -10 and "goroutine %d" % g["id"] in e["msg"], "%s: user frame error %r" % (where, e)
        assert frame_dict(g, g["entry_frame"]) == c["start_frame"], "%s: API entry frame %s, CLI start frame %s" % (
            where, frame_dict(g, g["entry_frame"]), c["start_frame"])
        cc = c["creator"] and {k: c["creator"][k] for k in ("function", "file", "line", "goroutine")}
        assert g["creator"] == cc, "%s: API creator %s, CLI %s" % (where, g["creator"], cc)
        assert dict(g["labels"]) == c["labels"] and [k for k, _ in g["labels"]] == sorted(c["labels"]), \
            "%s: API labels %s, CLI %s" % (where, g["labels"], c["labels"])
        assert g["labels_error"] == c["labels_error"], "%s: labels error %r" % (where, g["labels_error"])
        wm = c["wait_minutes"] if c["wait_minutes"] is not None else -1
        assert g["wait_minutes"] == wm and g["wait_reason"] == c["wait_reason"], "%s: wait %s %r, CLI %s %r" % (
            where, g["wait_minutes"], g["wait_reason"], wm, c["wait_reason"])
    byid = {g["id"]: g for g in gs}
    users = creators = labelled = 0
    for p in m.get("parked", []):
        g = byid[p["goroutine"]]
        where = "goroutine %d (%s)" % (g["id"], p["function"])
        assert dict(g["labels"]) == p.get("labels", {}), "%s: API labels %s, the program set %s" % (
            where, g["labels"], p.get("labels", {}))
        labelled += bool(p.get("labels"))
        u = p.get("user")
        if u:
            have = frame_dict(g, g["user_frame"]) or {}
            assert have.get("function") == u["function"] and (
                not u["line"] or (have["file"], have["line"]) == (u["file"], u["line"])), \
                "%s: API user frame %s, the program says %s" % (where, have, u)
            users += 1
        cr = p.get("creator")
        if cr:
            have = g["creator"] or {}
            assert (have.get("function"), have.get("file"), have.get("line")) == (cr["function"], cr["file"], cr["line"]), \
                "%s: API creator %s, the go statement is %s" % (where, have, cr)
            creators += 1
    errs = a["goroutine_errors"]
    assert all(e["code"] == -10 and e["msg"] for e in errs), "goroutine error paths: %r" % errs
    assert "-7" in errs[0]["msg"] and all("there are %d" % len(gs) in e["msg"] for e in errs[1:]), errs
    return "goroutines = CLI (user/entry frames, creators, labels, waits); %d user frames, %d creators, %d labelled = program's" % (
        users, creators, labelled)


def check_api_pending(a, d, m):
    """gh_pending_*: the manifest's objects pending finalization (count by
    type, each object with its finalizer or cleanup function), each record
    = the CLI's paths record and a root of that kind; elsewhere the CLI's
    count; sentinels (live) are not pending; errors."""
    p = a["pending"]
    heap = cli(d, "heap", "--all", "--json")
    assert (p["objects"], p["bytes"]) == (heap["pending_objects"], heap["pending_bytes"]), \
        "API pending %d objects %d bytes, CLI %d %d" % (p["objects"], p["bytes"], heap["pending_objects"],
                                                       heap["pending_bytes"])
    recs = p["records"]
    if "pending" in m:
        assert p["objects"] == sum(m["pending"].values()), "API pending %d, manifest %r" % (p["objects"], m["pending"])
        for t, n in m["pending"].items():
            got = len({r["addr"] for r in recs if r["type"] == t})
            assert got == n or (got == 0 and any(o["type"] == t and o["kind"] == "cleanup" for o in m["pending_objects"])), \
                "pending %s: API %d, manifest %d" % (t, got, n)
    for r in recs:
        assert not r["live"] and r["found"], "pending record %r: live or not found by address" % r
        assert r["root_kind"] == r["kind"] and r["root_addr"] == r["record"], "record %r is not its root" % r
        if r["kind"] == "finalizer":
            assert r["root_object"] == r["addr"], "finalizer record %r: root object" % r
    for o in m.get("pending_objects", []):
        mine = [r for r in recs if r["addr"] == o["addr"]]
        assert [(r["kind"], r["function"]) for r in mine] == [(o["kind"], o["function"])], \
            "pending %s: API %s, manifest %s %s" % (o["addr"], mine, o["kind"], o["function"])
        doc = cli(d, "paths", o["addr"], "--json")
        assert [x["record"] for x in doc["pending"]] == [r["record"] for r in mine], \
            "pending %s: API records %s, CLI %s" % (o["addr"], [r["record"] for r in mine], doc["pending"])
    assert not any(a["pending_of_sentinels"][:len(m["sentinels"])]), "a live sentinel is pending finalization"
    e = p["errors"]
    assert e[0]["code"] == -10 and "there are %d" % len(recs) in e[0]["msg"] and e[1]["code"] == -10 and \
        "0x10" in e[1]["msg"], "pending error paths: %r" % e
    return "%d pending (%d records; %d in the manifest)" % (p["objects"], len(recs), len(m.get("pending_objects", [])))


def check_api_profile(a, m, named):
    """gh_profile_get, gh_site_get, gh_profile_stack_*, gh_object_alloc_stack
    against corpus/sites' manifest (the runtime's own MemProfile and the
    program's live counts); a program that never asks for a profile says
    it is disabled; a stripped binary gives GH_EUNSUPP naming
    runtime.mbuckets; errors of indexes and addresses."""
    pr = a["profile"]
    if not named:
        assert pr["code"] == -9 and "runtime.mbuckets" in pr["msg"] and pr["others"] == [-9] * 3, \
            "stripped: profile %r" % pr
        bad = [v for v in a["alloc_stacks"].values() if not (isinstance(v, dict) and v["code"] == -9)]
        assert not bad, "stripped: gh_object_alloc_stack gave %r" % bad[:3]
        return "stripped: GH_EUNSUPP (%s)" % pr["msg"][:50]
    assert pr["code"] == 0, "profile: %r" % pr
    sites, stacks = pr["sites"], pr["stacks"]
    for k, st in enumerate(stacks):
        assert st["nframes"] == st["paged"] == len(st["frames"]), "stack %d: %d frames, paged %d" % (
            k, st["nframes"], st["paged"])
        x = sites[st["site"]]
        f = st["frames"][st["user"]] if st["frames"] else None
        assert f and (f["function"], f["file"], f["line"]) == (x["function"], x["file"], x["line"]), \
            "stack %d: frame %s is not its site %s" % (k, f, x["function"])
    for i, x in enumerate(sites):
        mine = [st for st in stacks if st["site"] == i]
        assert len(mine) == x["stacks"], "site %s: %d stacks, says %d" % (x["function"], len(mine), x["stacks"])
        assert sum(st["live_objects"] for st in mine) == x["live_objects"] and \
            sum(st["sampled_objects"] for st in mine) == x["sampled_objects"], "site %s: stacks do not add up" % x["function"]
    assert pr["live_objects"] == sum(x["live_objects"] for x in sites), "profile totals"
    e = pr["errors"]
    assert [q["code"] for q in e] == [-10] * 4 and all(q["msg"] for q in e) and "0x10" in e[3]["msg"], \
        "profile error paths: %r" % e
    if "sites" not in m:
        assert pr["disabled"] == 1 and pr["rate"] == 0, "no profile asked: disabled %r rate %r" % (
            pr["disabled"], pr["rate"])
        return "profile disabled by the linker: said so (%d stacks)" % len(stacks)
    assert pr["rate"] == 1 and not pr["disabled"], "rate %r disabled %r" % (pr["rate"], pr["disabled"])
    for s in m["sites"]:
        got = [x for x in sites if (x["function"], x["file"], x["line"]) == (s["function"], s["file"], s["line"])]
        assert len(got) == 1, "site %s: API lists it %d times" % (s["function"], len(got))
        x, rt = got[0], s["runtime"]
        assert x["live_objects"] == s["live"] == rt["inuse_objects"] and x["live_bytes"] == rt["inuse_bytes"], \
            "site %s: API %d live (%d B), manifest %d, runtime %d (%d B)" % (
                s["function"], x["live_objects"], x["live_bytes"], s["live"], rt["inuse_objects"], rt["inuse_bytes"])
        assert (x["alloc_objects"], x["alloc_bytes"]) == (rt["alloc_objects"], rt["alloc_bytes"]), \
            "site %s: API allocated %d/%d B, runtime %d/%d B" % (s["function"], x["alloc_objects"], x["alloc_bytes"],
                                                                rt["alloc_objects"], rt["alloc_bytes"])
        assert x["sampled_objects"] - x["live_objects"] == s["garbage"] and x["stacks"] == s["callers"], \
            "site %s: sampled %d live %d stacks %d, manifest garbage %d callers %d" % (
                s["function"], x["sampled_objects"], x["live_objects"], x["stacks"], s["garbage"], s["callers"])
    # Each sentinel's allocation stack leads to the site that allocates its type.
    by_type = {s["type"]: s for s in m["sites"] if s["live"]}
    nalloc = 0
    for sn in m["sentinels"]:
        s = by_type.get(sn["type"])
        if not s:
            continue
        k = a["alloc_stacks"][sn["addr"]]
        assert isinstance(k, int), "sentinel %s %s: allocation stack %r" % (sn["type"], sn["addr"], k)
        x = sites[stacks[k]["site"]]
        assert x["function"] == s["function"], "sentinel %s: allocated at %s, manifest %s" % (
            sn["type"], x["function"], s["function"])
        nalloc += 1
    assert nalloc, "no sentinel of a sampled type"
    return "%d sites = runtime's and manifest's, %d allocation stacks of sentinels" % (len(m["sites"]), nalloc)


PROJECT_VERSION = re.search(r"project\(goheap VERSION (\S+)", open(os.path.join(ROOT, "CMakeLists.txt")).read()).group(1)


def main():
    check("layers", check_layers)
    check("exports", check_exports)
    check("install", install)
    ex_pc = os.path.join(WORK, "top_types")
    dump = os.path.join(WORK, "api_dump")
    check("example through pkg-config", build_pkgconfig, os.path.join(ROOT, "docs", "examples", "top_types.c"), ex_pc)
    check("api_dump through pkg-config", build_pkgconfig, os.path.join(ROOT, "tests", "api", "api_dump.c"), dump)
    check("example through find_package", build_cmake)
    ex_cm = os.path.join(WORK, "example-cmake", "top_types")
    versions = corpus.versions()
    builds = [(versions[0], "", None), (versions[-1], "", None)] + \
        [(v, "", ["demo", "stacks", "finalizers", "sites"]) for v in versions[1:-1]]
    builds += [(versions[-1], "stripped", ["demo", "globals"])]
    for version, variant, progs in builds:
        tag = corpus.tag(version, variant)
        skip, ds = corpus.generate(version, variant, progs, out=os.path.join(BUILD, "corpus"))
        if skip:
            print("skip  %s: %s" % (tag, skip), flush=True)
            continue
        for d in ds:
            m = json.load(open(os.path.join(d, "manifest.json")))
            prog = os.path.basename(d)
            if prog == "demo" and not variant:
                for name, exe in (("pkg-config", ex_pc), ("find_package", ex_cm)):
                    if os.path.exists(exe):
                        check("%s demo: example (%s)" % (tag, name), check_example, exe, d, m)
            if os.path.exists(dump):
                check("%s %s: public API" % (tag, prog), check_api, dump, d, m, variant != "stripped")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
