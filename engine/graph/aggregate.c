/* Reference paths aggregated by type (aggregate.h): each instance's
 * first-reacher chain, interned step by step with a memo per slot, so every
 * object on the way is named once. */
#include "graph/aggregate.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/hmap.h"
#include "base/vec.h"
#include "graph/paths.h"

#define NONE UINT32_MAX

int gh_is_map_internal(const char *t)
{
    if (!t)
        return 0;
    for (;;) { /* element types of arrays, slices and pointers */
        if (*t == '*') {
            t++;
        } else if (*t == '[') {
            const char *e = strchr(t, ']');
            if (!e)
                return 0;
            for (const char *p = t + 1; p < e; p++)
                if (!isdigit((unsigned char)*p))
                    return 0;
            t = e + 1;
        } else {
            break;
        }
    }
    static const char *const prefixes[] = {"map.bucket[", "map.group[", "maps.", "internal/runtime/maps.",
                                           "runtime.hmap", "runtime.bmap", "runtime.mapextra", NULL};
    for (int i = 0; prefixes[i]; i++)
        if (!strncmp(t, prefixes[i], strlen(prefixes[i])))
            return 1;
    return !strcmp(t, "hmap");
}

typedef struct chain {
    uint32_t parent;  /* chain id, NONE at a group's top */
    uint32_t group;
    char *step;       /* NULL at a group's top */
} chain;

typedef struct agg {
    gh_domtree *d;
    const gh_graph *g;
    chain *c;
    size_t nc, capc;
    gh_hmap intern;   /* hash of (parent, group, step): chain ids */
    gh_hmap memo;     /* slot: chain id ending there */
    uint32_t *flat;   /* or, for every live object at once, per node: chain id, NONE unknown */
    int oom;
} agg;

static uint32_t intern(agg *a, uint32_t parent, uint32_t group, const char *step)
{
    uint64_t h = gh_hash64(step ? step : "", step ? strlen(step) : 0, (uint64_t)parent << 32 | group);
    for (size_t i = gh_hmap_first(&a->intern, h); i != GH_HMAP_END; i = gh_hmap_next(&a->intern, h, i)) {
        const chain *c = &a->c[a->intern.vals[i]];
        if (c->parent == parent && c->group == group && (c->step == step || (c->step && step && !strcmp(c->step, step))))
            return (uint32_t)a->intern.vals[i];
    }
    char *copy = step ? strdup(step) : NULL;
    if ((step && !copy) || gh_grow(&a->c, &a->capc, a->nc + 1, sizeof *a->c) || gh_hmap_add(&a->intern, h, a->nc)) {
        free(copy);
        a->oom = 1;
        return parent == NONE ? 0 : parent;
    }
    a->c[a->nc] = (chain){parent, group, copy};
    return (uint32_t)a->nc++;
}

/* "[72].slots[0].elem" -> "[].slots[].elem" */
static void drop_indexes(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < cap; p++) {
        if (*p == '[' && isdigit((unsigned char)p[1])) {
            const char *e = p + 1;
            while (isdigit((unsigned char)*e))
                e++;
            if (*e == ']') {
                if (o + 2 < cap) {
                    out[o++] = '[';
                    out[o++] = ']';
                }
                p = e;
                continue;
            }
        }
        out[o++] = *p;
    }
    out[o] = 0;
}

static const char *slot_type(const agg *a, uint32_t slot, char *tmp, size_t cap)
{
    uint32_t w = a->d->num[slot];
    if (w && a->d->nameof)
        return gh_dom_node_name(a->d, w);
    gh_obj o;
    if (!gh_heap_slot(a->g->h, slot, &o))
        return "";
    return gh_graph_type_name(a->g, slot, o.size, tmp, cap);
}

/* The step into slot from its parent (a slot, or a root when from_root):
 * written to buf, or 0 when the step is inside a map's internals. */
