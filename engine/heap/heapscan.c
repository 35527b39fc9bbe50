/* Pointer words of one heap object, for every 1.22+ object layout. */
#include "heap/heapscan.h"

#include <stdlib.h>
#include <string.h>

#define INLINE_MARK_BYTES 128 /* sizeof(spanInlineMarkBits) */

/* Words of o read in chunks so large objects need no large buffer. */
/* The n <= 64 bits from bit b0 (< 8) of bits: at most 9 bytes, taken as two
 * little-endian words and shifted into place. */
static uint64_t bits64(const uint8_t *bits, uint64_t b0, uint64_t n)
{
    uint64_t lo = 0, hi = 0, len = (b0 + n + 7) / 8;
    /* Byte by byte past the first word: a memcpy of a variable length is a
     * library call, once per object scanned. */
    if (len >= 8) {
        memcpy(&lo, bits, 8);
        for (uint64_t i = 8; i < len; i++)
            hi |= (uint64_t)bits[i] << 8 * (i - 8);
    } else {
        for (uint64_t i = 0; i < len; i++)
            lo |= (uint64_t)bits[i] << 8 * i;
    }
    uint64_t m = b0 ? lo >> b0 | hi << (64 - b0) : lo;
    return n < 64 ? m & ((UINT64_C(1) << n) - 1) : m;
}

/* A heap-bits object (at most 64 words): its pointer words by their bits. */
static int scan_bits64(const gh_heap *h, const gh_span *span, uint64_t start, uint64_t nwords, uint64_t mask,
                       gh_ptr_fn fn, void *ctx, gh_err *err)
{
    uint64_t buf[64];
    if (!mask)
        return GH_OK;
    /* In place only when aligned: spans and objects always are, unless the
     * target is corrupt, and then the words are copied. */
    const uint64_t *p = (start & 7) ? NULL : (const uint64_t *)gh_span_bytes(h, span, start, nwords * 8);
    if (!p && !(start & 7))
        p = gh_direct(h->rt->t, start, nwords * 8);
    if (!p) {
        int rc = gh_read(h->rt->t, start, buf, nwords * 8, err);
        if (rc)
            return rc;
        p = buf;
    }
    for (; mask; mask &= mask - 1) {
        unsigned i = (unsigned)__builtin_ctzll(mask);
        int rc = fn(ctx, start + i * 8, p[i]);
        if (rc)
            return rc;
    }
    return GH_OK;
}

static int scan_words(const gh_heap *h, const gh_span *span, uint64_t start, uint64_t nwords, const gh_ptrmask *m,
                      const uint8_t *bits, uint64_t bit0, gh_ptr_fn fn, void *ctx, gh_err *err)
{
    uint64_t buf[512];
    if (!m && nwords <= 64 && bit0 < 8)
        return scan_bits64(h, span, start, nwords, bits64(bits, bit0, nwords), fn, ctx, err);
    for (uint64_t w = 0; w < nwords; w += 512) {
        uint64_t n = nwords - w < 512 ? nwords - w : 512;
        /* Skip chunks without a single pointer word before reading memory. */
        int any = 0;
        for (uint64_t i = 0; i < n && !any; i++)
            any = m ? gh_ptrmask_tile(m, nwords * 8, w + i) : (bits[(bit0 + w + i) >> 3] >> ((bit0 + w + i) & 7)) & 1;
        if (!any)
            continue;
        const uint64_t *p = (start & 7) ? NULL : (const uint64_t *)gh_span_bytes(h, span, start + w * 8, n * 8);
        if (!p && !(start & 7))
            p = gh_direct(h->rt->t, start + w * 8, n * 8);
        if (!p) {
            int rc = gh_read(h->rt->t, start + w * 8, buf, n * 8, err);
            if (rc)
                return rc;
            p = buf;
        }
        for (uint64_t i = 0; i < n; i++) {
            int isptr = m ? gh_ptrmask_tile(m, nwords * 8, w + i)
                          : (bits[(bit0 + w + i) >> 3] >> ((bit0 + w + i) & 7)) & 1;
            if (isptr) {
                int rc = fn(ctx, start + (w + i) * 8, p[i]);
                if (rc)
                    return rc;
            }
        }
    }
    return GH_OK;
}

int gh_heap_obj_type(const gh_heap *h, const gh_obj *o, uint64_t *type, gh_err *err)
{
    *type = 0;
    switch (gh_span_layout(o->span)) {
    case GH_LAYOUT_HEADER:
        return gh_read_u64(h->rt->t, o->addr, type, err);
    case GH_LAYOUT_LARGETYPE:
        *type = o->span->largetype;
        return GH_OK;
    default:
        return GH_OK;
    }
}

