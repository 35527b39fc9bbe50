/* The pointer graph: every object's pointer words resolved to objects, in
 * one address-order pass split across threads (see edges.h). */
#include "graph/edges.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bigmem.h"
#include "base/prefetch.h"
#include "base/vec.h"
#include "heap/heapscan.h"

#define MAX_THREADS 8
#define STEP 4096 /* objects between interrupt checks and progress reports */

/* Pointer words in flight: each word's lookups (page map entry, span,
 * allocation bit) are asked of memory a few words before they are used, in
 * stages, since the words of address-ordered objects point all over the
 * heap. Words leave the ring in the order they came, so the edges stay in
 * each object's word order. */
#define RING 16       /* words in flight (a power of two) */
#define RING_SPAN 5   /* words after it came: its span is asked for */
#define RING_ALLOC 10 /* words after it came: its allocation bit */

typedef struct pending {
    uint64_t value;
    uint64_t page;    /* index into the heap's page map, or UINT64_MAX: not in an arena */
    uint32_t src;     /* the slot holding the word */
} pending;

typedef struct worker {
    const gh_heap *h;
    gh_typemask_cache *tc;
    size_t span_lo, span_hi;   /* its spans: [span_lo, span_hi) */
    uint32_t *cnt;             /* shared, per slot: edges of the slot (each worker writes its own slots) */
    uint32_t *to;              /* its edges, in slot order */
    size_t n, cap;
    uint32_t *failed;          /* its slots whose words could not all be read */
    size_t nfailed, capfailed;
    uint32_t cur;              /* the slot being scanned */
    uint64_t done;             /* objects scanned */
    atomic_int *stop;          /* set when a worker fails or the user interrupts */
    gh_cancel *cc;             /* polled by the first worker only (front ends' callbacks are not thread-safe) */
    uint64_t total;            /* objects of all workers, for progress */
    int nthreads;
    int oom;
    int rc;
    gh_err err;
    pending ring[RING];
    uint64_t pushed, popped;   /* words into and out of the ring */
} worker;

static uint64_t page_index(const gh_heap *h, uint64_t addr)
{
    uint64_t i = (addr - h->arena_off) / GH_ARENA_SIZE - h->arena_lo;
    uint32_t a = i < h->arena_span ? h->arena_map[i] : 0;
    if (!a)
        return UINT64_MAX;
    return (uint64_t)(a - 1) * GH_PAGES_PER_ARENA + (addr - gh_heap_arena_start(h, a - 1)) / GH_PAGE_SIZE;
}

/* The word leaving the ring: an edge if it points into an allocated object. */
static int settle(worker *w)
{
    const pending *p = &w->ring[w->popped++ & (RING - 1)];
    gh_obj o;
    if (p->page == UINT64_MAX || !gh_heap_find(w->h, p->value, &o))
        return 0;
    if (w->n == w->cap) {
        if (gh_grow(&w->to, &w->cap, w->n + 1, sizeof *w->to)) {
            w->oom = 1;
            return 1; /* stops the scan */
        }
        gh_bigmem_advise(w->to, w->cap * sizeof *w->to); /* read in marking order: random */
    }
    if (w->cnt[p->src] == UINT32_MAX) {
        w->rc = gh_errorf(&w->err, GH_EUNSUPP, "object in slot %u has over 2^32 pointers", p->src);
        return 1;
    }
    w->to[w->n++] = o.id;
    w->cnt[p->src]++;
    return 0;
}

