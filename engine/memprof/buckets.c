/* Reading the runtime's memory profile from the target: the bucket list
 * (runtime.mbuckets, linked through allnext), each bucket's stack and
 * published counts, and the profile special of every sampled object. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/hash.h"
#include "base/vec.h"
#include "memprof/memprof.h"
#include "roots/specials.h"

#define BUCKET_HDR 48            /* next, allnext, typ, hash, size, nstk */
#define MEMPROFILE_TYPE 1        /* runtime.memProfile, the typ of every bucket on mbuckets */
#define MAX_BUCKETS (1u << 24)   /* more means a corrupt list */

static void note(gh_memprof *mp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(gh_memprof *mp, const char *fmt, ...)
{
    if (mp->note[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mp->note, sizeof mp->note, fmt, ap);
    va_end(ap);
}

/* Words per memRecordCycle: 2 from 1.27 ({allocs, frees}), 4 before (with
 * alloc_bytes, free_bytes); DWARF, when present, has the last word. */
static unsigned cycle_words(const gh_runtime *rt)
{
    uint64_t size;
    if (rt->dwarf && gh_dwarf_type_size(rt->dwarf, "runtime.memRecordCycle", &size) == GH_OK &&
        (size == 16 || size == 32))
        return (unsigned)(size / 8);
    return rt->ver.minor >= 27 ? 2 : 4;
}

/* Sums the published counts as runtime.MemProfile does: the active cycle
 * plus the current cycle's future (memProfileInternal flushes it first). */
static void published(gh_mp_bucket *b, const uint64_t *rec, unsigned cw, int64_t cycle)
{
    b->allocs = rec[0];
    b->frees = rec[1];
    if (cycle >= 0) {
        const uint64_t *f = rec + cw * (1 + (uint64_t)cycle % 3);
        b->allocs += f[0];
        b->frees += f[1];
    }
}

static int read_buckets(gh_memprof *mp, const gh_runtime *rt, uint64_t head, uint64_t cyc_addr, gh_cancel *cc,
                        gh_err *err)
{
    const gh_target *t = rt->t;
    unsigned cw = cycle_words(rt);
    size_t recwords = 4 * (size_t)cw;
    int64_t cycle = -1;
    uint8_t c4[4];
    if (cyc_addr && !gh_read(t, cyc_addr, c4, 4, NULL))
        cycle = (int64_t)((uint32_t)c4[0] | (uint32_t)c4[1] << 8 | (uint32_t)c4[2] << 16 | (uint32_t)c4[3] << 24) >>
                1; /* mProfCycleHolder: cycle << 1 | flushed */
    /* The runtime's raw records, kept until we know whether any is published. */
    uint64_t *recs = NULL;
    size_t caprecs = 0, cappcs = 0, capb = 0;
    uint64_t stk[GH_MP_MAX_STACK];
    int clear = 1, rc = GH_OK;
    for (uint64_t a = head; a; ) {
        if (mp->nb >= MAX_BUCKETS) {
            mp->cut++;
            note(mp, "more than %u profile buckets: list cut (corrupt?)", MAX_BUCKETS);
            break;
        }
        if (!(mp->nb & 1023)) {
            gh_progress(cc, "reading the heap profile", mp->nb, 0);
            if (gh_cancelled(cc)) {
                rc = gh_errorf(err, GH_EINTR, "interrupted while reading the heap profile");
                break;
            }
        }
        if (a & 7) {
            mp->cut++;
            note(mp, "profile bucket at misaligned 0x%" PRIx64 ": list cut", a);
            break;
        }
        if (gh_hmap_first(&mp->byaddr, a) != GH_HMAP_END) {
            mp->cut++;
            note(mp, "profile bucket list loops at 0x%" PRIx64 ": cut", a);
            break;
        }
        uint64_t hdr[6];
        if (gh_read(t, a, hdr, sizeof hdr, NULL)) {
            mp->cut++;
            note(mp, "profile bucket 0x%" PRIx64 " unreadable: list cut", a);
            break;
        }
        uint64_t typ = hdr[2], size = hdr[4], nstk = hdr[5];
        if (typ != MEMPROFILE_TYPE || nstk > GH_MP_MAX_STACK) {
            mp->cut++;
            note(mp, "profile bucket 0x%" PRIx64 " is not a memory-profile bucket (type %" PRIu64 ", %" PRIu64
                     " frames): list cut", a, typ, nstk);
            break;
        }
        uint64_t rec[16];
        if ((nstk && gh_read(t, a + BUCKET_HDR, stk, nstk * 8, NULL)) ||
            gh_read(t, a + BUCKET_HDR + nstk * 8, rec, recwords * 8, NULL)) {
            mp->cut++;
            note(mp, "profile bucket 0x%" PRIx64 ": stack or counts unreadable: list cut", a);
            break;
        }
        if (gh_grow(&mp->b, &capb, mp->nb + 1, sizeof *mp->b) ||
            gh_grow(&mp->pcs, &cappcs, mp->npcs + nstk + 1, sizeof *mp->pcs) ||
            gh_grow(&recs, &caprecs, (mp->nb + 1) * recwords, sizeof *recs) ||
            gh_hmap_add(&mp->byaddr, a, mp->nb)) {
            rc = gh_errorf(err, GH_ENOMEM, "out of memory for %zu profile buckets", mp->nb + 1);
            break;
        }
        gh_mp_bucket *b = &mp->b[mp->nb];
        memset(b, 0, sizeof *b);
        b->addr = a;
        b->size = size;
        b->stk = (uint32_t)mp->npcs;
        b->nstk = (uint32_t)nstk;
        memcpy(mp->pcs + mp->npcs, stk, nstk * 8);
        mp->npcs += nstk;
        memcpy(recs + mp->nb * recwords, rec, recwords * 8);
        if (rec[0] || rec[1])
            clear = 0;
        mp->nb++;
        a = hdr[1]; /* allnext */
    }
    for (size_t i = 0; rc == GH_OK && i < mp->nb; i++) {
        const uint64_t *r = recs + i * recwords;
        if (!clear) {
            published(&mp->b[i], r, cw, cycle);
            continue;
        }
        /* No cycle published yet (no GC so far): the runtime then sums
         * every cycle, and so do we. */
        mp->b[i].allocs = mp->b[i].frees = 0;
        for (unsigned c = 0; c < 4; c++) {
            mp->b[i].allocs += r[c * cw];
            mp->b[i].frees += r[c * cw + 1];
        }
    }
    free(recs);
    return rc;
}

/* The profile specials of one in-use span: sampled objects and buckets. */
static int read_span(gh_memprof *mp, const gh_runtime *rt, const gh_span *sp, const gh_spec_layout *L,
                     uint64_t b_off, unsigned profile_kind, uint64_t *budget, size_t *capobj, gh_err *err)
{
    uint64_t span_bytes = sp->npages * GH_PAGE_SIZE, prev_off = 0, prev_kind = 0, n = 0;
    uint8_t buf[64];
    size_t hdr = L->sp_kind.offset + 1;
    if (L->sp_next.offset + 8 > hdr)
        hdr = L->sp_next.offset + 8;
    if (L->sp_offset.offset + L->sp_offset.size > hdr)
        hdr = L->sp_offset.offset + L->sp_offset.size;
    if (hdr > sizeof buf)
        return gh_errorf(err, GH_EFORMAT, "runtime.special of %zu bytes", hdr);
    for (uint64_t rec = sp->specials; rec; n++) {
        if (!*budget) {
            mp->cut++;
            note(mp, "too many specials: stopped at span 0x%" PRIx64 " (corrupt lists?)", sp->base);
            return GH_OK;
        }
        --*budget;
        if (gh_read(rt->t, rec, buf, hdr, NULL)) {
            mp->cut++;
            note(mp, "specials of span 0x%" PRIx64 ": record 0x%" PRIx64 " unreadable, list cut", sp->base, rec);
            return GH_OK;
        }
        uint64_t off = gh_field_get(buf, L->sp_offset), kind = gh_field_get(buf, L->sp_kind);
        if (off >= span_bytes || (n && (off < prev_off || (off == prev_off && kind <= prev_kind))))
            return gh_spec_order_error(rt->t, L, sp, rec, n, off, kind, prev_off, prev_kind, err);
        prev_off = off;
        prev_kind = kind;
        if (kind == profile_kind) {
            uint64_t b;
            if (gh_read_u64(rt->t, rec + b_off, &b, NULL)) {
                mp->cut++;
                note(mp, "profile special 0x%" PRIx64 " unreadable", rec);
            } else {
                size_t i = gh_hmap_first(&mp->byaddr, b);
                if (i == GH_HMAP_END) {
                    if (!mp->unknown_bucket++)
                        note(mp, "profile special 0x%" PRIx64 " names bucket 0x%" PRIx64 ", not on the list", rec, b);
                } else {
                    size_t before = *capobj;
                    if (gh_grow(&mp->obj, capobj, mp->nobj + 1, sizeof *mp->obj))
                        return gh_errorf(err, GH_ENOMEM, "out of memory for sampled objects");
                    if (*capobj != before) { /* obj_bucket keeps obj's capacity */
                        uint32_t *nb = realloc(mp->obj_bucket, *capobj * sizeof *nb);
                        if (!nb)
                            return gh_errorf(err, GH_ENOMEM, "out of memory for sampled objects");
                        mp->obj_bucket = nb;
                    }
                    mp->obj[mp->nobj] = sp->base + off;
                    mp->obj_bucket[mp->nobj++] = (uint32_t)mp->byaddr.vals[i];
                }
            }
        }
        rec = gh_field_get(buf, L->sp_next);
    }
    return GH_OK;
}

int gh_memprof_read(const gh_runtime *rt, const gh_heap *h, const gh_memprof_syms *sy, gh_cancel *cc,
                    gh_memprof **out, gh_err *err)
{
    *out = NULL;
    gh_memprof *mp = calloc(1, sizeof *mp);
    if (!mp)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    uint64_t v;
    mp->rate = sy->rate && !gh_read_u64(rt->t, sy->rate, &v, NULL) ? (int64_t)v : -1;
    uint8_t dis = 0;
    if (sy->disabled && !gh_read(rt->t, sy->disabled, &dis, 1, NULL))
        mp->disabled = dis != 0;
    uint64_t head;
    int rc;
    if (gh_read_u64(rt->t, sy->mbuckets, &head, NULL)) {
        rc = gh_errorf(err, GH_EMEM, "runtime.mbuckets at 0x%" PRIx64 " is not readable", sy->mbuckets);
        goto fail;
    }
    rc = read_buckets(mp, rt, head, sy->cycle, cc, err);
    gh_progress(cc, "reading the heap profile", 1, 1); /* the phase ends (its total was unknown) */
    if (rc)
        goto fail;
    if (!h) {
        *out = mp;
        return GH_OK;
    }
    /* The profile specials: their header layout is the other specials'. */
    gh_spec_layout L;
    char source[128];
    gh_err e;
    if (gh_spec_layout_resolve(rt, &L, source, sizeof source, &e)) {
        note(mp, "sampled objects not read: %s", e.msg);
        *out = mp;
        return GH_OK;
    }
    unsigned kind = gh_spec_kinds(rt->ver.minor)[GH_SPK_PROFILE];
    gh_field bf;
    uint64_t b_off = rt->dwarf && gh_dwarf_field(rt->dwarf, "runtime.specialprofile", "b", &bf) == GH_OK
                         ? bf.offset : 16; /* after the 16-byte special header, every release */
    uint64_t budget = h->nslots + (UINT64_C(1) << 22);
    size_t capobj = 0;
    for (size_t i = 0; i < h->nspans; i++) {
        const gh_span *sp = &h->spans[i];
        if (sp->state != GH_SPAN_INUSE || !sp->specials)
            continue;
        if (!(i & 255)) {
            gh_progress(cc, "reading sampled objects", i, h->nspans);
            if (gh_cancelled(cc)) {
                rc = gh_errorf(err, GH_EINTR, "interrupted while reading sampled objects");
                goto fail;
            }
        }
        if ((rc = read_span(mp, rt, sp, &L, b_off, kind, &budget, &capobj, err)))
            goto fail;
    }
    gh_progress(cc, "reading sampled objects", h->nspans, h->nspans);
    for (size_t i = 0; i < mp->nobj; i++) {
        if (!(i & 4095) && gh_cancelled(cc)) {
            rc = gh_errorf(err, GH_EINTR, "interrupted while reading sampled objects");
            goto fail;
        }
        gh_obj o;
        if (gh_heap_find(h, mp->obj[i], &o))
            mp->b[mp->obj_bucket[i]].sampled++;
    }
    *out = mp;
    return GH_OK;
fail:
    gh_memprof_free(mp);
    return rc;
}

int gh_memprof_load(const gh_runtime *rt, const gh_heap *h, gh_cancel *cc, gh_memprof **out, gh_err *err)
{
    *out = NULL;
    gh_memprof_syms sy = {
        .mbuckets = gh_runtime_sym(rt, "runtime.mbuckets"),
        .rate = gh_runtime_sym(rt, "runtime.MemProfileRate"),
        .disabled = gh_runtime_sym(rt, "runtime.disableMemoryProfiling"),
        .cycle = gh_runtime_sym(rt, "runtime.mProfCycle"),
    };
    if (!sy.mbuckets)
        return gh_errorf(err, GH_EUNSUPP, "the runtime's memory profile needs the symbol runtime.mbuckets, "
                                          "and the binary has no symbol table (stripped?)");
    return gh_memprof_read(rt, h, &sy, cc, out, err);
}

void gh_memprof_free(gh_memprof *mp)
{
    if (!mp)
        return;
    free(mp->b);
    free(mp->pcs);
    gh_hmap_free(&mp->byaddr);
    free(mp->obj);
    free(mp->obj_bucket);
    free(mp->sites);
    free(mp);
}

long gh_memprof_object(const gh_memprof *mp, uint64_t slot, uint64_t slot_size)
{
    size_t lo = 0, hi = mp->nobj;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (mp->obj[mid] < slot)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < mp->nobj && mp->obj[lo] - slot < slot_size ? (long)mp->obj_bucket[lo] : -1;
}
