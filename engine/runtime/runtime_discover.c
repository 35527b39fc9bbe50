/* Finding the runtime's globals in a binary without a symbol table
 * (-ldflags=-s): section headers survive stripping, so each global is
 * searched for in the writable sections by what it must hold, and accepted
 * only when exactly one place fits. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

#define MAX_SECTION (64u << 20)

typedef struct area {
    uint64_t addr;
    uint64_t size;
    uint8_t *buf; /* a copy of the target's bytes */
} area;

static int load_area(const gh_runtime *rt, const char *name, area *a, gh_err *err)
{
    memset(a, 0, sizeof *a);
    const gh_section *s = gh_exe_section(rt->exe, name);
    if (!s || !s->size)
        return GH_OK;
    if (s->size > MAX_SECTION)
        return gh_errorf(err, GH_EFORMAT, "section %s is implausibly large", name);
    a->addr = s->addr + rt->bias;
    a->size = s->size;
    a->buf = malloc(s->size);
    if (!a->buf)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    return gh_read(rt->t, a->addr, a->buf, a->size, err);
}

static uint64_t u64(const area *a, uint64_t off)
{
    uint64_t v;
    memcpy(&v, a->buf + off, 8);
    return v;
}

static int slice_ok(const area *a, uint64_t off, uint64_t maxlen)
{
    uint64_t p = u64(a, off), len = u64(a, off + 8), cap = u64(a, off + 16);
    return p && p % 8 == 0 && len > 0 && len <= cap && cap <= maxlen;
}

/* Does mheap_ sit at a->addr + x? Cheap checks on the copy, then the span and
 * arena pointers it holds are followed in the target. */
static int is_mheap(const gh_runtime *rt, const area *a, uint64_t x)
{
    const gh_layout *L = &rt->L;
    uint32_t sweepgen;
    memcpy(&sweepgen, a->buf + x + L->mheap.sweepgen.offset, 4);
    if (sweepgen % 2 || !slice_ok(a, x + L->mheap.allspans.offset, 1u << 27) ||
        !slice_ok(a, x + L->mheap.heapArenas.offset, 1u << 22))
        return 0;
    uint64_t l2 = u64(a, x + L->mheap.arenas.offset);
    if (!l2 || l2 % 8)
        return 0;
    gh_err e;
    uint64_t idx, ha, span, start;
    uint8_t state;
    if (gh_read_u64(rt->t, u64(a, x + L->mheap.heapArenas.offset), &idx, &e) || idx >= (1u << 22) ||
        gh_read_u64(rt->t, l2 + idx * 8, &ha, &e) || !ha)
        return 0;
    if (gh_read_u64(rt->t, u64(a, x + L->mheap.allspans.offset), &span, &e) ||
        gh_read_u8(rt->t, span + L->mspan.state.offset, &state, &e) || state > GH_SPAN_MANUAL ||
        gh_read_u64(rt->t, span + L->mspan.startAddr.offset, &start, &e) || start % GH_PAGE_SIZE)
        return 0;
    return 1;
}

/* Does memstats sit at a->addr + x? Its heap statistics must add up to the
 * heap's in-use pages, which the mheap_ already found states. */
static int is_memstats(const gh_runtime *rt, const area *a, uint64_t x, uint64_t in_use_bytes)
{
    const gh_layout *L = &rt->L;
    /* Sums wrap as unsigned: arbitrary bytes are being tried here. */
    uint64_t sh = 0, ss = 0, sc = 0, sr = 0;
    for (int g = 0; g < 3; g++) {
        uint64_t d = x + L->heapstats.stats.offset + g * L->heapstats.delta_size;
        sh += u64(a, d + L->heapstats.inHeap.offset);
        ss += u64(a, d + L->heapstats.inStacks.offset);
        sc += u64(a, d + L->heapstats.committed.offset);
        sr += u64(a, d + L->heapstats.released.offset);
    }
    int64_t in_heap = (int64_t)sh, in_stacks = (int64_t)ss, committed = (int64_t)sc, released = (int64_t)sr;
    if (in_heap <= 0 || (uint64_t)in_heap != in_use_bytes || in_stacks <= 0 || committed < in_heap ||
        released < 0)
        return 0;
    /* The runtime's memory classes that follow are all in use and sane. */
    /* (stacks_sys may be 0: stacks usually come from the heap.) */
    const gh_field *sys[] = {&L->memstats.mspan_sys, &L->memstats.mcache_sys, &L->memstats.gcMiscSys,
                             &L->memstats.other_sys};
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
        uint64_t v = u64(a, x + sys[i]->offset);
        if (v == 0 || v > (1ull << 44))
            return 0;
    }
    return 1;
}

typedef int (*probe)(const gh_runtime *rt, const area *a, uint64_t x, uint64_t arg);

static int probe_mheap(const gh_runtime *rt, const area *a, uint64_t x, uint64_t arg)
{
    return is_mheap(rt, a, x);
}

