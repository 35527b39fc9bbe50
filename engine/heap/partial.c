/* The heap of a truncated core: the arenas and in-use spans whose metadata
 * and memory the file still holds. The span records come from the readable
 * entries of mheap_.allspans, and, where entries were lost, from the
 * heapArena.spans arrays still readable; the arenas from the readable
 * entries of the arena list and from those spans; the page map is goheap's
 * own, built from the records (heap.c). A span whose record, pages or
 * allocation bits are missing is left out and counted (coverage.h). */
#include "heap/heap_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"

#define MAX_ARENAS (1u << 22)
#define MAX_SPANS (1u << 27)
#define UNREAD UINT64_MAX /* a word read_words could not read */
#define CHUNK 512         /* words per read */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_lost(const void *a, const void *b)
{
    const gh_lost_span *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

/* Sorts v[0..n) and drops repeats: the new count. */
static size_t sort_unique(uint64_t *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_u64);
    size_t w = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[w - 1])
            v[w++] = v[i];
    return w;
}

/* n words at addr into out, a chunk at a time and word by word where a chunk
 * does not read: unreadable words become UNREAD. Returns how many, or
 * UINT64_MAX when interrupted. */
static uint64_t read_words(const gh_target *t, gh_cancel *cc, uint64_t addr, uint64_t n, uint64_t *out)
{
    uint64_t lost = 0;
    for (uint64_t i = 0; i < n; i += CHUNK) {
        uint64_t k = n - i < CHUNK ? n - i : CHUNK;
        if ((i & (CHUNK * 64 - 1)) == 0 && gh_cancelled(cc))
            return UINT64_MAX;
        if (gh_read(t, addr + i * 8, out + i, k * 8, NULL) == GH_OK)
            continue;
        for (uint64_t j = i; j < i + k; j++)
            if (gh_read_u64(t, addr + j * 8, &out[j], NULL)) {
                out[j] = UNREAD;
                lost++;
            }
    }
    return lost;
}

/* Whether all of [addr, addr+len) is in the target: in place when it is one
 * piece of the core, else read through scratch (64 KiB). */
static int readable(const gh_target *t, uint64_t addr, uint64_t len, uint8_t *scratch)
{
    if (addr + len < addr)
        return 0;
    if (gh_direct(t, addr, len))
        return 1;
    for (uint64_t off = 0; off < len; off += 65536)
        if (gh_read(t, addr + off, scratch, len - off < 65536 ? len - off : 65536, NULL))
            return 0;
    return 1;
}

typedef struct loader {
    gh_heap *h;
    gh_heap_cov *cov;
    gh_cancel *cc;
    uint8_t *rec;      /* one mspan record */
    uint8_t *scratch;  /* 64 KiB */
    uint64_t *ptrs;    /* span record addresses */
    size_t nptrs, cap_ptrs;
    uint64_t *keep;    /* records of the spans the model takes */
    size_t nkeep, cap_keep;
    uint64_t *arenas;  /* arena indexes */
    size_t narenas, cap_arenas;
    size_t cap_lost;
    uint64_t l2;       /* mheap_.arenas[0] */
    uint64_t inuse_kept;
} loader;

static int nomem(gh_err *err) { return gh_errorf(err, GH_ENOMEM, "out of memory reading a truncated core's heap"); }

static int push(uint64_t **v, size_t *n, size_t *cap, uint64_t x, gh_err *err)
{
    if (gh_grow(v, cap, *n + 1, sizeof **v))
        return nomem(err);
    (*v)[(*n)++] = x;
    return GH_OK;
}

/* The heapArena of arena index idx (mheap_.arenas[0][idx]); 0 when that
 * entry is missing or empty. */
static uint64_t arena_meta(const loader *L, uint64_t idx)
{
    uint64_t m;
    return L->l2 && !gh_read_u64(L->h->rt->t, L->l2 + idx * 8, &m, NULL) ? m : 0;
}

