/* The pointer graph of the heap, built once: one pass over every allocated
 * object in address order (a sequential walk over the mapped core) resolves
 * each pointer word to the object it points into, and writes the result as
 * CSR arrays of 32-bit object ids. Marking, paths and the reverse index then
 * walk these arrays and never chase pointers through the core's pages.
 *
 * Threads take contiguous runs of spans and their runs are joined in
 * address order, so the graph is the same for any number of threads. */
#ifndef GOHEAP_GRAPH_EDGES_H
#define GOHEAP_GRAPH_EDGES_H

#include <stdint.h>

#include "base/cancel.h"
#include "heap/heap.h"
#include "rtype/typemask.h"
#include "runtime/runtime.h"

typedef struct gh_edges {
    uint32_t *start;  /* per slot, nslots + 1 entries: its edges are to[start[id] .. start[id + 1]) */
    uint32_t *to;     /* the slots pointed into, in each object's word order */
    uint64_t n;       /* edges */
    uint64_t *failed; /* bit per slot: its pointer words could not all be read (see gh_heap_scan_object) */
    uint64_t nfailed;
    int threads;      /* threads the pass used */
} gh_edges;

/* Builds the graph of h. masks is the caller's type-mask cache (used by the
 * first thread; the others make their own). threads: how many to use (1 when
 * the target cannot be read from several at once). GH_EINTR when cc says
 * stop. Free with gh_edges_free. */
int gh_edges_build(const gh_heap *h, gh_typemask_cache *masks, int threads, gh_cancel *cc, gh_edges *out,
                   gh_err *err);
void gh_edges_free(gh_edges *e);

/* How many threads to use by default: GOHEAP_THREADS, else the cores online
 * (at most 8). */
int gh_edges_default_threads(void);

#endif
