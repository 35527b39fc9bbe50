/* Retained sizes by type, by node and the largest retainers, over the
 * dominator tree (retained.h). */
#include "graph/retained.h"

#include "graph/aggregate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/hmap.h"
#include "base/vec.h"

/* --- names ------------------------------------------------------------------ */

typedef struct namer {
    gh_domtree *d;
    gh_hmap bykey;   /* tid, or 1 << 63 | size for untyped: name index */
    gh_hmap byname;  /* hash of the name: name indexes under it */
    size_t cap;
} namer;

static int name_index(namer *nm, const char *name, uint32_t *out)
{
    gh_domtree *d = nm->d;
    uint64_t h = gh_hash64(name, strlen(name), 0);
    for (size_t i = gh_hmap_first(&nm->byname, h); i != GH_HMAP_END; i = gh_hmap_next(&nm->byname, h, i))
        if (!strcmp(d->names[nm->byname.vals[i]], name)) {
            *out = (uint32_t)nm->byname.vals[i];
            return 0;
        }
    char *copy = strdup(name);
    if (!copy || gh_grow(&d->names, &nm->cap, d->nnames + 1, sizeof *d->names) ||
        gh_hmap_add(&nm->byname, h, d->nnames)) {
        free(copy);
        return -1;
    }
    d->names[d->nnames] = copy;
    *out = (uint32_t)d->nnames++;
    return 0;
}

int gh_dom_names(gh_domtree *d, const gh_graph *g, gh_err *err)
{
    if (d->nameof)
        return GH_OK;
    namer nm = {.d = d};
    uint32_t *nameof = malloc(((size_t)d->n + 1) * sizeof *nameof);
    if (!nameof)
        return gh_errorf(err, GH_ENOMEM, "out of memory for type names (%u nodes)", d->n);
    for (uint32_t w = 0; w <= d->n; w++)
        nameof[w] = GH_DOM_NONAME;
    const gh_heap *h = g->h;
    int oom = 0;
    uint32_t tiny = GH_DOM_NONAME;
    for (size_t si = 0; si < h->nspans && !oom; si++) {
        const gh_span *sp = &h->spans[si];
        if (sp->state != GH_SPAN_INUSE)
            continue;
        for (uint32_t k = 0; k < sp->nelems && !oom; k++) {
            uint32_t id = sp->first + k, w = d->num[id];
            if (!w)
                continue;
            gh_tid t = g->type[id];
            if (t == GH_TID_TINY) {
                if (tiny == GH_DOM_NONAME && name_index(&nm, GH_DOM_TINY_NAME, &tiny))
                    oom = 1;
                nameof[w] = tiny;
                continue;
            }
            uint64_t key = t ? t : (UINT64_C(1) << 63) | sp->elemsize;
            uint64_t *v = gh_hmap_get(&nm.bykey, key);
            if (v) {
                nameof[w] = (uint32_t)*v;
                continue;
            }
            char tmp[64];
            uint32_t ni;
            const char *name = gh_graph_type_name(g, id, sp->elemsize, tmp, sizeof tmp);
            if (name_index(&nm, name ? name : "", &ni) || gh_hmap_put(&nm.bykey, key, ni))
                oom = 1;
            nameof[w] = ni;
        }
    }
    gh_hmap_free(&nm.bykey);
    gh_hmap_free(&nm.byname);
    if (oom) {
        free(nameof);
        return gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    }
    d->nameof = nameof;
    return GH_OK;
}

const char *gh_dom_node_name(const gh_domtree *d, uint32_t node)
{
    if (!d->nameof || node > d->n || d->nameof[node] == GH_DOM_NONAME)
        return "";
    return d->names[d->nameof[node]];
}

uint64_t gh_dom_node_size(const gh_domtree *d, const gh_graph *g, uint32_t node)
{
    gh_obj o;
    if (node <= GH_DOM_ROOT || node > d->n || gh_dom_is_group(d, node) || !gh_heap_slot(g->h, d->vertex[node], &o))
        return 0;
    return o.size;
}

