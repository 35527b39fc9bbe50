/* Paths from roots: the marker's parent chains, and more paths from distinct
 * roots over a reverse index of the live graph (see paths.h). */
#include "graph/paths.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "heap/heapscan.h"

typedef struct rawpath {
    uint32_t root;
    uint32_t *hops; /* slots, root side first */
    size_t n;
} rawpath;

static gh_typemask_cache *masks(const gh_graph *g) { return gh_types_inputs(g->types)->masks; }
static const gh_target *target_of(const gh_graph *g) { return g->h->rt->t; }

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

void gh_graph_field_to(const gh_graph *g, uint32_t p, const gh_obj *c, char *buf, size_t cap)
{
    gh_obj po;
    buf[0] = 0;
    slot_obj(g->h, p, &po);
    if (!po.span)
        return;
    finder f = {c->addr, c->addr + c->size, 0};
    gh_heap_scan_object(g->h, masks(g), &po, find_word, &f, NULL, NULL);
    if (!f.found)
        return;
    uint64_t data = gh_obj_data(&po), off = f.found - data;
    gh_tid t = g->type[p];
    if (t == GH_TID_TINY || t == 0) {
        snprintf(buf, cap, "+%" PRIu64, f.found - po.addr);
        return;
    }
    gh_types_field(g->types, t, off, buf, cap);
    const gh_otype *ot = gh_types_get(g->types, t);
    uint64_t es = ot && ot->count <= 1 ? gh_types_size(g->types, ot) : 0;
    if (!buf[0] && es && off >= es) {
        /* An array the allocator typed by its element (a large object's
         * largeType): name the field inside the element. */
        char in[400];
        gh_types_field(g->types, t, off % es, in, sizeof in);
        if (in[0])
            snprintf(buf, cap, "[%" PRIu64 "]%s", off / es, in);
    }
    if (!buf[0])
        snprintf(buf, cap, "+%" PRIu64, f.found - po.addr);
}

/* The word of root r that points into c: its field name, and whether the
 * path goes through a finalizer's object or a static object first. */
typedef struct into {
    uint64_t lo, hi;
    uint64_t index;
} into;

static int word_into(void *ctx, uint64_t index, uint64_t addr, uint64_t value)
{
    into *in = ctx;
    (void)addr;
    in->index = index;
    return value >= in->lo && value < in->hi;
}

static void root_field(const gh_graph *g, const gh_root *r, const gh_obj *c, char *buf, size_t cap,
                       uint64_t *through)
{
    buf[0] = 0;
    *through = 0;
    into in = {c->addr, c->addr + c->size, 0};
    if (gh_root_each_word(r, target_of(g), word_into, &in)) {
        if (r->rtype || r->dwarf_type)
            gh_types_value_field(g->types, r->rtype, r->dwarf_type, 8 * in.index, buf, cap);
        else if (r->size > 8)
            snprintf(buf, cap, "+%" PRIu64, 8 * in.index);
        if (r->via)
            *through = r->via;
        return;
    }
    if (r->object)
        *through = r->object;
}

void gh_graph_root_field(const gh_graph *g, uint32_t root, uint32_t slot, char *buf, size_t cap)
{
    gh_obj c;
    uint64_t through;
    slot_obj(g->h, slot, &c);
    root_field(g, gh_roots_get(g->roots, root), &c, buf, cap, &through);
}

/* The interface word pair whose data word points into slot: the word's
 * address, and its kind (gh_types_iface_at). */
typedef struct dataword {
    uint64_t lo, hi, index, addr;
} dataword;

static int root_word_into(void *ctx, uint64_t index, uint64_t addr, uint64_t value)
{
    dataword *d = ctx;
    d->index = index;
    d->addr = addr;
    return value >= d->lo && value < d->hi;
}

