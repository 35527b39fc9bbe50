/* The Go runtime model of one target: release, experiments, where the
 * runtime's globals are, and the layouts of the structs goheap reads. */
#ifndef GOHEAP_RUNTIME_H
#define GOHEAP_RUNTIME_H

#include <stdint.h>

#include "goheap/buildinfo.h"
#include "goheap/dwarf.h"
#include "goheap/exe.h"
#include "goheap/goversion.h"
#include "goheap/target.h"

#define GH_PAGE_SIZE 8192u
#define GH_ARENA_SIZE (64u << 20)
#define GH_PAGES_PER_ARENA (GH_ARENA_SIZE / GH_PAGE_SIZE)
#define GH_ARENA_BASE_OFFSET 0xffff800000000000ull /* amd64 */

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
} gh_runtime;

/* Reads the version (refusing unsupported ones), finds the runtime's globals
 * and resolves every layout. Messages name the first thing missing. */
int gh_runtime_init(gh_runtime *rt, const gh_target *t, gh_exe *exe, gh_err *err);

/* Little-endian field of 1, 2, 4 or 8 bytes from a struct copied into buf. */
uint64_t gh_field_get(const uint8_t *buf, gh_field f);

/* Address of a runtime global (link-time symbol plus load bias), or 0. */
uint64_t gh_runtime_sym(const gh_runtime *rt, const char *name);

#endif
