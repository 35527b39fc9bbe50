/* The Go runtime model of one target: release, experiments, where the
 * runtime's globals are, and the layouts of the structs goheap reads. */
#ifndef GOHEAP_RUNTIME_RUNTIME_H
#define GOHEAP_RUNTIME_RUNTIME_H

#include <stdint.h>

#include "binary/buildinfo.h"
#include "dwarf/dwarf.h"
#include "binary/exe.h"
#include "binary/goversion.h"
#include "target/target.h"

#define GH_PAGE_SIZE 8192u
#define GH_ARENA_SIZE (64u << 20)
#define GH_PAGES_PER_ARENA (GH_ARENA_SIZE / GH_PAGE_SIZE)

/* mspan.state values. */
enum { GH_SPAN_DEAD = 0, GH_SPAN_INUSE = 1, GH_SPAN_MANUAL = 2 };

typedef struct gh_layout {
    struct {
        uint64_t size;
        gh_field startAddr, npages, freeindex, nelems, allocBits, gcmarkBits, sweepgen,
            allocCount, spanclass, state, elemsize, limit, largeType, specials;
    } mspan;
    struct {
        gh_field sweepgen, allspans, pagesInUse, arenas, heapArenas;
    } mheap;
    struct {
        uint64_t size;
        gh_field spans, pageInUse, inlineMarks; /* inlineMarks.size 0: none (before 1.25) */
    } heapArena;
    struct {
        gh_field stats; /* [3]heapStatsDelta inside memstats.heapStats */
        uint64_t delta_size;
        gh_field committed, released, inHeap, inStacks, inWorkBufs, inPtrScalarBits;
    } heapstats;
    struct {
        gh_field stacks_sys, mspan_sys, mcache_sys, buckhash_sys, gcMiscSys, other_sys;
    } memstats;
} gh_layout;

typedef struct gh_runtime {
    const gh_target *t;
    gh_exe *exe;
    const gh_arch *arch; /* the executable's (and the core's) architecture */
    gh_dwarf *dwarf;
    uint64_t bias;       /* added to link-time addresses */
    gh_buildinfo bi;
    gh_goversion ver;
    unsigned exps;       /* GH_EXP_* in effect */
    int newer_than_tested;
    uint64_t mheap;      /* &runtime.mheap_ */
    uint64_t memstats;   /* &runtime.memstats */
    uint64_t firstmoduledata;
    gh_layout L;
    char layout_source[64];  /* "DWARF" or the built-in table used */
    char globals_source[64]; /* "symbols" or how they were found */
} gh_runtime;

/* Reads the version (refusing unsupported ones), finds the runtime's globals
 * and resolves every layout. Messages name the first thing missing. */
int gh_runtime_init(gh_runtime *rt, const gh_target *t, gh_exe *exe, gh_err *err);

/* The layout as a flat list, for the built-in table and the layout command:
 * fields first, then whole-struct sizes (path ""). */
#define GH_LAYOUT_NFIELDS 35
#define GH_LAYOUT_NSIZES 3
size_t gh_layout_describe(size_t i, const char **type, const char **path);
void gh_layout_get(const gh_layout *L, size_t i, uint64_t *offset, uint64_t *size);

/* One row of the built-in table: a GOARCH's layouts in one release (struct
 * padding differs between architectures: the cache line is 64 bytes on
 * amd64, 128 on arm64). Green Tea changes none of these fields: its types
 * sit in per-P work buffers and at the end of mstats (the generator checks
 * that both settings agree wherever the corpus builds both). */
typedef struct gh_layout_row {
    const char *goarch; /* "amd64", "arm64" (gh_arch.goarch) */
    int minor;
    uint64_t v[GH_LAYOUT_NFIELDS + GH_LAYOUT_NSIZES][2]; /* offset, size */
} gh_layout_row;
extern const gh_layout_row gh_layout_rows[];
extern const size_t gh_layout_nrows;

/* Finds runtime.mheap_, runtime.memstats and runtime.firstmoduledata in a
 * binary without symbols, by what they hold (runtime_discover.c). */
int gh_runtime_discover(gh_runtime *rt, gh_err *err);

/* Little-endian field of 1, 2, 4 or 8 bytes from a struct copied into buf. */
uint64_t gh_field_get(const uint8_t *buf, gh_field f);

/* Address of a runtime global (link-time symbol plus load bias), or 0. */
uint64_t gh_runtime_sym(const gh_runtime *rt, const char *name);

#endif