static int probe_memstats(const gh_runtime *rt, const area *a, uint64_t x, uint64_t arg)
{
    return is_memstats(rt, a, x, arg);
}

/* Searches the writable sections for the one place that fits. */
static int search(const gh_runtime *rt, const area *areas, size_t n, uint64_t need, probe fn, uint64_t arg,
                  const char *what, uint64_t *out, gh_err *err)
{
    uint64_t found = 0, hits = 0;
    for (size_t i = 0; i < n; i++) {
        const area *a = &areas[i];
        for (uint64_t x = 0; a->buf && x + need <= a->size; x += 8) {
            if (fn(rt, a, x, arg)) {
                found = a->addr + x;
                hits++;
            }
        }
    }
    if (hits != 1)
        return gh_errorf(err, GH_EUNSUPP,
                         "%s has no symbol table and %s could not be located by its contents (%llu candidates)",
                         gh_exe_path(rt->exe), what, (unsigned long long)hits);
    *out = found;
    return GH_OK;
}

static uint64_t max_end(const gh_field *fs, size_t n)
{
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (fs[i].offset + fs[i].size > m)
            m = fs[i].offset + fs[i].size;
    return m;
}

/* Before 1.26 moduledata starts with a pointer to the pclntab header and then
 * the funcnametab slice, which points into the pclntab too. PIE builds put it
 * in a relro section, so every writable section is searched. */
static uint64_t find_moduledata(const gh_runtime *rt, const gh_section *pcl)
{
    uint64_t lo = pcl->addr + rt->bias, hi = lo + pcl->size;
    size_t n;
    const gh_section *sec = gh_exe_sections(rt->exe, &n);
    for (size_t i = 0; i < n; i++) {
        if (!(sec[i].flags & SHF_WRITE) || !(sec[i].flags & SHF_ALLOC) || sec[i].nobits ||
            sec[i].size > MAX_SECTION)
            continue;
        area a = {sec[i].addr + rt->bias, sec[i].size, malloc(sec[i].size)};
        gh_err e;
        if (!a.buf || gh_read(rt->t, a.addr, a.buf, a.size, &e)) {
            free(a.buf);
            continue;
        }
        uint64_t found = 0;
        for (uint64_t x = 0; x + 16 <= a.size && !found; x += 8) {
            uint64_t names = u64(&a, x + 8);
            if (u64(&a, x) == lo && names > lo && names < hi)
                found = a.addr + x;
        }
        free(a.buf);
        if (found)
            return found;
    }
    return 0;
}

int gh_runtime_discover(gh_runtime *rt, gh_err *err)
{
    static const char *names[] = {".bss", ".noptrbss", ".data", ".noptrdata"};
    area areas[4];
    int rc = GH_OK;
    memset(areas, 0, sizeof areas);
    for (size_t i = 0; i < 4 && !rc; i++)
        rc = load_area(rt, names[i], &areas[i], err);
    const gh_layout *L = &rt->L;
    gh_field mh[] = {L->mheap.sweepgen, L->mheap.allspans, L->mheap.arenas, L->mheap.heapArenas,
                     L->mheap.pagesInUse};
    mh[1].size = mh[3].size = 24; /* slices */
    if (!rc && !rt->mheap)
        rc = search(rt, areas, 4, max_end(mh, 5), probe_mheap, 0, "runtime.mheap_", &rt->mheap, err);
    uint64_t pages = 0;
    if (!rc)
        rc = gh_read_u64(rt->t, rt->mheap + L->mheap.pagesInUse.offset, &pages, err);
    if (!rc && !rt->memstats) {
        const gh_field ms[] = {L->heapstats.stats, L->memstats.stacks_sys, L->memstats.mspan_sys,
                               L->memstats.mcache_sys, L->memstats.gcMiscSys, L->memstats.other_sys};
        uint64_t need = max_end(ms, 6);
        if (need < L->heapstats.stats.offset + 3 * L->heapstats.delta_size)
            need = L->heapstats.stats.offset + 3 * L->heapstats.delta_size;
        rc = search(rt, areas, 4, need, probe_memstats, pages * GH_PAGE_SIZE, "runtime.memstats",
                    &rt->memstats, err);
    }
    /* moduledata: its own section from 1.26; before, the .noptrdata word
     * that holds the address of the pclntab (moduledata.pcHeader). */
    const gh_section *mod = gh_exe_section(rt->exe, ".go.module");
    const gh_section *pcl = gh_exe_section(rt->exe, ".gopclntab");
    if (!pcl) /* PIE */
        pcl = gh_exe_section(rt->exe, ".data.rel.ro.gopclntab");
    if (!rc && !rt->firstmoduledata && mod) {
        rt->firstmoduledata = mod->addr + rt->bias;
    } else if (!rc && !rt->firstmoduledata && pcl) {
        rt->firstmoduledata = find_moduledata(rt, pcl);
    }
    for (size_t i = 0; i < 4; i++)
        free(areas[i].buf);
    return rc;
}
