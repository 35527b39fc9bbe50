/* Finalizer and cleanup roots: what the GC's markroot scans besides data,
 * bss and goroutine stacks (runtime/mgcmark.go, Go 1.22-1.27):
 *
 * - markrootSpans: every in-use span's specials list (mspan.specials).
 *   Finalizer: scanobject(object) -- its referents stay alive, not the object
 *   itself -- and the fn word. Cleanup: the fn word (1.24-1.25) or the whole
 *   cleanupFn {call, fn, arg} (1.26+), never the object. Weak handle: the
 *   handle word, an 8-byte pointer-free allocation holding the target's
 *   address, so the handle stays alive but not the target: a GH_ROOT_RUNTIME
 *   root on that word, no strong reference. Profile, reachable, pin counter,
 *   tiny block (1.25+), check-finalizer, bubble (1.25+) and secret (1.26+)
 *   records hold no heap pointer the GC scans: counted, no roots.
 * - fixedRootFinalizers: allfin's finBlocks, cnt entries each (finptrmask: fn,
 *   arg, fint, ot). These are finalizers queued after their object died (or
 *   running now): fn and the object (arg) both stay alive. In 1.24 cleanups
 *   are queued there too, with arg nil.
 * - fixedRootCleanups (1.25+): gcCleanups.all's cleanupBlocks, n entries each.
 * - fixedRootFreeGStacks frees stacks of dead goroutines: no objects, no root.
 * - gcMarkTinyAllocs (mark termination) greys each P's mcache.tiny block:
 *   a GH_ROOT_RUNTIME root on the word (the block is pointer-free).
 * Data, bss and stacks are other providers' (globals.c, stackroots.c).
 * Everything else the runtime holds (allp, allm, timers, channels, the
 * unique and weak maps) is reached through ordinary pointers from those. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "roots/specials.h"

/* _KindSpecial* per release (runtime/mheap.go), GH_SPK_* order. */
static const uint8_t kinds22[GH_SPK_COUNT] = {0, 1, 0, 2, 3, 4, 0, 0, 0, 0};
static const uint8_t kinds23[GH_SPK_COUNT] = {0, 1, 2, 3, 4, 5, 0, 0, 0, 0};
static const uint8_t kinds24[GH_SPK_COUNT] = {0, 1, 2, 3, 4, 5, 6, 0, 0, 0};
static const uint8_t kinds25[GH_SPK_COUNT] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0};
static const uint8_t kinds26[GH_SPK_COUNT] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

const uint8_t *gh_spec_kinds(int minor)
{
    if (minor <= 22)
        return kinds22;
    if (minor == 23)
        return kinds23;
    if (minor == 24)
        return kinds24;
    return minor == 25 ? kinds25 : kinds26;
}

static const char *const spk_names[GH_SPK_COUNT] = {
    "tiny block", "finalizer", "weak handle", "profile", "reachable", "pin counter",
    "cleanup", "check finalizer", "bubble", "secret",
};

const char *gh_spec_kind_name(int spk) { return spk >= 0 && spk < GH_SPK_COUNT ? spk_names[spk] : "?"; }

/* GH_SPK_* of a raw kind, -1 when the release has no such kind. */
static int spk_of(int minor, unsigned raw)
{
    const uint8_t *k = gh_spec_kinds(minor);
    for (int i = 0; i < GH_SPK_COUNT; i++)
        if (raw && k[i] == raw)
            return i;
    return -1;
}

static int add_root(gh_spec_walk *w, int kind, uint64_t addr, uint64_t size, const uint8_t *mask,
                    uint64_t object, const char *name, gh_err *err)
{
    gh_root r = {.kind = (uint8_t)kind, .addr = addr, .size = size, .mask = mask, .object = object,
                 .name = name, .goid = -1};
    return gh_roots_add(w->rs, &r, err);
}

/* A cleanup's root, with the object it is attached to (owner). */
static int add_cleanup_root(gh_spec_walk *w, uint64_t addr, uint64_t size, uint64_t owner, const char *name,
                            gh_err *err)
{
    gh_root r = {.kind = GH_ROOT_CLEANUP, .addr = addr, .size = size, .owner = owner, .name = name, .goid = -1};
    return gh_roots_add(w->rs, &r, err);
}

/* The object a special at span offset off belongs to (the runtime rounds the
 * offset down to a slot), 0 when it is not an allocated object. */
static uint64_t special_object(const gh_spec_walk *w, const gh_span *sp, uint64_t off)
{
    if (!sp->elemsize)
        return 0;
    uint64_t p = sp->base + off / sp->elemsize * sp->elemsize;
    if (p >= sp->limit && sp->limit)
        return 0;
    if (w->heap) {
        gh_obj o;
        if (!gh_heap_find(w->heap, p, &o) || o.addr != p)
            return 0;
    }
    return p;
}