/* The readable entries of the arena list. */
static int list_arenas(loader *L, gh_err *err)
{
    const gh_runtime *rt = L->h->rt;
    uint64_t ptr, len;
    int rc = gh_read_u64(rt->t, rt->mheap + rt->L.mheap.heapArenas.offset, &ptr, err);
    if (!rc)
        rc = gh_read_u64(rt->t, rt->mheap + rt->L.mheap.heapArenas.offset + 8, &len, err);
    if (rc)
        return gh_err_wrap(err, "reading mheap_.heapArenas");
    if (len > MAX_ARENAS)
        return gh_errorf(err, GH_EFORMAT, "implausible number of heap arenas: %llu", (unsigned long long)len);
    if ((rc = gh_read_u64(rt->t, rt->mheap + rt->L.mheap.arenas.offset, &L->l2, err)))
        return gh_err_wrap(err, "reading mheap_.arenas");
    uint64_t *v = malloc((len ? len : 1) * 8);
    if (!v)
        return nomem(err);
    uint64_t lost = read_words(rt->t, L->cc, ptr, len, v);
    if (lost == UINT64_MAX) {
        free(v);
        return gh_errorf(err, GH_EINTR, "interrupted while reading the arena list");
    }
    L->cov->arenas_listed = len;
    L->cov->arenas_lost = lost;
    for (uint64_t i = 0; i < len && !rc; i++)
        if (v[i] < MAX_ARENAS)
            rc = push(&L->arenas, &L->narenas, &L->cap_arenas, v[i], err);
    free(v);
    return rc;
}

/* Span record addresses: allspans' readable entries, and where some were
 * lost, the records the readable heapArena.spans arrays name. */
static int list_records(loader *L, gh_err *err)
{
    const gh_runtime *rt = L->h->rt;
    uint64_t ptr, len;
    int rc = gh_read_u64(rt->t, rt->mheap + rt->L.mheap.allspans.offset, &ptr, err);
    if (!rc)
        rc = gh_read_u64(rt->t, rt->mheap + rt->L.mheap.allspans.offset + 8, &len, err);
    if (rc)
        return gh_err_wrap(err, "reading mheap_.allspans");
    if (len > MAX_SPANS)
        return gh_errorf(err, GH_EFORMAT, "implausible mheap_.allspans length %llu", (unsigned long long)len);
    if (!(L->ptrs = malloc((len ? len : 1) * 8)))
        return nomem(err);
    L->cap_ptrs = len ? len : 1;
    uint64_t lost = read_words(rt->t, L->cc, ptr, len, L->ptrs);
    if (lost == UINT64_MAX)
        return gh_errorf(err, GH_EINTR, "interrupted while reading mheap_.allspans");
    L->cov->records = len;
    L->cov->entries_lost = lost;
    size_t w = 0;
    for (uint64_t i = 0; i < len; i++)
        if (L->ptrs[i] != UNREAD && L->ptrs[i])
            L->ptrs[w++] = L->ptrs[i];
    L->nptrs = sort_unique(L->ptrs, w);
    if (!lost)
        return GH_OK;
    /* Entries were lost: the records the arenas' page maps still name. */
    size_t named = L->nptrs;
    uint64_t *pages = malloc(GH_PAGES_PER_ARENA * 8);
    if (!pages)
        return nomem(err);
    for (size_t a = 0; a < L->narenas && !rc; a++) {
        uint64_t meta = arena_meta(L, L->arenas[a]);
        if (!meta)
            continue;
        uint64_t n = read_words(rt->t, L->cc, meta + rt->L.heapArena.spans.offset, GH_PAGES_PER_ARENA, pages);
        if (n == UINT64_MAX) {
            rc = gh_errorf(err, GH_EINTR, "interrupted while reading heapArena.spans");
            break;
        }
        for (size_t p = 0; p < GH_PAGES_PER_ARENA && !rc; p++) {
            uint64_t s = pages[p];
            if (s && s != UNREAD && !(s & 7) && (!p || s != pages[p - 1]) &&
                !bsearch(&s, L->ptrs, named, 8, cmp_u64))
                rc = push(&L->ptrs, &L->nptrs, &L->cap_ptrs, s, err);
        }
    }
    free(pages);
    if (rc)
        return rc;
    L->nptrs = sort_unique(L->ptrs, L->nptrs);
    L->cov->records_found = L->nptrs - named;
    return GH_OK;
}

