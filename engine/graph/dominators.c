/* The dominator tree of the live graph and retained sizes (dominators.h):
 * root groups, a depth-first numbering, predecessor lists, semi-NCA. */
#include "graph/dominators.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/bigmem.h"
#include "base/hash.h"
#include "base/vec.h"
#include "graph/retained.h"

#define STEP 65536 /* nodes between interrupt checks and progress reports */

/* --- root groups ------------------------------------------------------------ */

typedef struct rkey {
    uint64_t kind, a; /* a: hash of the name, a goroutine id, or the root's index */
    const gh_root *r;
    uint32_t idx;
    uint8_t named;
} rkey;

static int cmp_rkey(const void *x, const void *y)
{
    const rkey *p = x, *q = y;
    if (p->kind != q->kind)
        return p->kind < q->kind ? -1 : 1;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    if (p->named && q->named) {
        int c = strcmp(p->r->name, q->r->name);
        if (c)
            return c;
    }
    return (p->idx > q->idx) - (p->idx < q->idx);
}

static int same_group(const rkey *p, const rkey *q)
{
    return p->kind == q->kind && p->a == q->a && p->named == q->named && (!p->named || !strcmp(p->r->name, q->r->name));
}

static int cmp_group_first(const void *x, const void *y)
{
    const gh_dom_group *p = x, *q = y;
    return (p->first > q->first) - (p->first < q->first);
}

/* Globals and runtime roots group by name, a goroutine's frames and
 * registers by goroutine, each finalizer or cleanup record stands alone. */
static int make_groups(gh_domtree *d, const gh_roots *rs, gh_err *err)
{
    size_t nr = gh_roots_count(rs);
    rkey *k = malloc((nr ? nr : 1) * sizeof *k);
    d->group_of = malloc((nr ? nr : 1) * sizeof *d->group_of);
    uint32_t *tmp = malloc((nr ? nr : 1) * sizeof *tmp);
    d->groups = malloc((nr ? nr : 1) * sizeof *d->groups);
    if (!k || !d->group_of || !tmp || !d->groups) {
        free(k), free(tmp);
        return gh_errorf(err, GH_ENOMEM, "out of memory for root groups");
    }
    for (size_t i = 0; i < nr; i++) {
        const gh_root *r = gh_roots_get(rs, i);
        rkey x = {.kind = r->kind, .a = i, .r = r, .idx = (uint32_t)i};
        if (r->kind == GH_ROOT_STACK) {
            x.a = (uint64_t)r->goid;
        } else if ((r->kind == GH_ROOT_GLOBAL || r->kind == GH_ROOT_RUNTIME) && r->name) {
            x.a = gh_hash64(r->name, strlen(r->name), 0);
            x.named = 1;
        } else {
            x.kind |= 0x100; /* alone: never equal to a named one's key */
        }
        k[i] = x;
    }
    if (nr)
        qsort(k, nr, sizeof *k, cmp_rkey);
    uint32_t ng = 0;
    for (size_t i = 0; i < nr; i++) {
        if (i == 0 || !same_group(&k[i - 1], &k[i])) {
            d->groups[ng] = (gh_dom_group){.first = k[i].idx, .nroots = 0};
            ng++;
        }
        gh_dom_group *gr = &d->groups[ng - 1];
        gr->nroots++;
        if (k[i].idx < gr->first)
            gr->first = k[i].idx;
        tmp[k[i].idx] = ng - 1; /* provisional group of the root */
    }
    /* Number groups in the order of their first root (the marker's order). */
    gh_dom_group *sorted = malloc((ng ? ng : 1) * sizeof *sorted);
    uint32_t *renum = malloc((ng ? ng : 1) * sizeof *renum);
    if (!sorted || !renum) {
        free(k), free(tmp), free(sorted), free(renum);
        return gh_errorf(err, GH_ENOMEM, "out of memory for root groups");
    }
    memcpy(sorted, d->groups, ng * sizeof *sorted);
    if (ng)
        qsort(sorted, ng, sizeof *sorted, cmp_group_first);
    for (uint32_t g = 0; g < ng; g++)
        renum[tmp[sorted[g].first]] = g;
    for (size_t i = 0; i < nr; i++)
        d->group_of[i] = renum[tmp[i]];
    memcpy(d->groups, sorted, ng * sizeof *sorted);
    d->ngroups = ng;
    free(k), free(tmp), free(sorted), free(renum);
    return GH_OK;
}

