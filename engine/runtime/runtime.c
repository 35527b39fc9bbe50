/* The runtime model: version, experiments, runtime globals and struct layouts. */
#include "runtime/runtime.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t gh_field_get(const uint8_t *buf, gh_field f)
{
    uint64_t v = 0;
    switch (f.size) {
    case 0: break; /* optional field this release does not have */
    case 1: v = buf[f.offset]; break;
    case 2: { uint16_t x; memcpy(&x, buf + f.offset, 2); v = x; } break;
    case 4: { uint32_t x; memcpy(&x, buf + f.offset, 4); v = x; } break;
    default: memcpy(&v, buf + f.offset, 8); break;
    }
    return v;
}

uint64_t gh_runtime_sym(const gh_runtime *rt, const char *name)
{
    const gh_sym *s = gh_exe_sym(rt->exe, name);
    return s ? s->addr + rt->bias : 0;
}

/* One field to resolve: type, dotted path (alternatives separated by '|'),
 * where it goes, and whether its absence is fatal. */
typedef struct want {
    const char *type;
    const char *path;
    size_t where;
    int optional;
} want;

#define F(member) offsetof(gh_layout, member)
static const want wants[] = {
    {"runtime.mspan", "startAddr", F(mspan.startAddr), 0},
    {"runtime.mspan", "npages", F(mspan.npages), 0},
    {"runtime.mspan", "freeindex", F(mspan.freeindex), 0},
    {"runtime.mspan", "nelems", F(mspan.nelems), 0},
    {"runtime.mspan", "allocBits", F(mspan.allocBits), 0},
    {"runtime.mspan", "gcmarkBits", F(mspan.gcmarkBits), 0},
    {"runtime.mspan", "sweepgen", F(mspan.sweepgen), 0},
    {"runtime.mspan", "allocCount", F(mspan.allocCount), 0},
    {"runtime.mspan", "spanclass", F(mspan.spanclass), 0},
    {"runtime.mspan", "state", F(mspan.state), 0},
    {"runtime.mspan", "elemsize", F(mspan.elemsize), 0},
    {"runtime.mspan", "limit", F(mspan.limit), 0},
    {"runtime.mspan", "largeType", F(mspan.largeType), 0},
    {"runtime.mspan", "specials", F(mspan.specials), 0},
    {"runtime.mheap", "sweepgen", F(mheap.sweepgen), 0},
    {"runtime.mheap", "allspans", F(mheap.allspans), 0},
    {"runtime.mheap", "pagesInUse", F(mheap.pagesInUse), 0},
    {"runtime.mheap", "arenas", F(mheap.arenas), 0},
    {"runtime.mheap", "heapArenas|allArenas", F(mheap.heapArenas), 0},
    {"runtime.heapArena", "spans", F(heapArena.spans), 0},
    {"runtime.heapArena", "pageInUse", F(heapArena.pageInUse), 0},
    {"runtime.heapArena", "pageUseSpanInlineMarkBits", F(heapArena.inlineMarks), 1},
    {"runtime.mstats", "heapStats.stats", F(heapstats.stats), 0},
    {"runtime.heapStatsDelta", "committed", F(heapstats.committed), 0},
    {"runtime.heapStatsDelta", "released", F(heapstats.released), 0},
    {"runtime.heapStatsDelta", "inHeap", F(heapstats.inHeap), 0},
    {"runtime.heapStatsDelta", "inStacks", F(heapstats.inStacks), 0},
    {"runtime.heapStatsDelta", "inWorkBufs", F(heapstats.inWorkBufs), 0},
    {"runtime.heapStatsDelta", "inPtrScalarBits", F(heapstats.inPtrScalarBits), 1}, /* gone in 1.24 */
    {"runtime.mstats", "stacks_sys", F(memstats.stacks_sys), 0},
    {"runtime.mstats", "mspan_sys", F(memstats.mspan_sys), 0},
    {"runtime.mstats", "mcache_sys", F(memstats.mcache_sys), 0},
    {"runtime.mstats", "buckhash_sys", F(memstats.buckhash_sys), 0},
    {"runtime.mstats", "gcMiscSys", F(memstats.gcMiscSys), 0},
    {"runtime.mstats", "other_sys", F(memstats.other_sys), 0},
};