void gh_graph_iface_type(const gh_graph *g, const gh_gpath *p, size_t i, char *buf, size_t cap)
{
    buf[0] = 0;
    if (i >= p->n || p->hops[i].note || p->hops[i].id == UINT32_MAX)
        return;
    gh_obj c;
    slot_obj(g->h, p->hops[i].id, &c);
    if (!c.span)
        return;
    uint64_t word = 0;
    int kind = 0;
    if (i == 0) {
        const gh_root *r = gh_roots_get(g->roots, p->root);
        dataword d = {c.addr, c.addr + c.size, 0, 0};
        if (!r || (!r->rtype && !r->dwarf_type) || !gh_root_each_word(r, target_of(g), root_word_into, &d))
            return;
        word = d.addr;
        kind = gh_types_iface_at(g->types, 0, r->rtype, r->dwarf_type, 8 * d.index);
    } else {
        const gh_path_hop *prev = &p->hops[i - 1];
        gh_obj po;
        if (prev->note || prev->id == UINT32_MAX || prev->id >= g->h->nslots)
            return;
        gh_tid t = g->type[prev->id];
        slot_obj(g->h, prev->id, &po);
        if (!po.span || t == GH_TID_TINY || t == 0)
            return;
        finder f = {c.addr, c.addr + c.size, 0};
        gh_heap_scan_object(g->h, masks(g), &po, find_word, &f, NULL, NULL);
        if (!f.found)
            return;
        word = f.found;
        kind = gh_types_iface_at(g->types, t, 0, 0, f.found - gh_obj_data(&po));
    }
    uint64_t tw;
    if (!kind || word < 8 || gh_read_u64(target_of(g), word - 8, &tw, NULL) || !tw)
        return;
    if (kind == GH_IFACE_ITAB && (gh_read_u64(target_of(g), tw + 8, &tw, NULL) || !tw)) /* itab.Type */
        return;
    gh_typenames *tn = gh_types_inputs(g->types)->names;
    const char *name;
    if (tn && gh_typename_ref(tn, tw, &name, NULL) == GH_OK)
        snprintf(buf, cap, "%s", name);
}

/* --- reverse index ------------------------------------------------------- */

/* Who points to each live object, from the pointer graph (self-pointers and
 * the dead left out): two passes over the edges, in address order. */
static int build_reverse(gh_graph *g, gh_cancel *cc, gh_err *err)
{
    if (g->rev_start)
        return GH_OK;
    int rc = gh_graph_edges(g, cc, err);
    if (rc)
        return rc;
    const gh_edges *e = &g->edges;
    size_t ns = g->h->nslots;
    uint32_t *start = calloc(ns + 1, sizeof *start);
    if (!start)
        return gh_errorf(err, GH_ENOMEM, "out of memory for the reverse index");
    for (int pass = 0; pass < 2; pass++) {
        uint32_t *edges = NULL, *fill = NULL;
        if (pass == 1) {
            for (size_t i = 0; i < ns; i++)
                start[i + 1] += start[i];
            edges = malloc((start[ns] ? start[ns] : 1) * sizeof *edges);
            fill = malloc((ns ? ns : 1) * sizeof *fill);
            if (!edges || !fill) {
                free(start), free(edges), free(fill);
                return gh_errorf(err, GH_ENOMEM, "out of memory for the reverse index");
            }
            memcpy(fill, start, ns * sizeof *fill);
        }
        for (uint32_t id = 0; id < ns; id++) {
            if (!gh_graph_live(g, id))
                continue;
            for (uint32_t k = e->start[id]; k < e->start[id + 1]; k++) {
                uint32_t t = e->to[k];
                if (t == id || !gh_graph_live(g, t))
                    continue;
                if (pass == 0)
                    start[t + 1]++;
                else
                    edges[fill[t]++] = id;
            }
            if ((id & 0xfffff) == 0xfffff) {
                gh_progress(cc, "indexing references", pass * (uint64_t)ns + id, 2 * (uint64_t)ns);
                if (gh_cancelled(cc)) {
                    free(start), free(edges), free(fill);
                    return gh_errorf(err, GH_EINTR, "interrupted while indexing references");
                }
            }
        }
        if (pass == 1) {
            free(fill);
            g->rev_edges = edges;
        }
    }
    gh_progress(cc, "indexing references", 2 * (uint64_t)ns, 2 * (uint64_t)ns);
    g->rev_start = start;
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
    if (gh_grow(&c->v, &c->cap, c->n + 1, sizeof *c->v)) {
        c->oom = 1;
        return;
    }
    c->v[c->n++] = (rootedge){o.id, c->root};
}

static int re_word(void *ctx, uint64_t word_addr, uint64_t value)
{
    (void)word_addr;
    re_add(ctx, value);
    return 0;
}

static int re_root_word(void *ctx, uint64_t index, uint64_t addr, uint64_t value)
{
    (void)index, (void)addr;
    if (value)
        re_add(ctx, value);
    return 0;
}

