/* gh_bigmem_advise: huge pages for big randomly accessed arrays. */
#include "base/bigmem.h"

#include <stdint.h>
#include <sys/mman.h>

#define HUGE (UINT64_C(2) << 20)

void gh_bigmem_advise(void *p, size_t len)
{
#ifdef MADV_HUGEPAGE
    uintptr_t lo = ((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1);
    uintptr_t hi = ((uintptr_t)p + len) & ~(uintptr_t)(HUGE - 1);
    if (p && hi > lo)
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p, (void)len;
#endif
}
