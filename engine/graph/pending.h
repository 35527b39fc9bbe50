/* Objects pending finalization: allocated, unreachable, with a finalizer
 * or a cleanup (runtime.SetFinalizer, runtime.AddCleanup). They are neither
 * live nor garbage. The next collection queues a finalizer and keeps its
 * object alive until it has run (its referents are live already: the
 * finalizer record is a root for them); it frees a cleanup's object and
 * queues the cleanup. */
#ifndef GOHEAP_GRAPH_PENDING_H
#define GOHEAP_GRAPH_PENDING_H

#include "graph/graph.h"

/* One finalizer or cleanup of an object pending finalization. */
typedef struct gh_pending_obj {
    uint32_t id;   /* its slot */
    uint32_t root; /* index of the finalizer or cleanup root in g->roots */
} gh_pending_obj;

typedef struct gh_pending {
    gh_pending_obj *v; /* sorted by slot; an object with several cleanups has several */
    size_t n;
    uint64_t *bits;    /* bit per slot: pending */
} gh_pending;

/* Finds the objects pending finalization of a complete graph (the objects
 * of its finalizer and cleanup records that are not live), and moves them
 * from its garbage totals to g->pending_objects and pending_bytes. Once per
 * graph: the session calls it after marking or loading (after saving, so a
 * saved index keeps the marker's totals). GH_ENOMEM when out of memory. */
int gh_graph_pending(gh_graph *g, gh_err *err);
void gh_pending_free(gh_pending *p);

/* Whether slot id is pending finalization (0 before gh_graph_pending). */
static inline int gh_graph_is_pending(const gh_graph *g, uint32_t id)
{
    return g->pending && (g->pending->bits[id >> 6] >> (id & 63)) & 1;
}

/* The first finalizer or cleanup of a pending object and how many it has
 * (*n), or NULL when it is not pending. */
const gh_pending_obj *gh_graph_pending_find(const gh_graph *g, uint32_t id, size_t *n);

#endif
