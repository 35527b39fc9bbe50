/* paths ADDR: what keeps an object alive. The shortest path from any root
 * comes from the marker's parents; --max N adds shortest paths from other,
 * distinct roots, found by a breadth-first walk backwards over a reverse
 * index of the live graph (built on first use, kept with the graph). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "goheap/graph.h"
#include "goheap/heapscan.h"
#include "gotype_int.h"

#define MAX_PATHS 1000
#define MAX_HOPS (1u << 20)

typedef struct path {
    uint32_t root;
    uint32_t *hops; /* slots, root side first */
    size_t n;
} path;

/* --- finding the word that points to the next hop -------------------------- */

typedef struct finder {
    uint64_t lo, hi, found;
} finder;

static int find_word(void *ctx, uint64_t word_addr, uint64_t value)
{
    finder *f = ctx;
    if (value >= f->lo && value < f->hi) {
        f->found = word_addr;
        return 1;
    }
    return 0;
}

static void slot_obj(const gh_heap *h, uint32_t id, gh_obj *o)
{
    if (!gh_heap_slot(h, id, o))
        memset(o, 0, sizeof *o);
}

/* The field of object p (slot) that points into object c. */
static void hop_field(gh_session *s, gh_graph *g, uint32_t p, const gh_obj *c, char *buf, size_t cap)
{
    gh_obj po;
    buf[0] = 0;
    slot_obj(g->h, p, &po);
    if (!po.span)
        return;
    finder f = {c->addr, c->addr + c->size, 0};
    gh_heap_scan_object(g->h, gh_session_typemasks(s), &po, find_word, &f, NULL, NULL);
    if (!f.found)
        return;
    uint64_t data = gh_obj_data(&po), off = f.found - data;
    gh_tid t = g->type[p];
    if (t == GH_TID_TINY || t == 0) {
        snprintf(buf, cap, "+%" PRIu64, f.found - po.addr);
        return;
    }
    gh_types_field(g->types, t, off, buf, cap);
    if (!buf[0])
        snprintf(buf, cap, "+%" PRIu64, f.found - po.addr);
}

/* The word of root r that points into c: its field name, and whether the
 * path goes through a finalizer's object or a static object first. */
static void root_field(gh_session *s, gh_graph *g, const gh_root *r, const gh_obj *c, char *buf, size_t cap,
                       uint64_t *through)
{
    buf[0] = 0;
    *through = 0;
    uint64_t nw = r->size / 8;
    for (uint64_t w = 0; w < nw; w++) {
        if (!r->conservative && r->mask && !(r->mask[w >> 3] >> (w & 7) & 1))
            continue;
        uint64_t v;
        if (r->values)
            v = r->values[w];
        else if (gh_read_u64(s->t, r->addr + 8 * w, &v, NULL))
            continue;
        if (v >= c->addr && v < c->addr + c->size) {
            if (r->rtype || r->dwarf_type)
                gh_types_value_field(g->types, r->rtype, r->dwarf_type, 8 * w, buf, cap);
            else if (nw > 1)
                snprintf(buf, cap, "+%" PRIu64, 8 * w);
            if (r->via)
                *through = r->via;
            return;
        }
    }
    if (r->object)
        *through = r->object;
}

static void root_json(gh_json *j, const gh_root *r)
{
    gh_json_obj(j);
    gh_json_kstr(j, "kind", gh_root_kind_name(r->kind));
    if (r->name)
        gh_json_kstr(j, "name", r->name);
    if (r->kind == GH_ROOT_STACK) {
        gh_json_ki64(j, "goroutine", r->goid);
        if (r->function)
            gh_json_kstr(j, "function", r->function);
        if (r->variable)
            gh_json_kstr(j, "variable", r->variable);
    }
    if (!r->values)
        gh_json_kaddr(j, "addr", r->addr);
    else
        gh_json_kstr(j, "where", "registers");
    if (r->object)
        gh_json_kaddr(j, "object", r->object);
    gh_json_end(j, '}');
}

