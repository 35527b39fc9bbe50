/* The runtime's finalizer and cleanup queues and the Ps' tiny blocks: roots
 * held outside the heap that markroot and gcMarkTinyAllocs scan (see the
 * comment at the top of specials.c). Every list walk is bounded. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "roots/specials.h"

#define MAX_BLOCKS 65536 /* 4 KiB finBlocks or 512-byte cleanupBlocks: far more than any program queues */
#define MAX_PS 65536

/* Next node of a list through the pointer at off; 0 at the end or when unreadable. */
static uint64_t next_node(const gh_target *t, uint64_t x, uint64_t off)
{
    uint64_t v;
    return x && !gh_read_u64(t, x + off, &v, NULL) ? v : 0;
}

/* How many distinct nodes the list from head has (Brent's cycle detection,
 * then the cycle's start), so a cyclic list is walked once around and no
 * block is counted twice. *cyclic is set for a list that comes back on
 * itself; lists longer than max give max. */
static uint64_t list_nodes(const gh_target *t, uint64_t head, uint64_t off, uint64_t max, int *cyclic)
{
    *cyclic = 0;
    if (!head)
        return 0;
    uint64_t power = 1, lam = 1, steps = 1, tort = head, hare = next_node(t, head, off);
    while (hare != tort) {
        if (!hare)
            return steps < max ? steps : max; /* ends: steps nodes */
        if (steps >= 3 * max)
            return max;
        if (power == lam) {
            tort = hare;
            power *= 2;
            lam = 0;
        }
        hare = next_node(t, hare, off);
        lam++;
        steps++;
    }
    *cyclic = 1;
    /* lam is the cycle's length; mu, the nodes before it. */
    uint64_t mu = 0;
    tort = hare = head;
    for (uint64_t i = 0; i < lam; i++)
        hare = next_node(t, hare, off);
    while (tort != hare && mu < max) {
        tort = next_node(t, tort, off);
        hare = next_node(t, hare, off);
        mu++;
    }
    return mu + lam < max ? mu + lam : max;
}

/* Bit of the word at byte offset off within a record. */
static void mask_set(uint8_t *mask, uint64_t off) { mask[off / 64] |= (uint8_t)(1u << (off / 8 % 8)); }

static int add(gh_spec_walk *w, int kind, uint64_t addr, uint64_t size, const uint8_t *mask, const char *name,
               gh_err *err)
{
    gh_root r = {.kind = (uint8_t)kind, .addr = addr, .size = size, .mask = mask, .name = name, .goid = -1};
    return gh_roots_add(w->rs, &r, err);
}

int gh_spec_walk_finq(gh_spec_walk *w, uint64_t allfin, gh_err *err)
{
    const gh_spec_layout *L = w->L;
    if (!allfin) {
        gh_roots_note(w->rs, "queued finalizers not read: runtime.allfin not found");
        return GH_OK;
    }
    uint64_t fsz = L->finalizer_size, cap = fsz ? L->fb_fin.size / fsz : 0;
    if (fsz % 8 || fsz > 256 || !cap) {
        gh_roots_note(w->rs, "queued finalizers not read: implausible runtime.finalizer layout");
        return GH_OK;
    }
    /* finptrmask: fn, arg, fint, ot are pointers; nret is not. */
    uint8_t mask[4] = {0};
    mask_set(mask, L->f_fn.offset);
    mask_set(mask, L->f_arg.offset);
    mask_set(mask, L->f_fint.offset);
    mask_set(mask, L->f_ot.offset);
    uint64_t fb;
    if (gh_read_u64(w->t, allfin, &fb, NULL)) {
        gh_roots_note(w->rs, "queued finalizers not read: runtime.allfin unreadable");
        return GH_OK;
    }
    int cyclic;
    uint64_t nblocks = list_nodes(w->t, fb, L->fb_alllink.offset, MAX_BLOCKS, &cyclic);
    if (cyclic)
        gh_roots_note(w->rs, "runtime.allfin: the list of finBlocks is cyclic: walked once around (%" PRIu64
                             " blocks)", nblocks);
    else if (nblocks == MAX_BLOCKS)
        gh_roots_note(w->rs, "runtime.allfin: more than %d finBlocks: list cut", MAX_BLOCKS);
    for (uint64_t nb = 0; fb && nb < nblocks; nb++) {
        uint32_t cnt;
        uint64_t next;
        if (gh_read_u32(w->t, fb + L->fb_cnt.offset, &cnt, NULL) ||
            gh_read_u64(w->t, fb + L->fb_alllink.offset, &next, NULL)) {
            gh_roots_note(w->rs, "runtime.allfin: finBlock 0x%" PRIx64 " unreadable: list cut", fb);
            break;
        }
        if (cnt > cap) {
            gh_roots_note(w->rs, "runtime.allfin: finBlock 0x%" PRIx64 " claims %u entries of %" PRIu64
                                 ": skipped", fb, cnt, cap);
            cnt = 0;
        }
        for (uint32_t i = 0; i < cnt; i++) {
            uint64_t e = fb + L->fb_fin.offset + i * fsz, fn, arg;
            if (gh_read_u64(w->t, e + L->f_fn.offset, &fn, NULL) || gh_read_u64(w->t, e + L->f_arg.offset, &arg, NULL)) {
                gh_roots_note(w->rs, "runtime.allfin: entry 0x%" PRIx64 " unreadable", e);
                continue;
            }
            if (!fn)
                continue;
            /* Go 1.24 queues cleanups here too: arg nil, fn AddCleanup's closure. */
            int cleanup = !arg && w->minor == 24;
            char name[512];
            gh_spec_funcval_name(w, fn, cleanup, name, sizeof name);
            /* The argument's type, for typing it: ot is the *T the finalizer
             * was set with. */
            uint64_t ot = 0, elem = 0;
            if (!cleanup && !gh_read_u64(w->t, e + L->f_ot.offset, &ot, NULL) && ot)
                gh_read_u64(w->t, ot + 48, &elem, NULL); /* abi.PtrType.Elem */
            gh_root r = {.kind = cleanup ? GH_ROOT_CLEANUP : GH_ROOT_FINALIZER, .addr = e, .size = fsz,
                         .mask = mask, .name = name, .goid = -1, .fn_word = e + L->f_fn.offset,
                         .arg = cleanup ? 0 : arg, .arg_rtype = elem};
            int rc = gh_roots_add(w->rs, &r, err);
            if (rc)
                return rc;
            if (cleanup)
                w->n.queued_cleanup++;
            else
                w->n.queued_fin++;
        }
        fb = next;
    }
    return GH_OK;
}

