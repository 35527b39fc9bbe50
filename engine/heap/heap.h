/* The heap as the allocator left it: arenas, spans, and every allocated slot.
 * Flat arrays indexed by address: arena -> page -> span -> slot, so finding
 * the object that holds any address (interior pointers included) is O(1). */
#ifndef GOHEAP_HEAP_HEAP_H
#define GOHEAP_HEAP_HEAP_H

#include <stdint.h>

#include "base/cancel.h"
#include "runtime/runtime.h"

typedef struct gh_span {
    /* What finding an object needs (gh_heap_find, once per pointer), first,
     * in one cache line: spans are looked up in random order (the array is
     * 64-byte aligned and a span 128 bytes long). */
    uint64_t base;       /* first byte */
    uint64_t limit;      /* end of the last slot */
    uint64_t elemsize;
    uint32_t nelems;
    uint32_t first;      /* heap-wide number of slot 0 (in-use spans) */
    uint32_t divmul;     /* slot of an offset: (offset * divmul) >> 32, checked exact for the span; 0: divide */
    uint8_t spanclass;   /* sizeclass << 1 | noscan */
    uint8_t state;       /* GH_SPAN_INUSE or GH_SPAN_MANUAL */
    uint8_t inline_marks;/* Green Tea: 128 bytes of mark bits end the span */
    uint64_t npages;
    uintptr_t host;      /* gh_span_host's cache: 0 not asked yet, 1 not mapped, else the bytes */
    /* The rest */
    uint64_t mspan;      /* address of the runtime's mspan */
    uint64_t largetype;  /* *abi.Type of a large object, 0 if none */
    uint64_t specials;   /* head of the span's specials list */
    uint64_t allocbits, gcmarkbits; /* the runtime's bitmaps (off-heap) */
    uint32_t freeindex, alloccount, sweepgen;
    uint32_t nalloc;     /* allocated slots as goheap counted them */
    uint8_t pad_to_128[16];
} gh_span;

static inline int gh_span_noscan(const gh_span *s) { return s->spanclass & 1; }
static inline int gh_span_sizeclass(const gh_span *s) { return s->spanclass >> 1; }

/* gc.MinSizeForMallocHeader: objects up to this size keep their pointer bits
 * at the span's tail; larger small objects start with an 8-byte malloc header
 * holding their *abi.Type; large objects (size class 0) use mspan.largeType. */
#define GH_MALLOC_HEADER_MIN 512
#define GH_MALLOC_HEADER_SIZE 8

typedef enum {
    GH_LAYOUT_NOSCAN,    /* no pointers, no type recorded */
    GH_LAYOUT_HEAPBITS,  /* span-tail bitmap, no type recorded */
    GH_LAYOUT_HEADER,    /* type in the object's first word */
    GH_LAYOUT_LARGETYPE, /* type in mspan.largeType */
} gh_objlayout;

static inline gh_objlayout gh_span_layout(const gh_span *s)
{
    if (gh_span_noscan(s))
        return GH_LAYOUT_NOSCAN;
    if (s->elemsize <= GH_MALLOC_HEADER_MIN)
        return GH_LAYOUT_HEAPBITS;
    return gh_span_sizeclass(s) ? GH_LAYOUT_HEADER : GH_LAYOUT_LARGETYPE;
}

typedef struct gh_obj {
    uint64_t addr, size;
    uint32_t id;          /* heap-wide slot number */
    const gh_span *span;
} gh_obj;

/* The runtime's own accounting, read from the same target. */
typedef struct gh_heap_stats {
    uint64_t pages_in_use;          /* mheap_.pagesInUse */
    int64_t committed, released, in_heap, in_stacks, in_workbufs, in_ptrscalar; /* heapStats */
    uint64_t stacks_sys, mspan_sys, mcache_sys, buckhash_sys, gcmisc_sys, other_sys;
} gh_heap_stats;