static void root_text(const gh_root *r, char *buf, size_t cap)
{
    if (r->kind == GH_ROOT_STACK)
        snprintf(buf, cap, "stack: goroutine %" PRId64 " %s%s%s%s", r->goid, r->function ? r->function : "?",
                 r->variable ? " (" : "", r->variable ? r->variable : "", r->variable ? ")" : "");
    else if (r->name)
        snprintf(buf, cap, "%s %s", gh_root_kind_name(r->kind), r->name);
    else
        snprintf(buf, cap, "%s at 0x%" PRIx64, gh_root_kind_name(r->kind), r->addr);
}

static void print_path(gh_session *s, gh_graph *g, const path *p, int json, gh_json *j, gh_out *out)
{
    const gh_root *r = gh_roots_get(g->roots, p->root);
    char field[512], tname[64], rdesc[600];
    gh_obj c;
    uint64_t through = 0;
    if (json) {
        gh_json_obj(j);
        gh_json_key(j, "root");
        root_json(j, r);
        gh_json_key(j, "hops");
        gh_json_arr(j);
    } else {
        root_text(r, rdesc, sizeof rdesc);
        gh_printf(out, "  %s\n", rdesc);
    }
    for (size_t i = 0; i < p->n; i++) {
        slot_obj(g->h, p->hops[i], &c);
        if (i == 0)
            root_field(s, g, r, &c, field, sizeof field, &through);
        else
            hop_field(s, g, p->hops[i - 1], &c, field, sizeof field);
        if (i == 0 && through) {
            /* The finalizer's object, or a static object in the data segment. */
            const char *what = r->object ? "(object with the finalizer: not kept alive by it)" : "(static data)";
            gh_obj to;
            const char *tn = "";
            if (r->object && gh_heap_find(g->h, through, &to))
                tn = gh_graph_type_name(g, to.id, to.size, tname, sizeof tname);
            else if (r->via_rtype)
                tn = gh_types_name(g->types, gh_types_intern(g->types, &(gh_otype){.rtype = r->via_rtype, .count = 1}));
            if (json) {
                gh_json_obj(j);
                gh_json_kaddr(j, "addr", through);
                gh_json_kstr(j, "type", tn);
                gh_json_kstr(j, "field", field);
                gh_json_kstr(j, "note", what);
                gh_json_end(j, '}');
            } else {
                gh_printf(out, "    -> %-24s 0x%" PRIx64 " %s %s\n", field[0] ? field : "", through, tn, what);
            }
            field[0] = 0;
        }
        const char *tn = gh_graph_type_name(g, c.id, c.size, tname, sizeof tname);
        if (json) {
            gh_json_obj(j);
            gh_json_kaddr(j, "addr", c.addr);
            gh_json_kstr(j, "type", tn);
            gh_json_ku64(j, "size", c.size);
            gh_json_kstr(j, "field", field);
            gh_json_end(j, '}');
        } else {
            gh_printf(out, "    -> %-24s 0x%" PRIx64 " %s\n", field, c.addr, tn);
        }
    }
    if (json) {
        gh_json_end(j, ']');
        gh_json_end(j, '}');
    }
}

/* --- reverse index ------------------------------------------------------- */

typedef struct rev {
    const gh_heap *h;
    const gh_graph *g;
    uint32_t *start, *edges, *fill;
    uint32_t cur;
    int counting;
} rev;

static int rev_edge(void *ctx, uint64_t word_addr, uint64_t value)
{
    rev *rv = ctx;
    (void)word_addr;
    gh_obj o;
    if (!gh_heap_find(rv->h, value, &o) || o.id == rv->cur || !gh_graph_live(rv->g, o.id))
        return 0;
    if (rv->counting)
        rv->start[o.id + 1]++;
    else
        rv->edges[rv->fill[o.id]++] = rv->cur;
    return 0;
}

