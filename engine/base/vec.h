/* The one growable array: every list the engine builds grows through
 * gh_grow, which doubles, checks the size arithmetic for overflow, and
 * leaves the array as it was when memory runs out. */
#ifndef GOHEAP_BASE_VEC_H
#define GOHEAP_BASE_VEC_H

#include <stddef.h>

/* Makes the array *pdata (a T *, passed as &ptr) of elem-byte elements hold
 * at least need of them; *cap is its capacity in elements. 0, or -1 when out
 * of memory or need * elem overflows (then *pdata and *cap are unchanged). */
int gh_grow(void *pdata, size_t *cap, size_t need, size_t elem);

/* A typed array with its length and capacity, for new code:
 *   GH_VEC(uint32_t) ids = {0};
 *   if (GH_VEC_PUSH(&ids, 7)) return GH_ENOMEM;
 *   ... free(ids.v); */
#define GH_VEC(T) struct { T *v; size_t n, cap; }
#define GH_VEC_PUSH(vec, item) \
    (gh_grow(&(vec)->v, &(vec)->cap, (vec)->n + 1, sizeof *(vec)->v) ? -1 : ((vec)->v[(vec)->n++] = (item), 0))

#endif
