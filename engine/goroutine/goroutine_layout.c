/* Layouts of runtime.g, runtime.m and runtime._defer for the goroutine
 * reader, and of the runtime's time records it dates waits with: from DWARF
 * by name, or from the built-in per-release table. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "goroutine/goroutine.h"

/* One item: type, dotted path ("" for the type's size), where it goes, and
 * the first release that has it (optional before). */
typedef struct item {
    const char *type;
    const char *path;
    size_t where;
    int since;
} item;

#define F(m) offsetof(gh_glayout, m)
static const item items[GH_GLAYOUT_NITEMS] = {
    {"runtime.g", "stack.lo", F(g_stack_lo), 0},
    {"runtime.g", "stack.hi", F(g_stack_hi), 0},
    {"runtime.g", "_panic", F(g_panic), 0},
    {"runtime.g", "_defer", F(g_defer), 0},
    {"runtime.g", "m", F(g_m), 0},
    {"runtime.g", "sched.sp", F(g_sched_sp), 0},
    {"runtime.g", "sched.pc", F(g_sched_pc), 0},
    {"runtime.g", "sched.g", F(g_sched_g), 0},
    {"runtime.g", "sched.ctxt", F(g_sched_ctxt), 0},
    {"runtime.g", "sched.bp", F(g_sched_bp), 0},
    {"runtime.g", "syscallsp", F(g_syscallsp), 0},
    {"runtime.g", "syscallpc", F(g_syscallpc), 0},
    {"runtime.g", "syscallbp", F(g_syscallbp), 23},
    {"runtime.g", "atomicstatus", F(g_atomicstatus), 0},
    {"runtime.g", "goid", F(g_goid), 0},
    {"runtime.g", "waitreason", F(g_waitreason), 0},
    {"runtime.g", "parentGoid", F(g_parentGoid), 0},
    {"runtime.g", "gopc", F(g_gopc), 0},
    {"runtime.g", "startpc", F(g_startpc), 0},
    {"runtime.g", "lockedm", F(g_lockedm), 0},
    {"runtime.m", "g0", F(m_g0), 0},
    {"runtime.m", "procid", F(m_procid), 0},
    {"runtime.m", "gsignal", F(m_gsignal), 0},
    {"runtime.m", "curg", F(m_curg), 0},
    {"runtime.m", "vdsoSP", F(m_vdsoSP), 0},
    {"runtime.m", "vdsoPC", F(m_vdsoPC), 0},
    {"runtime.m", "id", F(m_id), 0},
    {"runtime._defer", "heap", F(d_heap), 0},
    {"runtime._defer", "pc", F(d_pc), 0},
    {"runtime._defer", "fn", F(d_fn), 0},
    {"runtime._defer", "link", F(d_link), 0},
    {"runtime.g", "waitsince", F(g_waitsince), 0},
    {"runtime.schedt", "lastpoll", F(sched_lastpoll), 0},
    {"runtime.schedt", "procresizetime", F(sched_procresizetime), 0},
    {"runtime.mstats", "last_gc_nanotime", F(mstats_last_gc_nanotime), 0},
    {"runtime.gcCPULimiterState", "lastUpdate", F(limiter_lastUpdate), 0},
    {"runtime.p", "sysmontick.schedwhen", F(p_schedwhen), 0},
    {"runtime.p", "sysmontick.syscallwhen", F(p_syscallwhen), 0},
    {"runtime.g", "labels", F(g_labels), 0},
    {"runtime.g", "sched.lr", F(g_sched_lr), 0},
    {"runtime.g", "", F(g_size), 0},
};
#undef F

int gh_glayout_describe(size_t i, const char **type, const char **path)
{
    if (i >= GH_GLAYOUT_NITEMS)
        return 0;
    *type = items[i].type;
    *path = items[i].path;
    return 1;
}

