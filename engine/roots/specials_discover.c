/* runtime.allfin, runtime.gcCleanups.all and runtime.allp in a binary
 * without a symbol table (-ldflags=-s): section headers survive stripping,
 * so the writable sections are searched for a word that holds what the
 * global must hold.
 *
 * A queue head is accepted only when its list of blocks holds at least one
 * valid entry (a funcval whose code is a function's entry, an argument in an
 * allocated heap object): empty blocks prove nothing. Every block with an
 * entry is on the allfin (gcCleanups.all) list and the head is the newest
 * block, so among the words that reach valid entries the one with the
 * longest list is the head (finq and finc point into the same list), and
 * when no word reaches an entry nothing is queued. allp is a slice whose
 * every element is a P (a heap object over 4 KiB whose p.id is its index,
 * with an off-heap mcache), accepted only when every place that fits holds
 * the same slice (m0.allpSnapshot copies it in 1.23+). */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "roots/specials.h"

#define MAX_SECTION (64u << 20)
#define MAX_CHAIN 4096
#define MAX_PS 65536
#define MIN_P_SIZE 4096

static int read64(const gh_spec_walk *w, uint64_t a, uint64_t *v) { return gh_read_u64(w->t, a, v, NULL) == GH_OK; }

/* fv is a funcval: its first word is a function's entry. */
static int is_funcval(const gh_spec_walk *w, uint64_t fv)
{
    uint64_t pc;
    gh_func fn;
    return fv && fv % 8 == 0 && read64(w, fv, &pc) && !gh_func_find(w->tab, pc, &fn, NULL) && fn.entry == pc;
}

static int in_object(const gh_spec_walk *w, uint64_t p)
{
    gh_obj o;
    return w->heap && gh_heap_find(w->heap, p, &o);
}

/* Valid entries of the finBlock at fb (0 when it is not one), or -1. */
static int fin_entries(const gh_spec_walk *w, uint64_t fb)
{
    const gh_spec_layout *L = w->L;
    uint32_t cnt;
    if (gh_read_u32(w->t, fb + L->fb_cnt.offset, &cnt, NULL) || cnt > L->fb_fin.size / L->finalizer_size)
        return -1;
    for (uint32_t i = 0; i < cnt; i++) {
        uint64_t e = fb + L->fb_fin.offset + i * L->finalizer_size, fn, arg, fint;
        if (!read64(w, e + L->f_fn.offset, &fn) || !read64(w, e + L->f_arg.offset, &arg) ||
            !read64(w, e + L->f_fint.offset, &fint) || !is_funcval(w, fn))
            return -1;
        if (arg ? !in_object(w, arg) || !fint : w->minor != 24) /* 1.24 cleanups: arg nil */
            return -1;
    }
    return (int)cnt;
}

/* Valid entries of the cleanupBlock at cb, or -1. */
static int cleanup_entries(const gh_spec_walk *w, uint64_t cb)
{
    const gh_spec_layout *L = w->L;
    uint64_t esz = L->cleanupfn_size ? L->cleanupfn_size : 8;
    uint32_t n;
    if (gh_read_u32(w->t, cb + L->cb_n.offset, &n, NULL) || n > L->cb_cleanups.size / esz)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t e = cb + L->cb_cleanups.offset + i * esz, fv, call;
        if (!read64(w, e + (L->cleanupfn_size ? L->cf_fn.offset : 0), &fv) || !is_funcval(w, fv))
            return -1;
        if (L->cleanupfn_size && (!read64(w, e, &call) || !is_funcval(w, call))) /* cleanupFn.call first */
            return -1;
    }
    return (int)n;
}

/* Blocks on the list from head, when every one is valid and at least one
 * holds an entry; 0 otherwise. */
static uint64_t chain(const gh_spec_walk *w, uint64_t head, uint64_t link, int (*entries)(const gh_spec_walk *, uint64_t))
{
    uint64_t n = 0, total = 0;
    for (uint64_t b = head; b; n++) {
        if (n == MAX_CHAIN || b % 8 || (w->heap && gh_heap_span_of(w->heap, b)))
            return 0; /* blocks live off the heap, in persistentalloc memory */
        int k = entries(w, b);
        if (k < 0 || !read64(w, b + link, &b))
            return 0;
        total += (uint64_t)k;
    }
    return total ? n : 0;
}