static int build_root_edges(gh_graph *g, gh_err *err)
{
    if (g->root_edges)
        return GH_OK;
    recoll c = {.h = g->h};
    size_t nr = gh_roots_count(g->roots);
    for (size_t i = 0; i < nr; i++) {
        const gh_root *r = gh_roots_get(g->roots, i);
        c.root = (uint32_t)i;
        gh_root_each_word(r, target_of(g), re_root_word, &c);
        gh_obj o;
        if (r->object && gh_heap_find(g->h, r->object, &o))
            gh_heap_scan_object(g->h, masks(g), &o, re_word, &c, NULL, NULL);
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

/* Roots with the same name are one root for "distinct roots". */
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
static int more_paths(gh_graph *g, uint32_t target, size_t max, gh_cancel *cc, rawpath *out, size_t *nout,
                      gh_err *err)
{
    int rc;
    *nout = 0;
    if ((rc = build_reverse(g, cc, err)) || (rc = build_root_edges(g, err)))
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
            for (uint32_t y = x; y != UINT32_MAX && len < GH_PATH_MAX_HOPS; y = next[y])
                len++;
            uint32_t *hops = malloc(len * sizeof *hops);
            if (!hops)
                break;
            len = 0;
            for (uint32_t y = x; y != UINT32_MAX && len < GH_PATH_MAX_HOPS; y = next[y])
                hops[len++] = y;
            out[n++] = (rawpath){re[k].root, hops, len};
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

/* --- resolving ----------------------------------------------------------- */

static int hop(gh_path_hop *h, uint64_t addr, uint64_t size, uint32_t id, const char *type, const char *field,
               const char *note)
{
    *h = (gh_path_hop){.addr = addr, .size = size, .id = id, .note = note};
    h->type = strdup(type);
    h->field = strdup(field);
    return h->type && h->field ? 0 : -1;
}

/* Names every hop of p: the field that points to it, and a note hop where
 * the root reaches the path through a finalizer's object or static data. */
static int resolve(gh_graph *g, const rawpath *p, gh_gpath *out, gh_err *err)
{
    const gh_root *r = gh_roots_get(g->roots, p->root);
    gh_path_hop *hops = calloc(p->n + 1, sizeof *hops);
    *out = (gh_gpath){.root = p->root, .hops = hops};
    if (!hops)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    char field[512], tname[64];
    for (size_t i = 0; i < p->n; i++) {
        gh_obj c;
        uint64_t through = 0;
        slot_obj(g->h, p->hops[i], &c);
        if (i == 0)
            root_field(g, r, &c, field, sizeof field, &through);
        else
            gh_graph_field_to(g, p->hops[i - 1], &c, field, sizeof field);
        if (i == 0 && through) {
            const char *note = r->object ? "(object with the finalizer: not kept alive by it)" : "(static data)";
            gh_obj to;
            const char *tn = "";
            if (r->object && gh_heap_find(g->h, through, &to))
                tn = gh_graph_type_name(g, to.id, to.size, tname, sizeof tname);
            else if (r->via_rtype)
                tn = gh_types_name(g->types,
                                   gh_types_intern(g->types, &(gh_otype){.rtype = r->via_rtype, .count = 1}));
            if (hop(&hops[out->n++], through, 0, UINT32_MAX, tn ? tn : "", field, note))
                return gh_errorf(err, GH_ENOMEM, "out of memory");
            field[0] = 0;
        }
        const char *tn = gh_graph_type_name(g, c.id, c.size, tname, sizeof tname);
        if (hop(&hops[out->n++], c.addr, c.size, c.id, tn ? tn : "", field, NULL))
            return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    return GH_OK;
}

void gh_gpaths_free(gh_gpath *p, size_t n)
{
    for (size_t i = 0; p && i < n; i++) {
        for (size_t k = 0; k < p[i].n; k++) {
            free(p[i].hops[k].type);
            free(p[i].hops[k].field);
        }
        free(p[i].hops);
    }
    free(p);
}

int gh_graph_paths(gh_graph *g, uint32_t target, size_t max, gh_cancel *cc, gh_gpath **out, size_t *nout,
                   gh_err *err)
{
    *out = NULL;
    *nout = 0;
    if (max < 1 || max > GH_PATHS_MAX)
        return gh_errorf(err, GH_EARG, "paths: from 1 to %d at once", GH_PATHS_MAX);
    if (target >= g->h->nslots || !gh_graph_live(g, target))
        return GH_OK;
    rawpath *raw = calloc(max, sizeof *raw);
    if (!raw)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    size_t np = 0;
    int rc = GH_OK;
    /* The marker's parents give the shortest path. */
    size_t len = 0;
    uint32_t x = target;
    while (!(x & GH_PARENT_ROOT) && len < GH_PATH_MAX_HOPS) {
        len++;
        x = g->parent[x];
    }
    if (x == GH_PARENT_NONE || !(x & GH_PARENT_ROOT)) {
        gh_obj o;
        slot_obj(g->h, target, &o);
        free(raw);
        return gh_errorf(err, GH_EFORMAT, "paths: the parent chain of 0x%" PRIx64 " is broken", o.addr);
    }
    uint32_t *hops = malloc(len * sizeof *hops);
    if (!hops) {
        free(raw);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    size_t i = len;
    for (uint32_t y = target; !(y & GH_PARENT_ROOT); y = g->parent[y])
        hops[--i] = y;
    raw[np++] = (rawpath){x & ~GH_PARENT_ROOT, hops, len};
    if (max > 1) {
        rawpath *more = calloc(max, sizeof *more);
        size_t nm = 0;
        if (!more)
            rc = gh_errorf(err, GH_ENOMEM, "out of memory");
        else
            rc = more_paths(g, target, max, cc, more, &nm, err);
        /* Keep the marker's path first; add the others from other roots. */
        char k0[300], k[300];
        root_key(gh_roots_get(g->roots, raw[0].root), k0, sizeof k0);
        for (size_t m = 0; m < nm; m++) {
            root_key(gh_roots_get(g->roots, more[m].root), k, sizeof k);
            if (!rc && np < max && strcmp(k, k0))
                raw[np++] = more[m];
            else
                free(more[m].hops);
        }
        free(more);
    }
    gh_gpath *paths = rc ? NULL : calloc(np, sizeof *paths);
    if (!rc && !paths)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
    size_t done = 0;
    for (size_t k = 0; !rc && k < np; k++) {
        rc = resolve(g, &raw[k], &paths[k], err);
        done = k + 1;
    }
    for (size_t k = 0; k < np; k++)
        free(raw[k].hops);
    free(raw);
    if (rc) {
        gh_gpaths_free(paths, done);
        return rc;
    }
    *out = paths;
    *nout = np;
    return GH_OK;
}

int gh_gpath_narrow(const gh_graph *g, gh_gpath *p, uint64_t at, uint64_t size, const char *type, gh_err *err)
{
    if (!p->n)
        return GH_OK;
    gh_path_hop *last = &p->hops[p->n - 1], *prev = p->n > 1 ? &p->hops[p->n - 2] : NULL;
    gh_obj c = {.addr = at, .size = size ? size : 1};
    char field[512] = "";
    uint64_t through = 0;
    int found = 1;
    if (prev && prev->id != UINT32_MAX) {
        gh_graph_field_to(g, prev->id, &c, field, sizeof field);
        found = field[0] != 0;
    } else if (!prev) {
        const gh_root *r = gh_roots_get(g->roots, p->root);
        into in = {c.addr, c.addr + c.size, 0};
        found = gh_root_each_word(r, target_of(g), word_into, &in) != 0;
        if (found)
            root_field(g, r, &c, field, sizeof field, &through);
    } else {
        snprintf(field, sizeof field, "%s", last->field); /* after a note hop: as it was */
    }
    if (!found) {
        /* What reached the block points to another of its objects: the
         * block is a hop of its own, the sub-object lives with it. */
        gh_path_hop *hops = realloc(p->hops, (p->n + 1) * sizeof *hops);
        if (!hops)
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        p->hops = hops;
        last = &hops[p->n - 1];
        char *tb = strdup("tiny block");
        if (!tb)
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        free(last->type);
        last->type = tb;
        if (hop(&hops[p->n], at, size, last->id, type, "(same tiny block)", NULL))
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        p->n++;
        return GH_OK;
    }
    char *t = strdup(type), *f = strdup(field);
    if (!t || !f) {
        free(t), free(f);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    free(last->type), free(last->field);
    last->type = t, last->field = f, last->addr = at, last->size = size;
    return GH_OK;
}
