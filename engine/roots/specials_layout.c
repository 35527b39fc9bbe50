/* Layouts of the runtime's special records and finalizer/cleanup queues:
 * from DWARF by name, or from the built-in per-release table. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "roots/specials.h"

/* One item: type names and dotted paths ('|' separates alternatives), and
 * the first release that has it (required from there on). */
typedef struct item {
    const char *type;
    const char *path; /* "" for the whole type's size */
    size_t where;
    int since;
} item;

#define F(m) offsetof(gh_spec_layout, m)
static const item items[] = {
    {"runtime.special", "next", F(sp_next), 0},
    {"runtime.special", "offset", F(sp_offset), 0},
    {"runtime.special", "kind", F(sp_kind), 0},
    {"runtime.specialfinalizer", "fn", F(fin_fn), 0},
    {"runtime.specialCleanup", "fn|cleanup.fn", F(cl_fn), 24},
    {"runtime.specialCleanup", "cleanup", F(cl_cleanup), 26},
    {"runtime.specialWeakHandle", "handle", F(weak_handle), 23},
    {"runtime.finBlock|runtime.finblock", "alllink", F(fb_alllink), 0},
    {"runtime.finBlock|runtime.finblock", "cnt", F(fb_cnt), 0},
    {"runtime.finBlock|runtime.finblock", "fin", F(fb_fin), 0},
    {"runtime.finalizer", "fn", F(f_fn), 0},
    {"runtime.finalizer", "arg", F(f_arg), 0},
    {"runtime.finalizer", "fint", F(f_fint), 0},
    {"runtime.finalizer", "ot", F(f_ot), 0},
    {"runtime.cleanupQueue", "all", F(cq_all), 25},
    {"runtime.cleanupBlock", "cleanupBlockHeader.alllink", F(cb_alllink), 25},
    {"runtime.cleanupBlock", "cleanupBlockHeader.n", F(cb_n), 25},
    {"runtime.cleanupBlock", "cleanups", F(cb_cleanups), 25},
    {"runtime.cleanupFn", "fn", F(cf_fn), 26},
    {"runtime.p", "id", F(p_id), 0},
    {"runtime.p", "mcache", F(p_mcache), 0},
    {"runtime.mcache", "tiny", F(mc_tiny), 0},
    {"runtime.finalizer", "", F(finalizer_size), 0},
    {"runtime.cleanupFn", "", F(cleanupfn_size), 26},
};
#undef F
_Static_assert(sizeof items / sizeof items[0] == GH_SPEC_NITEMS, "specials layout list out of step");

int gh_spec_layout_describe(size_t i, const char **type, const char **path)
{
    if (i >= GH_SPEC_NITEMS)
        return 0;
    *type = items[i].type;
    *path = items[i].path;
    return 1;
}

void gh_spec_layout_get(const gh_spec_layout *L, size_t i, uint64_t *offset, uint64_t *size)
{
    const char *p = (const char *)L + items[i].where;
    if (i < GH_SPEC_NFIELDS) {
        const gh_field *f = (const gh_field *)p;
        *offset = f->offset;
        *size = f->size;
    } else {
        *offset = 0;
        memcpy(size, p, sizeof *size);
    }
}

static void set(gh_spec_layout *L, size_t i, uint64_t offset, uint64_t size)
{
    char *p = (char *)L + items[i].where;
    if (i < GH_SPEC_NFIELDS) {
        gh_field f = {offset, size};
        memcpy(p, &f, sizeof f);
    } else {
        memcpy(p, &size, sizeof size);
    }
}

/* Next '|'-separated alternative of *s into buf; 0 at the end. */
static int next_alt(const char **s, char *buf, size_t cap)
{
    if (!*s)
        return 0;
    size_t n = strcspn(*s, "|");
    snprintf(buf, cap, "%.*s", (int)n, *s);
    *s = (*s)[n] == '|' ? *s + n + 1 : NULL;
    return 1;
}

/* Item i from DWARF: 1 found, 0 not. */
static int from_dwarf(gh_dwarf *d, size_t i, uint64_t *off, uint64_t *size)
{
    char type[64], path[64];
    for (const char *ts = items[i].type; next_alt(&ts, type, sizeof type);) {
        if (!*items[i].path) {
            *off = 0;
            if (gh_dwarf_type_size(d, type, size) == GH_OK)
                return 1;
            continue;
        }
        for (const char *ps = items[i].path; next_alt(&ps, path, sizeof path);) {
            gh_field f;
            if (gh_dwarf_field(d, type, path, &f) == GH_OK) {
                *off = f.offset;
                *size = f.size;
                return 1;
            }
        }
    }
    return 0;
}

/* Sizes that cannot be right: a record is not kilobytes long. */
static int plausible(const gh_spec_layout *L, int minor)
{
    for (size_t i = 0; i < GH_SPEC_NITEMS; i++) {
        uint64_t off, size;
        gh_spec_layout_get(L, i, &off, &size);
        if (off > 65536 || size > 65536)
            return 0;
    }
    return L->sp_next.size == 8 && L->sp_kind.size == 1 && L->finalizer_size >= 40 && L->fb_cnt.size == 4 &&
           (minor < 26 || L->cleanupfn_size >= 24);
}

int gh_spec_layout_resolve(const gh_runtime *rt, gh_spec_layout *L, char *source, size_t cap, gh_err *err)
{
    int minor = rt->ver.minor;
    const char *missing = NULL;
    if (rt->dwarf) {
        memset(L, 0, sizeof *L);
        for (size_t i = 0; i < GH_SPEC_NITEMS; i++) {
            uint64_t off = 0, size = 0;
            if (from_dwarf(rt->dwarf, i, &off, &size))
                set(L, i, off, size);
            else if (minor >= items[i].since && !missing)
                missing = items[i].type;
        }
        if (!missing && plausible(L, minor)) {
            snprintf(source, cap, "DWARF");
            return GH_OK;
        }
    }
    /* The architecture's newest row not newer than the release (a newer
     * release is assumed to keep the newest known layout). Rows are per
     * GOARCH: runtime.cleanupQueue pads to the cache line (64 bytes on
     * amd64, 128 on arm64). */
    const gh_spec_layout_row *best = NULL;
    for (size_t r = 0; r < gh_spec_layout_nrows; r++) {
        const gh_spec_layout_row *row = &gh_spec_layout_rows[r];
        if (!strcmp(row->goarch, rt->arch->goarch) && row->minor <= minor && (!best || row->minor > best->minor))
            best = row;
    }
    if (!best || (best->minor != minor && minor <= GH_GO_MINOR_TESTED))
        return gh_errorf(err, GH_EUNSUPP, "no layouts of the finalizer records for %s on %s%s%s", rt->ver.text,
                         rt->arch->name, missing ? ": DWARF lacks " : "", missing ? missing : "");
    memset(L, 0, sizeof *L);
    for (size_t i = 0; i < GH_SPEC_NITEMS; i++)
        set(L, i, best->v[i][0], best->v[i][1]);
    snprintf(source, cap, "built-in table for go1.%d on %s%s%s", best->minor, rt->arch->name,
             missing ? " (DWARF lacks " : "", missing ? missing : "");
    if (missing)
        strncat(source, ")", cap - strlen(source) - 1);
    return GH_OK;
}