static int step_into(agg *a, uint32_t from, int from_root, uint32_t slot, char *buf, size_t cap)
{
    char field[512], t1[64], t2[64];
    if (from_root) {
        const gh_root *r = gh_roots_get(a->g->roots, from);
        gh_graph_root_field(a->g, from, slot, field, sizeof field);
        if (r->kind == GH_ROOT_STACK && r->variable) { /* the local's name first: "s.next" */
            char both[600];
            snprintf(both, sizeof both, "%s%s", r->variable, field);
            drop_indexes(both, buf, cap);
        } else {
            drop_indexes(field, buf, cap);
        }
        return 1;
    }
    int pm = gh_is_map_internal(slot_type(a, from, t1, sizeof t1));
    int cm = gh_is_map_internal(slot_type(a, slot, t2, sizeof t2));
    if (pm && cm)
        return 0;
    gh_obj c;
    if (!gh_heap_slot(a->g->h, slot, &c)) {
        snprintf(buf, cap, "?");
        return 1;
    }
    gh_graph_field_to(a->g, from, &c, field, sizeof field);
    if (pm) {
        snprintf(buf, cap, "%s", strstr(field, "elem") || strstr(field, "value") ? "[map value]"
                                : strstr(field, "key")                         ? "[map key]"
                                                                               : "[map]");
        return 1;
    }
    drop_indexes(field[0] ? field : "?", buf, cap);
    return 1;
}

/* The chain ending at slot x: walk up the parents to a memoized slot or the
 * root, then intern down. */
static uint32_t chain_of(agg *a, uint32_t x, uint32_t **path, size_t *cap)
{
    const gh_graph *g = a->g;
    size_t n = 0;
    uint32_t top = NONE, y = x, stop = NONE;
    for (;;) {
        uint64_t *m = a->flat ? NULL : gh_hmap_get(&a->memo, y);
        uint32_t f = a->flat && a->d->num[y] ? a->flat[a->d->num[y]] : NONE;
        if (m || f != NONE) {
            top = m ? (uint32_t)*m : f;
            stop = y;
            break;
        }
        if (n == *cap && gh_grow(path, cap, n + 1, sizeof **path)) {
            a->oom = 1;
            return 0;
        }
        (*path)[n++] = y;
        uint32_t p = g->parent[y];
        if (p == GH_PARENT_NONE || n > GH_PATH_MAX_HOPS) {
            a->oom = 1; /* a broken chain: never in a complete graph */
            return 0;
        }
        if (p & GH_PARENT_ROOT)
            break;
        y = p;
    }
    char step[600];
    uint32_t cur = top;
    for (size_t i = n; i-- > 0;) {
        uint32_t s = (*path)[i];
        int ok;
        if (cur == NONE) { /* s is reached straight from a root */
            uint32_t r = g->parent[s] & ~GH_PARENT_ROOT;
            cur = intern(a, NONE, a->d->group_of[r], NULL);
            ok = step_into(a, r, 1, s, step, sizeof step);
        } else {
            ok = step_into(a, i + 1 < n ? (*path)[i + 1] : stop, 0, s, step, sizeof step);
        }
        if (ok && step[0])
            cur = intern(a, cur, a->c[cur].group, step);
        if (a->flat) {
            if (a->d->num[s])
                a->flat[a->d->num[s]] = cur;
        } else if (gh_hmap_put(&a->memo, s, cur)) {
            a->oom = 1;
        }
    }
    return cur;
}

static int cmp_rows(const void *x, const void *y)
{
    const gh_agg_row *p = x, *q = y;
    if (p->rbytes != q->rbytes)
        return p->rbytes < q->rbytes ? 1 : -1;
    if (p->count != q->count)
        return p->count < q->count ? 1 : -1;
    return (p->group > q->group) - (p->group < q->group);
}

void gh_agg_free(gh_agg *a)
{
    for (size_t i = 0; a && i < a->n; i++) {
        for (size_t k = 0; k < a->rows[i].nsteps; k++)
            free(a->rows[i].steps[k]);
        free(a->rows[i].steps);
    }
    if (a) {
        free(a->rows);
        memset(a, 0, sizeof *a);
    }
}

static inline int tb(const uint64_t *v, uint32_t i) { return v[i >> 6] >> (i & 63) & 1; }
static inline void sb(uint64_t *v, uint32_t i) { v[i >> 6] |= UINT64_C(1) << (i & 63); }

int gh_graph_aggregate(gh_domtree *d, const gh_graph *g, const char *type, gh_cancel *cc, gh_agg *out, gh_err *err)
{
    return gh_graph_aggregate_where(d, g, type, NULL, NULL, cc, out, err);
}

