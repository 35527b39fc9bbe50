/* Marking and typing, on the pointer graph (edges.c), in one breadth-first
 * walk from every root, as the garbage collector would mark:
 *   mark:  each object taken off the queue reaches what its edges point to,
 *          recording for each live object the first object (or root) that
 *          reached it, so a shortest path is one walk back;
 *   types: then the same object is walked for the types its own type says,
 *          each object typed by the allocator's record (malloc header,
 *          largeType) when there is one, else by the type a typed pointer
 *          to it says, taken only when it agrees with the object's size
 *          class and pointer bits.
 * Which hint reaches an object first decides its type; an object typed
 * after its walk is walked again where one walk would have queued it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "base/bigmem.h"
#include "base/prefetch.h"
#include "base/vec.h"
#include "graph/dominators.h"
#include "graph/graph.h"
#include "graph/pending.h"
#include "heap/heapscan.h"
#include "types/gotype_int.h"

#define TINY_BLOCK 16
#define MARK_STEP 1000 /* objects between interrupt checks and progress reports */
#define PREFETCH 8     /* objects ahead the typing replay asks memory for */

/* What a hint decides for an object without an allocator's record, from
 * the hint's type and the object's size class alone (the object's own bits
 * and whether it is typed already are looked at each time): the heap holds
 * millions of objects of a few such pairs, so the decision is made once.
 * Interning waits for the first object the hint types, so type ids are
 * given in the order one walk gives them. */
enum { D_EMPTY, D_REJECT, D_REJECT_COUNTED, D_MASK, D_ACCEPT, D_TINY /* a value inside a tiny block: hint_slow */ };
typedef struct decision {
    gh_otype hint;        /* key: the hint's type, */
    uint64_t min_size;    /* its minimum size, */
    uint64_t size;        /* the object's size */
    uint8_t layout;       /* and layout */
    uint8_t kind;         /* D_* */
    uint64_t want;        /* D_MASK: the pointer bits the object must have */
    gh_otype ot;          /* D_MASK, D_ACCEPT: the object's type */
    gh_tid tid;           /* ot interned, 0 until first used */
    uint8_t tiny_len;     /* D_TINY: the value's bytes */
} decision;
#define DECISIONS 1024

typedef struct marker {
    const gh_target *t;
    gh_cancel *cc;
    gh_graph *g;
    const gh_heap *h;
    gh_typemask_cache *tc;
    const gh_edges *e;
    /* mark: every object is queued once, so the queue is the marking order:
     * order[0, nmarked) (roots' first, then each object's new children). */
    uint32_t *order;
    size_t nmarked;
    size_t nroot;      /* of them, marked by the roots */
    /* types: objects walked again once retyped, each tagged with nmarked when
     * queued: it comes off the queue after order[tag - 1], as in one walk. */
    struct repush {
        uint32_t id, tag;
    } *rq;
    size_t rqhead, rqn, rqcap;
    size_t tagnow;     /* nmarked as the walk stands */
    int oom;
    uint64_t *scanned, *refined;
    uint32_t parent;   /* of what the current scan reaches */
    /* Tiny values as the walk finds them, packed (tiny_pack), duplicates
     * and all: sorted and made unique when the vector fills (tiny_compact)
     * and at the end, so no lookup per hint. */
    size_t tcap, tkept; /* of g->tiny; tkept: records after the last compaction */
    unsigned tspan;     /* compact again at tspan * tkept: 2, or 8 once a compaction found few duplicates */
    uint64_t nscanned; /* objects scanned (once each) */
    gh_err err;
    int failed;
    decision *dec;     /* DECISIONS of them, by a hash of the key */
} marker;

static int bit(const uint64_t *v, uint32_t i) { return v[i >> 6] >> (i & 63) & 1; }
static void setbit(uint64_t *v, uint32_t i) { v[i >> 6] |= UINT64_C(1) << (i & 63); }

/* mark: id is reached from m->parent. */
static void mark_id(marker *m, uint32_t id)
{
    if (bit(m->g->marked, id))
        return;
    setbit(m->g->marked, id);
    m->g->parent[id] = m->parent;
    m->order[m->nmarked++] = id;
}

/* types: queues a retyped object for another walk. */
static void repush(marker *m, uint32_t id)
{
    if (m->rqn == m->rqcap && gh_grow(&m->rq, &m->rqcap, m->rqn + 1, sizeof *m->rq)) {
        m->oom = 1;
        return;
    }
    m->rq[m->rqn++] = (struct repush){id, (uint32_t)m->tagnow};
}

/* mark: what an object points to, from the graph. */
static void reach_edges(marker *m, uint32_t id)
{
    const gh_edges *e = m->e;
    for (uint32_t k = e->start[id]; k < e->start[id + 1]; k++)
        mark_id(m, e->to[k]);
}

static int no_word(void *ctx, uint64_t word_addr, uint64_t value)
{
    (void)ctx, (void)word_addr, (void)value;
    return 0;
}

static uint64_t data_size(const gh_obj *o) { return o->size - (gh_obj_data(o) - o->addr); }

/* How many values of a hint's type an object holds, fits of them in all.
 * The slot's size is only a bound on the length (sizes are rounded up to a
 * size class or to pages); a slice's capacity states it. Pointer-free
 * objects take the capacity as their length; others keep every value that
 * fits, which their pointer bits are checked against, and a length that
 * differs from the capacity stays a bound. */
static void fill(gh_otype *ot, uint64_t fits, gh_objlayout layout)
{
    uint64_t said = ot->count;
    ot->count = fits;
    ot->bound = 0;
    if (said > 1 && said < fits && layout == GH_LAYOUT_NOSCAN)
        ot->count = said;
    else if (fits > 1 && said != fits)
        ot->bound = 1;
}