uint64_t gh_dom_node_addr(const gh_domtree *d, const gh_graph *g, uint32_t node)
{
    gh_obj o;
    if (node <= GH_DOM_ROOT || node > d->n || gh_dom_is_group(d, node) || !gh_heap_slot(g->h, d->vertex[node], &o))
        return 0;
    return o.addr;
}

/* --- every type ------------------------------------------------------------- */

static int cmp_type_name(const void *a, const void *b)
{
    return strcmp(((const gh_dom_type *)a)->name, ((const gh_dom_type *)b)->name);
}

/* The union lower bound of every name at once: a walk of the dominator tree
 * counting, per name, the instances on the way down; an instance with none
 * of its name above it adds its subtree. */
static int unions(gh_domtree *d, gh_dom_type *t, uint64_t *tops, gh_cancel *cc, gh_err *err)
{
    const uint32_t *kids;
    uint32_t nk;
    int rc = gh_dom_children(d, GH_DOM_ROOT, &kids, &nk, err);
    if (rc)
        return rc;
    uint32_t *active = calloc(d->nnames ? d->nnames : 1, sizeof *active);
    struct frame {
        uint32_t node, next;
    } *st = NULL;
    size_t cap = 0, top = 0;
    if (!active || gh_grow(&st, &cap, 1, sizeof *st)) {
        free(active), free(st);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    st[top++] = (struct frame){GH_DOM_ROOT, 0};
    uint64_t steps = 0;
    while (top) {
        if ((++steps & 0xffff) == 0 && gh_cancelled(cc)) {
            free(active), free(st);
            return gh_errorf(err, GH_EINTR, "interrupted while computing retained sizes by type");
        }
        struct frame *f = &st[top - 1];
        uint32_t cs = d->cstart[f->node], ce = d->cstart[f->node + 1];
        if (cs + f->next >= ce) {
            uint32_t ni = d->nameof[f->node];
            if (ni != GH_DOM_NONAME)
                active[ni]--;
            top--;
            continue;
        }
        uint32_t c = d->child[cs + f->next++];
        uint32_t ni = d->nameof[c];
        if (ni != GH_DOM_NONAME) {
            if (!active[ni] && t) {
                t[ni].ubytes += d->rbytes[c];
                t[ni].uobjs += d->robjs[c];
            }
            if (!active[ni] && tops)
                tops[c >> 6] |= UINT64_C(1) << (c & 63);
            active[ni]++;
        }
        if (top == cap && gh_grow(&st, &cap, top + 1, sizeof *st)) {
            free(active), free(st);
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        }
        st[top++] = (struct frame){c, 0};
    }
    free(active), free(st);
    return GH_OK;
}

static int cmp_by_union(const void *a, const void *b, void *ctx)
{
    const gh_dom_type *t = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (t[x].ubytes != t[y].ubytes)
        return t[x].ubytes < t[y].ubytes ? 1 : -1;
    return (x > y) - (x < y);
}

static int cmp_by_count(const void *a, const void *b, void *ctx)
{
    const gh_dom_type *t = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (t[x].count != t[y].count)
        return t[x].count < t[y].count ? -1 : 1;
    return (x > y) - (x < y);
}

int gh_dom_types(gh_domtree *d, const gh_graph *g, gh_cancel *cc, gh_err *err)
{
    if (d->types)
        return GH_OK;
    /* The leaf test below reads the pointer graph (made again on use when
     * the graph came from the index). */
    int rc = gh_dom_names(d, g, err);
    if (rc || (rc = gh_graph_edges((gh_graph *)g, cc, err)))
        return rc;
    size_t nn = d->nnames;
    gh_dom_type *t = calloc(nn ? nn : 1, sizeof *t);
    uint32_t *start = calloc(nn + 1, sizeof *start), *members = malloc(((size_t)d->n + 1) * sizeof *members);
    uint32_t *order = malloc((nn ? nn : 1) * sizeof *order);
    if (!t || !start || !members || !order) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for retained sizes by type");
        goto done;
    }
    /* The instances of each name, by counting sort. */
    for (uint32_t w = 2; w <= d->n; w++)
        if (d->nameof[w] != GH_DOM_NONAME)
            start[d->nameof[w] + 1]++;
    for (size_t i = 0; i < nn; i++)
        start[i + 1] += start[i];
    for (uint32_t w = 2; w <= d->n; w++) {
        uint32_t ni = d->nameof[w];
        if (ni == GH_DOM_NONAME)
            continue;
        members[start[ni]++] = w;
        t[ni].count++;
        t[ni].bytes += gh_dom_node_size(d, g, w);
    }
    for (size_t i = nn; i > 0; i--)
        start[i] = start[i - 1];
    start[0] = 0;
    if ((rc = unions(d, t, NULL, cc, err)))
        goto done;
    /* Exact sizes where the walk is cheap: the types with the fewest
     * instances first, each within a share of one walk of the graph, all of
     * them within two. A type whose instances reach most of the heap keeps
     * its lower bound (gh_dom_type_exact gives it on demand). */
    for (size_t i = 0; i < nn; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, nn, sizeof *order, cmp_by_count, t);
    uint64_t graph = (uint64_t)d->n + d->nedges;
    uint64_t budget = 2 * graph + 2 * (uint64_t)d->n + 1000000;
    for (size_t k = 0; k < nn; k++) {
        uint32_t ni = order[k];
        size_t ns = start[ni + 1] - start[ni];
        /* The instances themselves are work any walk does: a pointer-free
         * type with millions of instances is still cheap. */
        uint64_t each = graph / 16 + 2 * (uint64_t)ns + 1000000;
        gh_dom_setsize r;
        int leaf = 1; /* no instance points anywhere: it retains itself alone */
        for (size_t i = start[ni]; i < start[ni + 1] && leaf; i++) {
            uint32_t v = d->vertex[members[i]];
            leaf = g->edges.start[v] == g->edges.start[v + 1];
        }
        if (leaf) {
            t[ni].rbytes = t[ni].bytes;
            t[ni].robjs = t[ni].count;
            t[ni].exact = 1;
        } else if (budget > 0) {
            rc = gh_dom_set_retained(d, g, members + start[ni], ns, each < budget ? each : budget, cc, &r, err);
            if (rc)
                goto done;
            budget = r.work < budget ? budget - r.work : 0;
            if (r.exact) {
                t[ni].rbytes = r.bytes;
                t[ni].robjs = r.objects;
                t[ni].exact = 1;
            }
        }
        gh_progress(cc, "retained sizes by type", k + 1, nn);
        if (gh_cancelled(cc)) {
            rc = gh_errorf(err, GH_EINTR, "interrupted while computing retained sizes by type");
            goto done;
        }
    }
    /* What is left of the budget goes to the largest types still without
     * an exact size: they are the ones a reader looks at first. */
    qsort_r(order, nn, sizeof *order, cmp_by_union, t);
    for (size_t k = 0; k < nn && budget > 1000000; k++) {
        uint32_t ni = order[k];
        if (t[ni].exact)
            continue;
        gh_dom_setsize r;
        rc = gh_dom_set_retained(d, g, members + start[ni], start[ni + 1] - start[ni], budget, cc, &r, err);
        if (rc)
            goto done;
        budget = r.work < budget ? budget - r.work : 0;
        if (r.exact) {
            t[ni].rbytes = r.bytes;
            t[ni].robjs = r.objects;
            t[ni].exact = 1;
        }
    }
    for (size_t i = 0; i < nn; i++) {
        t[i].name = strdup(d->names[i]);
        if (!t[i].name) {
            rc = gh_errorf(err, GH_ENOMEM, "out of memory");
            goto done;
        }
    }
    qsort(t, nn, sizeof *t, cmp_type_name);
    d->types = t;
    d->ntypes = nn;
    t = NULL;
done:
    if (t)
        for (size_t i = 0; i < nn; i++)
            free(t[i].name);
    free(t), free(start), free(members), free(order);
    return rc;
}

