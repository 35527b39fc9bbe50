/* mappings: the target's memory regions, each labelled with what goheap
 * knows is there: the executable's sections, heap arenas and their
 * metadata, spans, goroutine stacks, thread stack pointers, or nothing
 * known ("anonymous"). */
#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "goroutine/goroutine.h"

/* What the heap and the goroutines put in each region, counted by region. */
typedef struct tally {
    uint64_t spans, span_bytes, manual, manual_bytes, stacks, stack_bytes, mspans, bitmaps;
} tally;

typedef struct ctx {
    gh_session *s;
    const gh_region *r;
    size_t nr;
    gh_heap *h;           /* NULL when the heap could not be loaded */
    uint64_t arena_map;   /* the heap's arena map (mheap_.arenas[0]), or 0 */
    const gh_thread *th;
    size_t nth;
    tally *t;             /* per region */
    char note[600];
} ctx;

/* Index of the region holding addr, or nr. */
static size_t region_of(const ctx *c, uint64_t addr)
{
    size_t lo = 0, hi = c->nr;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->r[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nr && addr >= c->r[lo].start ? lo : c->nr;
}

static void count(ctx *c)
{
    const gh_heap *h = c->h;
    for (size_t i = 0; h && i < h->nspans; i++) {
        const gh_span *sp = &h->spans[i];
        uint64_t bytes = sp->npages * GH_PAGE_SIZE;
        size_t k = region_of(c, sp->base);
        if (k < c->nr && sp->state == GH_SPAN_INUSE) {
            c->t[k].spans++;
            c->t[k].span_bytes += bytes;
        } else if (k < c->nr) {
            c->t[k].manual++;
            c->t[k].manual_bytes += bytes;
        }
        if ((k = region_of(c, sp->mspan)) < c->nr)
            c->t[k].mspans++;
        if (sp->allocbits && (k = region_of(c, sp->allocbits)) < c->nr)
            c->t[k].bitmaps++;
    }
    gh_goroutines *gs;
    gh_err e;
    if (gh_session_goroutines(c->s, &gs, &e)) {
        snprintf(c->note, sizeof c->note, "goroutine stacks are not labelled: %s", e.msg);
        return;
    }
    for (size_t i = 0; i < gs->n; i++) {
        const gh_goroutine *g = &gs->v[i];
        size_t k = region_of(c, g->stack_lo);
        if (k < c->nr && g->stack_hi > g->stack_lo) {
            c->t[k].stacks++;
            c->t[k].stack_bytes += g->stack_hi - g->stack_lo;
        }
    }
    gh_goroutines_free(gs);
}

static int overlaps(const gh_region *r, uint64_t start, uint64_t end) { return start < r->end && end > r->start; }

/* Labels of one region go either into JSON objects or into one text line. */
typedef struct labels {
    gh_json *j;
    char *buf;
    size_t cap, len;
    int n;
} labels;

static void text(labels *l, const char *sep, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void text(labels *l, const char *sep, const char *fmt, ...)
{
    va_list ap;
    if (l->len < l->cap && sep)
        l->len += (size_t)snprintf(l->buf + l->len, l->cap - l->len, "%s", l->n ? sep : "");
    va_start(ap, fmt);
    if (l->len < l->cap)
        l->len += (size_t)vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
    va_end(ap);
    l->n++;
}

static void begin(labels *l, const char *kind)
{
    gh_json_obj(l->j);
    gh_json_kstr(l->j, "kind", kind);
    l->n++;
}

static void sections(ctx *c, const gh_region *r, labels *l)
{
    size_t nsec;
    int first = 1;
    const gh_section *sec = gh_exe_sections(c->s->exe, &nsec);
    for (size_t i = 0; i < nsec; i++) {
        uint64_t a = sec[i].addr + c->s->rt.bias, e = a + sec[i].size;
        if (!(sec[i].flags & SHF_ALLOC) || (sec[i].flags & SHF_TLS) || !sec[i].addr || !sec[i].size ||
            !overlaps(r, a, e))
            continue;
        if (l->j) {
            begin(l, "section");
            gh_json_kstr(l->j, "name", sec[i].name);
            gh_json_kaddr(l->j, "start", a);
            gh_json_kaddr(l->j, "end", e);
            gh_json_end(l->j, '}');
        } else if (first) {
            text(l, "; ", "sections %s", sec[i].name);
        } else {
            text(l, NULL, " %s", sec[i].name);
        }
        first = 0;
    }
}

static void arenas(ctx *c, const gh_region *r, labels *l)
{
    const gh_heap *h = c->h;
    for (uint64_t i = 0; h && i < h->narenas; i++) {
        uint64_t a = gh_heap_arena_start(h, i), meta = h->arena_meta[i];
        if (overlaps(r, a, a + GH_ARENA_SIZE)) {
            if (l->j) {
                begin(l, "heap_arena");
                gh_json_kaddr(l->j, "start", a);
                gh_json_kaddr(l->j, "end", a + GH_ARENA_SIZE);
                gh_json_end(l->j, '}');
            } else {
                text(l, "; ", "heap arena 0x%" PRIx64 "-0x%" PRIx64, a, a + GH_ARENA_SIZE);
            }
        }
        if (meta >= r->start && meta < r->end) {
            if (l->j) {
                begin(l, "heap_arena_metadata");
                gh_json_kaddr(l->j, "addr", meta);
                gh_json_kaddr(l->j, "arena", a);
                gh_json_end(l->j, '}');
            } else {
                text(l, "; ", "heapArena metadata of arena 0x%" PRIx64 " at 0x%" PRIx64, a, meta);
            }
        }
    }
}

/* "N things (bytes)"; has_bytes 0: a count alone. */
static void counted(labels *l, const char *kind, const char *what, uint64_t n, uint64_t bytes, int has_bytes)
{
    char b[32];
    if (!n)
        return;
    if (l->j) {
        begin(l, kind);
        gh_json_ku64(l->j, "count", n);
        if (has_bytes)
            gh_json_ku64(l->j, "bytes", bytes);
        gh_json_end(l->j, '}');
    } else if (has_bytes) {
        text(l, "; ", "%" PRIu64 " %s (%s)", n, what, gh_human(bytes, b, sizeof b));
    } else {
        text(l, "; ", "%" PRIu64 " %s", n, what);
    }
}

static void contents(ctx *c, size_t k, gh_json *j, char *buf, size_t cap)
{
    const gh_region *r = &c->r[k];
    const tally *t = &c->t[k];
    labels l = {.j = j, .buf = buf, .cap = cap};
    if (buf && cap)
        buf[0] = 0;
    sections(c, r, &l);
    arenas(c, r, &l);
    counted(&l, "spans", "spans in use", t->spans, t->span_bytes, 1);
    counted(&l, "manual_spans", "manual spans for stacks and GC work buffers", t->manual, t->manual_bytes, 1);
    counted(&l, "goroutine_stacks", "goroutine stacks", t->stacks, t->stack_bytes, 1);
    counted(&l, "mspans", "mspan records", t->mspans, 0, 0);
    counted(&l, "span_bitmaps", "span allocation bitmaps", t->bitmaps, 0, 0);
    if (c->arena_map >= r->start && c->arena_map < r->end) {
        if (j) {
            begin(&l, "heap_arena_map");
            gh_json_kaddr(j, "addr", c->arena_map);
            gh_json_end(j, '}');
        } else {
            text(&l, "; ", "heap arena map (mheap_.arenas) at 0x%" PRIx64, c->arena_map);
        }
    }
    int threads = 0;
    for (size_t i = 0; i < c->nth; i++) {
        const uint64_t *regs = gh_thread_regs(c->s->t, &c->th[i]);
        uint64_t sp = regs ? regs[c->s->rt.arch->reg_sp] : 0;
        if (!regs || sp < r->start || sp >= r->end)
            continue;
        if (j) {
            begin(&l, "thread_sp");
            gh_json_ku64(j, "tid", (uint64_t)c->th[i].tid);
            gh_json_kaddr(j, "sp", sp);
            gh_json_end(j, '}');
        } else if (!threads) {
            text(&l, "; ", "stack pointer of thread %d", c->th[i].tid);
        } else {
            text(&l, NULL, ", %d", c->th[i].tid);
        }
        threads++;
    }
    if (!l.n && !r->name) {
        if (j) {
            begin(&l, "anonymous");
            gh_json_end(j, '}');
        } else {
            text(&l, "; ", "anonymous");
        }
    }
}

static void perms(unsigned p, char out[4])
{
    out[0] = p & GH_PROT_R ? 'r' : '-';
    out[1] = p & GH_PROT_W ? 'w' : '-';
    out[2] = p & GH_PROT_X ? 'x' : '-';
    out[3] = 0;
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    ctx c = {.s = s};
    if (!s->t->ops->regions)
        return gh_errorf(err, GH_EUNSUPP, "mappings: this target does not list its memory regions");
    s->t->ops->regions(s->t->ctx, &c.r, &c.nr);
    if (s->t->ops->threads)
        s->t->ops->threads(s->t->ctx, &c.th, &c.nth);
    gh_err e;
    if (gh_session_heap(s, &c.h, &e)) {
        c.h = NULL;
        snprintf(c.note, sizeof c.note, "the heap is not labelled: %s", e.msg);
    } else {
        c.arena_map = c.h->arena_l2;
    }
    c.t = calloc(c.nr ? c.nr : 1, sizeof *c.t);
    if (!c.t)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    if (c.h)
        count(&c);
    if (gh_session_interrupted(s)) {
        free(c.t);
        return gh_errorf(err, GH_EINTR, "interrupted");
    }
    int core = s->t->kind && !strcmp(s->t->kind, "core");
    char pm[4], b1[32];
    if (a->val[0]) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_kstr(&j, "target", s->desc);
        gh_json_key(&j, "mappings");
        gh_json_arr(&j);
        for (size_t i = 0; i < c.nr; i++) {
            const gh_region *r = &c.r[i];
            perms(r->prot, pm);
            gh_json_obj(&j);
            gh_json_kaddr(&j, "start", r->start);
            gh_json_kaddr(&j, "end", r->end);
            gh_json_ku64(&j, "size", r->end - r->start);
            gh_json_kstr(&j, "perms", pm);
            gh_json_key(&j, "file");
            if (r->name)
                gh_json_str(&j, r->name);
            else
                gh_json_null(&j);
            gh_json_ku64(&j, "offset", r->name ? r->file_offset : 0);
            gh_json_key(&j, "in_core");
            if (core)
                gh_json_bool(&j, r->in_core);
            else
                gh_json_null(&j);
            gh_json_key(&j, "contents");
            gh_json_arr(&j);
            contents(&c, i, &j, NULL, 0);
            gh_json_end(&j, ']');
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        gh_json_key(&j, "notes");
        gh_json_arr(&j);
        if (c.note[0])
            gh_json_str(&j, c.note);
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
    } else {
        char line[8192];
        gh_printf(out, "%18s %18s %10s %-4s %s%s\n", "start", "end", "size", "perm", core ? "in core " : "",
                  "file (offset) / contents");
        for (size_t i = 0; i < c.nr; i++) {
            const gh_region *r = &c.r[i];
            perms(r->prot, pm);
            contents(&c, i, NULL, line, sizeof line);
            gh_printf(out, "%#18" PRIx64 " %#18" PRIx64 " %10s %-4s %s", r->start, r->end,
                      gh_human(r->end - r->start, b1, sizeof b1), pm, core ? (r->in_core ? "yes     " : "no      ") : "");
            if (r->name)
                gh_printf(out, "%s (0x%" PRIx64 ")%s", r->name, r->file_offset, line[0] ? ": " : "");
            gh_printf(out, "%s\n", line);
        }
        gh_printf(out, "%zu regions%s\n", c.nr, core ? "; in core: every byte of the region is in the dump" : "");
        if (c.note[0])
            gh_printf(out, "note: %s\n", c.note);
    }
    free(c.t);
    return GH_OK;
}

static const gh_optspec opts[] = {{"--json", 0, "one JSON document"}, {NULL, 0, NULL}};

const gh_command gh_cmd_mappings = {
    .name = "mappings",
    .summary = "the target's memory regions and what is in each: sections, heap arenas, stacks",
    .usage = "mappings [--json]",
    .opts = opts,
    .example = "mappings --json",
    .run = run,
};