static int finalizer_root(gh_spec_walk *w, const gh_span *sp, uint64_t rec, uint64_t off, gh_err *err)
{
    const gh_spec_layout *L = w->L;
    uint64_t fv;
    if (gh_read_u64(w->t, rec + L->fin_fn.offset, &fv, NULL)) {
        gh_roots_note(w->rs, "finalizer record 0x%" PRIx64 " unreadable", rec);
        return GH_OK;
    }
    uint64_t obj = special_object(w, sp, off);
    if (!obj && !w->n.free_slot++)
        gh_roots_note(w->rs, "finalizer record 0x%" PRIx64 " is on a free slot of span 0x%" PRIx64
                             ": its function is a root, no object", rec, sp->base);
    char name[512];
    gh_spec_funcval_name(w, fv, 0, name, sizeof name);
    return add_root(w, GH_ROOT_FINALIZER, rec + L->fin_fn.offset, 8, NULL, obj, name, err);
}

static int cleanup_root(gh_spec_walk *w, const gh_span *sp, uint64_t rec, uint64_t off, gh_err *err)
{
    const gh_spec_layout *L = w->L;
    uint64_t fv;
    if (gh_read_u64(w->t, rec + L->cl_fn.offset, &fv, NULL)) {
        gh_roots_note(w->rs, "cleanup record 0x%" PRIx64 " unreadable", rec);
        return GH_OK;
    }
    char name[512];
    uint64_t owner = special_object(w, sp, off);
    if (L->cl_cleanup.size) { /* 1.26+: cleanupFn {call, fn, arg}, every word a pointer */
        gh_spec_funcval_name(w, fv, 0, name, sizeof name);
        return add_cleanup_root(w, rec + L->cl_cleanup.offset, L->cl_cleanup.size & ~7ull, owner, name, err);
    }
    gh_spec_funcval_name(w, fv, 1, name, sizeof name);
    return add_cleanup_root(w, rec + L->cl_fn.offset, 8, owner, name, err);
}

static int weak_root(gh_spec_walk *w, const gh_span *sp, uint64_t rec, uint64_t off, gh_err *err)
{
    char name[96];
    snprintf(name, sizeof name, "weak handle of 0x%" PRIx64,
             sp->elemsize ? sp->base + off / sp->elemsize * sp->elemsize : sp->base + off);
    return add_root(w, GH_ROOT_RUNTIME, rec + w->L->weak_handle.offset, 8, NULL, 0, name, err);
}

int gh_spec_order_error(const gh_target *t, const gh_spec_layout *L, const gh_span *sp, uint64_t rec, uint64_t n,
                        uint64_t off, uint64_t kind, uint64_t prev_off, uint64_t prev_kind, gh_err *err)
{
    uint64_t span_bytes = sp->npages * GH_PAGE_SIZE;
    if (off >= span_bytes)
        return gh_errorf(err, GH_EFORMAT, "corrupt specials list of the span at 0x%" PRIx64 ": record 0x%" PRIx64
                         " has offset %" PRIu64 ", outside the span's %" PRIu64 " bytes",
                         sp->base, rec, off, span_bytes);
    /* Read again up to here: rec seen before means the list cycles. */
    uint64_t r = sp->specials;
    for (uint64_t i = 0; i < n && r; i++) {
        if (r == rec)
            return gh_errorf(err, GH_EFORMAT, "corrupt specials list of the span at 0x%" PRIx64
                             ": it cycles, record 0x%" PRIx64 " (the list's record %" PRIu64 ") comes again after %"
                             PRIu64 " record%s", sp->base, rec, i + 1, n, n == 1 ? "" : "s");
        if (gh_read_u64(t, r + L->sp_next.offset, &r, NULL))
            break;
    }
    return gh_errorf(err, GH_EFORMAT, "corrupt specials list of the span at 0x%" PRIx64 ": record 0x%" PRIx64
                     " (offset %" PRIu64 ", kind %" PRIu64 ") comes after offset %" PRIu64 ", kind %" PRIu64
                     ", out of order", sp->base, rec, off, kind, prev_off, prev_kind);
}