/* Whole-struct sizes, resolved after the fields. */
static const want sizes[] = {
    {"runtime.mspan", "", F(mspan.size), 0},
    {"runtime.heapArena", "", F(heapArena.size), 0},
    {"runtime.heapStatsDelta", "", F(heapstats.delta_size), 0},
};
#undef F

_Static_assert(sizeof wants / sizeof wants[0] == GH_LAYOUT_NFIELDS, "layout table out of step");
_Static_assert(sizeof sizes / sizeof sizes[0] == GH_LAYOUT_NSIZES, "layout table out of step");

size_t gh_layout_describe(size_t i, const char **type, const char **path)
{
    if (i < GH_LAYOUT_NFIELDS) {
        *type = wants[i].type;
        *path = wants[i].path;
        return 1;
    }
    if (i < GH_LAYOUT_NFIELDS + GH_LAYOUT_NSIZES) {
        *type = sizes[i - GH_LAYOUT_NFIELDS].type;
        *path = "";
        return 1;
    }
    return 0;
}

void gh_layout_get(const gh_layout *L, size_t i, uint64_t *offset, uint64_t *size)
{
    if (i < GH_LAYOUT_NFIELDS) {
        const gh_field *f = (const gh_field *)((const char *)L + wants[i].where);
        *offset = f->offset;
        *size = f->size;
    } else {
        *offset = 0;
        *size = *(const uint64_t *)((const char *)L + sizes[i - GH_LAYOUT_NFIELDS].where);
    }
}

static void layout_set(gh_layout *L, size_t i, uint64_t offset, uint64_t size)
{
    if (i < GH_LAYOUT_NFIELDS) {
        gh_field *f = (gh_field *)((char *)L + wants[i].where);
        f->offset = offset;
        f->size = size;
    } else {
        *(uint64_t *)((char *)L + sizes[i - GH_LAYOUT_NFIELDS].where) = size;
    }
}

/* The built-in layouts (layout_table.c) for binaries without DWARF: the row
 * of the executable's architecture and release. */
static int builtin_layout(gh_runtime *rt, gh_err *err)
{
    const gh_layout_row *best = NULL;
    for (size_t r = 0; r < gh_layout_nrows && !best; r++) {
        const gh_layout_row *row = &gh_layout_rows[r];
        if (!strcmp(row->goarch, rt->arch->goarch) && row->minor == rt->ver.minor)
            best = row;
    }
    if (!best)
        return gh_errorf(err, GH_EUNSUPP, "%s has no DWARF and goheap has no built-in runtime layouts for %s on %s",
                         gh_exe_path(rt->exe), rt->ver.text, rt->arch->name);
    for (size_t i = 0; i < GH_LAYOUT_NFIELDS + GH_LAYOUT_NSIZES; i++)
        layout_set(&rt->L, i, best->v[i][0], best->v[i][1]);
    snprintf(rt->layout_source, sizeof rt->layout_source, "built-in table for go1.%d on %s", best->minor,
             rt->arch->name);
    return GH_OK;
}

static int resolve(gh_runtime *rt, const want *w, gh_err *err)
{
    char alt[64];
    for (const char *p = w->path; *p;) {
        size_t n = strcspn(p, "|");
        snprintf(alt, sizeof alt, "%.*s", (int)n, p);
        if (gh_dwarf_field(rt->dwarf, w->type, alt, (gh_field *)((char *)&rt->L + w->where)) == GH_OK)
            return GH_OK;
        p += n;
        if (*p == '|')
            p++;
    }
    if (w->optional)
        return GH_OK;
    return gh_errorf(err, GH_EFORMAT, "%s's DWARF has no %s.%s (Go %s)", gh_exe_path(rt->exe), w->type,
                     w->path, rt->ver.text);
}

