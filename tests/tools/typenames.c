/* typenames: checks goheap's type names built from a descriptor's structure
 * against the compiler's own strings, for every unnamed type the linker
 * listed in moduledata.typelinks or reached from them (Go 1.22-1.26; 1.27
 * has no typelinks).
 * Prints one JSON line; for tests/integration/run.py. Not installed.
 *   typenames --exe EXE CORE */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/out.h"
#include "session/session.h"
#include "rtype/typemask.h"
#include "rtype/typename.h"

#define MAX_LISTED 20

static void fstdout(void *ctx, const char *s, size_t n)
{
    fwrite(s, 1, n, stdout);
}

static int composite(unsigned k)
{
    return k == GH_KIND_ARRAY || k == GH_KIND_CHAN || k == GH_KIND_FUNC || k == GH_KIND_INTERFACE ||
           k == GH_KIND_MAP || k == GH_KIND_POINTER || k == GH_KIND_SLICE || k == GH_KIND_STRUCT;
}

static char name[GH_TYPENAME_MAX + 1], built[GH_TYPENAME_MAX + 1];

/* Types reachable from the typelinks through element, field, parameter and
 * method types (interfaces are never typelinked, only reached). */
typedef struct walk {
    gh_session *s;
    gh_typenames *tn;
    uint64_t types, etypes;
    uint64_t *seen, nseen, capseen; /* open addressing, 0 = empty */
    uint64_t *stack, nstack, capstack;
    uint64_t visited, unnamed, equal, unsupported, failed;
    uint64_t kinds[GH_KIND_MAX + 1];
} walk;

static int mark(walk *w, uint64_t a)
{
    if (2 * (w->nseen + 1) >= w->capseen)
        return 0; /* full: stop exploring */
    uint64_t i = (a * UINT64_C(0x9e3779b97f4a7c15)) >> 20;
    for (i &= w->capseen - 1; w->seen[i]; i = (i + 1) & (w->capseen - 1))
        if (w->seen[i] == a)
            return 0;
    w->seen[i] = a;
    w->nseen++;
    return 1;
}

static void push(walk *w, uint64_t a)
{
    if (a && w->nstack < w->capstack && mark(w, a))
        w->stack[w->nstack++] = a;
}

static void push_at(walk *w, uint64_t field)
{
    uint64_t a;
    gh_err e;
    if (gh_read_u64(w->s->t, field, &a, &e) == GH_OK)
        push(w, a);
}

static void children(walk *w, const gh_rtype *rt)
{
    const gh_target *t = w->s->t;
    gh_err e;
    uint64_t p, n;
    uint16_t in, out;
    switch (rt->kind) {
    case GH_KIND_POINTER: case GH_KIND_SLICE: case GH_KIND_ARRAY: case GH_KIND_CHAN:
        push_at(w, rt->addr + 48);
        break;
    case GH_KIND_MAP:
        push_at(w, rt->addr + 48);
        push_at(w, rt->addr + 56);
        break;
    case GH_KIND_FUNC:
        if (gh_read_u16(t, rt->addr + 48, &in, &e) || gh_read_u16(t, rt->addr + 50, &out, &e))
            break;
        p = rt->addr + 56 + (rt->tflag & GH_TFLAG_UNCOMMON ? 16 : 0);
        for (unsigned i = 0; i < in + (out & 0x7fffu); i++)
            push_at(w, p + 8 * i);
        break;
    case GH_KIND_STRUCT:
        if (gh_read_u64(t, rt->addr + 56, &p, &e) || gh_read_u64(t, rt->addr + 64, &n, &e) || n > 100000)
            break;
        for (uint64_t i = 0; i < n; i++)
            push_at(w, p + 24 * i + 8);
        break;
    case GH_KIND_INTERFACE:
        if (gh_read_u64(t, rt->addr + 56, &p, &e) || gh_read_u64(t, rt->addr + 64, &n, &e) || n > 100000)
            break;
        for (uint64_t i = 0; i < n; i++) {
            int32_t off[2];
            if (gh_read(t, p + 8 * i, off, 8, &e) == GH_OK && off[1] > 0)
                push(w, w->types + (uint64_t)off[1]);
        }
        break;
    }
}

