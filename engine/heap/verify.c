/* gh_heap_verify: where every pointer word of the heap leads. */
#include "heap/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heap/heapscan.h"

typedef struct tally {
    const gh_heap *h;
    const gh_region *reg;
    size_t nreg;
    gh_heap_check *c;
} tally;

static int mapped(const tally *t, uint64_t v)
{
    size_t lo = 0, hi = t->nreg;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v < t->reg[mid].start)
            hi = mid;
        else if (v >= t->reg[mid].end)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static int count(void *ctx, uint64_t word, uint64_t v)
{
    tally *t = ctx;
    gh_heap_check *c = t->c;
    c->words++;
    gh_obj o;
    const gh_span *sp;
    if (!v)
        c->nil++;
    else if (gh_heap_find(t->h, v, &o))
        c->heap_obj++;
    else if ((sp = gh_heap_span_of(t->h, v)) && sp->state == GH_SPAN_MANUAL)
        c->manual++;
    else if (sp)
        c->heap_free++;
    else if (mapped(t, v))
        c->mapped++;
    else if (!c->unmapped++) {
        c->first_bad_word = word;
        c->first_bad_value = v;
    }
    return 0;
}

/* GOHEAP_TEST_SLOW_VERIFY=N: sleep N microseconds per span, so tests can
 * interrupt verify on a small core (tests/integration/test_cli.py). */
static long slow_verify_usec(void)
{
    const char *v = getenv("GOHEAP_TEST_SLOW_VERIFY");
    long n = v ? strtol(v, NULL, 10) : 0;
    return n > 0 && n <= 10000000 ? n : 0;
}

int gh_heap_verify(const gh_heap *h, gh_typemask_cache *tc, const gh_region *reg, size_t nreg, gh_cancel *cc,
                   gh_heap_check *out, gh_err *err)
{
    memset(out, 0, sizeof *out);
    tally t = {.h = h, .reg = reg, .nreg = nreg, .c = out};
    long slow = slow_verify_usec();
    for (size_t i = 0; i < h->nspans; i++) {
        const gh_span *sp = &h->spans[i];
        if (sp->state != GH_SPAN_INUSE)
            continue;
        if (slow)
            nanosleep(&(struct timespec){slow / 1000000, slow % 1000000 * 1000}, NULL);
        for (uint32_t k = 0; k < sp->nelems; k++) {
            if (!gh_heap_allocated(h, sp->first + k))
                continue;
            if ((k & 1023) == 0 && gh_cancelled(cc))
                return gh_errorf(err, GH_EINTR, "interrupted: verify stopped after %llu objects",
                                 (unsigned long long)out->objects);
            gh_obj o;
            gh_heap_obj(h, sp, k, &o);
            int u;
            gh_err e;
            out->objects++;
            if (gh_heap_scan_object(h, tc, &o, count, &t, &u, &e) && !out->errors++)
                snprintf(out->first_error, sizeof out->first_error, "%s", e.msg);
            out->untyped += (uint64_t)u;
        }
    }
    return GH_OK;
}