static int build_reverse(gh_session *s, gh_graph *g, gh_err *err)
{
    if (g->rev_start)
        return GH_OK;
    const gh_heap *h = g->h;
    size_t ns = h->nslots;
    rev rv = {.h = h, .g = g};
    rv.start = calloc(ns + 1, sizeof *rv.start);
    if (!rv.start)
        return gh_errorf(err, GH_ENOMEM, "out of memory for the reverse index");
    gh_typemask_cache *tc = gh_session_typemasks(s);
    for (int pass = 0; pass < 2; pass++) {
        rv.counting = pass == 0;
        if (pass == 1) {
            for (size_t i = 0; i < ns; i++)
                rv.start[i + 1] += rv.start[i];
            rv.edges = malloc((rv.start[ns] ? rv.start[ns] : 1) * sizeof *rv.edges);
            rv.fill = malloc((ns ? ns : 1) * sizeof *rv.fill);
            if (!rv.edges || !rv.fill) {
                free(rv.start);
                free(rv.edges);
                free(rv.fill);
                return gh_errorf(err, GH_ENOMEM, "out of memory for the reverse index");
            }
            memcpy(rv.fill, rv.start, ns * sizeof *rv.fill);
        }
        for (size_t si = 0; si < h->nspans; si++) {
            const gh_span *sp = &h->spans[si];
            if (sp->state != GH_SPAN_INUSE || gh_span_noscan(sp))
                continue;
            for (uint32_t k = 0; k < sp->nelems; k++) {
                uint32_t id = sp->first + k;
                if (!gh_heap_allocated(h, id) || !gh_graph_live(g, id))
                    continue;
                gh_obj o;
                gh_heap_obj(h, sp, k, &o);
                rv.cur = id;
                gh_heap_scan_object(h, tc, &o, rev_edge, &rv, NULL, NULL);
            }
            gh_session_progress(s, "indexing references", pass * h->nspans + si, 2 * (uint64_t)h->nspans);
            if (gh_session_interrupted(s)) {
                free(rv.start);
                free(rv.edges);
                free(rv.fill);
                return gh_errorf(err, GH_EINTR, "interrupted while indexing references");
            }
        }
    }
    gh_session_progress(s, "indexing references", 2 * (uint64_t)h->nspans, 2 * (uint64_t)h->nspans);
    free(rv.fill);
    g->rev_start = rv.start;
    g->rev_edges = rv.edges;
    return GH_OK;
}

/* Which roots point straight at each object: pairs (slot, root), by slot. */
typedef struct rootedge {
    uint32_t slot, root;
} rootedge;

static int cmp_rootedge(const void *a, const void *b)
{
    const rootedge *x = a, *y = b;
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return (x->root > y->root) - (x->root < y->root);
}

typedef struct recoll {
    const gh_heap *h;
    rootedge *v;
    size_t n, cap;
    uint32_t root;
    int oom;
} recoll;

static void re_add(recoll *c, uint64_t value)
{
    gh_obj o;
    if (!gh_heap_find(c->h, value, &o))
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        rootedge *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            c->oom = 1;
            return;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (rootedge){o.id, c->root};
}

static int re_word(void *ctx, uint64_t word_addr, uint64_t value)
{
    (void)word_addr;
    re_add(ctx, value);
    return 0;
}