int gh_graph_aggregate_where(gh_domtree *d, const gh_graph *g, const char *type,
                             int (*keep)(const gh_graph *g, uint32_t slot, void *ctx), void *ctx, gh_cancel *cc,
                             gh_agg *out, gh_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = gh_dom_names(d, g, err);
    if (rc)
        return rc;
    uint32_t ni = GH_DOM_NONAME;
    for (size_t i = 0; i < d->nnames; i++)
        if (!strcmp(d->names[i], type))
            ni = (uint32_t)i;
    if (ni == GH_DOM_NONAME)
        return gh_errorf(err, GH_ENOENT, "paths: no live object of type %.200s (see heap)", type);
    size_t nw = ((size_t)d->n + 64) / 64;
    uint64_t *in = calloc(nw, 8), *below = calloc(nw, 8);
    agg a = {.d = d, .g = g};
    uint32_t *path = NULL, *term = NULL;
    size_t pcap = 0;
    uint64_t *acc = NULL; /* per chain: count, bytes, rbytes, robjs */
    if (!in || !below) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
        goto done;
    }
    /* Instances inside another instance's dominated set add nothing to
     * what the type retains: below marks them, in preorder. */
    uint64_t picked = 0;
    for (uint32_t w = 2; w <= d->n; w++)
        if (d->nameof[w] == ni && (!keep || keep(g, d->vertex[w], ctx))) {
            sb(in, w);
            picked++;
        }
    if (!picked) {
        rc = gh_errorf(err, GH_ENOENT, "paths: no live object of type %.200s (see heap)", type);
        goto done;
    }
    for (uint32_t w = 2; w <= d->n; w++) {
        uint32_t p = d->idom[w];
        if (tb(in, p) || tb(below, p))
            sb(below, w);
    }
    term = malloc(((size_t)d->n + 1) * sizeof *term);
    if (!term) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
        goto done;
    }
    uint64_t k = 0, total = 0;
    for (uint32_t w = 2; w <= d->n; w++)
        total += tb(in, w);
    for (uint32_t w = 2; w <= d->n && !a.oom; w++) {
        if (!tb(in, w))
            continue;
        term[w] = chain_of(&a, d->vertex[w], &path, &pcap);
        if ((k++ & 0xfff) == 0) { /* from the first instance on */
            gh_progress(cc, "aggregating paths", k, total);
            if (gh_cancelled(cc)) {
                rc = gh_errorf(err, GH_EINTR, "interrupted while aggregating paths");
                goto done;
            }
        }
    }
    if (a.oom) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory while aggregating paths");
        goto done;
    }
    acc = calloc(a.nc ? a.nc * 4 : 4, sizeof *acc);
    if (!acc) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
        goto done;
    }
    size_t nrows = 0;
    for (uint32_t w = 2; w <= d->n; w++) {
        if (!tb(in, w))
            continue;
        uint64_t *r = &acc[4 * (size_t)term[w]];
        if (!r[0])
            nrows++;
        r[0]++;
        r[1] += gh_dom_node_size(d, g, w);
        out->count++;
        out->bytes += gh_dom_node_size(d, g, w);
        if (!tb(below, w)) {
            r[2] += d->rbytes[w];
            r[3] += d->robjs[w];
            out->rbytes += d->rbytes[w];
            out->robjs += d->robjs[w];
        }
    }
    out->rows = calloc(nrows ? nrows : 1, sizeof *out->rows);
    if (!out->rows) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < a.nc; c++) {
        uint64_t *r = &acc[4 * c];
        if (!r[0])
            continue;
        gh_agg_row *row = &out->rows[out->n++];
        *row = (gh_agg_row){.group = a.c[c].group, .count = r[0], .bytes = r[1], .rbytes = r[2], .robjs = r[3]};
        size_t len = 0;
        for (uint32_t x = (uint32_t)c; x != NONE && a.c[x].step; x = a.c[x].parent)
            len++;
        row->steps = calloc(len ? len : 1, sizeof *row->steps);
        if (!row->steps) {
            rc = gh_errorf(err, GH_ENOMEM, "out of memory");
            goto done;
        }
        row->nsteps = len;
        for (uint32_t x = (uint32_t)c; x != NONE && a.c[x].step; x = a.c[x].parent)
            if (!(row->steps[--len] = strdup(a.c[x].step))) {
                rc = gh_errorf(err, GH_ENOMEM, "out of memory");
                goto done;
            }
    }
    qsort(out->rows, out->n, sizeof *out->rows, cmp_rows);
done:
    if (rc)
        gh_agg_free(out);
    for (size_t c = 0; c < a.nc; c++)
        free(a.c[c].step);
    free(a.c);
    gh_hmap_free(&a.intern);
    gh_hmap_free(&a.memo);
    free(in), free(below), free(path), free(term), free(acc);
    return rc;
}