static int read_version(gh_runtime *rt, gh_err *err)
{
    const gh_section *s = gh_exe_section(rt->exe, ".go.buildinfo");
    const uint8_t *data = gh_exe_section_data(rt->exe, s);
    if (!data)
        return gh_errorf(err, GH_ENOTGO, "%s is not a Go program (no .go.buildinfo section)",
                         gh_exe_path(rt->exe));
    int rc = gh_buildinfo_parse(data, s->size, &rt->bi, err);
    if (rc)
        return gh_err_wrap(err, "%s", gh_exe_path(rt->exe));
    if ((rc = gh_goversion_parse(rt->bi.version, &rt->ver, err)))
        return rc;
    if ((rc = gh_goversion_check(&rt->ver, &rt->newer_than_tested, err)))
        return rc;
    rt->exps = gh_goversion_experiments(&rt->ver);
    return GH_OK;
}

int gh_runtime_init(gh_runtime *rt, const gh_target *t, gh_exe *exe, gh_err *err)
{
    memset(rt, 0, sizeof *rt);
    rt->t = t;
    rt->exe = exe;
    rt->arch = gh_exe_arch(exe);
    if (t->arch && t->arch != rt->arch)
        return gh_errorf(err, GH_EFORMAT, "the executable %s is for %s, the %s for %s", gh_exe_path(exe),
                         rt->arch->name, t->kind, t->arch->name);
    if (!t->arch) /* a caller's target (a debugger's) runs what its executable is for */
        ((gh_target *)t)->arch = rt->arch;
    int rc = read_version(rt, err);
    if (rc)
        return rc;
    if (t->ops->load_bias && t->ops->load_bias(t->ctx, &rt->bias) != GH_OK)
        rt->bias = 0;
    const char *force = getenv("GOHEAP_LAYOUTS"); /* "builtin": test the fallback on any binary */
    rt->dwarf = force && !strcmp(force, "builtin") ? NULL : gh_exe_dwarf(exe);
    if (rt->dwarf) {
        for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++)
            if ((rc = resolve(rt, &wants[i], err)))
                return rc;
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            if (gh_dwarf_type_size(rt->dwarf, sizes[i].type, (uint64_t *)((char *)&rt->L + sizes[i].where)))
                return gh_errorf(err, GH_EFORMAT, "%s's DWARF lacks the size of %s", gh_exe_path(exe),
                                 sizes[i].type);
        snprintf(rt->layout_source, sizeof rt->layout_source, "DWARF");
    } else if ((rc = builtin_layout(rt, err))) {
        return rc;
    }
    if (rt->L.mspan.size > 4096 || rt->L.heapstats.delta_size > 65536)
        return gh_errorf(err, GH_EFORMAT, "implausible runtime struct sizes in DWARF");
    rt->mheap = gh_runtime_sym(rt, "runtime.mheap_");
    rt->memstats = gh_runtime_sym(rt, "runtime.memstats");
    rt->firstmoduledata = gh_runtime_sym(rt, "runtime.firstmoduledata");
    snprintf(rt->globals_source, sizeof rt->globals_source, "symbols");
    if (getenv("GOHEAP_DISCOVER")) /* test knob: find them by content even with symbols */
        rt->mheap = rt->memstats = rt->firstmoduledata = 0;
    if (!rt->mheap || !rt->memstats) {
        /* No symbol table (-ldflags=-s): find the globals by their contents. */
        if ((rc = gh_runtime_discover(rt, err)))
            return rc;
        snprintf(rt->globals_source, sizeof rt->globals_source, "found by content (no symbol table)");
    }
    return GH_OK;
}