static int on_word(void *ctx, uint64_t word_addr, uint64_t value)
{
    worker *w = ctx;
    const gh_heap *h = w->h;
    (void)word_addr;
    if (!value)
        return 0;
    if (w->pushed - w->popped == RING && settle(w))
        return 1;
    pending *p = &w->ring[w->pushed & (RING - 1)];
    p->value = value;
    p->src = w->cur;
    p->page = page_index(h, value);
    if (p->page != UINT64_MAX)
        gh_prefetch(&h->page_span[p->page]);
    w->pushed++;
    if (w->pushed - w->popped > RING_SPAN) {
        const pending *q = &w->ring[(w->pushed - 1 - RING_SPAN) & (RING - 1)];
        uint32_t si = q->page == UINT64_MAX ? 0 : h->page_span[q->page];
        if (si)
            gh_prefetch(&h->spans[si - 1]);
    }
    if (w->pushed - w->popped > RING_ALLOC) {
        const pending *q = &w->ring[(w->pushed - 1 - RING_ALLOC) & (RING - 1)];
        uint32_t si = q->page == UINT64_MAX ? 0 : h->page_span[q->page];
        const gh_span *s = si ? &h->spans[si - 1] : NULL;
        if (s && s->state == GH_SPAN_INUSE && q->value >= s->base && q->value < s->limit) {
            uint64_t off = q->value - s->base;
            uint32_t slot = s->divmul ? (uint32_t)((off * s->divmul) >> 32) : (uint32_t)(off / s->elemsize);
            gh_prefetch(&h->alloc[(s->first + (uint64_t)slot) >> 6]);
        }
    }
    return 0;
}

/* The words still in the ring, at the end of the worker's spans. */
static void drain(worker *w)
{
    while (w->popped < w->pushed && !w->oom && !w->rc)
        if (settle(w))
            break;
}

static void *work(void *arg)
{
    worker *w = arg;
    const gh_heap *h = w->h;
    for (size_t si = w->span_lo; si < w->span_hi && !w->rc; si++) {
        const gh_span *sp = &h->spans[si];
        if (sp->state != GH_SPAN_INUSE || gh_span_noscan(sp))
            continue;
        for (uint32_t k = 0; k < sp->nelems; k++) {
            uint32_t id = sp->first + k;
            if (!gh_heap_allocated(h, id))
                continue;
            gh_obj o;
            gh_heap_obj(h, sp, k, &o);
            w->cur = id;
            gh_err e;
            int rc = gh_heap_scan_object(h, w->tc, &o, on_word, w, NULL, &e);
            if (w->oom) {
                w->rc = gh_errorf(&w->err, GH_ENOMEM, "out of memory for the pointer graph (%zu edges)", w->n);
                break;
            }
            if (w->rc)
                break;
            if (rc && gh_grow(&w->failed, &w->capfailed, w->nfailed + 1, sizeof *w->failed) == 0)
                w->failed[w->nfailed++] = id;
            if (++w->done % STEP == 0) {
                if (w->cc) {
                    /* this worker does about 1/nthreads of the objects */
                    uint64_t d = w->done * (uint64_t)w->nthreads;
                    gh_progress(w->cc, "reading pointers", d < w->total ? d : w->total - 1, w->total);
                    if (gh_cancelled(w->cc))
                        atomic_store(w->stop, 1);
                }
                if (atomic_load(w->stop)) {
                    w->rc = gh_errorf(&w->err, GH_EINTR, "interrupted while reading pointers");
                    break;
                }
            }
        }
    }
    if (!w->rc) {
        drain(w);
        if (w->oom)
            w->rc = gh_errorf(&w->err, GH_ENOMEM, "out of memory for the pointer graph (%zu edges)", w->n);
    }
    if (w->rc)
        atomic_store(w->stop, 1);
    return NULL;
}

