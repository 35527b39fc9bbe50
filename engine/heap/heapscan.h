/* Which words of a heap object hold pointers, for every 1.22+ layout:
 * span-tail heap bits (objects up to 512 bytes, shifted by Green Tea's inline
 * mark bits), malloc headers (512 bytes to 32 KiB), and mspan.largeType for
 * large objects, with the type masks of typemask.c (GC programs and
 * on-demand masks included). */
#ifndef GOHEAP_HEAP_HEAPSCAN_H
#define GOHEAP_HEAP_HEAPSCAN_H

#include "heap/heap.h"
#include "rtype/typemask.h"

/* Called for each pointer word: its address and the value it holds. A
 * non-zero return stops the scan and is returned. */
typedef int (*gh_ptr_fn)(void *ctx, uint64_t word_addr, uint64_t value);

/* The type the allocator recorded for the object (malloc header or
 * mspan.largeType): 0 when none is recorded (small or pointer-free objects) or
 * not yet published (caught mid-allocation). */
int gh_heap_obj_type(const gh_heap *h, const gh_obj *o, uint64_t *type, gh_err *err);

/* The pointer words of a GH_LAYOUT_HEAPBITS object (at most 64 words) as
 * one mask, bit w for word w, read from the span's heap bits alone (not the
 * object). GH_EUNSUPP for another layout. */
int gh_heap_obj_ptrmask64(const gh_heap *h, const gh_obj *o, uint64_t *mask, gh_err *err);

/* Scans one allocated object. Objects whose type is not yet published (a
 * header or largeType of 0, caught mid-allocation) have no pointer words;
 * *untyped is set for them when untyped is not NULL. */
int gh_heap_scan_object(const gh_heap *h, gh_typemask_cache *tc, const gh_obj *o, gh_ptr_fn fn, void *ctx,
                        int *untyped, gh_err *err);

#endif