/* What each group reaches: pairs collected root by root, then by group. */
typedef struct gcoll {
    const gh_heap *h;
    uint64_t *pairs; /* group << 32 | slot */
    size_t n, cap;
    uint32_t group;
    int oom;
} gcoll;

static void gc_add(gcoll *c, uint32_t slot)
{
    if (c->n == c->cap && gh_grow(&c->pairs, &c->cap, c->n + 1, sizeof *c->pairs)) {
        c->oom = 1;
        return;
    }
    c->pairs[c->n++] = (uint64_t)c->group << 32 | slot;
}

static int gc_root_word(void *ctx, uint64_t index, uint64_t addr, uint64_t value)
{
    gcoll *c = ctx;
    gh_obj o;
    (void)index, (void)addr;
    if (value && gh_heap_find(c->h, value, &o))
        gc_add(c, o.id);
    return 0;
}

static int group_edges(gh_domtree *d, const gh_graph *g, gh_err *err)
{
    const gh_target *t = g->h->rt->t;
    const gh_edges *e = &g->edges;
    gcoll c = {.h = g->h};
    size_t nr = gh_roots_count(g->roots);
    for (size_t i = 0; i < nr && !c.oom; i++) {
        const gh_root *r = gh_roots_get(g->roots, i);
        c.group = d->group_of[i];
        gh_root_each_word(r, t, gc_root_word, &c);
        gh_obj o;
        /* A finalizer keeps what its object points to alive, not the object
         * (as the marker does). */
        if (r->object && gh_heap_find(g->h, r->object, &o))
            for (uint32_t k = e->start[o.id]; k < e->start[o.id + 1]; k++)
                gc_add(&c, e->to[k]);
    }
    d->gstart = calloc((size_t)d->ngroups + 1, sizeof *d->gstart);
    d->gto = malloc((c.n ? c.n : 1) * sizeof *d->gto);
    if (c.oom || !d->gstart || !d->gto || c.n >= UINT32_MAX) {
        free(c.pairs);
        return gh_errorf(err, GH_ENOMEM, "out of memory for root group edges");
    }
    /* Stable by group, each group's slots in the order its roots reach them. */
    for (size_t i = 0; i < c.n; i++)
        d->gstart[(c.pairs[i] >> 32) + 1]++;
    for (uint32_t gi = 0; gi < d->ngroups; gi++)
        d->gstart[gi + 1] += d->gstart[gi];
    uint32_t *fill = malloc(((size_t)d->ngroups + 1) * sizeof *fill);
    if (!fill) {
        free(c.pairs);
        return gh_errorf(err, GH_ENOMEM, "out of memory for root group edges");
    }
    memcpy(fill, d->gstart, ((size_t)d->ngroups + 1) * sizeof *fill);
    for (size_t i = 0; i < c.n; i++)
        d->gto[fill[c.pairs[i] >> 32]++] = (uint32_t)c.pairs[i];
    free(fill);
    free(c.pairs);
    return GH_OK;
}

/* --- the live graph by node ------------------------------------------------- */

static inline uint32_t *numref(gh_domtree *d, uint32_t v)
{
    return (v & GH_DOM_GROUP) ? &d->gnum[v & ~GH_DOM_GROUP] : &d->num[v];
}

/* The k-th successor of node x (a vertex: slot or GH_DOM_GROUP | group), or
 * 0 with *has clear past the last. */