typedef struct search {
    const gh_spec_walk *w;
    uint64_t link;
    int (*entries)(const gh_spec_walk *, uint64_t);
    uint64_t best, best_len;
} search;

static void try_head(search *s, uint64_t at, uint64_t v)
{
    if (!v || v % 8)
        return;
    uint64_t len = chain(s->w, v, s->link, s->entries);
    if (len > s->best_len) {
        s->best = at;
        s->best_len = len;
    }
}

/* Calls fn on every word of every writable allocated section. */
static void each_word(const gh_spec_walk *w, const gh_runtime *rt, void (*fn)(void *, uint64_t, uint64_t), void *ctx)
{
    size_t n;
    const gh_section *sec = gh_exe_sections(rt->exe, &n);
    for (size_t i = 0; i < n; i++) {
        if (!(sec[i].flags & SHF_WRITE) || !(sec[i].flags & SHF_ALLOC) || sec[i].size > MAX_SECTION || sec[i].size < 8)
            continue;
        uint64_t addr = sec[i].addr + rt->bias;
        uint8_t *buf = malloc(sec[i].size);
        if (!buf)
            return;
        if (!gh_read(w->t, addr, buf, sec[i].size, NULL))
            for (uint64_t x = 0; x + 8 <= sec[i].size; x += 8) {
                uint64_t v;
                memcpy(&v, buf + x, 8);
                fn(ctx, addr + x, v);
            }
        free(buf);
    }
}

static void head_word(void *ctx, uint64_t at, uint64_t v) { try_head(ctx, at, v); }

uint64_t gh_spec_find_allfin(const gh_spec_walk *w, const gh_runtime *rt)
{
    search s = {.w = w, .link = w->L->fb_alllink.offset, .entries = fin_entries};
    if (w->tab)
        each_word(w, rt, head_word, &s);
    return s.best;
}

uint64_t gh_spec_find_cleanups(const gh_spec_walk *w, const gh_runtime *rt)
{
    search s = {.w = w, .link = w->L->cb_alllink.offset, .entries = cleanup_entries};
    if (w->tab)
        each_word(w, rt, head_word, &s);
    return s.best ? s.best - w->L->cq_all.offset : 0;
}

typedef struct psearch {
    const gh_spec_walk *w;
    uint64_t prev[2]; /* the two words before: a slice is {ptr, len, cap} */
    uint64_t prev_at;
    uint64_t found, ptr, len;
    int ambiguous;
} psearch;

/* Is {ptr, len, cap} (ending at the word just read) the []*p of allp? */
static void p_word(void *ctx, uint64_t at, uint64_t cap)
{
    psearch *s = ctx;
    uint64_t ptr = s->prev[0], len = s->prev[1], slice = s->prev_at;
    s->prev[0] = s->prev[1];
    s->prev[1] = cap;
    s->prev_at = at - 8;
    if (!ptr || ptr % 8 || !len || len > cap || cap > MAX_PS || at - slice != 16)
        return;
    const gh_spec_layout *L = s->w->L;
    uint64_t size = 0;
    for (uint64_t i = 0; i < len; i++) {
        uint64_t p, mc;
        uint32_t id;
        gh_obj o;
        /* A P is a heap object of its own (new(p), over 4 KiB in every
         * release: its run queue alone is 2 KiB), all of one size, numbered
         * by its index, with an mcache from off-heap memory (fixalloc). */
        if (!read64(s->w, ptr + 8 * i, &p) || !p || !s->w->heap || !gh_heap_find(s->w->heap, p, &o) ||
            gh_obj_data(&o) != p || o.size < MIN_P_SIZE || (size && o.size != size) ||
            gh_read_u32(s->w->t, p + L->p_id.offset, &id, NULL) || id != i ||
            !read64(s->w, p + L->p_mcache.offset, &mc) || !mc || gh_heap_span_of(s->w->heap, mc))
            return;
        size = o.size;
    }
    /* m.allpSnapshot (1.23+) copies allp: the same Ps are as good. */
    if (s->found && (s->ptr != ptr || s->len != len))
        s->ambiguous = 1;
    s->found = slice;
    s->ptr = ptr;
    s->len = len;
}

uint64_t gh_spec_find_allp(const gh_spec_walk *w, const gh_runtime *rt)
{
    psearch s = {.w = w};
    each_word(w, rt, p_word, &s);
    return s.ambiguous ? 0 : s.found;
}