int gh_dom_type_exact(gh_domtree *d, const gh_graph *g, const char *name, gh_cancel *cc, gh_err *err)
{
    int rc = gh_dom_types(d, g, cc, err);
    if (rc)
        return rc;
    gh_dom_type *t = (gh_dom_type *)gh_dom_type_find(d, name);
    if (!t)
        return gh_errorf(err, GH_ENOENT, "no live object of type %.200s", name);
    if (t->exact)
        return GH_OK;
    uint32_t ni = GH_DOM_NONAME;
    for (size_t i = 0; i < d->nnames && ni == GH_DOM_NONAME; i++)
        if (!strcmp(d->names[i], name))
            ni = (uint32_t)i;
    uint32_t *set = malloc((t->count ? t->count : 1) * sizeof *set);
    if (!set)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    size_t n = 0;
    for (uint32_t w = 2; w <= d->n && n < t->count; w++)
        if (d->nameof[w] == ni)
            set[n++] = w;
    gh_dom_setsize r;
    rc = gh_dom_set_retained(d, g, set, n, 0, cc, &r, err);
    free(set);
    if (rc)
        return rc;
    t->rbytes = r.bytes;
    t->robjs = r.objects;
    t->exact = 1;
    return GH_OK;
}

int gh_dom_type_where(gh_domtree *d, const gh_graph *g, const char *name,
                      int (*keep)(const gh_graph *g, uint32_t slot, void *ctx), void *ctx, gh_cancel *cc,
                      gh_dom_type *out, gh_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = gh_dom_names(d, g, err);
    if (rc || (rc = gh_graph_edges((gh_graph *)g, cc, err)))
        return rc;
    uint32_t ni = GH_DOM_NONAME;
    for (size_t i = 0; i < d->nnames && ni == GH_DOM_NONAME; i++)
        if (!strcmp(d->names[i], name))
            ni = (uint32_t)i;
    if (ni == GH_DOM_NONAME)
        return gh_errorf(err, GH_ENOENT, "no live object of type %.200s", name);
    size_t n = 0, cap = 0;
    uint32_t *set = NULL;
    for (uint32_t w = 2; w <= d->n; w++) {
        if (d->nameof[w] != ni || gh_dom_is_group(d, w) || !keep(g, d->vertex[w], ctx))
            continue;
        if (n == cap && gh_grow(&set, &cap, n + 1, sizeof *set)) {
            free(set);
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        }
        set[n++] = w;
        out->count++;
        out->bytes += gh_dom_node_size(d, g, w);
    }
    gh_dom_setsize r = {0};
    if (n && (rc = gh_dom_set_retained(d, g, set, n, 0, cc, &r, err))) {
        free(set);
        return rc;
    }
    free(set);
    out->name = d->names[ni];
    out->rbytes = out->ubytes = r.bytes;
    out->robjs = out->uobjs = r.objects;
    out->exact = 1;
    return GH_OK;
}

