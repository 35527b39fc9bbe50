/* Memory by class (binary sections, heap objects, free slots, span tails,
 * manual spans, free arena pages, runtime metadata), reconciled with the
 * runtime's own accounting read from the same target. */
#ifndef GOHEAP_HEAP_BREAKDOWN_H
#define GOHEAP_HEAP_BREAKDOWN_H

#include "binary/exe.h"
#include "goheap/goheap.h" /* gh_breakdown */
#include "heap/heap.h"

void gh_heap_breakdown(const gh_heap *h, const gh_exe *exe, gh_breakdown *out);

/* Checks whose numbers differ without an explanation. */
int gh_breakdown_unexplained(const gh_breakdown *b);

#endif