static inline uint32_t succ_at(const gh_domtree *d, const gh_edges *e, uint32_t x, uint32_t k, int *has)
{
    if (x == GH_DOM_ROOT) {
        *has = k < d->ngroups;
        return GH_DOM_GROUP | k;
    }
    uint32_t v = d->vertex[x];
    if (v & GH_DOM_GROUP) {
        uint32_t gi = v & ~GH_DOM_GROUP;
        *has = d->gstart[gi] + k < d->gstart[gi + 1];
        return *has ? d->gto[d->gstart[gi] + k] : 0;
    }
    *has = e->start[v] + k < e->start[v + 1];
    return *has ? e->to[e->start[v] + k] : 0;
}

/* Depth-first preorder numbering without a stack: each node keeps the
 * position of its next successor (cursor) and its DFS parent. */
static int number(gh_domtree *d, const gh_graph *g, uint32_t *parent, uint32_t *cursor, uint32_t nmax,
                  gh_cancel *cc, gh_err *err)
{
    const gh_edges *e = &g->edges;
    uint32_t n = 1, cur = 1;
    parent[1] = 0;
    cursor[1] = 0;
    uint64_t steps = 0;
    while (cur) {
        int has;
        uint32_t k = cursor[cur];
        uint32_t v = succ_at(d, e, cur, k, &has);
        if (!has) {
            cur = parent[cur];
            continue;
        }
        cursor[cur] = k + 1;
        if (!(v & GH_DOM_GROUP) && !gh_graph_live(g, v))
            continue; /* not in a complete graph; never follow the dead */
        uint32_t *r = numref(d, v);
        if (*r)
            continue;
        if (n == nmax)
            return gh_errorf(err, GH_EFORMAT, "dominators: more nodes than live objects and roots");
        *r = ++n;
        d->vertex[n] = v;
        parent[n] = cur;
        cursor[n] = 0;
        cur = n;
        if (steps++ % STEP == 0) { /* from the first node: a small graph polls too */
            gh_progress(cc, "dominators: numbering", n, nmax);
            if (gh_cancelled(cc))
                return gh_errorf(err, GH_EINTR, "interrupted while computing dominators");
        }
    }
    d->n = n;
    return GH_OK;
}

/* The pointer graph and the groups' edges, for walks over the live graph:
 * a tree loaded from the index has neither until one is needed. */
static int walkable(gh_domtree *d, const gh_graph *g, gh_cancel *cc, gh_err *err)
{
    int rc = gh_graph_edges((gh_graph *)g, cc, err); /* built on use, kept with the graph */
    if (rc == GH_OK && !d->gstart)
        rc = group_edges(d, g, err);
    return rc;
}

/* pred[pstart[w] .. pstart[w + 1]): the nodes pointing to w, self-pointers
 * left out. Counted then filled backwards from each range's end. */
static int predecessors(gh_domtree *d, const gh_graph *g, gh_cancel *cc, gh_err *err)
{
    int rc = walkable(d, g, cc, err);
    if (rc)
        return rc;
    const gh_edges *e = &g->edges;
    uint32_t n = d->n;
    uint32_t *P = calloc((size_t)n + 2, sizeof *P);
    if (!P)
        return gh_errorf(err, GH_ENOMEM, "out of memory for the predecessor lists (%u nodes)", n);
    gh_bigmem_advise(P, ((size_t)n + 2) * sizeof *P);
    size_t ns = g->h->nslots;
    uint64_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (total >= UINT32_MAX) {
                free(P);
                return gh_errorf(err, GH_EUNSUPP, "dominators: over 2^32 edges in the live graph");
            }
            for (uint32_t t = 1; t <= n + 1; t++)
                P[t] += P[t - 1];
            d->pred = malloc((total ? total : 1) * sizeof *d->pred);
            if (!d->pred) {
                free(P);
                return gh_errorf(err, GH_ENOMEM, "out of memory for the predecessor lists (%llu edges)",
                                 (unsigned long long)total);
            }
            gh_bigmem_advise(d->pred, total * sizeof *d->pred);
        }
        /* The root and the groups, then objects in address order (the
         * graph's arrays sequentially). */
        for (uint32_t gi = 0; gi <= d->ngroups; gi++) {
            uint32_t from = gi == d->ngroups ? GH_DOM_ROOT : d->gnum[gi];
            if (!from)
                continue;
            int has = 1;
            for (uint32_t k = 0; has; k++) {
                uint32_t v = succ_at(d, e, from, k, &has);
                uint32_t t = has ? *numref(d, v) : 0;
                if (!t || t == from)
                    continue;
                if (pass == 0)
                    P[t]++, total++;
                else
                    d->pred[--P[t]] = from;
            }
        }
        for (size_t id = 0; id < ns; id++) {
            uint32_t from = d->num[id];
            if (!from)
                continue;
            for (uint32_t k = e->start[id]; k < e->start[id + 1]; k++) {
                uint32_t t = d->num[e->to[k]];
                if (!t || t == from)
                    continue;
                if (pass == 0)
                    P[t]++, total++;
                else
                    d->pred[--P[t]] = from;
            }
            if ((id & 0xfffff) == 0) {
                gh_progress(cc, "dominators: predecessors", pass * (uint64_t)ns + id, 2 * (uint64_t)ns);
                if (gh_cancelled(cc)) {
                    free(P);
                    return gh_errorf(err, GH_EINTR, "interrupted while computing dominators");
                }
            }
        }
    }
    d->pstart = P;
    d->nedges = total;
    return GH_OK;
}

