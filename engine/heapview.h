/* Internal: views of the object graph shared by heap and objects: counts per
 * type, and one walk over every object (tiny sub-objects included). */
#ifndef GOHEAP_HEAPVIEW_H
#define GOHEAP_HEAPVIEW_H

#include "goheap/graph.h"

typedef struct gh_typecount_row {
    const char *name;
    uint64_t live, live_bytes, garbage, garbage_bytes;
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
    int live;
    const char *type; /* valid until the next call */
    int typed;
} gh_objview;

/* Calls fn for every allocated object (live, and garbage when asked), in
 * address order. A non-zero return from fn stops the walk and is returned. */
int gh_objects_each(const gh_graph *g, int live, int garbage, int (*fn)(void *ctx, const gh_objview *o),
                    void *ctx);

#endif