static int build_root_edges(gh_session *s, gh_graph *g, gh_err *err)
{
    if (g->root_edges)
        return GH_OK;
    recoll c = {.h = g->h};
    size_t nr = gh_roots_count(g->roots);
    for (size_t i = 0; i < nr; i++) {
        const gh_root *r = gh_roots_get(g->roots, i);
        c.root = (uint32_t)i;
        for (uint64_t w = 0; w < r->size / 8; w++) {
            if (!r->conservative && r->mask && !(r->mask[w >> 3] >> (w & 7) & 1))
                continue;
            uint64_t v;
            if (r->values)
                v = r->values[w];
            else if (gh_read_u64(s->t, r->addr + 8 * w, &v, NULL))
                continue;
            if (v)
                re_add(&c, v);
        }
        gh_obj o;
        if (r->object && gh_heap_find(g->h, r->object, &o))
            gh_heap_scan_object(g->h, gh_session_typemasks(s), &o, re_word, &c, NULL, NULL);
    }
    if (c.oom) {
        free(c.v);
        return gh_errorf(err, GH_ENOMEM, "out of memory for root edges");
    }
    if (c.n)
        qsort(c.v, c.n, sizeof *c.v, cmp_rootedge);
    g->root_edges = c.v ? (void *)c.v : malloc(1);
    g->nroot_edges = c.n;
    return g->root_edges ? GH_OK : gh_errorf(err, GH_ENOMEM, "out of memory");
}

static void root_key(const gh_root *r, char *buf, size_t cap)
{
    if (r->kind == GH_ROOT_STACK)
        snprintf(buf, cap, "stack/%" PRId64 "/%s/%s", r->goid, r->function ? r->function : "",
                 r->variable ? r->variable : "");
    else if (r->name)
        snprintf(buf, cap, "%d/%s", r->kind, r->name);
    else
        snprintf(buf, cap, "%d/@%" PRIx64, r->kind, r->addr);
}