int gh_spec_walk_cleanupq(gh_spec_walk *w, uint64_t gccleanups, gh_err *err)
{
    const gh_spec_layout *L = w->L;
    if (!gccleanups) {
        gh_roots_note(w->rs, "queued cleanups not read: runtime.gcCleanups not found");
        return GH_OK;
    }
    /* 1.25: *funcval (AddCleanup's closure); 1.26+: cleanupFn {call, fn, arg}. */
    int wrapped = L->cleanupfn_size == 0;
    uint64_t esz = wrapped ? 8 : L->cleanupfn_size, cap = L->cb_cleanups.size / esz;
    if (esz % 8 || esz > 64 || !cap) {
        gh_roots_note(w->rs, "queued cleanups not read: implausible runtime.cleanupBlock layout");
        return GH_OK;
    }
    uint64_t cb;
    if (gh_read_u64(w->t, gccleanups + L->cq_all.offset, &cb, NULL)) {
        gh_roots_note(w->rs, "queued cleanups not read: runtime.gcCleanups unreadable");
        return GH_OK;
    }
    int cyclic;
    uint64_t nblocks = list_nodes(w->t, cb, L->cb_alllink.offset, MAX_BLOCKS, &cyclic);
    if (cyclic)
        gh_roots_note(w->rs, "runtime.gcCleanups.all: the list of cleanupBlocks is cyclic: walked once around (%" PRIu64
                             " blocks)", nblocks);
    else if (nblocks == MAX_BLOCKS)
        gh_roots_note(w->rs, "runtime.gcCleanups.all: more than %d cleanupBlocks: list cut", MAX_BLOCKS);
    for (uint64_t nb = 0; cb && nb < nblocks; nb++) {
        uint32_t n;
        uint64_t next;
        if (gh_read_u32(w->t, cb + L->cb_n.offset, &n, NULL) ||
            gh_read_u64(w->t, cb + L->cb_alllink.offset, &next, NULL)) {
            gh_roots_note(w->rs, "runtime.gcCleanups.all: block 0x%" PRIx64 " unreadable: list cut", cb);
            break;
        }
        if (n > cap) {
            gh_roots_note(w->rs, "runtime.gcCleanups.all: block 0x%" PRIx64 " claims %u entries of %" PRIu64
                                 ": skipped", cb, n, cap);
            n = 0;
        }
        for (uint32_t i = 0; i < n; i++) {
            uint64_t e = cb + L->cb_cleanups.offset + i * esz, fv;
            if (gh_read_u64(w->t, e + (wrapped ? 0 : L->cf_fn.offset), &fv, NULL)) {
                gh_roots_note(w->rs, "runtime.gcCleanups.all: entry 0x%" PRIx64 " unreadable", e);
                continue;
            }
            if (!fv)
                continue;
            char name[512];
            gh_spec_funcval_name(w, fv, wrapped, name, sizeof name);
            int rc = add(w, GH_ROOT_CLEANUP, e, esz, NULL, name, err);
            if (rc)
                return rc;
            w->n.queued_cleanup++;
        }
        cb = next;
    }
    return GH_OK;
}

int gh_spec_walk_tiny(gh_spec_walk *w, uint64_t allp, gh_err *err)
{
    const gh_spec_layout *L = w->L;
    if (!allp) {
        gh_roots_note(w->rs, "tiny allocation blocks not read: runtime.allp not found");
        return GH_OK;
    }
    uint64_t ps, len;
    if (gh_read_u64(w->t, allp, &ps, NULL) || gh_read_u64(w->t, allp + 8, &len, NULL)) {
        gh_roots_note(w->rs, "tiny allocation blocks not read: runtime.allp unreadable");
        return GH_OK;
    }
    if (len > MAX_PS) {
        gh_roots_note(w->rs, "tiny allocation blocks not read: runtime.allp has %" PRIu64 " entries", len);
        return GH_OK;
    }
    for (uint64_t i = 0; i < len; i++) {
        uint64_t p, mc, tiny;
        if (gh_read_u64(w->t, ps + 8 * i, &p, NULL) || !p ||
            gh_read_u64(w->t, p + L->p_mcache.offset, &mc, NULL) || !mc ||
            gh_read_u64(w->t, mc + L->mc_tiny.offset, &tiny, NULL) || !tiny)
            continue;
        char name[64];
        snprintf(name, sizeof name, "tiny block of P %" PRIu64, i);
        int rc = add(w, GH_ROOT_RUNTIME, mc + L->mc_tiny.offset, 8, NULL, name, err);
        if (rc)
            return rc;
        w->n.tiny++;
    }
    return GH_OK;
}