/* Lengauer-Tarjan's eval with path compression, iteratively: the node of
 * least semidominator on the forest path from v up to (not including) its
 * tree's root. */
static inline uint32_t eval(uint32_t v, uint32_t *ancestor, uint32_t *label, const uint32_t *semi, uint32_t **stack,
                            size_t *cap, int *oom)
{
    if (!ancestor[v])
        return v;
    size_t top = 0;
    uint32_t u = v;
    while (ancestor[ancestor[u]]) {
        if (top == *cap && gh_grow(stack, cap, top + 1, sizeof **stack)) {
            *oom = 1;
            return label[v];
        }
        (*stack)[top++] = u;
        u = ancestor[u];
    }
    while (top) {
        u = (*stack)[--top];
        uint32_t a = ancestor[u];
        if (semi[label[a]] < semi[label[u]])
            label[u] = label[a];
        ancestor[u] = ancestor[a];
    }
    return label[v];
}

/* semi-NCA: semidominators in reverse preorder, then each idom as the
 * nearest ancestor (on the DFS tree, already resolved) not above its semi.
 * parent becomes idom. */
static int snca(gh_domtree *d, uint32_t *parent, uint32_t *semi, gh_cancel *cc, gh_err *err)
{
    uint32_t n = d->n;
    uint32_t *label = malloc(((size_t)n + 1) * sizeof *label);
    uint32_t *ancestor = calloc((size_t)n + 1, sizeof *ancestor);
    if (!label || !ancestor) {
        free(label), free(ancestor);
        return gh_errorf(err, GH_ENOMEM, "out of memory for the dominator tree (%u nodes)", n);
    }
    gh_bigmem_advise(label, ((size_t)n + 1) * sizeof *label);
    gh_bigmem_advise(ancestor, ((size_t)n + 1) * sizeof *ancestor);
    for (uint32_t i = 0; i <= n; i++)
        semi[i] = i, label[i] = i;
    uint32_t *stack = NULL;
    size_t cap = 0;
    int oom = 0;
    for (uint32_t w = n; w >= 2; w--) {
        uint32_t s = w;
        for (uint32_t k = d->pstart[w]; k < d->pstart[w + 1]; k++) {
            uint32_t u = eval(d->pred[k], ancestor, label, semi, &stack, &cap, &oom);
            if (semi[u] < s)
                s = semi[u];
        }
        semi[w] = s;
        ancestor[w] = parent[w];
        if (w == n || (w & (STEP - 1)) == 0) {
            gh_progress(cc, "dominators: semidominators", n - w, n);
            if (gh_cancelled(cc))
                break;
        }
    }
    free(stack);
    free(label);
    free(ancestor);
    if (oom)
        return gh_errorf(err, GH_ENOMEM, "out of memory for the dominator tree");
    if (gh_cancelled(cc))
        return gh_errorf(err, GH_EINTR, "interrupted while computing dominators");
    /* parent[w] becomes idom[w], in preorder: every idom above w is final. */
    for (uint32_t w = 2; w <= n; w++) {
        uint32_t x = parent[w];
        while (x > semi[w])
            x = parent[x];
        parent[w] = x;
    }
    parent[1] = 0;
    return GH_OK;
}

