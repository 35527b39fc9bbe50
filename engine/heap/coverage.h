/* A truncated core's heap: which part of it the model covers. A core cut
 * short loses its highest addresses first, where the runtime keeps its heap
 * metadata (the arena list, mspan records, allocation bitmaps), so the model
 * holds only the in-use spans whose record, pages and allocation bits are
 * all in the file (partial.c); the rest are unreadable, never guessed. Every
 * count over the model is then a count over those spans: never more than
 * the truth, and said with these figures. */
#ifndef GOHEAP_HEAP_COVERAGE_H
#define GOHEAP_HEAP_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

#include "heap/heap.h"

/* An in-use span whose record was read but whose pages or allocation bits
 * were not: [base, end). */
typedef struct gh_lost_span {
    uint64_t base, end;
} gh_lost_span;

typedef struct gh_heap_cov {
    uint64_t file_size, file_want;   /* the core's bytes, and what its program headers describe */
    uint64_t records;                /* mheap_.allspans entries */
    uint64_t entries_lost;           /* of them, unreadable */
    uint64_t records_found;          /* records only heapArena.spans named (allspans' entries were lost) */
    uint64_t records_lost;           /* records named but unreadable */
    uint64_t spans_lost, bytes_lost; /* in-use spans with a record but unreadable pages or allocation bits */
    uint64_t manual_lost;            /* manual spans (stacks, work buffers) whose pages are missing */
    uint64_t arenas_listed, arenas_lost; /* mheap_.heapArenas entries; of them unreadable */
    gh_lost_span *lost;              /* the spans_lost, sorted */
    size_t nlost;
    /* Reachability, said by the session once the graph is built: reads that
     * met missing bytes while collecting roots and marking. */
    int reach_known;
    uint64_t reach_lost_reads;
} gh_heap_cov;

void gh_heap_cov_free(gh_heap_cov *c);

/* In-use span bytes: the runtime's count (mheap_.pagesInUse), or what the
 * records say when that is more. */
uint64_t gh_heap_cov_total(const gh_heap *h);
/* The share of them the model holds, 0 to 100 (100 for a complete heap). */
double gh_heap_cov_percent(const gh_heap *h);
/* Whether every in-use span is in the model (a truncated core whose cut
 * took nothing of the heap). */
int gh_heap_cov_complete(const gh_heap *h);

/* Whether reachability is partial: some in-use span or some memory read
 * while collecting roots and marking is missing. Then objects no root
 * reached are "not reached through readable memory", not garbage, and the
 * dominator tree is not built. 0 for a heap that is not a truncated core's. */
int gh_heap_cov_reach_partial(const gh_heap *h);
/* The session's word on it, after building the graph: reads of missing
 * bytes met while collecting roots and marking. */
void gh_heap_cov_set_reach(gh_heap *h, uint64_t lost_reads);

/* Whether addr may lie in heap memory the model does not hold: no span of
 * the model covers it, and it is in a span known to be unreadable, or in
 * an arena (or, with the arena list unreadable, anywhere) where a span
 * record was lost. 0 for a complete heap. */
int gh_heap_cov_missing(const gh_heap *h, uint64_t addr);

/* The coverage line: "heap: 71% of in-use spans readable (1.8 of 2.5 MiB);
 * counts cover those only". */
void gh_heap_cov_line(const gh_heap *h, char *buf, size_t cap);
/* Why reachability is partial, in a line, or NULL when it is not. */
const char *gh_heap_cov_reach_line(const gh_heap *h);

#endif
