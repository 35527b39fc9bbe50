/* Internal: views of the object graph shared by heap and objects: counts per
 * type, and one walk over every object (tiny sub-objects included). */
#ifndef GOHEAP_GRAPH_HEAPVIEW_H
#define GOHEAP_GRAPH_HEAPVIEW_H

#include "graph/graph.h"

typedef struct gh_typecount_row {
    gh_tid tid;       /* 0: untyped objects of one slot size */
    const char *name;
    uint64_t live, live_bytes, garbage, garbage_bytes;
    uint64_t pending, pending_bytes; /* pending finalization (pending.h): not in garbage */
    uint64_t tiny_live, tiny_live_bytes; /* of live: values inside tiny blocks */
} gh_typecount_row;

typedef struct gh_typecount {
    gh_typecount_row *v;
    size_t n;
    char *unknown_names; /* storage for "unknown<N>" names */
} gh_typecount;

int gh_typecount_build(const gh_graph *g, int with_garbage, gh_typecount *out, gh_err *err);
void gh_typecount_free(gh_typecount *tc);

/* One object as listed: a heap slot, or a typed sub-object of a tiny block. */
typedef struct gh_objview {
    uint64_t addr, size;
    uint32_t id;      /* slot */
    gh_tid tid;       /* 0 when untyped */
    int live;
    int pending;      /* unreachable, with a finalizer or cleanup (pending.h) */
    const char *type; /* valid until the next call */
    int typed;
    int tiny;         /* a sub-object of a tiny block */
    uint8_t spanclass;
} gh_objview;

/* Where a walk over the objects stands: start from {0}. */
typedef struct gh_objpos {
    size_t span;
    uint32_t slot;
    size_t sub;       /* next tiny sub-object of the slot, when in one */
    int in_tiny;
    char tmp[48];     /* "unknown<N>" of the last object */
} gh_objpos;

/* Which unreachable objects a walk gives (its garbage argument): garbage,
 * objects pending finalization (pending.h), or both. */
#define GH_VIEW_GARBAGE 1
#define GH_VIEW_PENDING 2

/* The next allocated object (live when asked, and the unreachable ones
 * garbage says) in address order: 1 and *o filled, or 0 at the end. */
int gh_objects_next_view(const gh_graph *g, int live, int garbage, gh_objpos *pos, gh_objview *o);

/* Calls fn for every allocated object (live, and unreachable ones as for
 * gh_objects_next_view), in address order. A non-zero return from fn stops
 * the walk and is returned. */
int gh_objects_each(const gh_graph *g, int live, int garbage, int (*fn)(void *ctx, const gh_objview *o),
                    void *ctx);

#endif