/* --- every live object ------------------------------------------------------ */

static int cmp_all(const void *x, const void *y)
{
    const gh_agg_all_row *p = x, *q = y;
    if (p->bytes != q->bytes)
        return p->bytes < q->bytes ? 1 : -1;
    if (p->chain != q->chain)
        return p->chain < q->chain ? -1 : 1;
    return (p->name > q->name) - (p->name < q->name);
}

void gh_agg_all_free(gh_agg_all *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nchains; i++)
        free(a->chains[i].step);
    free(a->chains);
    free(a->rows);
    memset(a, 0, sizeof *a);
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

int gh_graph_aggregate_all(gh_domtree *d, const gh_graph *g, const uint64_t *tops, gh_cancel *cc, gh_agg_all *out,
                           gh_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = gh_dom_names(d, g, err);
    if (rc)
        return rc;
    agg a = {.d = d, .g = g};
    uint32_t *path = NULL;
    size_t pcap = 0;
    uint64_t *keys = NULL; /* chain << 32 | name, per object node, sorted */
    size_t nk = 0;
    a.flat = malloc(((size_t)d->n + 1) * sizeof *a.flat);
    keys = malloc(((size_t)d->n + 1) * sizeof *keys);
    if (!a.flat || !keys) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for paths of %u nodes", d->n);
        goto done;
    }
    memset(a.flat, 0xff, ((size_t)d->n + 1) * sizeof *a.flat);
    for (uint32_t w = 2; w <= d->n && !a.oom; w++) {
        if (gh_dom_is_group(d, w))
            continue;
        uint32_t c = a.flat[w] != NONE ? a.flat[w] : chain_of(&a, d->vertex[w], &path, &pcap);
        keys[nk++] = (uint64_t)c << 32 | d->nameof[w];
        if (nk == 1 || (w & 0xffff) == 0) {
            gh_progress(cc, "aggregating paths", w, d->n);
            if (gh_cancelled(cc)) {
                rc = gh_errorf(err, GH_EINTR, "interrupted while aggregating paths");
                goto done;
            }
        }
    }
    if (a.oom) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory while aggregating paths");
        goto done;
    }
    /* Rows: one per (chain, type); the sums need each node again, so the
     * keys are sorted and the nodes looked up through the same memo. */
    qsort(keys, nk, sizeof *keys, cmp_u64);
    size_t nrows = 0;
    for (size_t i = 0; i < nk; i++)
        nrows += !i || keys[i] != keys[i - 1];
    out->rows = calloc(nrows ? nrows : 1, sizeof *out->rows);
    if (!out->rows) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nk; i++)
        if (!i || keys[i] != keys[i - 1])
            out->rows[out->n++] = (gh_agg_all_row){.chain = (uint32_t)(keys[i] >> 32), .name = (uint32_t)keys[i]};
    for (uint32_t w = 2; w <= d->n; w++) {
        if (gh_dom_is_group(d, w))
            continue;
        uint64_t key = (uint64_t)a.flat[w] << 32 | d->nameof[w];
        size_t lo = 0, hi = out->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            uint64_t k = (uint64_t)out->rows[mid].chain << 32 | out->rows[mid].name;
            if (k < key)
                lo = mid + 1;
            else
                hi = mid;
        }
        gh_agg_all_row *r = &out->rows[lo];
        uint64_t size = gh_dom_node_size(d, g, w);
        r->count++;
        r->bytes += size;
        out->count++;
        out->bytes += size;
        if (tops && (tops[w >> 6] >> (w & 63) & 1))
            r->rbytes += d->rbytes[w];
    }
    qsort(out->rows, out->n, sizeof *out->rows, cmp_all);
    /* The chain table moves to the caller. */
    out->chains = malloc((a.nc ? a.nc : 1) * sizeof *out->chains);
    if (!out->chains) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t c = 0; c < a.nc; c++)
        out->chains[c] = (gh_agg_chain){a.c[c].parent, a.c[c].group, a.c[c].step};
    out->nchains = a.nc;
    a.nc = 0;
done:
    if (rc)
        gh_agg_all_free(out);
    for (size_t c = 0; c < a.nc; c++)
        free(a.c[c].step);
    free(a.c);
    gh_hmap_free(&a.intern);
    free(a.flat), free(path), free(keys);
    return rc;
}