/* The type the allocator recorded, interned with as many values as fit.
 * Returns 1 when the record is a Go 1.22-1.23 runtime-made bitmap type (a
 * large object of a GC-program type): it names nothing, so the object is
 * typed like one without a record. */
static int header_type(marker *m, const gh_obj *o)
{
    gh_objlayout l = gh_span_layout(o->span);
    if (l != GH_LAYOUT_HEADER && l != GH_LAYOUT_LARGETYPE)
        return 0;
    uint64_t t = 0;
    if (gh_heap_obj_type(m->h, o, &t, NULL) || !t)
        return 0;
    rinfo *ri = gh_types_rinfo(m->g->types, t);
    if (!ri || !ri->r.size)
        return 0;
    if (m->g->types->minor <= 23 && (ri->r.tflag & GH_TFLAG_UNROLLEDBITMAP))
        return 1;
    /* new(T) records T, makeslice the element: as many as fit is a bound
     * until a slice's capacity says (on_hint's refinement). */
    gh_otype ot = {.rtype = t, .count = data_size(o) / ri->r.size};
    if (!ot.count)
        return 0;
    ot.bound = ot.count > 1;
    m->g->type[o->id] = gh_types_intern(m->g->types, &ot);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Ascending: LSD radix by the 16-bit digits that vary (the slot's and the
 * type id's, mostly), through a buffer of n. An in-place MSD sort saves
 * that buffer but costs a cache miss per record: 2-3 s at 13 M records. */
static int sort_u64(uint64_t *v, size_t n)
{
    if (n < 4096) {
        qsort(v, n, sizeof *v, cmp_u64);
        return 0;
    }
    uint64_t any = 0, all = ~UINT64_C(0);
    for (size_t i = 0; i < n; i++) {
        any |= v[i];
        all &= v[i];
    }
    size_t *count = malloc(65536 * sizeof *count);
    uint64_t *tmp = malloc(n * sizeof *tmp);
    if (!count || !tmp) {
        free(count);
        free(tmp);
        return -1;
    }
    uint64_t *src = v, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += 16) {
        if (!((any ^ all) >> shift & 0xffff))
            continue; /* every key has this digit */
        memset(count, 0, 65536 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[src[i] >> shift & 0xffff]++;
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[src[i] >> shift & 0xffff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
    free(count);
    free(tmp);
    return 0;
}

/* Sorts the tiny records and keeps one per slot and offset: the longest
 * value there, then the lowest id, whatever order the walk found them in. */
static int tiny_compact(marker *m)
{
    uint64_t *v = m->g->tiny;
    size_t n = m->g->ntiny;
    if (sort_u64(v, n))
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        uint64_t best = v[i], bsize = 0;
        int several = 0;
        for (; j < n && v[j] >> 28 == v[i] >> 28; j++)
            several |= v[j] != v[i];
        if (several) { /* values of different types at one offset */
            for (size_t x = i; x < j; x++) {
                const gh_otype *ot = gh_types_get(m->g->types, gh_tiny_type(v[x]));
                uint64_t sz = ot ? gh_types_size(m->g->types, ot) * (ot->count ? ot->count : 1) : 0;
                if (sz > bsize) { /* ascending ids: the first of the longest stays */
                    bsize = sz;
                    best = v[x];
                }
            }
        }
        v[k++] = best;
        i = j;
    }
    m->g->ntiny = m->tkept = k;
    return 0;
}

static int tiny_add(marker *m, uint32_t slot, uint64_t off, gh_tid tid)
{
    gh_graph *g = m->g;
    if (tid >= GH_TINY_TID_LIMIT || off >= TINY_BLOCK)
        return -1;
    gh_tiny r = gh_tiny_make(slot, (unsigned)off, tid);
    if (g->ntiny && g->tiny[g->ntiny - 1] == r)
        return 0; /* the same value again, as a walk often finds it */
    if (g->ntiny == m->tcap) {
        size_t before = g->ntiny;
        if (before >= (m->tspan ? m->tspan : 2) * m->tkept + 1024) {
            if (tiny_compact(m)) {
                m->oom = 1;
                return -1;
            }
            /* Most values are met once: sorting them again and again before
             * the end buys little, so wait longer after a poor harvest. */
            m->tspan = 4 * g->ntiny > 3 * before ? 8 : 2;
        }
        if (4 * g->ntiny >= 3 * m->tcap && gh_grow(&g->tiny, &m->tcap, g->ntiny + 1, sizeof *g->tiny)) {
            m->oom = 1; /* said once the walk ends */
            return -1;
        }
    }
    g->tiny[g->ntiny++] = r;
    return 0;
}

static uint64_t decision_hash(const gh_hint *hn, gh_objlayout layout, uint64_t size)
{
    uint64_t x = hn->type.rtype ^ hn->type.die * 3 ^ hn->type.aux * 5 ^ hn->type.count * 7 ^
                 (uint64_t)hn->type.syn << 56 ^ hn->min_size * 11 ^ size * 13 ^ (uint64_t)layout << 60;
    x ^= x >> 29;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    return x ^ (x >> 32);
}

static int decision_is(const decision *d, const gh_hint *hn, gh_objlayout layout, uint64_t size)
{
    const gh_otype *a = &d->hint, *b = &hn->type;
    return d->kind != D_EMPTY && a->rtype == b->rtype && a->die == b->die && a->aux == b->aux &&
           a->count == b->count && a->syn == b->syn && d->min_size == hn->min_size && d->size == size &&
           d->layout == layout;
}

/* The decision for a hint to an object of this size and layout (no
 * allocator's record, not a tiny block), made as on_hint made it. */
static void decide(marker *m, decision *d, const gh_hint *hn, gh_objlayout layout, uint64_t dsize)
{
    gh_types *ty = m->g->types;
    *d = (decision){.hint = hn->type, .min_size = hn->min_size, .size = dsize, .layout = (uint8_t)layout,
                    .kind = D_REJECT};
    gh_otype ot = hn->type;
    if (ot.rtype && gh_types_is_shape(ty, ot.rtype) && !(ot.rtype = gh_types_concrete(ty, ot.rtype)))
        return; /* a generic shape is not the object's type */
    uint64_t es = gh_types_size(ty, &ot);
    int hp = gh_types_has_pointers(ty, &ot);
    if (layout == GH_LAYOUT_NOSCAN && dsize == TINY_BLOCK && hp == 0 && es &&
        (ot.syn != GH_SYN_STRING || ot.count < TINY_BLOCK)) {
        uint64_t n = ot.count ? ot.count : 1;
        if (ot.syn == GH_SYN_STRING && !ot.count)
            return; /* an empty string says nothing of the bytes it points at */
        if (es * n < TINY_BLOCK) { /* a value in the block, as hint_slow adds it */
            d->ot = ot;
            d->ot.count = n;
            d->tiny_len = (uint8_t)(es * n);
            d->kind = D_TINY;
            return;
        }
    }
    /* How many values the object holds. */
    switch (ot.syn) {
    case GH_SYN_STRING: /* count: the length the first referrer's header gives (print shows that much) */
        if (layout != GH_LAYOUT_NOSCAN || !ot.count || ot.count > dsize)
            return;
        break;
    case GH_SYN_DIRECTORY:
    case GH_SYN_OVFARRAY:
        if (!ot.count || ot.count * 8 > dsize)
            return;
        break;
    case GH_SYN_CLOSURE:
        ot.count = 1;
        break;
    case GH_SYN_NONE:
        if (!es || hn->min_size > dsize || dsize / es == 0)
            return;
        fill(&ot, dsize / es, layout);
        break;
    default:
        if (!es || es > dsize)
            return;
        ot.count = 1;
    }
    /* The object's pointer bits must be the type's. */
    if (hp >= 0 && (layout == GH_LAYOUT_NOSCAN) != (hp == 0)) {
        d->kind = D_REJECT_COUNTED;
        return;
    }
    d->ot = ot;
    d->kind = D_ACCEPT;
    if (layout == GH_LAYOUT_HEAPBITS && hp > 0) {
        if (gh_types_mask64(ty, &ot, &d->want, NULL) == GH_OK)
            d->kind = D_MASK;
        else if (ot.syn != GH_SYN_CLOSURE && ot.syn != GH_SYN_HCHAN)
            d->kind = D_REJECT;
    }
}

/* A hint's decision applied to an untyped object without an allocator's
 * record, which the hint points to the start of. */
static int apply(marker *m, const gh_obj *o, decision *d)
{
    gh_graph *g = m->g;
    switch (d->kind) {
    case D_REJECT_COUNTED:
        g->hints_rejected++;
        return 0;
    case D_MASK: {
        uint64_t have;
        if (gh_heap_obj_ptrmask64(m->h, o, &have, NULL))
            have = 0;
        if (have != d->want) {
            g->hints_rejected++;
            return 0;
        }
    } /* fall through */
    case D_ACCEPT:
        if (!d->tid)
            d->tid = gh_types_intern(g->types, &d->ot);
        if (!d->tid)
            return 0;
        g->type[o->id] = d->tid;
        if (bit(m->scanned, o->id))
            repush(m, o->id); /* walked before its type was known: walk it again for its types */
        return 0;
    default:
        return 0;
    }
}

/* Every other hint: into a tiny block, to an object with an allocator's
 * record, an interior pointer. */
__attribute__((noinline)) static int hint_slow(marker *m, const gh_obj *op, gh_objlayout layout, const gh_hint *hn)
{
    gh_graph *g = m->g;
    gh_types *ty = g->types;
    gh_obj o = *op;
    /* What cannot change anything, before the type's facts are looked up:
     * an interior pointer (except into a tiny block, which holds several
     * values), and an object without an allocator's record that is typed
     * already (the first hint stands). */
    int tiny = layout == GH_LAYOUT_NOSCAN && o.size == TINY_BLOCK;
    if (!tiny && hn->value != gh_obj_data(&o))
        return 0;
    if (layout <= GH_LAYOUT_HEAPBITS && g->type[o.id] && g->type[o.id] != GH_TID_TINY)
        return 0;
    gh_otype ot = hn->type;
    if (ot.rtype && gh_types_is_shape(ty, ot.rtype) && !(ot.rtype = gh_types_concrete(ty, ot.rtype)))
        return 0; /* a generic shape is not the object's type */
    uint64_t data = gh_obj_data(&o), dsize = data_size(&o);
    uint64_t es = gh_types_size(ty, &ot);
    int hp = gh_types_has_pointers(ty, &ot);

    /* Pointer-free values under 16 bytes share 16-byte tiny blocks. A
     * string's bytes are one of them (its length is the hint's count), so
     * the block's values do not depend on which hint came first. */
    if (layout == GH_LAYOUT_NOSCAN && o.size == TINY_BLOCK && hp == 0 && es &&
        (ot.syn != GH_SYN_STRING || ot.count < TINY_BLOCK)) {
        if (ot.syn == GH_SYN_STRING && !ot.count)
            return 0; /* an empty string says nothing of the bytes it points at */
        uint64_t n = ot.count ? ot.count : 1, off = hn->value - o.addr;
        if (es * n < TINY_BLOCK && off + es * n <= TINY_BLOCK && (g->type[o.id] == 0 || g->type[o.id] == GH_TID_TINY)) {
            ot.count = n;
            gh_tid tid = gh_types_intern(ty, &ot);
            if (tid && tiny_add(m, o.id, off, tid) == 0)
                g->type[o.id] = GH_TID_TINY;
            return 0;
        }
    }
    if (hn->value != data)
        return 0; /* an interior pointer says nothing of the object's own type */
    int unrolled = 0;
    if (layout == GH_LAYOUT_HEADER || layout == GH_LAYOUT_LARGETYPE) {
        if (g->type[o.id] == 0)
            unrolled = header_type(m, &o);
    }
    if ((layout == GH_LAYOUT_HEADER || layout == GH_LAYOUT_LARGETYPE) && !unrolled) {
        /* The allocator's record stands; a slice's capacity only says how
         * many of its elements the object was made for. */
        const gh_otype *cur = gh_types_get(ty, g->type[o.id]);
        if (cur && !ot.syn && cur->rtype == ot.rtype && ot.count && ot.count * es <= dsize &&
            (!bit(m->refined, o.id) ? ot.count != cur->count || cur->bound : ot.count > cur->count)) {
            gh_otype r = *cur;
            r.count = ot.count;
            r.bound = 0; /* the capacity states it */
            gh_tid tid = gh_types_intern(ty, &r);
            if (tid)
                g->type[o.id] = tid;
            setbit(m->refined, o.id);
        }
        return 0;
    }
    if (g->type[o.id])
        return 0;
    /* How many values the object holds. */
    switch (ot.syn) {
    case GH_SYN_STRING: /* count: the length the first referrer's header gives (print shows that much) */
        if (layout != GH_LAYOUT_NOSCAN || !ot.count || ot.count > dsize)
            return 0;
        break;
    case GH_SYN_DIRECTORY:
    case GH_SYN_OVFARRAY:
        if (!ot.count || ot.count * 8 > dsize)
            return 0;
        break;
    case GH_SYN_CLOSURE:
        ot.count = 1;
        break;
    case GH_SYN_NONE:
        if (!es || hn->min_size > dsize || dsize / es == 0)
            return 0;
        fill(&ot, dsize / es, layout);
        break;
    default:
        if (!es || es > dsize)
            return 0;
        ot.count = 1;
    }
    /* The object's pointer bits must be the type's. */
    if (hp >= 0 && (layout == GH_LAYOUT_NOSCAN) != (hp == 0)) {
        g->hints_rejected++;
        return 0;
    }
    if (layout == GH_LAYOUT_HEAPBITS && hp > 0) {
        uint64_t want;
        if (gh_types_mask64(ty, &ot, &want, NULL) == GH_OK) {
            uint64_t have;
            if (gh_heap_obj_ptrmask64(m->h, &o, &have, NULL))
                have = 0;
            if (have != want) {
                g->hints_rejected++;
                return 0;
            }
        } else if (ot.syn != GH_SYN_CLOSURE && ot.syn != GH_SYN_HCHAN) {
            return 0;
        }
    }
    gh_tid tid = gh_types_intern(ty, &ot);
    if (!tid)
        return 0;
    g->type[o.id] = tid;
    if (bit(m->scanned, o.id))
        repush(m, o.id); /* walked before its type was known: walk it again for its types */
    return 0;
}

static int on_hint(void *ctx, uint64_t word_addr, const gh_hint *hn)
{
    marker *m = ctx;
    gh_obj o;
    (void)word_addr;
    if (!gh_heap_find(m->h, hn->value, &o))
        return 0;
    gh_objlayout layout = gh_span_layout(o.span);
    /* The common case, decided once per hint type and size class: a
     * pointer to the start of an object without an allocator's record, or
     * anywhere into a 16-byte pointer-free one (a tiny block's value, or
     * an interior pointer, which says nothing). */
    int tiny = layout == GH_LAYOUT_NOSCAN && o.size == TINY_BLOCK;
    if (layout <= GH_LAYOUT_HEAPBITS && (hn->value == o.addr || tiny)) {
        gh_tid t = m->g->type[o.id];
        if (t && t != GH_TID_TINY)
            return 0; /* the first hint stands */
        decision *d = &m->dec[decision_hash(hn, layout, o.size) & (DECISIONS - 1)];
        if (!decision_is(d, hn, layout, o.size))
            decide(m, d, hn, layout, o.size);
        uint64_t off = hn->value - o.addr;
        if (d->kind != D_TINY)
            return t || off ? 0 : apply(m, &o, d);
        if (off + d->tiny_len > TINY_BLOCK)
            return 0; /* runs past the block: not a value of it */
        if (!d->tid)
            d->tid = gh_types_intern(m->g->types, &d->ot);
        if (d->tid && tiny_add(m, o.id, off, d->tid) == 0)
            m->g->type[o.id] = GH_TID_TINY;
        return 0;
    }
    return hint_slow(m, &o, layout, hn);
}

/* Counts an object whose pointer words could not all be read when the
 * marker reaches it; the message is the first one, got by reading again. */
static void scan_error(marker *m, uint32_t id)
{
    if (!(m->e->failed[id >> 6] >> (id & 63) & 1) || m->g->scan_errors++)
        return;
    gh_obj o;
    gh_err e = {0};
    if (gh_heap_slot(m->h, id, &o))
        gh_heap_scan_object(m->h, m->tc, &o, no_word, NULL, NULL, &e);
    snprintf(m->g->first_scan_error, sizeof m->g->first_scan_error, "%s", e.msg);
}

/* The type of a finalizer's object: the record (runtime.specialfinalizer,
 * whose fn field is the root's region) keeps ot, the *T the finalizer was
 * set with, three words after fn in every release (fn, nret, fint, ot). */
static void finalized_type(marker *m, const gh_root *r, const gh_obj *o)
{
    uint64_t ot;
    if (r->size != 8 || gh_read_u64(m->t, r->addr + 24, &ot, NULL) || !ot)
        return;
    rinfo *pt = gh_types_rinfo(m->g->types, ot);
    if (!pt || pt->r.kind != GH_KIND_POINTER || !pt->elem)
        return;
    on_hint(m, 0, &(gh_hint){.value = gh_obj_data(o), .type = {.rtype = pt->elem, .count = 1}});
}

/* Go 1.26+ keeps a cleanup as runtime.cleanupFn {call, fn *funcval, arg}:
 * arg points to a box holding the cleanup's argument, whose type is the
 * parameter type of fn. */
static void cleanup_fn(marker *m, const gh_root *r)
{
    uint64_t fv, arg, rt, die;
    gh_types_walk_funcval(m->g->types, r->addr, on_hint, m);
    gh_types_walk_funcval(m->g->types, r->addr + 8, on_hint, m);
    if (gh_read_u64(m->t, r->addr + 8, &fv, NULL) || gh_read_u64(m->t, r->addr + 16, &arg, NULL) || !arg ||
        gh_types_cleanup_arg(m->g->types, fv, &rt, &die))
        return;
    on_hint(m, 0, &(gh_hint){.value = arg, .type = {.rtype = rt, .die = die, .count = 1}});
}

static int root_word(void *ctx, uint64_t index, uint64_t addr, uint64_t value)
{
    marker *m = ctx;
    gh_obj o;
    (void)index, (void)addr;
    if (value && gh_heap_find(m->h, value, &o))
        mark_id(m, o.id);
    return 0;
}

/* mark: what a root holds; types (replay): the types the root's type says
 * (its marking was done: nothing it queues is walked before the roots are
 * done, so only the order of its types matters). */
static void scan_root(marker *m, const gh_root *r, uint32_t idx, int replay)
{
    m->parent = GH_PARENT_ROOT | idx;
    gh_obj o;
    /* A finalizer keeps what its object points to alive, not the object. */
    int has_object = r->object && gh_heap_find(m->h, r->object, &o);
    if (!replay) {
        gh_root_each_word(r, m->t, root_word, m);
        if (has_object) {
            scan_error(m, o.id);
            reach_edges(m, o.id);
        }
        return;
    }
    if (has_object) {
        if (m->g->type[o.id] == 0)
            header_type(m, &o);
        if (m->g->type[o.id] == 0 && r->kind == GH_ROOT_FINALIZER)
            finalized_type(m, r, &o);
        if (m->g->type[o.id] && m->g->type[o.id] != GH_TID_TINY)
            gh_types_walk(m->g->types, m->g->type[o.id], gh_obj_data(&o), data_size(&o), on_hint, m, NULL);
    }
    if (!r->conservative && !r->values && (r->rtype || r->dwarf_type))
        gh_types_walk_value(m->g->types, r->rtype, r->dwarf_type, r->addr, r->size, on_hint, m, NULL);
    else if ((r->kind == GH_ROOT_FINALIZER || r->kind == GH_ROOT_CLEANUP) && !r->values && (r->fn_word || r->size == 8))
        gh_types_walk_funcval(m->g->types, r->fn_word ? r->fn_word : r->addr, on_hint, m); /* the *funcval */
    else if (r->kind == GH_ROOT_CLEANUP && !r->values && r->size == 24)
        cleanup_fn(m, r);
    if (r->arg && r->arg_rtype) /* a queued finalizer's object, as the finalizer was set for it */
        on_hint(m, 0, &(gh_hint){.value = r->arg, .type = {.rtype = r->arg_rtype, .count = 1}});
    if (r->via && r->via_rtype)
        on_hint(m, 0, &(gh_hint){.value = r->via, .type = {.rtype = r->via_rtype, .count = 1}});
}

/* Prefetching ahead of the queue. Marking and typing take objects in
 * breadth-first order, which is random in memory: every object costs a
 * chain of cache misses (its edges, then per edge the target's mark bit,
 * parent, type, allocation bit and span). The queue says which objects come
 * next, so those lines are asked for a few objects ahead, in stages, each
 * stage reading what the one before brought in. Prefetches change nothing
 * but timing. */
#define AHEAD_START 32   /* objects ahead: where their edges are */
#define AHEAD_EDGES 22   /* their edges */
#define AHEAD_TARGETS 14 /* each target's mark bit and parent, or type, allocation bit, slot block */
#define AHEAD_SPANS 8    /* (typing) each target's span */
#define AHEAD_BITS 4     /* (typing) each target's page map entry and heap bits */
#define AHEAD_MAX_EDGES 16 /* edges per object prefetched for (a big array's are not) */

/* The edges of the object q places ahead, at most AHEAD_MAX_EDGES of them;
 * 0 when the queue is not that long yet. */
static int ahead_edges(const marker *m, size_t q, uint32_t *k, uint32_t *end)
{
    if (q >= m->nmarked)
        return 0;
    const gh_edges *e = m->e;
    uint32_t id = m->order[q];
    *k = e->start[id];
    *end = e->start[id + 1];
    if (*end - *k > AHEAD_MAX_EDGES)
        *end = *k + AHEAD_MAX_EDGES;
    return 1;
}

static void prefetch_start(const marker *m, size_t q)
{
    if (q < m->nmarked)
        gh_prefetch(&m->e->start[m->order[q]]);
}

static void prefetch_edges(const marker *m, size_t q)
{
    uint32_t k, end;
    if (!ahead_edges(m, q, &k, &end))
        return;
    gh_prefetch(&m->e->to[k]);
    if (end - k > 8)
        gh_prefetch(&m->e->to[end - 1]);
    /* typing: the object's own span, found by gh_heap_slot */
    gh_prefetch(&m->h->slot_block[m->order[q] >> 6]);
}

/* mark: the lines reaching q's targets will touch. */
static void prefetch_mark_targets(const marker *m, size_t q)
{
    uint32_t k, end;
    if (!ahead_edges(m, q, &k, &end))
        return;
    for (; k < end; k++) {
        uint32_t t = m->e->to[k];
        gh_prefetch(&m->g->marked[t >> 6]);
        gh_prefetch_write(&m->g->parent[t]);
    }
}

/* types: the lines on_hint will touch for q's targets: their type, their
 * allocation bit and where their span is found; and q's own span. */
static void prefetch_type_targets(const marker *m, size_t q)
{
    uint32_t k, end;
    if (!ahead_edges(m, q, &k, &end))
        return;
    const gh_heap *h = m->h;
    uint32_t sb = h->slot_block[m->order[q] >> 6];
    if (sb < h->nspans)
        gh_prefetch(&h->spans[sb]);
    for (; k < end; k++) {
        uint32_t t = m->e->to[k];
        gh_prefetch(&m->g->type[t]);
        gh_prefetch(&m->scanned[t >> 6]);
        gh_prefetch(&h->alloc[t >> 6]);
        gh_prefetch(&h->slot_block[t >> 6]);
    }
}

static void prefetch_type_spans(const marker *m, size_t q)
{
    uint32_t k, end;
    if (!ahead_edges(m, q, &k, &end))
        return;
    const gh_heap *h = m->h;
    for (; k < end; k++) {
        uint32_t sb = h->slot_block[m->e->to[k] >> 6];
        if (sb < h->nspans)
            gh_prefetch(&h->spans[sb]);
    }
}

/* types: the target's page map entry (gh_heap_find) and, for an object with
 * heap bits, its bits (a hint's decision compares them with its type). */
static void prefetch_type_bits(const marker *m, size_t q)
{
    uint32_t k, end;
    if (!ahead_edges(m, q, &k, &end))
        return;
    const gh_heap *h = m->h;
    for (; k < end; k++) {
        uint32_t t = m->e->to[k], sb = h->slot_block[t >> 6];
        if (sb >= h->nspans)
            continue;
        const gh_span *s = &h->spans[sb];
        if (t < s->first || t - s->first >= s->nelems)
            continue; /* a later span of the same block: not worth a search */
        uint64_t addr = s->base + (uint64_t)(t - s->first) * s->elemsize;
        uint64_t i = (addr - h->arena_off) / GH_ARENA_SIZE - h->arena_lo;
        uint32_t a = i < h->arena_span ? h->arena_map[i] : 0;
        if (a) {
            uint64_t page = (addr - gh_heap_arena_start(h, a - 1)) / GH_PAGE_SIZE;
            gh_prefetch(&h->page_span[(uint64_t)(a - 1) * GH_PAGES_PER_ARENA + page]);
        }
        if (s->host > 1 && gh_span_layout(s) == GH_LAYOUT_HEAPBITS) {
            uint64_t span_bytes = s->npages * GH_PAGE_SIZE;
            uint64_t bm = span_bytes - span_bytes / 64 - (s->inline_marks ? 128 : 0);
            gh_prefetch((const uint8_t *)s->host + bm + (addr - s->base) / 64);
        }
    }
}

/* mark: an object taken off the queue reaches what it points to. */
static void mark_object(marker *m, uint32_t id)
{
    m->parent = id;
    scan_error(m, id);
    reach_edges(m, id);
    m->nscanned++;
}

/* types: the objects of the replay a few ahead, found once: their bytes
 * are asked of memory early (the replay knows its order) and handed to the
 * walk. */
typedef struct ahead {
    gh_obj o;
    const uint8_t *host;
    int ok;
} ahead;

static void look_ahead(marker *m, uint32_t id, ahead *a)
{
    __builtin_prefetch(&m->g->type[id]);
    a->ok = gh_heap_slot(m->h, id, &a->o);
    a->host = a->ok ? gh_span_bytes(m->h, a->o.span, a->o.addr, a->o.size) : NULL;
    if (a->host) {
        __builtin_prefetch(a->host);
        if (a->o.size > 64)
            __builtin_prefetch(a->host + 64);
    }
}

/* types: an object as the marker's queue gave it (first) or a retyped one
 * again, walked for the types its own type says. a: the object found
 * ahead, or NULL. */
static void type_object(marker *m, uint32_t id, int first, const ahead *a)
{
    ahead here;
    if (!a) {
        look_ahead(m, id, &here);
        a = &here;
    }
    if (!a->ok)
        return;
    const gh_obj *o = &a->o;
    gh_graph *g = m->g;
    if (g->type[id] == 0)
        header_type(m, o);
    if (first)
        setbit(m->scanned, id);
    gh_tid t = g->type[id];
    uint64_t data = gh_obj_data(o);
    if (t && t != GH_TID_TINY)
        gh_types_walk_at(g->types, t, data, data_size(o), a->host ? a->host + (data - o->addr) : NULL, on_hint, m,
                         NULL);
}

/* Live and garbage totals; garbage gets the types its allocator recorded. */
uint64_t gh_graph_tiny_bytes(const gh_graph *g, gh_tid t, uint64_t *cache, size_t ncache)
{
    if (cache && t < ncache && cache[t])
        return cache[t] - 1;
    const gh_otype *ot = gh_types_get(g->types, t);
    uint64_t b = ot ? gh_types_size(g->types, ot) * ot->count : 0;
    if (cache && t < ncache)
        cache[t] = b + 1;
    return b;
}

static void totals(marker *m)
{
    gh_graph *g = m->g;
    const gh_heap *h = m->h;
    size_t ti = 0, nsz = gh_types_count(g->types) + 1;
    uint64_t *sz = calloc(nsz, sizeof *sz); /* a cache; NULL: looked up each time */
    for (size_t si = 0; si < h->nspans; si++) {
        const gh_span *sp = &h->spans[si];
        if (sp->state != GH_SPAN_INUSE)
            continue;
        for (uint32_t k = 0; k < sp->nelems; k++) {
            uint32_t id = sp->first + k;
            if (!gh_heap_allocated(h, id))
                continue;
            if (!gh_graph_live(g, id)) {
                g->garbage_objects++;
                g->garbage_bytes += sp->elemsize;
                if (gh_span_layout(sp) >= GH_LAYOUT_HEADER && g->type[id] == 0) {
                    gh_obj o;
                    gh_heap_obj(h, sp, k, &o);
                    header_type(m, &o);
                }
                continue;
            }
            g->live_objects++;
            g->live_bytes += sp->elemsize;
            gh_tid t = g->type[id];
            if (t == GH_TID_TINY) {
                /* The block is typed as a whole once a value in it is known:
                 * the allocator records nothing else of it. */
                g->tiny_blocks++;
                g->typed_objects++;
                g->typed_bytes += sp->elemsize;
                while (ti < g->ntiny && gh_tiny_slot(g->tiny[ti]) < id)
                    ti++;
                for (; ti < g->ntiny && gh_tiny_slot(g->tiny[ti]) == id; ti++) {
                    uint64_t b = gh_graph_tiny_bytes(g, gh_tiny_type(g->tiny[ti]), sz, nsz);
                    g->tiny_objects++;
                    g->tiny_typed_bytes += b;
                }
            } else if (t) {
                g->typed_objects++;
                g->typed_bytes += sp->elemsize;
            } else {
                uint32_t p = g->parent[id];
                const gh_otype *pt = (p & GH_PARENT_ROOT) ? NULL : gh_types_get(g->types, g->type[p]);
                if (pt && pt->syn == GH_SYN_CLOSURE)
                    g->untyped_under_closures++;
            }
        }
    }
    free(sz);
}

void gh_graph_free(gh_graph *g)
{
    if (!g)
        return;
    gh_types_free(g->types);
    if (g->map) {
        munmap(g->map, g->map_len);
    } else {
        free(g->marked);
        free(g->parent);
        free(g->type);
    }
    free(g->tiny);
    free(g->rev_start);
    free(g->rev_edges);
    free(g->root_edges);
    gh_edges_free(&g->edges);
    gh_domtree_free(g->dom);
    gh_pending_free(g->pending);
    free(g);
}

int gh_graph_edges(gh_graph *g, gh_cancel *cc, gh_err *err)
{
    if (g->edges.start)
        return GH_OK;
    return gh_edges_build(g->h, gh_types_inputs(g->types)->masks, g->threads, cc, &g->edges, err);
}

/* GOHEAP_TEST_SLOW_MARK=N: sleep N microseconds every 1000 objects marked,
 * so tests can interrupt marking on a small core at a known time. */
static unsigned slow_mark_usec(void)
{
    const char *v = getenv("GOHEAP_TEST_SLOW_MARK");
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 && n <= 10000000 ? (unsigned)n : 0;
}

/* Roots in the marker's order: precise ones first, so that on a tie the path
 * names the variable that holds the pointer rather than a conservatively
 * scanned frame or register. Returns 1 when interrupted. */
static int roots_pass(marker *m, const gh_roots *rs, int replay, const char *phase)
{
    size_t nroots = gh_roots_count(rs);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nroots; i++) {
            const gh_root *r = gh_roots_get(rs, i);
            if ((r->conservative != 0) != pass)
                continue;
            scan_root(m, r, (uint32_t)i, replay);
            if ((i & 1023) == 1023) {
                gh_progress(m->cc, phase, pass * nroots + i, 2 * (uint64_t)nroots);
                if (gh_cancelled(m->cc))
                    return 1;
            }
        }
    gh_progress(m->cc, phase, 2 * (uint64_t)nroots, 2 * (uint64_t)nroots);
    return 0;
}

int gh_graph_build(const gh_heap *h, const gh_roots *rs, const gh_types_env *tenv, int threads, gh_cancel *cc,
                   int partial, gh_graph **out, gh_err *err)
{
    int rc;
    struct timespec t0, t1;
    *out = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    marker m = {.t = tenv->rt->t, .cc = cc, .h = h, .tc = tenv->masks};
    gh_graph *g = calloc(1, sizeof *g);
    size_t ns = h->nslots ? h->nslots : 1, nw = (ns + 63) / 64;
    if (g) {
        g->h = h;
        g->roots = rs;
        g->threads = threads;
        g->types = gh_types_new(tenv);
        g->marked = calloc(nw, 8);
        g->parent = malloc(ns * sizeof *g->parent);
        g->type = calloc(ns, sizeof *g->type);
    }
    m.g = g;
    m.order = malloc(ns * sizeof *m.order);
    if (!g || !g->types || !g->marked || !g->parent || !g->type || !m.order || !m.tc) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for the object graph (%zu slots)", ns);
        goto done;
    }
    gh_bigmem_advise(g->type, ns * sizeof *g->type);
    gh_bigmem_advise(g->parent, ns * sizeof *g->parent);
    gh_bigmem_advise(g->marked, nw * 8);
    gh_bigmem_advise(m.order, ns * sizeof *m.order);
    memset(g->parent, 0xff, ns * sizeof *g->parent);

    /* edges: every object's pointer words, once, in address order. */
    gh_clock c0 = gh_clock_now();
    rc = gh_edges_build(h, tenv->masks, threads, cc, &g->edges, err);
    gh_clock_add(&g->t_edges, c0);
    m.e = &g->edges;
    int stopped = 0;
    if (rc == GH_EINTR && partial) {
        stopped = 1; /* nothing is marked yet: an empty partial graph */
        rc = GH_OK;
    }
    if (rc)
        goto done;

    /* mark and types: one breadth-first walk over the graph. Each object
     * taken off the queue first reaches what it points to (marking), then is
     * walked for the types its own type says (typing); an object typed after
     * its walk is walked again where one walk would have queued it: after
     * order[tag - 1], tag being how many were marked when it was typed. */
    c0 = gh_clock_now();
    m.scanned = calloc(nw, 8);
    m.refined = calloc(nw, 8);
    gh_bigmem_advise(m.scanned, nw * 8);
    gh_bigmem_advise(m.refined, nw * 8);
    m.dec = calloc(DECISIONS, sizeof *m.dec);
    if (!m.scanned || !m.refined || !m.dec) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for the object graph (%zu slots)", ns);
        goto done;
    }
    if (!stopped && roots_pass(&m, rs, 0, "scanning roots")) {
        if (!partial) {
            rc = gh_errorf(err, GH_EINTR, "interrupted while scanning roots");
            goto done;
        }
        stopped = 1;
    }
    m.nroot = m.nmarked;
    m.tagnow = 0; /* the roots' own hints come before anything is walked */
    if (roots_pass(&m, rs, 1, "typing roots")) {
        if (!partial) {
            rc = gh_errorf(err, GH_EINTR, "interrupted while typing roots");
            goto done;
        }
        stopped = 1;
    }
    unsigned slow = slow_mark_usec();
    ahead ring[PREFETCH];
    size_t i = 0, filled = 0; /* first visits done; ring entries found (for order[i, filled)) */
    for (uint64_t n = 0; !stopped && !m.oom; n++) {
        if (m.rqhead < m.rqn && (m.rq[m.rqhead].tag <= i || i >= m.nmarked)) {
            uint32_t id = m.rq[m.rqhead++].id;
            m.tagnow = m.nmarked;
            type_object(&m, id, 0, NULL);
        } else if (i < m.nmarked) {
            ahead a;
            int found = i < filled;
            if (found)
                a = ring[i % PREFETCH];
            for (filled = filled > i + 1 ? filled : i + 1; filled < m.nmarked && filled <= i + PREFETCH; filled++)
                look_ahead(&m, m.order[filled], &ring[filled % PREFETCH]);
            if (i + 2 * PREFETCH < m.nmarked) /* what look_ahead will need then */
                gh_prefetch(&m.h->slot_block[m.order[i + 2 * PREFETCH] >> 6]);
            prefetch_start(&m, i + AHEAD_START);
            prefetch_edges(&m, i + AHEAD_EDGES);
            prefetch_mark_targets(&m, i + AHEAD_TARGETS);
            prefetch_type_targets(&m, i + AHEAD_TARGETS);
            prefetch_type_spans(&m, i + AHEAD_SPANS);
            prefetch_type_bits(&m, i + AHEAD_BITS);
            uint32_t id = m.order[i++];
            mark_object(&m, id);
            m.tagnow = m.nmarked;
            type_object(&m, id, 1, found ? &a : NULL);
        } else {
            break;
        }
        if (n % MARK_STEP == MARK_STEP - 1) {
            if (slow)
                nanosleep(&(struct timespec){slow / 1000000, (long)(slow % 1000000) * 1000}, NULL);
            gh_progress(cc, "marking", m.nscanned, h->nobjects);
            if (gh_cancelled(cc)) {
                if (!partial) {
                    rc = gh_errorf(err, GH_EINTR, "interrupted while marking (%llu of %llu objects scanned)",
                                   (unsigned long long)m.nscanned, (unsigned long long)h->nobjects);
                    goto done;
                }
                stopped = 1;
            }
        }
    }
    if (m.oom) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory while typing");
        goto done;
    }
    gh_progress(cc, "marking", h->nobjects, h->nobjects);
    gh_clock_add(&g->t_mark, c0);

    /* types: what the walk found, totalled. */
    c0 = gh_clock_now();
    g->partial = stopped;
    g->mark_done = m.nscanned;
    g->mark_total = h->nobjects;
    if (g->ntiny && tiny_compact(&m)) { /* sorted and unique, as the graph keeps them */
        rc = gh_errorf(err, GH_ENOMEM, "out of memory sorting %zu values of tiny blocks", g->ntiny);
        goto done;
    }
    if (g->ntiny < m.tcap / 2) { /* give back what the walk's duplicates took */
        gh_tiny *shrunk = realloc(g->tiny, g->ntiny * sizeof *g->tiny);
        if (shrunk)
            g->tiny = shrunk;
    }
    totals(&m);
    gh_clock_add(&g->t_types, c0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    g->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    *out = g;
    g = NULL;
    rc = GH_OK;
done:
    gh_graph_free(g);
    free(m.scanned);
    free(m.refined);
    free(m.dec);
    free(m.order);
    free(m.rq);
    return rc;
}

const char *gh_graph_type_name(const gh_graph *g, uint32_t id, uint64_t size, char *tmp, size_t cap)
{
    gh_tid t = g->type[id];
    if (t && t != GH_TID_TINY)
        return gh_types_name(g->types, t);
    snprintf(tmp, cap, "unknown<%llu>", (unsigned long long)size);
    return tmp;
}

size_t gh_graph_tiny_of(const gh_graph *g, uint32_t slot, size_t *n)
{
    size_t lo = 0, hi = g->ntiny;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (gh_tiny_slot(g->tiny[mid]) < slot)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t k = lo;
    while (k < g->ntiny && gh_tiny_slot(g->tiny[k]) == slot)
        k++;
    *n = k - lo;
    return lo;
}
