/* The object graph: every allocated object live or garbage, how each live
 * object was first reached (its parent, for shortest paths), and its type.
 * Flat arrays indexed by the heap's slot numbers: 8 bytes and 2 bits per
 * slot, no per-pointer lookups. Built once per session and target state. */
#ifndef GOHEAP_GRAPH_GRAPH_H
#define GOHEAP_GRAPH_GRAPH_H

#include <stdint.h>

#include "base/clock.h"
#include "graph/edges.h"

#include "types/gotype.h"
#include "heap/heap.h"
#include "roots/roots.h"

#define GH_PARENT_NONE UINT32_MAX
#define GH_PARENT_ROOT 0x80000000u /* | root index */
#define GH_TID_TINY UINT32_MAX     /* a tiny-allocator block holding typed sub-objects */

/* A typed sub-object of a tiny block (pointer-free objects under 16 bytes
 * share 16-byte blocks), packed in 8 bytes: slot << 32 | offset << 28 |
 * type id (ids under GH_TINY_TID_LIMIT). Sorted, a slot's are together, by
 * offset. */
typedef uint64_t gh_tiny;
#define GH_TINY_TID_LIMIT (UINT32_C(1) << 28)
static inline gh_tiny gh_tiny_make(uint32_t slot, unsigned off, gh_tid type)
{
    return (uint64_t)slot << 32 | (uint64_t)(off & 15) << 28 | (type & (GH_TINY_TID_LIMIT - 1));
}
static inline uint32_t gh_tiny_slot(gh_tiny t) { return (uint32_t)(t >> 32); }
static inline unsigned gh_tiny_off(gh_tiny t) { return (unsigned)(t >> 28 & 15); }
static inline gh_tid gh_tiny_type(gh_tiny t) { return (gh_tid)(t & (GH_TINY_TID_LIMIT - 1)); }

typedef struct gh_graph {
    const gh_heap *h;
    const gh_roots *roots;
    gh_types *types;
    uint64_t *marked;   /* bit per slot: live */
    uint32_t *parent;   /* per slot: slot that first reached it, or GH_PARENT_ROOT | root */
    gh_tid *type;       /* per slot */
    gh_tiny *tiny;      /* sorted by (slot, off) */
    size_t ntiny;
    /* Totals */
    uint64_t live_objects, live_bytes, typed_bytes, typed_objects;
    uint64_t garbage_objects, garbage_bytes; /* pending finalization left out once found (pending.h) */
    uint64_t pending_objects, pending_bytes; /* unreachable with a finalizer or cleanup (pending.h) */
    uint64_t tiny_blocks, tiny_objects, tiny_typed_bytes;
    uint64_t untyped_under_closures; /* live untyped objects first reached from a closure */
    uint64_t hints_rejected;   /* type hints that contradicted an object's pointer bits */
    uint64_t scan_errors;
    char first_scan_error[512];
    double seconds;
    /* Where marking spent its time (the session adds them to its phases). */
    gh_clock t_edges, t_mark, t_types;
    /* Marking was interrupted and the caller took what was marked so far
     * (gh_session_graph_partial): the totals count only what was reached. */
    int partial;
    /* A truncated core's heap or roots are missing (heap/coverage.h): objects
     * marking did not reach are "not reached through readable memory", not
     * garbage; no pending finalization and no dominator tree are made. */
    int reach_partial;
    uint64_t mark_done, mark_total; /* objects scanned, of the allocated objects */
    /* Built by paths --max on first use: who points to each live object
     * (CSR: rev_edges[rev_start[id] .. rev_start[id+1])), and which roots. */
    uint32_t *rev_start, *rev_edges;
    gh_edges edges;     /* what each object points to (edges.h); built again on use after a load */
    void *root_edges;
    size_t nroot_edges;
    int threads;        /* for building the edges */
    /* A graph loaded from a saved index (store.h): marked, parent and type
     * point into this private mapping of the index file. */
    void *map;
    size_t map_len;
    struct gh_domtree *dom; /* the dominator tree, built on first use (dominators.h) */
    struct gh_pending *pending; /* objects pending finalization (pending.h), NULL until found */
} gh_graph;

static inline int gh_graph_live(const gh_graph *g, uint32_t id) { return (g->marked[id >> 6] >> (id & 63)) & 1; }

/* Marks the heap h from the roots rs, typing objects with a type table made
 * from tenv: the pointer graph first (threads of them: edges.h), then
 * marking on it, then typing. cc (may be NULL) is polled every thousand
 * objects: with partial set, an interrupt ends the work early and the graph
 * comes back with g->partial set; without, it is GH_EINTR. Free with
 * gh_graph_free. */
int gh_graph_build(const gh_heap *h, const gh_roots *rs, const gh_types_env *tenv, int threads, gh_cancel *cc,
                   int partial, gh_graph **out, gh_err *err);
void gh_graph_free(gh_graph *g);

/* The pointer edges of g, built now when g was loaded without them (a saved
 * index keeps none). cc may be NULL. */
int gh_graph_edges(gh_graph *g, gh_cancel *cc, gh_err *err);

/* Type name of an object (heap-wide slot id), "unknown<size>" when untyped;
 * tmp holds the latter. */
const char *gh_graph_type_name(const gh_graph *g, uint32_t id, uint64_t size, char *tmp, size_t cap);

/* The bytes of a tiny value of type t; cache (ncache entries, zeroed, or
 * NULL) keeps what was looked up, for loops over many values. */
uint64_t gh_graph_tiny_bytes(const gh_graph *g, gh_tid t, uint64_t *cache, size_t ncache);

/* The tiny sub-objects of a slot: first index into g->tiny and count. */
size_t gh_graph_tiny_of(const gh_graph *g, uint32_t slot, size_t *n);

#endif