static int add_lost(loader *L, uint64_t base, uint64_t bytes, gh_err *err)
{
    gh_heap_cov *c = L->cov;
    c->spans_lost++;
    c->bytes_lost += bytes;
    if (gh_grow(&c->lost, &L->cap_lost, c->nlost + 1, sizeof *c->lost))
        return nomem(err);
    c->lost[c->nlost++] = (gh_lost_span){base, base + bytes};
    return GH_OK;
}

/* Adds the arenas [base, base+bytes) covers, unless one is known not to be
 * the heap's (its arena index entry reads 0): then the span stays out of the
 * arenas and decode_span rejects it. */
static int add_arenas(loader *L, uint64_t base, uint64_t bytes, gh_err *err)
{
    uint64_t off = L->h->arena_off;
    uint64_t first = (base - off) / GH_ARENA_SIZE, last = (base + bytes - 1 - off) / GH_ARENA_SIZE;
    if (last - first >= MAX_ARENAS || last >= MAX_ARENAS)
        return GH_OK;
    for (uint64_t a = first; a <= last; a++) {
        uint64_t m;
        if (L->l2 && !gh_read_u64(L->h->rt->t, L->l2 + a * 8, &m, NULL) && !m)
            return GH_OK;
    }
    for (uint64_t a = first; a <= last; a++) {
        int rc = push(&L->arenas, &L->narenas, &L->cap_arenas, a, err);
        if (rc)
            return rc;
    }
    return GH_OK;
}

/* Sorts the records into kept (their pages and bits readable), lost (in-use
 * spans missing pages or bits), dead, and unreadable. */
static int classify(loader *L, gh_err *err)
{
    gh_heap *h = L->h;
    const gh_layout *lay = &h->rt->L;
    const gh_target *t = h->rt->t;
    int rc = GH_OK;
    for (size_t i = 0; i < L->nptrs && !rc; i++) {
        if ((i & 4095) == 0 && gh_cancelled(L->cc))
            return gh_errorf(err, GH_EINTR, "interrupted while reading spans");
        if (gh_read(t, L->ptrs[i], L->rec, lay->mspan.size, NULL)) {
            L->cov->records_lost++;
            continue;
        }
        uint8_t state = (uint8_t)gh_field_get(L->rec, lay->mspan.state);
        if (state != GH_SPAN_INUSE && state != GH_SPAN_MANUAL) {
            h->nspans_dead++;
            continue;
        }
        uint64_t base = gh_field_get(L->rec, lay->mspan.startAddr), npages = gh_field_get(L->rec, lay->mspan.npages);
        uint64_t bytes = npages * GH_PAGE_SIZE;
        if (!npages || npages > (1ull << 30) || base % GH_PAGE_SIZE || base + bytes < base) {
            rc = push(&L->keep, &L->nkeep, &L->cap_keep, L->ptrs[i], err); /* decode_span says why not */
            continue;
        }
        int ok = readable(t, base, bytes, L->scratch);
        if (ok && state == GH_SPAN_INUSE) {
            uint64_t nelems = gh_field_get(L->rec, lay->mspan.nelems);
            uint64_t freeindex = gh_field_get(L->rec, lay->mspan.freeindex);
            uint64_t bits = gh_field_get(L->rec, lay->mspan.allocBits), nb = (nelems + 7) / 8;
            /* Slots from freeindex on need the allocation bits. */
            if (freeindex < nelems)
                ok = bits && nb <= 65536 / 8 && readable(t, bits, nb, L->scratch);
        }
        if (!ok) {
            if (state == GH_SPAN_INUSE)
                rc = add_lost(L, base, bytes, err);
            else
                L->cov->manual_lost++;
            continue;
        }
        if (!(rc = push(&L->keep, &L->nkeep, &L->cap_keep, L->ptrs[i], err)))
            rc = add_arenas(L, base, bytes, err);
        L->inuse_kept += state == GH_SPAN_INUSE;
    }
    return rc;
}