int gh_edges_default_threads(void)
{
    const char *v = getenv("GOHEAP_THREADS");
    long n = v ? strtol(v, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

void gh_edges_free(gh_edges *e)
{
    free(e->start);
    free(e->to);
    free(e->failed);
    memset(e, 0, sizeof *e);
}

int gh_edges_build(const gh_heap *h, gh_typemask_cache *masks, int threads, gh_cancel *cc, gh_edges *out,
                   gh_err *err)
{
    memset(out, 0, sizeof *out);
    size_t ns = h->nslots;
    if (threads < 1)
        threads = 1;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    /* Split the spans that hold pointers into runs of about equal bytes. */
    uint64_t bytes = 0; /* pages */
    for (size_t i = 0; i < h->nspans; i++)
        if (h->spans[i].state == GH_SPAN_INUSE && !gh_span_noscan(&h->spans[i]))
            bytes += h->spans[i].npages;
    if (bytes < 16) /* a tiny heap is not worth a thread (pages of spans with pointers) */
        threads = 1;
    worker w[MAX_THREADS];
    atomic_int stop = 0;
    memset(w, 0, sizeof w);
    out->start = calloc(ns + 1, sizeof *out->start);
    out->failed = calloc(ns / 64 + 1, 8);
    int rc = GH_OK;
    if (!out->start || !out->failed) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for the pointer graph (%zu slots)", ns);
        goto done;
    }
    gh_bigmem_advise(out->start, (ns + 1) * sizeof *out->start);
    uint32_t *cnt = out->start + 1;
    size_t si = 0;
    uint64_t acc = 0;
    for (int t = 0; t < threads; t++) {
        w[t] = (worker){.h = h, .cnt = cnt, .stop = &stop, .cc = t == 0 ? cc : NULL, .total = h->nobjects,
                        .nthreads = threads};
        w[t].span_lo = si;
        uint64_t want = bytes * (uint64_t)(t + 1) / (uint64_t)threads;
        while (si < h->nspans && (t == threads - 1 || acc < want)) {
            if (h->spans[si].state == GH_SPAN_INUSE && !gh_span_noscan(&h->spans[si]))
                acc += h->spans[si].npages;
            si++;
        }
        w[t].span_hi = t == threads - 1 ? h->nspans : si;
        if (t == 0) {
            w[t].tc = masks;
        } else if (!(w[t].tc = gh_typemask_cache_new(h->rt->t, h->rt->ver.minor))) {
            rc = gh_errorf(err, GH_ENOMEM, "out of memory");
            goto done;
        } else {
            uint64_t ip = gh_runtime_sym(h->rt, "runtime.inProgress");
            if (ip)
                gh_typemask_cache_set_inprogress(w[t].tc, ip);
        }
    }
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, work, &w[t]) == 0;
    for (int t = 1; t < threads; t++)
        if (!started[t])
            work(&w[t]); /* no thread to be had: do its share here, in order */
    work(&w[0]);
    for (int t = 1; t < threads; t++)
        if (started[t])
            pthread_join(tid[t], NULL);
    gh_progress(cc, "reading pointers", h->nobjects, h->nobjects);
    for (int t = 0; t < threads; t++) {
        if (w[t].rc && (!rc || rc == GH_EINTR)) {
            rc = w[t].rc;
            if (err)
                *err = w[t].err;
        }
    }
    if (rc)
        goto done;
    /* Counts to offsets, then the runs joined in address order. */
    uint64_t total = 0;
    for (int t = 0; t < threads; t++)
        total += w[t].n;
    if (total > UINT32_MAX) {
        rc = gh_errorf(err, GH_EUNSUPP, "the heap holds over 2^32 pointers to objects");
        goto done;
    }
    out->start[0] = 0;
    for (size_t i = 0; i < ns; i++)
        out->start[i + 1] += out->start[i];
    out->to = w[0].to;
    w[0].to = NULL;
    size_t cap = w[0].cap;
    if (gh_grow(&out->to, &cap, total ? total : 1, sizeof *out->to)) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for the pointer graph (%llu edges)", (unsigned long long)total);
        goto done;
    }
    uint64_t at = w[0].n;
    for (int t = 1; t < threads; t++) {
        if (w[t].n)
            memcpy(out->to + at, w[t].to, w[t].n * sizeof *out->to);
        at += w[t].n;
    }
    out->n = total;
    for (int t = 0; t < threads; t++)
        for (size_t k = 0; k < w[t].nfailed; k++) {
            out->failed[w[t].failed[k] >> 6] |= UINT64_C(1) << (w[t].failed[k] & 63);
            out->nfailed++;
        }
    out->threads = threads;
done:
    for (int t = 0; t < threads; t++) {
        free(w[t].to);
        free(w[t].failed);
        if (t > 0)
            gh_typemask_cache_free(w[t].tc);
    }
    if (rc)
        gh_edges_free(out);
    return rc;
}