int gh_dom_type_tops(gh_domtree *d, const gh_graph *g, uint64_t **out, gh_err *err)
{
    *out = NULL;
    int rc = gh_dom_names(d, g, err);
    if (rc)
        return rc;
    uint64_t *tops = calloc(((size_t)d->n + 64) / 64, 8);
    if (!tops)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    if ((rc = unions(d, NULL, tops, NULL, err))) {
        free(tops);
        return rc;
    }
    *out = tops;
    return GH_OK;
}

const gh_dom_type *gh_dom_type_find(const gh_domtree *d, const char *name)
{
    size_t lo = 0, hi = d->ntypes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(d->types[mid].name, name);
        if (!c)
            return &d->types[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* --- one node --------------------------------------------------------------- */

static int cmp_hist(const void *a, const void *b)
{
    const gh_dom_hist *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->name, y->name);
}

int gh_dom_histogram(gh_domtree *d, const gh_graph *g, uint32_t node, gh_cancel *cc, gh_dom_hist **rows, size_t *n,
                     gh_err *err)
{
    *rows = NULL;
    *n = 0;
    int rc = gh_dom_names(d, g, err);
    const uint32_t *kids;
    uint32_t nk;
    if (rc || (rc = gh_dom_children(d, GH_DOM_ROOT, &kids, &nk, err)))
        return rc;
    if (node < 1 || node > d->n)
        return gh_errorf(err, GH_EARG, "no such node");
    gh_dom_hist *h = calloc(d->nnames + 1, sizeof *h);
    uint32_t *stack = NULL;
    size_t cap = 0, top = 0;
    if (!h || gh_grow(&stack, &cap, 1, sizeof *stack)) {
        free(h);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    stack[top++] = node;
    uint64_t steps = 0;
    while (top) {
        uint32_t x = stack[--top];
        uint32_t ni = d->nameof[x];
        if (ni != GH_DOM_NONAME) {
            h[ni].count++;
            h[ni].bytes += gh_dom_node_size(d, g, x);
        }
        uint32_t cs = d->cstart[x], ce = d->cstart[x + 1];
        if (top + (ce - cs) > cap && gh_grow(&stack, &cap, top + (ce - cs), sizeof *stack)) {
            free(h), free(stack);
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        }
        for (uint32_t k = cs; k < ce; k++)
            stack[top++] = d->child[k];
        if ((++steps & 0xffff) == 0 && gh_cancelled(cc)) {
            free(h), free(stack);
            return gh_errorf(err, GH_EINTR, "interrupted");
        }
    }
    free(stack);
    size_t k = 0;
    for (size_t i = 0; i < d->nnames; i++)
        if (h[i].count)
            h[k++] = (gh_dom_hist){d->names[i], (uint32_t)i, h[i].count, h[i].bytes};
    qsort(h, k, sizeof *h, cmp_hist);
    *rows = h;
    *n = k;
    return GH_OK;
}

/* --- the largest ------------------------------------------------------------ */

typedef struct topq {
    const gh_domtree *d;
    uint32_t *v;    /* a min-heap on (retained bytes, -node) */
    size_t n, cap;
} topq;

/* x ranks below y: fewer bytes, or the same and a later node. */
static int below(const gh_domtree *d, uint32_t x, uint32_t y)
{
    if (d->rbytes[x] != d->rbytes[y])
        return d->rbytes[x] < d->rbytes[y];
    return x > y;
}

static void sift_down(topq *q, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->n && below(q->d, q->v[l], q->v[m]))
            m = l;
        if (r < q->n && below(q->d, q->v[r], q->v[m]))
            m = r;
        if (m == i)
            return;
        uint32_t t = q->v[i];
        q->v[i] = q->v[m];
        q->v[m] = t;
        i = m;
    }
}

