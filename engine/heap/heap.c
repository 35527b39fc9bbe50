/* The heap model: arenas, spans and allocated slots in flat address-indexed arrays. */
#include "heap/heap.h"
#include "heap/heap_int.h"

#include "base/bigmem.h"
#include "base/memcap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds that keep hostile input from asking for unbounded memory. */
#define MAX_ARENAS (1u << 22)
#define MAX_SPANS (1u << 27)

static uint64_t arena_base(const gh_heap *h, uint64_t idx) { return idx * (uint64_t)GH_ARENA_SIZE + h->arena_off; }
static uint64_t arena_index(const gh_heap *h, uint64_t addr) { return (addr - h->arena_off) / GH_ARENA_SIZE; }

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_span(const void *a, const void *b)
{
    const gh_span *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

/* Local arena number + 1 for addr, or 0. */
static uint32_t local_arena(const gh_heap *h, uint64_t addr)
{
    uint64_t i = arena_index(h, addr) - h->arena_lo;
    return i < h->arena_span ? h->arena_map[i] : 0;
}

const uint8_t *gh_span_host(const gh_heap *h, const gh_span *s)
{
    uintptr_t p = __atomic_load_n(&s->host, __ATOMIC_RELAXED);
    if (!p) {
        const void *d = gh_direct(h->rt->t, s->base, s->npages * GH_PAGE_SIZE);
        p = d ? (uintptr_t)d : 1;
        __atomic_store_n(&((gh_span *)s)->host, p, __ATOMIC_RELAXED);
    }
    return p == 1 ? NULL : (const uint8_t *)p;
}

void gh_heap_obj(const gh_heap *h, const gh_span *s, uint32_t slot, gh_obj *o)
{
    o->addr = s->base + (uint64_t)slot * s->elemsize;
    o->size = s->elemsize;
    o->id = s->first + slot;
    o->span = s;
}

static int read_slice(const gh_runtime *rt, uint64_t addr, uint64_t *ptr, uint64_t *len, gh_err *err)
{
    int rc = gh_read_u64(rt->t, addr, ptr, err);
    return rc ? rc : gh_read_u64(rt->t, addr + 8, len, err);
}

static int index_arenas(gh_heap *h, gh_err *err);

static int load_arenas(gh_heap *h, gh_err *err)
{
    const gh_runtime *rt = h->rt;
    uint64_t ptr, len, l2;
    int rc = read_slice(rt, rt->mheap + rt->L.mheap.heapArenas.offset, &ptr, &len, err);
    if (rc)
        return gh_err_wrap(err, "reading mheap_.heapArenas");
    if (len == 0 || len > MAX_ARENAS)
        return gh_errorf(err, GH_EFORMAT, "implausible number of heap arenas: %llu", (unsigned long long)len);
    if ((rc = gh_read_u64(rt->t, rt->mheap + rt->L.mheap.arenas.offset, &l2, err)))
        return gh_err_wrap(err, "reading mheap_.arenas");
    h->arena_idx = malloc(len * sizeof *h->arena_idx);
    h->arena_meta = malloc(len * sizeof *h->arena_meta);
    if (!h->arena_idx || !h->arena_meta)
        return gh_errorf(err, GH_ENOMEM, "out of memory for %llu arenas", (unsigned long long)len);
    if ((rc = gh_read(rt->t, ptr, h->arena_idx, len * 8, err)))
        return gh_err_wrap(err, "reading the arena list");
    qsort(h->arena_idx, len, sizeof *h->arena_idx, cmp_u64);
    for (uint64_t i = 0; i < len; i++) {
        if (h->arena_idx[i] >= MAX_ARENAS || (i && h->arena_idx[i] == h->arena_idx[i - 1]))
            return gh_errorf(err, GH_EFORMAT, "corrupt arena list: index %llu",
                             (unsigned long long)h->arena_idx[i]);
        if ((rc = gh_read_u64(rt->t, l2 + h->arena_idx[i] * 8, &h->arena_meta[i], err)))
            return gh_err_wrap(err, "reading mheap_.arenas[%llu]", (unsigned long long)h->arena_idx[i]);
        if (!h->arena_meta[i])
            return gh_errorf(err, GH_EFORMAT, "arena %llu is listed but has no heapArena",
                             (unsigned long long)h->arena_idx[i]);
        /* goheap reads no heapArena itself, but one the runtime cannot read
         * means a corrupt arena index: say so rather than answer from it. */
        uint64_t probe;
        gh_err e2;
        if (gh_read_u64(rt->t, h->arena_meta[i], &probe, &e2))
            return gh_errorf(err, GH_EFORMAT, "corrupt arena index: mheap_.arenas entry of the arena at 0x%llx "
                             "points to 0x%llx, which is not in the target's memory",
                             (unsigned long long)arena_base(h, h->arena_idx[i]),
                             (unsigned long long)h->arena_meta[i]);
    }
    h->narenas = len;
    h->arena_l2 = l2;
    return index_arenas(h, err);
}

/* arena_map and an empty page_span for the narenas sorted arena_idx. */
static int index_arenas(gh_heap *h, gh_err *err)
{
    uint64_t len = h->narenas;
    int rc;
    h->arena_lo = h->arena_idx[0];
    h->arena_span = h->arena_idx[len - 1] - h->arena_lo + 1;
    if ((rc = gh_mem_check((h->arena_span + len * GH_PAGES_PER_ARENA) * sizeof *h->page_span, "the heap's page map",
                           err)))
        return rc;
    h->arena_map = calloc(h->arena_span, sizeof *h->arena_map);
    h->page_span = calloc(len * GH_PAGES_PER_ARENA, sizeof *h->page_span);
    if (!h->arena_map || !h->page_span)
        return gh_errorf(err, GH_ENOMEM, "out of memory for the arena index");
    gh_bigmem_advise(h->page_span, len * GH_PAGES_PER_ARENA * sizeof *h->page_span);
    for (uint64_t i = 0; i < len; i++)
        h->arena_map[h->arena_idx[i] - h->arena_lo] = (uint32_t)(i + 1);
    return GH_OK;
}

/* Is every page of [base, base+npages*8192) inside a known arena? */
static int pages_in_arenas(const gh_heap *h, uint64_t base, uint64_t npages)
{
    uint64_t end = base + npages * GH_PAGE_SIZE;
    if (end <= base)
        return 0;
    for (uint64_t a = base; a < end; a = arena_base(h, arena_index(h, a) + 1))
        if (!local_arena(h, a))
            return 0;
    return 1;
}

static int reject(gh_heap *h, uint64_t mspan, const char *why)
{
    if (!h->bad_spans++)
        snprintf(h->bad_span_example, sizeof h->bad_span_example, "mspan at 0x%llx: %s",
                 (unsigned long long)mspan, why);
    return 0;
}

/* reject() naming the span's pages. */
static int reject_pages(gh_heap *h, const gh_span *s, const char *why)
{
    char buf[128];
    snprintf(buf, sizeof buf, "pages 0x%llx-0x%llx %s", (unsigned long long)s->base,
             (unsigned long long)(s->base + s->npages * GH_PAGE_SIZE), why);
    return reject(h, s->mspan, buf);
}

/* Decodes one mspan; 1 if kept, 0 if skipped (dead or rejected). */
static int decode_span(gh_heap *h, uint64_t addr, const uint8_t *buf, gh_span *s)
{
    const gh_layout *L = &h->rt->L;
    memset(s, 0, sizeof *s);
    s->mspan = addr;
    s->state = (uint8_t)gh_field_get(buf, L->mspan.state);
    if (s->state != GH_SPAN_INUSE && s->state != GH_SPAN_MANUAL) {
        h->nspans_dead++;
        return 0;
    }
    s->base = gh_field_get(buf, L->mspan.startAddr);
    s->npages = gh_field_get(buf, L->mspan.npages);
    s->elemsize = gh_field_get(buf, L->mspan.elemsize);
    s->limit = gh_field_get(buf, L->mspan.limit);
    s->largetype = gh_field_get(buf, L->mspan.largeType);
    s->specials = gh_field_get(buf, L->mspan.specials);
    s->allocbits = gh_field_get(buf, L->mspan.allocBits);
    s->gcmarkbits = gh_field_get(buf, L->mspan.gcmarkBits);
    s->nelems = (uint32_t)gh_field_get(buf, L->mspan.nelems);
    s->freeindex = (uint32_t)gh_field_get(buf, L->mspan.freeindex);
    s->alloccount = (uint32_t)gh_field_get(buf, L->mspan.allocCount);
    s->sweepgen = (uint32_t)gh_field_get(buf, L->mspan.sweepgen);
    s->spanclass = (uint8_t)gh_field_get(buf, L->mspan.spanclass);
    char why[128];
    if (s->npages == 0 || s->npages > (1ull << 30) / 1 || s->base % GH_PAGE_SIZE) {
        snprintf(why, sizeof why, "start 0x%llx and %llu pages", (unsigned long long)s->base,
                 (unsigned long long)s->npages);
        return reject(h, addr, why);
    }
    if (!pages_in_arenas(h, s->base, s->npages))
        return reject_pages(h, s, "run outside the heap arenas");
    if (s->state == GH_SPAN_MANUAL)
        return 1;
    uint64_t bytes = s->npages * GH_PAGE_SIZE;
    if (s->elemsize == 0 || s->elemsize % 8 || s->nelems == 0 || s->elemsize > bytes ||
        (uint64_t)s->nelems * s->elemsize > bytes || s->freeindex > s->nelems) {
        snprintf(why, sizeof why, "%u elements of %llu bytes (free index %u) do not fit its %llu pages", s->nelems,
                 (unsigned long long)s->elemsize, s->freeindex, (unsigned long long)s->npages);
        return reject(h, addr, why);
    }
    if (s->limit < s->base || s->limit > s->base + bytes)
        return reject_pages(h, s, "have a limit outside them");
    s->limit = s->base + (uint64_t)s->nelems * s->elemsize;
    /* Green Tea keeps 128 bytes of mark bits at the end of small-object spans. */
    s->inline_marks = (h->rt->exps & GH_EXP_GREENTEAGC) && s->elemsize >= 16 && s->elemsize <= GH_MALLOC_HEADER_MIN;
    return 1;
}

static void sort_spans(gh_heap *h);

static int load_spans(gh_heap *h, gh_cancel *cc, gh_err *err)
{
    const gh_runtime *rt = h->rt;
    uint64_t ptr, len;
    int rc = read_slice(rt, rt->mheap + rt->L.mheap.allspans.offset, &ptr, &len, err);
    if (rc)
        return gh_err_wrap(err, "reading mheap_.allspans");
    if (len > MAX_SPANS)
        return gh_errorf(err, GH_EFORMAT, "implausible mheap_.allspans length %llu", (unsigned long long)len);
    uint64_t *ptrs = malloc((len ? len : 1) * 8);
    _Static_assert(sizeof(gh_span) == 128, "gh_span: two cache lines, the hot fields in the first");
    h->spans = aligned_alloc(64, (len ? len : 1) * sizeof *h->spans);
    uint8_t *buf = malloc(rt->L.mspan.size);
    if (!ptrs || !h->spans || !buf) {
        free(ptrs);
        free(buf);
        return gh_errorf(err, GH_ENOMEM, "out of memory for %llu spans", (unsigned long long)len);
    }
    gh_bigmem_advise(h->spans, (len ? len : 1) * sizeof *h->spans);
    if ((rc = gh_read(rt->t, ptr, ptrs, len * 8, err))) {
        free(ptrs);
        free(buf);
        return gh_err_wrap(err, "reading mheap_.allspans");
    }
    for (uint64_t i = 0; i < len; i++) {
        if ((i & 4095) == 0 && gh_cancelled(cc)) { /* up to MAX_SPANS reads */
            free(ptrs);
            free(buf);
            return gh_errorf(err, GH_EINTR, "interrupted while reading spans");
        }
        if ((rc = gh_read(rt->t, ptrs[i], buf, rt->L.mspan.size, err))) {
            free(ptrs);
            free(buf);
            return gh_err_wrap(err, "reading mheap_.allspans[%llu]", (unsigned long long)i);
        }
        if (decode_span(h, ptrs[i], buf, &h->spans[h->nspans]))
            h->nspans++;
    }
    free(ptrs);
    free(buf);
    sort_spans(h);
    /* A span table the runtime could not have made: no answer from it. */
    if (h->bad_spans)
        return gh_errorf(err, GH_EFORMAT, "corrupt span table: %s%s", h->bad_span_example,
                         h->bad_spans > 1 ? " (and more)" : "");
    return GH_OK;
}

/* Sorts the spans by address and drops any that overlaps one before it. */
static void sort_spans(gh_heap *h)
{
    qsort(h->spans, h->nspans, sizeof *h->spans, cmp_span);
    /* Overlapping spans mean a corrupt or inconsistent heap: keep the first. */
    size_t w = 0;
    for (size_t i = 0; i < h->nspans; i++) {
        if (w && h->spans[i].base < h->spans[w - 1].base + h->spans[w - 1].npages * GH_PAGE_SIZE) {
            char why[96];
            if (h->spans[i].mspan == h->spans[w - 1].mspan)
                snprintf(why, sizeof why, "listed twice in mheap_.allspans");
            else
                snprintf(why, sizeof why, "overlap the span of the mspan at 0x%llx",
                         (unsigned long long)h->spans[w - 1].mspan);
            reject_pages(h, &h->spans[i], why);
            continue;
        }
        h->spans[w++] = h->spans[i];
    }
    h->nspans = w;
}

static void index_pages(gh_heap *h)
{
    for (size_t i = 0; i < h->nspans; i++) {
        const gh_span *s = &h->spans[i];
        for (uint64_t p = 0; p < s->npages; p++) {
            uint64_t a = s->base + p * GH_PAGE_SIZE;
            uint32_t la = local_arena(h, a);
            uint64_t page = (a - arena_base(h, h->arena_idx[la - 1])) / GH_PAGE_SIZE;
            h->page_span[(uint64_t)(la - 1) * GH_PAGES_PER_ARENA + page] = (uint32_t)(i + 1);
        }
    }
}

/* Whether (off * divmul) >> 32 is off / size for every offset of a span of
 * span_bytes: checked at each slot's first and last byte, where an error
 * would show. Go's size classes all pass (runtime/sizeclasses.go). */
static int divmul_exact(uint64_t size, uint64_t span_bytes, uint32_t divmul)
{
    for (uint64_t k = 0; k * size < span_bytes; k++) {
        uint64_t lo = k * size, hi = lo + size - 1 < span_bytes ? lo + size - 1 : span_bytes - 1;
        if (((lo * divmul) >> 32) != k || ((hi * divmul) >> 32) != k)
            return 0;
    }
    return 1;
}

/* Multiplies for divides in gh_heap_find, one check per distinct shape. */
static void set_divmuls(gh_heap *h)
{
    enum { NSEEN = 256 };
    struct shape {
        uint64_t size, bytes;
        uint32_t divmul;
    } seen[NSEEN];
    size_t nseen = 0;
    for (size_t i = 0; i < h->nspans; i++) {
        gh_span *s = &h->spans[i];
        uint64_t bytes = s->npages * GH_PAGE_SIZE;
        s->divmul = 0;
        if (s->elemsize < 8 || s->elemsize > UINT32_MAX || bytes > (UINT64_C(1) << 31) || s->nelems <= 1)
            continue;
        size_t k = 0;
        while (k < nseen && (seen[k].size != s->elemsize || seen[k].bytes != bytes))
            k++;
        if (k == nseen) {
            uint32_t d = (uint32_t)(UINT32_MAX / s->elemsize + 1);
            if (nseen == NSEEN)
                continue; /* odd heap: divide */
            seen[nseen++] = (struct shape){s->elemsize, bytes, divmul_exact(s->elemsize, bytes, d) ? d : 0};
        }
        s->divmul = seen[k].divmul;
    }
}

/* slot_block: slot number -> span in a step or two, for gh_heap_slot. */
static int index_slots(gh_heap *h, gh_err *err)
{
    size_t nb = h->nslots / 64 + 1;
    h->slot_block = malloc(nb * sizeof *h->slot_block);
    if (!h->slot_block)
        return gh_errorf(err, GH_ENOMEM, "out of memory for the slot index");
    gh_bigmem_advise(h->slot_block, nb * sizeof *h->slot_block);
    memset(h->slot_block, 0xff, nb * sizeof *h->slot_block);
    for (size_t i = 0; i < h->nspans; i++) {
        const gh_span *s = &h->spans[i];
        if (s->state != GH_SPAN_INUSE || !s->nelems)
            continue;
        for (uint64_t b = s->first >> 6; b <= (s->first + (uint64_t)s->nelems - 1) >> 6; b++)
            if (h->slot_block[b] == UINT32_MAX)
                h->slot_block[b] = (uint32_t)i;
    }
    for (size_t b = 0; b < nb; b++)
        if (h->slot_block[b] == UINT32_MAX)
            h->slot_block[b] = 0; /* no slot there: the search falls back */
    return GH_OK;
}

static int load_alloc_bits(gh_heap *h, gh_cancel *cc, gh_err *err)
{
    uint64_t nslots = 0;
    for (size_t i = 0; i < h->nspans; i++) {
        gh_span *s = &h->spans[i];
        s->first = (uint32_t)nslots; /* slot numbers rise with addresses: gh_heap_slot searches them */
        if (s->state != GH_SPAN_INUSE)
            continue;
        if (nslots + s->nelems > UINT32_MAX)
            return gh_errorf(err, GH_EUNSUPP, "more than 2^32 heap slots");
        nslots += s->nelems;
    }
    h->nslots = nslots;
    h->alloc = calloc(nslots / 64 + 1, 8);
    gh_bigmem_advise(h->alloc, (nslots / 64 + 1) * 8);
    uint8_t bits[65536 / 8]; /* the largest slot count of any size class is 1024 */
    if (!h->alloc)
        return gh_errorf(err, GH_ENOMEM, "out of memory for %llu slots", (unsigned long long)nslots);
    uint32_t hsweep = h->sweepgen;
    for (size_t i = 0; i < h->nspans; i++) {
        if ((i & 4095) == 0 && gh_cancelled(cc)) /* a read and up to 1024 slots a span */
            return gh_errorf(err, GH_EINTR, "interrupted while reading allocation bits");
        gh_span *s = &h->spans[i];
        if (s->state == GH_SPAN_MANUAL) {
            h->nspans_manual++;
            h->manual_span_bytes += s->npages * GH_PAGE_SIZE;
            continue;
        }
        h->nspans_inuse++;
        h->inuse_span_bytes += s->npages * GH_PAGE_SIZE;
        h->span_tail_bytes += s->npages * GH_PAGE_SIZE - (uint64_t)s->nelems * s->elemsize;
        if (s->sweepgen == hsweep - 2)
            h->nspans_unswept++;
        size_t nbytes = (s->nelems + 7) / 8;
        const uint8_t *ab = NULL;
        gh_err e2;
        if (nbytes <= sizeof bits && s->allocbits && gh_read(h->rt->t, s->allocbits, bits, nbytes, &e2) == GH_OK)
            ab = bits;
        if (!ab && s->freeindex < s->nelems)
            reject(h, s->mspan, "allocation bits unreadable: only slots below freeindex counted");
        uint32_t n = 0;
        for (uint32_t k = 0; k < s->nelems; k++) {
            if (k < s->freeindex || (ab && (ab[k / 8] >> (k % 8)) & 1)) {
                uint64_t id = (uint64_t)s->first + k;
                h->alloc[id >> 6] |= 1ull << (id & 63);
                n++;
            }
        }
        s->nalloc = n;
        h->nobjects += n;
        h->object_bytes += (uint64_t)n * s->elemsize;
        h->free_slot_bytes += (uint64_t)(s->nelems - n) * s->elemsize;
    }
    return GH_OK;
}

static int load_stats(gh_heap *h, gh_err *err)
{
    const gh_runtime *rt = h->rt;
    const gh_layout *L = &rt->L;
    gh_heap_stats *st = &h->stats;
    int rc = gh_read_u64(rt->t, rt->mheap + L->mheap.pagesInUse.offset, &st->pages_in_use, err);
    if (rc)
        return gh_err_wrap(err, "reading mheap_.pagesInUse");
    uint8_t d[4096];
    if (L->heapstats.delta_size > sizeof d)
        return gh_errorf(err, GH_EUNSUPP, "heapStatsDelta too large");
    /* With the world stopped the three generations sum to the totals. */
    uint64_t sum[6] = {0};
    for (int g = 0; g < 3; g++) {
        uint64_t a = rt->memstats + L->heapstats.stats.offset + g * L->heapstats.delta_size;
        if ((rc = gh_read(rt->t, a, d, L->heapstats.delta_size, err)))
            return gh_err_wrap(err, "reading memstats.heapStats");
        sum[0] += gh_field_get(d, L->heapstats.committed);
        sum[1] += gh_field_get(d, L->heapstats.released);
        sum[2] += gh_field_get(d, L->heapstats.inHeap);
        sum[3] += gh_field_get(d, L->heapstats.inStacks);
        sum[4] += gh_field_get(d, L->heapstats.inWorkBufs);
        sum[5] += gh_field_get(d, L->heapstats.inPtrScalarBits);
    }
    /* Summed unsigned so a corrupt core cannot overflow a signed sum. */
    st->committed = (int64_t)sum[0];
    st->released = (int64_t)sum[1];
    st->in_heap = (int64_t)sum[2];
    st->in_stacks = (int64_t)sum[3];
    st->in_workbufs = (int64_t)sum[4];
    st->in_ptrscalar = (int64_t)sum[5];
    const gh_field *sys[] = {&L->memstats.stacks_sys, &L->memstats.mspan_sys, &L->memstats.mcache_sys,
                             &L->memstats.buckhash_sys, &L->memstats.gcMiscSys, &L->memstats.other_sys};
    uint64_t *out[] = {&st->stacks_sys, &st->mspan_sys, &st->mcache_sys,
                       &st->buckhash_sys, &st->gcmisc_sys, &st->other_sys};
    for (size_t i = 0; i < 6; i++)
        if ((rc = gh_read_u64(rt->t, rt->memstats + sys[i]->offset, out[i], err)))
            return gh_err_wrap(err, "reading memstats");
    return GH_OK;
}

int gh_heap_load(const gh_runtime *rt, gh_cancel *cc, gh_heap **out, gh_err *err)
{
    *out = NULL;
    gh_heap *h = calloc(1, sizeof *h);
    if (!h)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    h->rt = rt;
    h->arena_off = rt->arch->arena_base_offset;
    uint32_t sg;
    int rc = gh_read_u32(rt->t, rt->mheap + rt->L.mheap.sweepgen.offset, &sg, err);
    if (!rc) {
        h->sweepgen = sg;
        /* A truncated core: what of the heap is there (partial.c). */
        rc = gh_core_truncated(rt->t, NULL, NULL) ? gh_heap_load_partial(h, cc, err) : load_arenas(h, err);
    }
    if (!rc && !h->cov)
        rc = load_spans(h, cc, err);
    if (!rc)
        rc = gh_heap_finish(h, cc, err);
    if (rc) {
        gh_heap_free(h);
        return rc;
    }
    *out = h;
    return GH_OK;
}

/* The model from its spans: pages, allocation bits, slots, statistics. */
int gh_heap_finish(gh_heap *h, gh_cancel *cc, gh_err *err)
{
    index_pages(h);
    int rc = load_alloc_bits(h, cc, err);
    if (!rc)
        rc = index_slots(h, err);
    if (!rc)
        set_divmuls(h);
    if (!rc)
        rc = load_stats(h, err);
    return rc;
}

/* For partial.c (heap_int.h). */
int gh_heap_index_arenas(gh_heap *h, gh_err *err) { return index_arenas(h, err); }
int gh_heap_decode_span(gh_heap *h, uint64_t addr, const uint8_t *buf, gh_span *s)
{
    return decode_span(h, addr, buf, s);
}
void gh_heap_sort_spans(gh_heap *h) { sort_spans(h); }

void gh_heap_free(gh_heap *h)
{
    if (!h)
        return;
    gh_heap_cov_free(h->cov);
    free(h->spans);
    free(h->arena_idx);
    free(h->arena_meta);
    free(h->arena_map);
    free(h->page_span);
    free(h->alloc);
    free(h->slot_block);
    free(h);
}

int gh_heap_slot(const gh_heap *h, uint32_t id, gh_obj *o)
{
    if (id >= h->nslots)
        return 0;
    /* The block's first span, then a few steps forward. */
    for (size_t k = h->slot_block[id >> 6], steps = 0; k < h->nspans && steps < 16; k++, steps++) {
        const gh_span *s = &h->spans[k];
        if (s->state != GH_SPAN_INUSE)
            continue;
        if (id < s->first)
            break;
        if (id - s->first >= s->nelems)
            continue;
        gh_heap_obj(h, s, id - s->first, o);
        return 1;
    }
    size_t lo = 0, hi = h->nspans;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->spans[mid].first <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (lo-- > 0) {
        const gh_span *s = &h->spans[lo];
        if (s->state != GH_SPAN_INUSE)
            continue;
        if (id - s->first >= s->nelems)
            return 0;
        gh_heap_obj(h, s, id - s->first, o);
        return 1;
    }
    return 0;
}