typedef struct gh_heap {
    const gh_runtime *rt;
    gh_span *spans;       /* in-use and manual spans, sorted by base */
    size_t nspans;
    uint64_t narenas;
    uint64_t arena_off;   /* runtime.arenaBaseOffset of the architecture */
    uint64_t *arena_idx;  /* runtime arena indexes in use, sorted */
    uint64_t *arena_meta; /* *heapArena of each */
    uint64_t arena_l2;    /* mheap_.arenas[0]: the arena index's second level (the arena map) */
    uint64_t arena_lo;    /* arena_map covers indexes [arena_lo, arena_lo + arena_span) */
    uint64_t arena_span;
    uint32_t *arena_map;  /* runtime arena index - arena_lo -> local arena + 1 */
    uint32_t *page_span;  /* local arena * 8192 + page -> span index + 1 */
    uint64_t *alloc;      /* one bit per slot of in-use spans: allocated */
    uint32_t *slot_block; /* per 64 slots: the first in-use span holding one of them (gh_heap_slot) */
    uint64_t nslots;
    uint32_t sweepgen;
    /* Totals */
    uint64_t nobjects, object_bytes;
    uint64_t inuse_span_bytes, manual_span_bytes, free_slot_bytes, span_tail_bytes;
    uint64_t nspans_inuse, nspans_manual, nspans_dead, nspans_unswept;
    uint64_t bad_spans;   /* spans rejected as inconsistent */
    char bad_span_example[160];
    gh_heap_stats stats;
    struct gh_heap_cov *cov; /* a truncated core: what part of the heap the model covers (coverage.h); else NULL */
} gh_heap;

int gh_heap_load(const gh_runtime *rt, gh_cancel *cc, gh_heap **out, gh_err *err);
void gh_heap_free(gh_heap *h);

/* First byte of the i-th arena (0 <= i < narenas). */
static inline uint64_t gh_heap_arena_start(const gh_heap *h, size_t i)
{
    return h->arena_idx[i] * (uint64_t)GH_ARENA_SIZE + h->arena_off;
}

static inline int gh_heap_allocated(const gh_heap *h, uint32_t id)
{
    return (h->alloc[id >> 6] >> (id & 63)) & 1;
}

/* The span holding addr (any span state goheap keeps), or NULL. Inline:
 * the marker asks once per pointer. */
static inline const gh_span *gh_heap_span_of(const gh_heap *h, uint64_t addr)
{
    uint64_t i = (addr - h->arena_off) / GH_ARENA_SIZE - h->arena_lo;
    uint32_t a = i < h->arena_span ? h->arena_map[i] : 0;
    if (!a)
        return NULL;
    uint64_t page = (addr - (h->arena_idx[a - 1] * (uint64_t)GH_ARENA_SIZE + h->arena_off)) / GH_PAGE_SIZE;
    uint32_t s = h->page_span[(uint64_t)(a - 1) * GH_PAGES_PER_ARENA + page];
    return s ? &h->spans[s - 1] : NULL;
}

/* The allocated object containing addr (interior pointers included):
 * returns 1 and fills o, or 0 when addr is not inside an allocated object. */
static inline int gh_heap_find(const gh_heap *h, uint64_t addr, gh_obj *o)
{
    const gh_span *s = gh_heap_span_of(h, addr);
    if (!s || s->state != GH_SPAN_INUSE || addr < s->base || addr >= s->limit)
        return 0;
    uint64_t off = addr - s->base;
    uint32_t slot = s->divmul ? (uint32_t)((off * s->divmul) >> 32) : (uint32_t)(off / s->elemsize);
    if (slot >= s->nelems || !gh_heap_allocated(h, s->first + slot))
        return 0;
    o->addr = s->base + (uint64_t)slot * s->elemsize;
    o->size = s->elemsize;
    o->id = s->first + slot;
    o->span = s;
    return 1;
}

/* The span's bytes in our address space when the target has them there (a
 * mapped core, a live process's copies), or NULL: the target is asked once
 * per span (a cache several threads may fill, with the same answer). */
const uint8_t *gh_span_host(const gh_heap *h, const gh_span *s);

/* The bytes of [addr, addr + len) inside span s, or NULL. */
static inline const uint8_t *gh_span_bytes(const gh_heap *h, const gh_span *s, uint64_t addr, uint64_t len)
{
    const uint8_t *p = gh_span_host(h, s);
    uint64_t end = s->base + s->npages * GH_PAGE_SIZE;
    return p && addr >= s->base && addr <= end && len <= end - addr ? p + (addr - s->base) : NULL;
}

/* Where the object's data starts: after its malloc header, if it has one. */
static inline uint64_t gh_obj_data(const gh_obj *o)
{
    return o->addr + (gh_span_layout(o->span) == GH_LAYOUT_HEADER ? GH_MALLOC_HEADER_SIZE : 0);
}

/* Object by heap-wide slot number (allocated or not). */
void gh_heap_obj(const gh_heap *h, const gh_span *s, uint32_t slot, gh_obj *o);

/* Object by heap-wide slot number alone (binary search over spans): 1 and o
 * filled, or 0 for a number no span has. */
int gh_heap_slot(const gh_heap *h, uint32_t id, gh_obj *o);

#endif
