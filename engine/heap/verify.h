/* Reading every pointer word of every allocated object through its pointer
 * layout and tallying where the pointers lead: on a sound core nearly every
 * pointer leads to an allocated object or mapped memory; many that do not
 * mean a layout was misread or the core is damaged. */
#ifndef GOHEAP_HEAP_VERIFY_H
#define GOHEAP_HEAP_VERIFY_H

#include "base/cancel.h"
#include "heap/heap.h"
#include "rtype/typemask.h"

typedef struct gh_heap_check {
    uint64_t objects, words;
    uint64_t nil, heap_obj, heap_free, manual, mapped, unmapped;
    uint64_t first_bad_word, first_bad_value; /* the first word pointing nowhere mapped */
    uint64_t untyped;     /* objects whose type was not published yet (mid-allocation) */
    uint64_t errors;      /* objects that could not be scanned */
    char first_error[512];
} gh_heap_check;

/* regions: the target's mapped regions (sorted), for "mapped elsewhere".
 * GH_EINTR when cc says stop. */
int gh_heap_verify(const gh_heap *h, gh_typemask_cache *tc, const gh_region *reg, size_t nreg, gh_cancel *cc,
                   gh_heap_check *out, gh_err *err);

#endif