void gh_glayout_get(const gh_glayout *L, size_t i, uint64_t *offset, uint64_t *size)
{
    const char *p = (const char *)L + items[i].where;
    if (i < GH_GLAYOUT_NFIELDS) {
        gh_field f;
        memcpy(&f, p, sizeof f);
        *offset = f.offset;
        *size = f.size;
    } else {
        *offset = 0;
        memcpy(size, p, sizeof *size);
    }
}

static void set(gh_glayout *L, size_t i, uint64_t offset, uint64_t size)
{
    char *p = (char *)L + items[i].where;
    if (i < GH_GLAYOUT_NFIELDS) {
        gh_field f = {offset, size};
        memcpy(p, &f, sizeof f);
    } else {
        memcpy(p, &size, sizeof size);
    }
}

/* Every field the reader uses lies inside the struct it reads whole (g), or
 * is a word it reads alone; anything else is not a layout to trust. */
static int plausible(const gh_glayout *L, const gh_arch *arch)
{
    if (L->g_size < 200 || L->g_size > 4096)
        return 0;
    for (size_t i = 0; i < GH_GLAYOUT_NFIELDS; i++) {
        uint64_t off, size;
        gh_glayout_get(L, i, &off, &size);
        if (size > 8 || off > 65536)
            return 0;
        if (!strcmp(items[i].type, "runtime.g") && off + size > L->g_size)
            return 0;
    }
    return L->g_goid.size == 8 && L->g_atomicstatus.size == 4 && L->g_waitsince.size == 8 && L->g_waitreason.size == 1 &&
           L->g_sched_sp.size == 8 && L->g_stack_lo.size == 8 && L->m_procid.size == 8 &&
           (!arch->uses_lr || L->g_sched_lr.size == 8);
}

int gh_glayout_resolve(const gh_runtime *rt, gh_glayout *L, char *source, size_t cap, gh_err *err)
{
    int minor = rt->ver.minor;
    const char *missing = NULL;
    if (rt->dwarf) {
        memset(L, 0, sizeof *L);
        for (size_t i = 0; i < GH_GLAYOUT_NITEMS; i++) {
            gh_field f = {0, 0};
            int rc = *items[i].path ? gh_dwarf_field(rt->dwarf, items[i].type, items[i].path, &f)
                                    : gh_dwarf_type_size(rt->dwarf, items[i].type, &f.size);
            if (rc == GH_OK)
                set(L, i, f.offset, f.size);
            else if (minor >= items[i].since && !missing)
                missing = items[i].path;
        }
        if (!missing && plausible(L, rt->arch)) {
            snprintf(source, cap, "DWARF");
            return GH_OK;
        }
    }
    /* The architecture's newest row not newer than the release: a newer
     * release is assumed to keep the newest known layout. Rows are per
     * GOARCH: struct padding follows the cache line (64 bytes on amd64,
     * 128 on arm64). */
    const gh_glayout_row *best = NULL;
    for (size_t r = 0; r < gh_glayout_nrows; r++) {
        const gh_glayout_row *row = &gh_glayout_rows[r];
        if (!strcmp(row->goarch, rt->arch->goarch) && row->minor <= minor && (!best || row->minor > best->minor))
            best = row;
    }
    if (!best || (best->minor != minor && minor <= GH_GO_MINOR_TESTED))
        return gh_errorf(err, GH_EUNSUPP, "no layout of runtime.g for %s on %s%s%s", rt->ver.text, rt->arch->name,
                         missing ? ": DWARF lacks " : "", missing ? missing : "");
    memset(L, 0, sizeof *L);
    for (size_t i = 0; i < GH_GLAYOUT_NITEMS; i++)
        set(L, i, best->v[i][0], best->v[i][1]);
    snprintf(source, cap, "built-in table for go1.%d on %s%s%s%s", best->minor, rt->arch->name,
             missing ? " (DWARF lacks " : "", missing ? missing : "", missing ? ")" : "");
    return GH_OK;
}