/* Each node's own slot size, then summed into its dominators, deepest first
 * (an idom's number is always below its node's). */
static void retained(gh_domtree *d, const gh_heap *h)
{
    for (size_t si = 0; si < h->nspans; si++) {
        const gh_span *sp = &h->spans[si];
        if (sp->state != GH_SPAN_INUSE)
            continue;
        for (uint32_t k = 0; k < sp->nelems; k++) {
            uint32_t w = d->num[sp->first + k];
            if (w) {
                d->rbytes[w] = sp->elemsize;
                d->robjs[w] = 1;
            }
        }
    }
    for (uint32_t w = d->n; w >= 2; w--) {
        d->rbytes[d->idom[w]] += d->rbytes[w];
        d->robjs[d->idom[w]] += d->robjs[w];
    }
}

int gh_dom_finish_loaded(gh_domtree *d, const gh_graph *g, gh_err *err)
{
    size_t ns = g->h->nslots, nr = gh_roots_count(g->roots);
    if (d->n < 1 || (uint64_t)d->n > 1 + (uint64_t)d->ngroups + ns || nr >= UINT32_MAX)
        return gh_errorf(err, GH_EFORMAT, "damaged (node count)");
    for (size_t i = 0; i < nr; i++)
        if (d->group_of[i] >= d->ngroups)
            return gh_errorf(err, GH_EFORMAT, "damaged (root %zu has no group)", i);
    for (uint32_t gi = 0; gi < d->ngroups; gi++)
        if (d->groups[gi].first >= nr || d->group_of[d->groups[gi].first] != gi || !d->groups[gi].nroots ||
            d->groups[gi].nroots > nr)
            return gh_errorf(err, GH_EFORMAT, "damaged (group %u)", gi);
    d->num = calloc(ns ? ns : 1, sizeof *d->num);
    d->gnum = calloc(d->ngroups ? d->ngroups : 1, sizeof *d->gnum);
    d->rbytes = calloc((size_t)d->n + 1, sizeof *d->rbytes);
    d->robjs = calloc((size_t)d->n + 1, sizeof *d->robjs);
    if (!d->num || !d->gnum || !d->rbytes || !d->robjs)
        return gh_errorf(err, GH_ENOMEM, "out of memory for the dominator tree (%u nodes)", d->n);
    gh_bigmem_advise(d->num, ns * sizeof *d->num);
    /* Every node once, every immediate dominator above its node: the tree
     * is a tree, and the walks over it end. */
    uint64_t objects = 0;
    for (uint32_t w = 2; w <= d->n; w++) {
        uint32_t v = d->vertex[w];
        if (v & GH_DOM_GROUP) {
            uint32_t gi = v & ~GH_DOM_GROUP;
            if (gi >= d->ngroups || d->gnum[gi])
                return gh_errorf(err, GH_EFORMAT, "damaged (node %u)", w);
            d->gnum[gi] = w;
        } else {
            if (v >= ns || !gh_graph_live(g, v) || d->num[v])
                return gh_errorf(err, GH_EFORMAT, "damaged (node %u)", w);
            d->num[v] = w;
            objects++;
        }
        if (d->idom[w] < 1 || d->idom[w] >= w)
            return gh_errorf(err, GH_EFORMAT, "damaged (dominator of node %u)", w);
    }
    d->vertex[0] = d->vertex[1] = 0;
    d->idom[0] = d->idom[1] = 0;
    retained(d, g->h);
    /* What the tree retains in all must be the live heap, as marked. */
    if (d->rbytes[GH_DOM_ROOT] != g->live_bytes || d->robjs[GH_DOM_ROOT] != g->live_objects || objects != g->live_objects)
        return gh_errorf(err, GH_EFORMAT, "not the tree of this graph (%" PRIu64 " of %" PRIu64 " live objects)",
                         objects, g->live_objects);
    return GH_OK;
}