/* Why there is no heap at all, in a line. */
static int none_readable(const loader *L, gh_err *err)
{
    const gh_heap_cov *c = L->cov;
    char what[300] = "";
    size_t n = 0;
    if (c->entries_lost)
        n += (size_t)snprintf(what + n, sizeof what - n, "%" PRIu64 " of the %" PRIu64 " entries of mheap_.allspans",
                              c->entries_lost, c->records);
    if (c->records_lost && n < sizeof what)
        n += (size_t)snprintf(what + n, sizeof what - n, "%s%" PRIu64 " span records", n ? ", " : "",
                              c->records_lost);
    if (c->spans_lost && n < sizeof what)
        n += (size_t)snprintf(what + n, sizeof what - n, "%sthe pages or allocation bits of %" PRIu64 " spans",
                              n ? ", " : "", c->spans_lost);
    return gh_errorf(err, GH_EMEM, "no in-use span of the heap is readable in the truncated core: the cut took %s",
                     n ? what : "every span record");
}

int gh_heap_load_partial(gh_heap *h, gh_cancel *cc, gh_err *err)
{
    loader L = {.h = h, .cc = cc};
    if (!(h->cov = L.cov = calloc(1, sizeof *L.cov)))
        return nomem(err);
    gh_core_truncated(h->rt->t, &L.cov->file_size, &L.cov->file_want);
    L.rec = malloc(h->rt->L.mspan.size ? h->rt->L.mspan.size : 1);
    L.scratch = malloc(65536);
    int rc = L.rec && L.scratch ? GH_OK : nomem(err);
    if (!rc)
        rc = list_arenas(&L, err);
    if (!rc)
        rc = list_records(&L, err);
    if (!rc)
        rc = classify(&L, err);
    if (!rc && !L.inuse_kept)
        rc = none_readable(&L, err);
    if (!rc && L.cov->nlost)
        qsort(L.cov->lost, L.cov->nlost, sizeof *L.cov->lost, cmp_lost);
    /* The arenas: listed, or holding a span the model takes. */
    if (!rc && !(L.narenas = sort_unique(L.arenas, L.narenas)))
        rc = none_readable(&L, err);
    if (!rc && L.narenas > MAX_ARENAS)
        rc = gh_errorf(err, GH_EFORMAT, "implausible number of heap arenas: %zu", L.narenas);
    if (!rc) {
        h->narenas = L.narenas;
        h->arena_idx = L.arenas;
        L.arenas = NULL;
        h->arena_l2 = L.l2;
        if (!(h->arena_meta = calloc(h->narenas, sizeof *h->arena_meta)))
            rc = nomem(err);
        for (uint64_t i = 0; !rc && i < h->narenas; i++)
            h->arena_meta[i] = arena_meta(&L, h->arena_idx[i]);
        if (!rc)
            rc = gh_heap_index_arenas(h, err);
    }
    /* Aligned as load_spans makes it: a span's hot fields in one cache line. */
    if (!rc && !(h->spans = aligned_alloc(64, (L.nkeep ? L.nkeep : 1) * sizeof *h->spans)))
        rc = nomem(err);
    for (size_t i = 0; !rc && i < L.nkeep; i++)
        if (!gh_read(h->rt->t, L.keep[i], L.rec, h->rt->L.mspan.size, NULL) &&
            gh_heap_decode_span(h, L.keep[i], L.rec, &h->spans[h->nspans]))
            h->nspans++;
    if (!rc)
        gh_heap_sort_spans(h);
    free(L.rec);
    free(L.scratch);
    free(L.ptrs);
    free(L.keep);
    free(L.arenas);
    return rc;
}