/* Where the heap bits of a span with heap bits start (see GH_LAYOUT_HEAPBITS). */
static uint64_t heapbits_addr(const gh_span *s, uint64_t *bytes)
{
    uint64_t span_bytes = s->npages * GH_PAGE_SIZE;
    *bytes = span_bytes / 64;
    return s->base + span_bytes - *bytes - (s->inline_marks ? INLINE_MARK_BYTES : 0);
}

int gh_heap_obj_ptrmask64(const gh_heap *h, const gh_obj *o, uint64_t *mask, gh_err *err)
{
    const gh_span *s = o->span;
    *mask = 0;
    if (gh_span_layout(s) != GH_LAYOUT_HEAPBITS || s->elemsize > 512)
        return gh_errorf(err, GH_EUNSUPP, "not a heap-bits object");
    uint64_t bm_bytes, bm = heapbits_addr(s, &bm_bytes);
    uint64_t word0 = (o->addr - s->base) / 8, n = s->elemsize / 8;
    uint64_t first = word0 / 8, last = (word0 + n + 7) / 8;
    uint8_t tmp[16];
    const uint8_t *bits = gh_span_bytes(h, s, bm + first, last - first);
    if (!bits) {
        int rc = gh_read(h->rt->t, bm + first, tmp, last - first, err);
        if (rc)
            return gh_err_wrap(err, "heap bits of the span at 0x%llx", (unsigned long long)s->base);
        bits = tmp;
    }
    *mask = bits64(bits, word0 - first * 8, n);
    return GH_OK;
}

int gh_heap_scan_object(const gh_heap *h, gh_typemask_cache *tc, const gh_obj *o, gh_ptr_fn fn, void *ctx,
                        int *untyped, gh_err *err)
{
    const gh_span *s = o->span;
    if (untyped)
        *untyped = 0;
    gh_objlayout layout = gh_span_layout(s);
    if (layout == GH_LAYOUT_NOSCAN)
        return GH_OK;
    if (layout == GH_LAYOUT_HEAPBITS) {
        /* Heap bits: one bit per word of the span, at the span's tail. */
        uint64_t span_bytes = s->npages * GH_PAGE_SIZE;
        uint64_t bm_bytes = span_bytes / 64;
        uint64_t bm = s->base + span_bytes - bm_bytes - (s->inline_marks ? INLINE_MARK_BYTES : 0);
        uint64_t word0 = (o->addr - s->base) / 8, n = s->elemsize / 8;
        uint64_t first = word0 / 8, last = (word0 + n + 7) / 8;
        uint8_t tmp[80];
        if (last - first > sizeof tmp)
            return gh_errorf(err, GH_EFORMAT, "object at 0x%llx: heap bits out of range",
                             (unsigned long long)o->addr);
        const uint8_t *bits = gh_span_bytes(h, s, bm + first, last - first);
        if (!bits) {
            int rc = gh_read(h->rt->t, bm + first, tmp, last - first, err);
            if (rc)
                return gh_err_wrap(err, "heap bits of the span at 0x%llx", (unsigned long long)s->base);
            bits = tmp;
        }
        return scan_words(h, s, o->addr, n, NULL, bits, word0 - first * 8, fn, ctx, err);
    }
    uint64_t type, data = gh_obj_data(o);
    int rc = gh_heap_obj_type(h, o, &type, err);
    if (rc)
        return rc;
    if (!type) {
        if (untyped)
            *untyped = 1;
        return GH_OK;
    }
    const gh_ptrmask *m;
    const char *from = layout == GH_LAYOUT_HEADER ? "malloc header" : "span's largeType";
    rc = gh_typemask_get(tc, type, &m, err);
    if (rc)
        return gh_err_wrap(err, "object at 0x%llx, type from its %s", (unsigned long long)o->addr, from);
    /* Objects without pointers live in noscan spans: a type without any
     * here is no type this object was allocated with. */
    if (!m->nwords)
        return gh_errorf(err, GH_EFORMAT, "object at 0x%llx, type from its %s: the type at 0x%llx has no pointers, "
                         "but the object is in a span of objects with pointers", (unsigned long long)o->addr, from,
                         (unsigned long long)type);
    return scan_words(h, s, data, (o->size - (data - o->addr)) / 8, m, NULL, 0, fn, ctx, err);
}