void gh_domtree_free(gh_domtree *d)
{
    if (!d)
        return;
    free(d->num), free(d->vertex), free(d->idom), free(d->rbytes), free(d->robjs);
    free(d->groups), free(d->group_of), free(d->gnum), free(d->gstart), free(d->gto);
    free(d->pstart), free(d->pred), free(d->cstart), free(d->child);
    free(d->ws_in), free(d->ws_seen), free(d->ws_out);
    for (size_t i = 0; i < d->ntypes; i++)
        free(d->types[i].name);
    free(d->types);
    for (size_t i = 0; i < d->nnames; i++)
        free(d->names[i]);
    free(d->names), free(d->nameof);
    free(d);
}

static uint64_t popcount_marked(const gh_graph *g)
{
    uint64_t n = 0, nw = (g->h->nslots + 63) / 64;
    for (uint64_t i = 0; i < nw; i++)
        n += (uint64_t)__builtin_popcountll(g->marked[i]);
    return n;
}

static int build(gh_graph *g, gh_cancel *cc, gh_domtree *d, gh_err *err)
{
    int rc;
    size_t ns = g->h->nslots;
    if (ns >= GH_DOM_GROUP)
        return gh_errorf(err, GH_EUNSUPP, "dominators: over 2^31 heap slots");
    if ((rc = gh_graph_edges(g, cc, err)) || (rc = make_groups(d, g->roots, err)) ||
        (rc = group_edges(d, g, err)))
        return rc;
    uint64_t nmax = 1 + (uint64_t)d->ngroups + popcount_marked(g);
    if (nmax >= UINT32_MAX)
        return gh_errorf(err, GH_EUNSUPP, "dominators: over 2^32 nodes");
    size_t nn = (size_t)nmax + 1;
    d->num = calloc(ns ? ns : 1, sizeof *d->num);
    d->gnum = calloc(d->ngroups ? d->ngroups : 1, sizeof *d->gnum);
    d->vertex = malloc(nn * sizeof *d->vertex);
    uint32_t *parent = malloc(nn * sizeof *parent), *semi = malloc(nn * sizeof *semi);
    if (!d->num || !d->gnum || !d->vertex || !parent || !semi) {
        free(parent), free(semi);
        return gh_errorf(err, GH_ENOMEM, "out of memory for the dominator tree (%llu nodes)",
                         (unsigned long long)nmax);
    }
    gh_bigmem_advise(d->num, ns * sizeof *d->num);
    gh_bigmem_advise(d->vertex, nn * sizeof *d->vertex);
    gh_bigmem_advise(parent, nn * sizeof *parent);
    gh_bigmem_advise(semi, nn * sizeof *semi);
    d->vertex[0] = d->vertex[1] = 0;
    /* semi holds each node's successor cursor while numbering. */
    if ((rc = number(d, g, parent, semi, (uint32_t)nmax, cc, err)) || (rc = predecessors(d, g, cc, err))) {
        free(parent), free(semi);
        return rc;
    }
    uint64_t n1 = (uint64_t)d->n + 1;
    /* The slot-to-node map is not needed while the semidominators are
     * found: freed, and made again from vertex after, to keep the peak low. */
    free(d->num);
    d->num = NULL;
    d->peak_bytes = nn * 4 * 5 + (n1 + 1) * 4 + d->nedges * 4;
    rc = snca(d, parent, semi, cc, err);
    free(semi);
    if (rc) {
        free(parent);
        return rc;
    }
    d->idom = parent;
    /* The predecessors are needed again only for a type's retained size
     * (gh_dom_set_retained builds them then). */
    free(d->pstart), free(d->pred);
    d->pstart = d->pred = NULL;
    d->num = calloc(ns ? ns : 1, sizeof *d->num);
    d->rbytes = calloc(n1, sizeof *d->rbytes);
    d->robjs = calloc(n1, sizeof *d->robjs);
    if (!d->num || !d->rbytes || !d->robjs)
        return gh_errorf(err, GH_ENOMEM, "out of memory for retained sizes (%u nodes)", d->n);
    gh_bigmem_advise(d->num, ns * sizeof *d->num);
    for (uint32_t w = 2; w <= d->n; w++)
        if (!(d->vertex[w] & GH_DOM_GROUP))
            d->num[d->vertex[w]] = w;
    retained(d, g->h);
    return GH_OK;
}

