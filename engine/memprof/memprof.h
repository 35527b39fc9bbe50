/* The process's own heap profile, read from the target: the runtime's
 * memory-profile buckets (runtime.mbuckets: one per allocation stack and
 * size, with the counts the runtime publishes at each GC) and the profile
 * special the runtime puts on each sampled object (its bucket). With the
 * object graph this gives what no peer gives: the sampled objects that are
 * really live, per allocation site, not the runtime's view as of the last
 * GC.
 *
 * Layout (1.22-1.27): runtime.bucket is six words (next, allnext, typ, hash,
 * size, nstk), then nstk return PCs, then a memRecord: active and future[3]
 * memRecordCycles of {allocs, frees} (1.27) or {allocs, frees, alloc_bytes,
 * free_bytes} (1.22-1.26). runtime.specialprofile.b follows the special
 * header. Checked against DWARF when the binary has it. */
#ifndef GOHEAP_MEMPROF_MEMPROF_H
#define GOHEAP_MEMPROF_MEMPROF_H

#include <stddef.h>
#include <stdint.h>

#include "base/cancel.h"
#include "base/hmap.h"
#include "graph/graph.h"
#include "heap/heap.h"
#include "pclntab/pclntab.h"
#include "runtime/runtime.h"

#define GH_MP_MAX_STACK 1024 /* runtime maxProfStackDepth (1.23+; 32 before) */

typedef struct gh_mp_bucket {
    uint64_t addr;
    uint64_t size;           /* bytes per object, as the runtime recorded them */
    uint32_t stk, nstk;      /* return PCs: pcs[stk .. stk + nstk), innermost first */
    uint64_t allocs, frees;  /* published counts, as runtime.MemProfile reports them */
    uint64_t sampled;        /* objects in the heap carrying this bucket's special */
    uint64_t live;           /* of those, reachable (gh_memprof_liveness) */
    uint32_t site;           /* gh_memprof_sites: index into sites */
} gh_mp_bucket;

/* An allocation site: the first frame of a stack outside the runtime (as
 * pprof shows heap profiles), inlined frames expanded. */
typedef struct gh_mp_site {
    const char *func, *file; /* from the function table */
    int line;
    uint64_t pc;             /* the call's pc (return PC - 1) */
    uint32_t nbuckets;       /* stacks that reach it */
    uint64_t live, live_bytes, sampled, sampled_bytes;
    uint64_t allocs, alloc_bytes, frees, free_bytes;
} gh_mp_site;

typedef struct gh_memprof {
    int64_t rate;            /* runtime.MemProfileRate at the dump */
    int disabled;            /* runtime.disableMemoryProfiling: the linker turned sampling off */
    gh_mp_bucket *b;
    size_t nb;
    uint64_t *pcs;
    size_t npcs;
    gh_hmap byaddr;          /* bucket address -> index */
    /* Sampled objects: their addresses (as the runtime recorded them, inside
     * a tiny block for tiny objects) and buckets, sorted by address. */
    uint64_t *obj;
    uint32_t *obj_bucket;
    size_t nobj;
    uint64_t unknown_bucket; /* profile specials whose bucket is not on the list */
    uint64_t cut;            /* lists cut: cyclic, out of order, unreadable */
    int live_counted;
    gh_mp_site *sites;
    size_t nsites;
    char note[320];          /* the first trouble met, for the output */
} gh_memprof;

/* Reads the bucket list and every in-use span's profile specials. Fails
 * with GH_ENOTFOUND and a reason when the binary has no symbol for
 * runtime.mbuckets (stripped); GH_EFORMAT for a bucket the runtime could not
 * have written. cc may be NULL. */
int gh_memprof_load(const gh_runtime *rt, const gh_heap *h, gh_cancel *cc, gh_memprof **out, gh_err *err);
void gh_memprof_free(gh_memprof *mp);

/* The same from the runtime globals' addresses (0: absent; mbuckets is
 * required); h NULL reads the buckets only (tests). */
typedef struct gh_memprof_syms {
    uint64_t mbuckets, rate, disabled, cycle;
} gh_memprof_syms;
int gh_memprof_read(const gh_runtime *rt, const gh_heap *h, const gh_memprof_syms *sy, gh_cancel *cc,
                    gh_memprof **out, gh_err *err);

/* Counts each bucket's sampled objects that g marks live. GH_EINTR when
 * interrupted (the counts are then not kept). */
int gh_memprof_liveness(gh_memprof *mp, const gh_heap *h, const gh_graph *g, gh_cancel *cc, gh_err *err);

/* Groups buckets into sites through the function table (the first frame
 * outside the runtime (runtime. and internal/runtime/ functions), all of them when a stack has
 * nothing else). */
int gh_memprof_sites(gh_memprof *mp, const gh_pclntab *tab, gh_cancel *cc, gh_err *err);

/* The bucket of the sampled object whose slot holds addr (an object of
 * slot_size bytes at slot): its index, or -1 when the runtime sampled none
 * there. Tiny blocks may hold several: the first is given. */
long gh_memprof_object(const gh_memprof *mp, uint64_t slot, uint64_t slot_size);

/* A stack's frames, innermost first, inlined calls expanded, the runtime's
 * own leading frames kept. Fills up to max, returns the total. */
size_t gh_memprof_frames(const gh_memprof *mp, const gh_pclntab *tab, const gh_mp_bucket *b, gh_inl_frame *out,
                         size_t max);

/* runtime/pprof's scaleHeapSample: an estimate of all objects and bytes
 * from count samples of avg_size bytes each at rate. */
void gh_memprof_scale(uint64_t count, uint64_t avg_size, int64_t rate, int64_t *objects, int64_t *bytes);

/* Whether a function is the runtime's own (hidden at the top of a stack). */
int gh_memprof_is_runtime(const char *func);

#endif