static int cmp_top(const void *a, const void *b, void *ctx)
{
    const gh_domtree *d = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return below(d, x, y) ? 1 : below(d, y, x) ? -1 : 0;
}

int gh_dom_top(const gh_domtree *d, size_t limit, int fold, uint32_t **nodes, size_t *n, gh_err *err)
{
    *nodes = NULL;
    *n = 0;
    topq q = {.d = d, .cap = limit};
    if (!limit)
        return GH_OK;
    q.v = malloc(limit * sizeof *q.v);
    if (!q.v)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    for (uint32_t w = 2; w <= d->n; w++) {
        if (gh_dom_is_group(d, w))
            continue;
        uint32_t p = d->idom[w];
        if (fold && p > GH_DOM_ROOT && !gh_dom_is_group(d, p) &&
            (d->nameof[p] == d->nameof[w] ||
             (gh_is_map_internal(gh_dom_node_name(d, p)) && gh_is_map_internal(gh_dom_node_name(d, w)))))
            continue; /* inside a chain of its own type, or a map's machinery: the top stands for it */
        if (q.n < limit) {
            /* sift up */
            size_t i = q.n++;
            q.v[i] = w;
            while (i && below(d, q.v[i], q.v[(i - 1) / 2])) {
                uint32_t t = q.v[i];
                q.v[i] = q.v[(i - 1) / 2];
                q.v[(i - 1) / 2] = t;
                i = (i - 1) / 2;
            }
        } else if (below(d, q.v[0], w)) {
            q.v[0] = w;
            sift_down(&q, 0);
        }
    }
    qsort_r(q.v, q.n, sizeof *q.v, cmp_top, (void *)d);
    *nodes = q.v;
    *n = q.n;
    return GH_OK;
}
