/* Inside the heap layer: the steps of heap.c that the loader of a truncated
 * core's heap (partial.c) shares. */
#ifndef GOHEAP_HEAP_HEAP_INT_H
#define GOHEAP_HEAP_HEAP_INT_H

#include "heap/coverage.h"
#include "heap/heap.h"

/* arena_map and an empty page_span for h->narenas arenas in h->arena_idx
 * (sorted, distinct, under 2^22). */
int gh_heap_index_arenas(gh_heap *h, gh_err *err);
/* Decodes one mspan record (buf, of the layout's size) read at addr: 1 when
 * kept (in use or manual, consistent, inside h's arenas), 0 when dead or
 * rejected (counted in h->bad_spans). */
int gh_heap_decode_span(gh_heap *h, uint64_t addr, const uint8_t *buf, gh_span *s);
/* Sorts h->spans by address, dropping one that overlaps an earlier one. */
void gh_heap_sort_spans(gh_heap *h);
/* The rest of the model from h->spans: the page map, allocation bits, slot
 * index and the runtime's statistics. */
int gh_heap_finish(gh_heap *h, gh_cancel *cc, gh_err *err);

/* partial.c: the arenas and spans of a truncated core that can be read, in
 * place of load_arenas and load_spans; sets h->cov. GH_EMEM when no in-use
 * span can be read at all. */
int gh_heap_load_partial(gh_heap *h, gh_cancel *cc, gh_err *err);

#endif