int gh_spec_walk_span(gh_spec_walk *w, const gh_span *sp, gh_err *err)
{
    const gh_spec_layout *L = w->L;
    uint64_t span_bytes = sp->npages * GH_PAGE_SIZE;
    uint64_t prev_off = 0, prev_kind = 0, n = 0;
    uint8_t buf[64];
    size_t hdr = L->sp_kind.offset + 1;
    if (L->sp_next.offset + 8 > hdr)
        hdr = L->sp_next.offset + 8;
    if (L->sp_offset.offset + L->sp_offset.size > hdr)
        hdr = L->sp_offset.offset + L->sp_offset.size;
    if (hdr > sizeof buf)
        return gh_errorf(err, GH_EFORMAT, "runtime.special of %zu bytes", hdr);
    for (uint64_t rec = sp->specials; rec; n++) {
        if (!w->budget) {
            if (!w->n.cut++)
                gh_roots_note(w->rs, "too many specials: stopped at span 0x%" PRIx64 " (corrupt lists?)", sp->base);
            return GH_OK;
        }
        w->budget--;
        if (gh_read(w->t, rec, buf, hdr, NULL)) {
            if (!w->n.cut++)
                gh_roots_note(w->rs, "specials of span 0x%" PRIx64 ": record 0x%" PRIx64 " unreadable, list cut",
                              sp->base, rec);
            return GH_OK;
        }
        uint64_t off = gh_field_get(buf, L->sp_offset), kind = gh_field_get(buf, L->sp_kind);
        /* The runtime keeps each list sorted by (offset, kind) without
         * duplicates, under the span's lock: a list that goes back is
         * cyclic or corrupt, a span's metadata no stop can leave. */
        if (off >= span_bytes || (n && (off < prev_off || (off == prev_off && kind <= prev_kind))))
            return gh_spec_order_error(w->t, L, sp, rec, n, off, kind, prev_off, prev_kind, err);
        prev_off = off;
        prev_kind = kind;
        int rc = GH_OK, spk = spk_of(w->minor, (unsigned)kind);
        if (spk < 0) {
            if (!w->n.unknown++)
                gh_roots_note(w->rs, "special of unknown kind %" PRIu64 " at 0x%" PRIx64, kind, rec);
        } else {
            w->n.kind[spk]++;
            if (spk == GH_SPK_FINALIZER)
                rc = finalizer_root(w, sp, rec, off, err);
            else if (spk == GH_SPK_CLEANUP)
                rc = cleanup_root(w, sp, rec, off, err);
            else if (spk == GH_SPK_WEAKHANDLE)
                rc = weak_root(w, sp, rec, off, err);
        }
        if (rc)
            return rc;
        rec = gh_field_get(buf, L->sp_next);
    }
    return GH_OK;
}

int gh_roots_specials(const gh_roots_env *env, gh_roots *rs, gh_err *err)
{
    const gh_runtime *rt = env->rt;
    const gh_heap *h = env->heap;
    gh_spec_layout L;
    char source[128];
    gh_err e;
    int rc;
    if (gh_spec_layout_resolve(rt, &L, source, sizeof source, &e)) {
        gh_roots_note(rs, "finalizer and cleanup roots not read: %s", e.msg);
        return GH_OK;
    }
    if (!env->tab)
        gh_roots_note(rs, "finalizer functions named by pc: %s", env->tab_error ? env->tab_error : "no function table");
    gh_spec_walk w = {.t = rt->t, .heap = h, .tab = env->tab, .L = &L, .minor = rt->ver.minor, .rs = rs,
                      .budget = UINT64_C(1) << 24};
    for (size_t i = 0; i < h->nspans; i++) {
        const gh_span *sp = &h->spans[i];
        if (sp->state != GH_SPAN_INUSE || !sp->specials)
            continue;
        if (gh_cancelled(env->cc))
            return gh_errorf(err, GH_EINTR, "interrupted");
        if ((rc = gh_spec_walk_span(&w, sp, err)))
            return rc;
    }
    /* Without a symbol table the queues' heads are found by what they hold;
     * finding none means nothing is queued (specials_discover.c). */
    int discover = getenv("GOHEAP_DISCOVER") != NULL; /* test knob: even with symbols */
    uint64_t allfin = discover ? 0 : gh_runtime_sym(rt, "runtime.allfin");
    if (!allfin)
        allfin = gh_spec_find_allfin(&w, rt);
    if (allfin && (rc = gh_spec_walk_finq(&w, allfin, err)))
        return rc;
    if (w.minor >= 25) {
        uint64_t q = discover ? 0 : gh_runtime_sym(rt, "runtime.gcCleanups");
        if (!q)
            q = gh_spec_find_cleanups(&w, rt);
        if (q && (rc = gh_spec_walk_cleanupq(&w, q, err)))
            return rc;
    }
    uint64_t allp = discover ? 0 : gh_runtime_sym(rt, "runtime.allp");
    if (!allp)
        allp = gh_spec_find_allp(&w, rt);
    if ((rc = gh_spec_walk_tiny(&w, allp, err)))
        return rc;
    return GH_OK;
}