static void visit(walk *w, gh_json *j, uint64_t a)
{
    gh_rtype rt;
    gh_err e;
    w->visited++;
    if (gh_typename(w->tn, a, name, sizeof name, &e) != GH_OK) {
        if (w->failed++ < MAX_LISTED)
            gh_json_str(j, e.msg);
        return;
    }
    if (gh_rtype_read(w->s->t, w->s->rt.ver.minor, a, &rt, &e) != GH_OK)
        return;
    children(w, &rt);
    if ((rt.tflag & GH_TFLAG_NAMED) || !composite(rt.kind))
        return;
    w->unnamed++;
    w->kinds[rt.kind]++;
    if (getenv("TYPENAMES_LIST"))
        fprintf(stderr, "%u %s\n", rt.kind, name);
    int brc = gh_typename_built(w->tn, a, built, sizeof built, &e);
    if (brc == GH_EUNSUPP) {
        w->unsupported++;
    } else if (brc == GH_OK && !strcmp(name, built)) {
        w->equal++;
    } else if (w->failed++ < MAX_LISTED) {
        char line[2048];
        snprintf(line, sizeof line, "%.900s: built %.900s", name, brc ? e.msg : built);
        gh_json_str(j, line);
    }
}

static int check(gh_session *s, gh_json *j, gh_err *err)
{
    gh_field tl, ty, ety;
    if (!s->rt.dwarf || gh_dwarf_field(s->rt.dwarf, "runtime.moduledata", "typelinks", &tl) ||
        gh_dwarf_field(s->rt.dwarf, "runtime.moduledata", "types", &ty) ||
        gh_dwarf_field(s->rt.dwarf, "runtime.moduledata", "etypes", &ety)) {
        gh_json_kstr(j, "skipped", "no DWARF or no moduledata.typelinks (Go 1.27+)");
        return GH_OK;
    }
    walk w = {.s = s, .capseen = 1u << 20, .capstack = 1u << 19};
    uint64_t links, n;
    int rc;
    if ((rc = gh_read_u64(s->t, s->rt.firstmoduledata + ty.offset, &w.types, err)) ||
        (rc = gh_read_u64(s->t, s->rt.firstmoduledata + ety.offset, &w.etypes, err)) ||
        (rc = gh_read_u64(s->t, s->rt.firstmoduledata + tl.offset, &links, err)) ||
        (rc = gh_read_u64(s->t, s->rt.firstmoduledata + tl.offset + 8, &n, err)))
        return rc;
    if ((rc = gh_typenames_open(&s->rt, &w.tn, err)))
        return rc;
    w.seen = calloc(w.capseen, sizeof *w.seen);
    w.stack = calloc(w.capstack, sizeof *w.stack);
    if (!w.seen || !w.stack) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
        goto out;
    }
    for (uint64_t i = 0; i < n; i++) {
        int32_t off;
        if ((rc = gh_read(s->t, links + 4 * i, &off, 4, err)))
            goto out;
        push(&w, w.types + (uint64_t)(int64_t)off);
    }
    gh_json_ku64(j, "typelinks", n);
    gh_json_key(j, "failures");
    gh_json_arr(j);
    while (w.nstack)
        visit(&w, j, w.stack[--w.nstack]);
    gh_json_end(j, ']');
    gh_json_ku64(j, "visited", w.visited);
    gh_json_ku64(j, "failed", w.failed);
    gh_json_ku64(j, "unnamed", w.unnamed);
    gh_json_ku64(j, "built_equal", w.equal);
    gh_json_ku64(j, "built_unsupported", w.unsupported);
    gh_json_key(j, "unnamed_by_kind");
    gh_json_obj(j);
    static const char *kn[GH_KIND_MAX + 1] = {[GH_KIND_ARRAY] = "array", [GH_KIND_CHAN] = "chan", [GH_KIND_FUNC] = "func",
                               [GH_KIND_INTERFACE] = "interface", [GH_KIND_MAP] = "map",
                               [GH_KIND_POINTER] = "pointer", [GH_KIND_SLICE] = "slice",
                               [GH_KIND_STRUCT] = "struct"};
    for (unsigned k = 0; k <= GH_KIND_MAX; k++)
        if (kn[k])
            gh_json_ku64(j, kn[k], w.kinds[k]);
    gh_json_end(j, '}');
out:
    free(w.seen);
    free(w.stack);
    gh_typenames_free(w.tn);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[1], "--exe")) {
        fprintf(stderr, "usage: typenames --exe EXE CORE\n");
        return 2;
    }
    gh_err err;
    gh_target *t;
    gh_session *s;
    if (gh_core_open(argv[3], argv[2], &t, &err) || gh_session_open(t, argv[2], argv[3], &s, &err)) {
        fprintf(stderr, "typenames: %s\n", err.msg);
        return 1;
    }
    gh_out out = {fstdout, NULL, 0};
    gh_json j;
    gh_json_init(&j, &out);
    gh_json_obj(&j);
    int rc = check(s, &j, &err);
    if (rc)
        gh_json_kstr(&j, "error", err.msg);
    gh_json_end(&j, '}');
    putchar('\n');
    gh_session_close(s);
    return rc ? 1 : 0;
}