/* Paths from up to max distinct roots, shortest first. */
static int more_paths(gh_session *s, gh_graph *g, uint32_t target, size_t max, path *out, size_t *nout, gh_err *err)
{
    int rc;
    if ((rc = build_reverse(s, g, err)) || (rc = build_root_edges(s, g, err)))
        return rc;
    size_t ns = g->h->nslots;
    uint32_t *next = malloc(ns * sizeof *next), *queue = malloc(ns * sizeof *queue);
    uint64_t *seen = calloc((ns + 63) / 64, 8);
    char (*keys)[300] = calloc(max, sizeof *keys);
    if (!next || !queue || !seen || !keys) {
        free(next), free(queue), free(seen), free(keys);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    const rootedge *re = g->root_edges;
    size_t qh = 0, qt = 0, n = 0;
    queue[qt++] = target;
    seen[target >> 6] |= UINT64_C(1) << (target & 63);
    next[target] = UINT32_MAX;
    while (qh < qt && n < max) {
        uint32_t x = queue[qh++];
        /* Roots pointing straight at x. */
        size_t lo = 0, hi = g->nroot_edges;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (re[mid].slot < x)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < g->nroot_edges && re[k].slot == x && n < max; k++) {
            char key[300];
            root_key(gh_roots_get(g->roots, re[k].root), key, sizeof key);
            size_t d = 0;
            while (d < n && strcmp(keys[d], key))
                d++;
            if (d < n)
                continue;
            snprintf(keys[n], sizeof keys[n], "%s", key);
            size_t len = 0;
            for (uint32_t y = x; y != UINT32_MAX && len < MAX_HOPS; y = next[y])
                len++;
            uint32_t *hops = malloc(len * sizeof *hops);
            if (!hops)
                break;
            len = 0;
            for (uint32_t y = x; y != UINT32_MAX && len < MAX_HOPS; y = next[y])
                hops[len++] = y;
            out[n++] = (path){re[k].root, hops, len};
        }
        for (uint32_t e = g->rev_start[x]; e < g->rev_start[x + 1]; e++) {
            uint32_t p = g->rev_edges[e];
            if (seen[p >> 6] >> (p & 63) & 1)
                continue;
            seen[p >> 6] |= UINT64_C(1) << (p & 63);
            next[p] = x;
            queue[qt++] = p;
        }
    }
    free(next), free(queue), free(seen), free(keys);
    *nout = n;
    return GH_OK;
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t addr, max = 1;
    int json = a->val[0] != NULL;
    int rc = gh_parse_u64(a->pos[0], "address", &addr, err);
    if (rc || (a->val[1] && (rc = gh_parse_u64(a->val[1], "--max", &max, err))))
        return rc;
    if (max < 1 || max > MAX_PATHS)
        return gh_errorf(err, GH_EARG, "paths: --max takes 1 to %d", MAX_PATHS);
    gh_graph *g;
    if ((rc = gh_session_graph(s, &g, err)))
        return rc;
    gh_obj o;
    if (!gh_heap_find(g->h, addr, &o))
        return gh_errorf(err, GH_EARG, "paths: 0x%" PRIx64 " is not inside an allocated heap object (see whatis)", addr);
    char tname[64];
    const char *tn = gh_graph_type_name(g, o.id, o.size, tname, sizeof tname);
    int live = gh_graph_live(g, o.id);
    path paths[MAX_PATHS];
    size_t np = 0;
    if (live) {
        /* The marker's parents give the shortest path. */
        size_t len = 0;
        uint32_t x = o.id;
        while (!(x & GH_PARENT_ROOT) && len < MAX_HOPS) {
            len++;
            x = g->parent[x];
        }
        if (x == GH_PARENT_NONE || !(x & GH_PARENT_ROOT))
            return gh_errorf(err, GH_EFORMAT, "paths: the parent chain of 0x%" PRIx64 " is broken", o.addr);
        uint32_t *hops = malloc(len * sizeof *hops);
        if (!hops)
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        size_t i = len;
        for (uint32_t y = o.id; !(y & GH_PARENT_ROOT); y = g->parent[y])
            hops[--i] = y;
        paths[np++] = (path){x & ~GH_PARENT_ROOT, hops, len};
        if (max > 1) {
            path more[MAX_PATHS];
            size_t nm = 0;
            if ((rc = more_paths(s, g, o.id, max, more, &nm, err))) {
                free(hops);
                return rc;
            }
            /* Keep the marker's path first; add the others from other roots. */
            char k0[300], k[300];
            root_key(gh_roots_get(g->roots, paths[0].root), k0, sizeof k0);
            for (size_t m = 0; m < nm; m++) {
                root_key(gh_roots_get(g->roots, more[m].root), k, sizeof k);
                if (np < max && strcmp(k, k0))
                    paths[np++] = more[m];
                else
                    free(more[m].hops);
            }
        }
    }
    if (json) {
        gh_json j;
        gh_json_init(&j, out);
        gh_json_obj(&j);
        gh_json_key(&j, "target");
        gh_json_obj(&j);
        gh_json_kaddr(&j, "addr", o.addr);
        gh_json_kstr(&j, "type", tn);
        gh_json_ku64(&j, "size", o.size);
        gh_json_end(&j, '}');
        gh_json_kbool(&j, "live", live);
        gh_json_key(&j, "paths");
        gh_json_arr(&j);
        for (size_t i = 0; i < np; i++)
            print_path(s, g, &paths[i], 1, &j, out);
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
    } else if (!live) {
        gh_printf(out, "0x%" PRIx64 " %s (%" PRIu64 " bytes) is garbage: allocated, but no root reaches it\n", o.addr,
                  tn, o.size);
    } else {
        gh_printf(out, "0x%" PRIx64 " %s (%" PRIu64 " bytes) is live; %zu path%s:\n", o.addr, tn, o.size, np,
                  np == 1 ? "" : "s");
        for (size_t i = 0; i < np; i++) {
            if (i)
                gh_printf(out, "\n");
            print_path(s, g, &paths[i], 0, NULL, out);
        }
    }
    for (size_t i = 0; i < np; i++)
        free(paths[i].hops);
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document"},
    {"--max", 1, "up to N paths, each from a different root (default 1: the shortest)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_paths = {
    .name = "paths",
    .summary = "what keeps an object alive: shortest paths from GC roots",
    .usage = "paths ADDR [--max N] [--json]",
    .opts = opts,
    .example = "paths 0xc000123450 --max 5",
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
