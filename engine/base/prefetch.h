/* Asking memory for a line ahead of its use. */
#ifndef GOHEAP_BASE_PREFETCH_H
#define GOHEAP_BASE_PREFETCH_H

/* GCC 12 drops a __builtin_prefetch whose address is loaded under a
 * condition inside a loop (the loads, having no other use, go with it):
 * the empty asm makes the address a use of its own. */
static inline void gh_prefetch(const void *p)
{
    __asm__ volatile("" : : "r"(p));
    __builtin_prefetch(p);
}

static inline void gh_prefetch_write(const void *p)
{
    __asm__ volatile("" : : "r"(p));
    __builtin_prefetch(p, 1);
}

#endif