int gh_graph_dominators(gh_graph *g, gh_cancel *cc, gh_domtree **out, gh_err *err)
{
    if (g->dom) {
        *out = g->dom;
        return GH_OK;
    }
    *out = NULL;
    if (g->partial)
        return gh_errorf(err, GH_EUNSUPP, "dominators need the whole graph; marking was interrupted");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    gh_domtree *d = calloc(1, sizeof *d);
    if (!d)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    int rc = build(g, cc, d, err);
    if (rc) {
        gh_domtree_free(d);
        return rc;
    }
    gh_progress(cc, "dominators", 1, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    d->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    g->dom = d;
    *out = d;
    return GH_OK;
}

int gh_dom_preds(gh_domtree *d, const gh_graph *g, uint32_t node, gh_cancel *cc, const uint32_t **first,
                 uint32_t *count, gh_err *err)
{
    if (!d->pstart) {
        int rc = predecessors(d, g, cc, err);
        if (rc)
            return rc;
    }
    if (node < 1 || node > d->n) {
        *first = d->pred;
        *count = 0;
        return GH_OK;
    }
    *first = d->pred + d->pstart[node];
    *count = d->pstart[node + 1] - d->pstart[node];
    return GH_OK;
}

int gh_dom_children(gh_domtree *d, uint32_t node, const uint32_t **first, uint32_t *count, gh_err *err)
{
    if (!d->cstart) {
        uint32_t n = d->n;
        uint32_t *cs = calloc((size_t)n + 2, sizeof *cs), *ch = malloc(((size_t)n + 1) * sizeof *ch);
        if (!cs || !ch) {
            free(cs), free(ch);
            return gh_errorf(err, GH_ENOMEM, "out of memory for the dominator tree's children");
        }
        for (uint32_t w = 2; w <= n; w++)
            cs[d->idom[w]]++;
        for (uint32_t t = 1; t <= n + 1; t++)
            cs[t] += cs[t - 1];
        for (uint32_t w = n; w >= 2; w--) /* backwards: each node's children rise */
            ch[--cs[d->idom[w]]] = w;
        d->cstart = cs;
        d->child = ch;
    }
    if (node < 1 || node > d->n) {
        *first = d->child;
        *count = 0;
        return GH_OK;
    }
    *first = d->child + d->cstart[node];
    *count = d->cstart[node + 1] - d->cstart[node];
    return GH_OK;
}

/* --- the retained size of a set ------------------------------------------- */

static inline int tb(const uint64_t *v, uint32_t i) { return v[i >> 6] >> (i & 63) & 1; }
static inline void sb(uint64_t *v, uint32_t i) { v[i >> 6] |= UINT64_C(1) << (i & 63); }
static inline void cb(uint64_t *v, uint32_t i) { v[i >> 6] &= ~(UINT64_C(1) << (i & 63)); }

static uint64_t own_size(const gh_domtree *d, const gh_graph *g, uint32_t w)
{
    gh_obj o;
    if (gh_dom_is_group(d, w) || w <= GH_DOM_ROOT || !gh_heap_slot(g->h, d->vertex[w], &o))
        return 0;
    return o.size;
}

int gh_dom_set_retained(gh_domtree *d, const gh_graph *g, const uint32_t *set, size_t nset, uint64_t budget,
                        gh_cancel *cc, gh_dom_setsize *res, gh_err *err)
{
    *res = (gh_dom_setsize){.exact = 1};
    size_t nw = ((size_t)d->n + 64) / 64;
    if (!d->ws_in) {
        /* in: the set; seen: reached from the set; out: reached from
         * outside it. Kept zero between calls (cleared by the region). */
        d->ws_in = calloc(nw, 8), d->ws_seen = calloc(nw, 8), d->ws_out = calloc(nw, 8);
        if (!d->ws_in || !d->ws_seen || !d->ws_out) {
            free(d->ws_in), free(d->ws_seen), free(d->ws_out);
            d->ws_in = d->ws_seen = d->ws_out = NULL;
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        }
    }
    if (!d->pstart || !d->gstart) {
        int prc = d->pstart ? walkable(d, g, cc, err) : predecessors(d, g, cc, err);
        if (prc)
            return prc;
    }
    uint64_t *in = d->ws_in, *seen = d->ws_seen, *out = d->ws_out;
    uint32_t *region = NULL, *queue = NULL;
    size_t nreg = 0, capreg = 0, nq = 0, capq = 0;
    int rc = GH_OK;
    uint64_t work = 0;
    for (size_t i = 0; i < nset; i++)
        if (set[i] > GH_DOM_ROOT && set[i] <= d->n && !tb(in, set[i])) {
            sb(in, set[i]);
            sb(seen, set[i]);
            if (nreg == capreg && gh_grow(&region, &capreg, nreg + 1, sizeof *region))
                goto oom;
            region[nreg++] = set[i];
        }
    /* What the set reaches (itself included). */
    for (size_t h = 0; h < nreg; h++) {
        uint32_t x = region[h];
        int has = 1;
        for (uint32_t k = 0; has; k++) {
            uint32_t v = succ_at(d, &g->edges, x, k, &has);
            uint32_t w = has ? *numref(d, v) : 0;
            work++;
            if (!w || tb(seen, w))
                continue;
            sb(seen, w);
            if (nreg == capreg && gh_grow(&region, &capreg, nreg + 1, sizeof *region))
                goto oom;
            region[nreg++] = w;
        }
        if (budget && work + nreg > budget) {
            res->exact = 0;
            goto done;
        }
        if ((h & 0xffff) == 0xffff && gh_cancelled(cc)) {
            rc = gh_errorf(err, GH_EINTR, "interrupted while computing retained sizes");
            goto done;
        }
    }
    /* Nodes of the region entered from outside it are reached without the
     * set, and so is what they reach inside it. */
    for (size_t i = 0; i < nreg; i++) {
        uint32_t x = region[i];
        if (tb(in, x))
            continue;
        for (uint32_t k = d->pstart[x]; k < d->pstart[x + 1]; k++) {
            work++;
            if (!tb(seen, d->pred[k])) {
                sb(out, x);
                if (nq == capq && gh_grow(&queue, &capq, nq + 1, sizeof *queue))
                    goto oom;
                queue[nq++] = x;
                break;
            }
        }
    }
    for (size_t h = 0; h < nq; h++) {
        uint32_t x = queue[h];
        int has = 1;
        for (uint32_t k = 0; has; k++) {
            uint32_t v = succ_at(d, &g->edges, x, k, &has);
            uint32_t w = has ? *numref(d, v) : 0;
            work++;
            if (!w || !tb(seen, w) || tb(in, w) || tb(out, w))
                continue;
            sb(out, w);
            if (nq == capq && gh_grow(&queue, &capq, nq + 1, sizeof *queue))
                goto oom;
            queue[nq++] = w;
        }
    }
    for (size_t i = 0; i < nreg; i++)
        if (!tb(out, region[i])) {
            res->bytes += own_size(d, g, region[i]);
            res->objects += 1;
        }
    goto done;
oom:
    rc = gh_errorf(err, GH_ENOMEM, "out of memory for a retained set");
done:
    res->work = work + nreg;
    for (size_t i = 0; i < nreg; i++)
        cb(in, region[i]), cb(seen, region[i]), cb(out, region[i]);
    free(region), free(queue);
    return rc;
}
