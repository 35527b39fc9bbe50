/* The dominator tree's type index by full name (domkeys.h). */
#include "graph/domkeys.h"

#include <stdlib.h>
#include <string.h>

#include "base/vec.h"

#define NONAME GH_DOM_NONAME

static gh_tid slot_tid(const gh_graph *g, uint32_t slot)
{
    gh_tid t = g->type[slot];
    return t == GH_TID_TINY ? 0 : t;
}

int gh_domkeys_make(gh_domkeys *k, gh_domtree *d, gh_graph *g, gh_err *err)
{
    memset(k, 0, sizeof *k);
    k->d = d;
    k->g = g;
    int rc = gh_dom_names(d, g, err);
    if (rc)
        return rc;
    if (gh_typenames_shared(g->types, &k->sn))
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    k->nnames = (uint32_t)d->nnames;
    k->split = calloc(d->nnames + 1, 1);
    k->seen = calloc(d->nnames + 1, 1);
    if (!k->split || !k->seen || gh_grow(&k->k, &k->cap, d->nnames + 1, sizeof *k->k)) {
        gh_domkeys_free(k);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    for (uint32_t ni = 0; ni < k->nnames; ni++) {
        k->k[ni] = (gh_domkey){d->names[ni], NULL, 0, ni};
        k->split[ni] = (uint8_t)gh_shortnames_has(&k->sn, d->names[ni]);
        k->any_split |= k->split[ni];
    }
    k->n = k->nnames;
    return GH_OK;
}

void gh_domkeys_free(gh_domkeys *k)
{
    gh_shortnames_free(&k->sn);
    free(k->k), free(k->split), free(k->seen), free(k->types);
    gh_hmap_free(&k->bytid);
    memset(k, 0, sizeof *k);
}

/* The key of a split name's node of type t: one per full name, made on
 * first use. */
static uint32_t split_key(gh_domkeys *k, uint32_t ni, gh_tid t)
{
    uint64_t *v = gh_hmap_get(&k->bytid, t);
    if (v)
        return (uint32_t)*v;
    const char *full = t ? gh_types_full_name(k->g->types, t) : k->k[ni].name;
    uint32_t key = k->nnames;
    while (key < k->n && !(k->k[key].ni == ni && !strcmp(k->k[key].full, full)))
        key++;
    if (key == k->n) {
        if (k->n == UINT32_MAX - 1 || gh_grow(&k->k, &k->cap, (size_t)k->n + 1, sizeof *k->k)) {
            k->oom = 1;
            return ni;
        }
        k->k[k->n++] = (gh_domkey){k->k[ni].name, full, t, ni};
    }
    if (gh_hmap_put(&k->bytid, t, key))
        k->oom = 1;
    return key;
}

uint32_t gh_domkey_of(gh_domkeys *k, uint32_t w)
{
    const gh_domtree *d = k->d;
    if (w <= GH_DOM_ROOT || w > d->n || gh_dom_is_group(d, w))
        return NONAME;
    uint32_t ni = d->nameof[w];
    if (ni == NONAME || ni >= k->nnames)
        return NONAME;
    if (!k->seen[ni]) {
        gh_tid t = slot_tid(k->g, d->vertex[w]);
        k->k[ni].tid = t;
        k->k[ni].full = t ? gh_types_full_name(k->g->types, t) : k->k[ni].name;
        k->seen[ni] = 1;
    }
    if (!k->split[ni])
        return ni;
    return split_key(k, ni, slot_tid(k->g, d->vertex[w]));
}

uint32_t gh_domkeys_find_full(gh_domkeys *k, const char *full)
{
    for (uint32_t w = 2; w <= k->d->n && !k->oom; w++) {
        uint32_t x = gh_domkey_of(k, w);
        if (x != NONAME && !strcmp(gh_domkey_full(k, x), full))
            return x;
    }
    return NONAME;
}

int gh_domkey_same_full(const gh_graph *g, uint32_t slot, void *ctx)
{
    gh_tid t = g->type[slot];
    return t && t != GH_TID_TINY && !strcmp(gh_types_full_name(g->types, t), (const char *)ctx);
}

const char *gh_domkey_name(const gh_domkeys *k, uint32_t key)
{
    return key < k->n ? k->k[key].name : "";
}

const char *gh_domkey_full(const gh_domkeys *k, uint32_t key)
{
    if (key >= k->n)
        return "";
    return k->k[key].full ? k->k[key].full : k->k[key].name;
}

void gh_domkey_json(gh_json *j, const gh_domkeys *k, uint32_t key)
{
    gh_json_kstr(j, "type", gh_domkey_name(k, key));
    gh_json_kstr(j, "full_type", gh_domkey_full(k, key));
}

/* Per-key arrays grow with the keys: v holds at least k->n entries of elem
 * bytes, the new ones zero. */
static int fit(const gh_domkeys *k, void *pv, size_t *cap, size_t elem)
{
    size_t had = *cap;
    if (had >= k->n)
        return 0;
    if (gh_grow(pv, cap, k->n, elem))
        return -1;
    memset(*(char **)pv + had * elem, 0, (*cap - had) * elem);
    return 0;
}

typedef struct cb {
    uint64_t count, bytes;
} cb;

static int cmp_hist(const void *a, const void *b, void *ctx)
{
    const gh_dom_hist *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(gh_domkey_full(ctx, x->name_index), gh_domkey_full(ctx, y->name_index));
}

int gh_domkeys_histogram(gh_domkeys *k, const uint32_t *nodes, size_t nn, gh_cancel *cc, gh_dom_hist **rows,
                         size_t *nrows, gh_err *err)
{
    gh_domtree *d = k->d;
    *rows = NULL;
    *nrows = 0;
    const uint32_t *kids;
    uint32_t nk;
    int rc = gh_dom_children(d, GH_DOM_ROOT, &kids, &nk, err); /* builds the children's arrays */
    if (rc)
        return rc;
    cb *acc = NULL;
    size_t acap = 0, scap = 0, top = 0;
    uint32_t *stack = NULL;
    uint64_t steps = 0;
    if (fit(k, &acc, &acap, sizeof *acc))
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
    for (size_t i = 0; i < nn && rc == GH_OK; i++) {
        if (nodes[i] < 1 || nodes[i] > d->n) {
            rc = gh_errorf(err, GH_EARG, "no such node");
            break;
        }
        if (gh_grow(&stack, &scap, 1, sizeof *stack)) {
            rc = gh_errorf(err, GH_ENOMEM, "out of memory");
            break;
        }
        stack[top++] = nodes[i];
        while (top && rc == GH_OK) {
            uint32_t x = stack[--top];
            uint32_t key = gh_domkey_of(k, x);
            if (key != NONAME) {
                if (fit(k, &acc, &acap, sizeof *acc)) {
                    rc = gh_errorf(err, GH_ENOMEM, "out of memory");
                    break;
                }
                acc[key].count++;
                acc[key].bytes += gh_dom_node_size(d, k->g, x);
            }
            uint32_t cs = d->cstart[x], ce = d->cstart[x + 1];
            if (top + (ce - cs) > scap && gh_grow(&stack, &scap, top + (ce - cs), sizeof *stack)) {
                rc = gh_errorf(err, GH_ENOMEM, "out of memory");
                break;
            }
            for (uint32_t c = cs; c < ce; c++)
                stack[top++] = d->child[c];
            if ((++steps & 0xffff) == 0 && gh_cancelled(cc))
                rc = gh_errorf(err, GH_EINTR, "interrupted");
        }
    }
    free(stack);
    if (rc == GH_OK && k->oom)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    gh_dom_hist *h = rc == GH_OK ? calloc(k->n + 1, sizeof *h) : NULL;
    if (rc == GH_OK && !h)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
    if (rc) {
        free(acc);
        return rc;
    }
    size_t n = 0;
    for (uint32_t key = 0; key < k->n && key < acap; key++)
        if (acc[key].count)
            h[n++] = (gh_dom_hist){k->k[key].name, key, acc[key].count, acc[key].bytes};
    free(acc);
    qsort_r(h, n, sizeof *h, cmp_hist, k);
    *rows = h;
    *nrows = n;
    return GH_OK;
}

/* The union of a key's instances' subtrees: bytes and objects. */
typedef struct ucb {
    uint64_t bytes, objs;
} ucb;

/* The tree walked once, depth first, counting per key the instances on the
 * way down: an instance with none of its key above it is a top (its bit in
 * tops), and adds its subtree to u[key] (*u grows with the keys; *ucap). */
static int unions(gh_domkeys *k, uint64_t *tops, ucb **u, size_t *ucap, gh_cancel *cc, gh_err *err)
{
    gh_domtree *d = k->d;
    const uint32_t *kids;
    uint32_t nk;
    int rc = gh_dom_children(d, GH_DOM_ROOT, &kids, &nk, err);
    if (rc)
        return rc;
    struct frame {
        uint32_t node, key, next;
    } *st = NULL;
    uint32_t *active = NULL;
    size_t cap = 0, acap = 0, top = 0;
    if (gh_grow(&st, &cap, 1, sizeof *st) || fit(k, &active, &acap, sizeof *active)) {
        free(st), free(active);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    st[top++] = (struct frame){GH_DOM_ROOT, NONAME, 0};
    uint64_t steps = 0;
    while (top && rc == GH_OK) {
        if ((++steps & 0xffff) == 0 && gh_cancelled(cc)) {
            rc = gh_errorf(err, GH_EINTR, "interrupted while computing retained sizes by type");
            break;
        }
        struct frame *f = &st[top - 1];
        uint32_t cs = d->cstart[f->node], ce = d->cstart[f->node + 1];
        if (cs + f->next >= ce) {
            if (f->key != NONAME)
                active[f->key]--;
            top--;
            continue;
        }
        uint32_t c = d->child[cs + f->next++];
        uint32_t key = gh_domkey_of(k, c);
        if (key != NONAME) {
            if (fit(k, &active, &acap, sizeof *active) || (u && fit(k, u, ucap, sizeof **u))) {
                rc = gh_errorf(err, GH_ENOMEM, "out of memory");
                break;
            }
            if (!active[key]) {
                if (tops)
                    tops[c >> 6] |= UINT64_C(1) << (c & 63);
                if (u) {
                    (*u)[key].bytes += d->rbytes[c];
                    (*u)[key].objs += d->robjs[c];
                }
            }
            active[key]++;
        }
        if (top == cap && gh_grow(&st, &cap, top + 1, sizeof *st)) {
            rc = gh_errorf(err, GH_ENOMEM, "out of memory");
            break;
        }
        st[top++] = (struct frame){c, key, 0};
    }
    free(st), free(active);
    if (rc == GH_OK && k->oom)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    return rc;
}

int gh_domkeys_tops(gh_domkeys *k, uint64_t **out, gh_err *err)
{
    *out = NULL;
    uint64_t *tops = calloc(((size_t)k->d->n + 64) / 64, 8);
    if (!tops)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    int rc = unions(k, tops, NULL, NULL, NULL, err);
    if (rc) {
        free(tops);
        return rc;
    }
    *out = tops;
    return GH_OK;
}

typedef struct member {
    uint32_t key, node;
} member;

static int by_key(const void *a, const void *b)
{
    const member *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

/* A key's instances: [lo, hi) of the members sorted by key. */
typedef struct krun {
    size_t lo, hi;
} krun;

static int by_run_size(const void *a, const void *b)
{
    const krun *x = a, *y = b;
    size_t nx = x->hi - x->lo, ny = y->hi - y->lo;
    if (nx != ny)
        return nx < ny ? -1 : 1;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* The split keys' totals and retained sizes: counted over their own
 * instances; exact within a budget of about one walk of the graph (each a
 * share of it, the fewest instances first, as gh_dom_types spends its
 * own), else the union's lower bound. */
static int split_types(gh_domkeys *k, gh_domkey_type *t, gh_cancel *cc, gh_err *err)
{
    gh_domtree *d = k->d;
    const gh_graph *g = k->g;
    GH_VEC(member) m = {0};
    for (uint32_t w = 2; w <= d->n; w++) {
        uint32_t ni = gh_dom_is_group(d, w) ? NONAME : d->nameof[w];
        if (ni == NONAME || ni >= k->nnames || !k->split[ni])
            continue;
        uint32_t key = gh_domkey_of(k, w);
        if (key < k->nnames || GH_VEC_PUSH(&m, ((member){key, w}))) {
            free(m.v);
            return gh_errorf(err, GH_ENOMEM, "out of memory for type names");
        }
        t[key].count++;
        t[key].bytes += gh_dom_node_size(d, g, w);
    }
    ucb *u = NULL;
    size_t ucap = 0;
    int rc = unions(k, NULL, &u, &ucap, cc, err);
    if (rc) {
        free(m.v), free(u);
        return rc;
    }
    for (uint32_t key = k->nnames; key < k->n && key < ucap; key++)
        t[key].rbytes = u[key].bytes, t[key].robjs = u[key].objs;
    free(u);
    if (!m.n) /* no instance of a split name: nothing to size */
        return GH_OK;
    qsort(m.v, m.n, sizeof *m.v, by_key);
    GH_VEC(krun) runs = {0};
    uint32_t *set = malloc((m.n ? m.n : 1) * sizeof *set);
    for (size_t i = 0; set && i < m.n; i++) {
        set[i] = m.v[i].node;
        if ((!i || m.v[i].key != m.v[i - 1].key) && GH_VEC_PUSH(&runs, ((krun){i, i})))
            break;
        if (runs.n)
            runs.v[runs.n - 1].hi = i + 1;
    }
    if (!set || (m.n && runs.v[runs.n - 1].hi != m.n)) {
        free(m.v), free(runs.v), free(set);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    qsort(runs.v, runs.n, sizeof *runs.v, by_run_size);
    uint64_t graph = (uint64_t)d->n + d->nedges, budget = graph + (uint64_t)d->n + 1000000;
    for (size_t q = 0; q < runs.n && rc == GH_OK && budget > 0; q++) {
        size_t lo = runs.v[q].lo, ns = runs.v[q].hi - lo;
        uint32_t key = m.v[lo].key;
        uint64_t each = graph / 16 + 2 * (uint64_t)ns + 1000000;
        gh_dom_setsize res;
        rc = gh_dom_set_retained(d, g, set + lo, ns, each < budget ? each : budget, cc, &res, err);
        if (rc)
            break;
        budget = res.work < budget ? budget - res.work : 0;
        if (res.exact) {
            t[key].rbytes = res.bytes;
            t[key].robjs = res.objects;
            t[key].exact = 1;
        }
    }
    free(m.v), free(runs.v), free(set);
    return rc;
}

/* Each key's count and bytes, one pass over the nodes (no retained sizes). */
static int counts(gh_domkeys *k, gh_domkey_type **out, gh_err *err)
{
    gh_domtree *d = k->d;
    cb *acc = NULL;
    size_t acap = 0;
    int rc = fit(k, &acc, &acap, sizeof *acc) ? gh_errorf(err, GH_ENOMEM, "out of memory") : GH_OK;
    for (uint32_t w = 2; w <= d->n && rc == GH_OK; w++) {
        uint32_t key = gh_domkey_of(k, w);
        if (key == NONAME)
            continue;
        if (fit(k, &acc, &acap, sizeof *acc)) {
            rc = gh_errorf(err, GH_ENOMEM, "out of memory");
            break;
        }
        acc[key].count++;
        acc[key].bytes += gh_dom_node_size(d, k->g, w);
    }
    if (rc == GH_OK && k->oom)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    gh_domkey_type *t = rc == GH_OK ? calloc((size_t)k->n + 1, sizeof *t) : NULL;
    if (rc == GH_OK && !t)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
    for (uint32_t key = 0; t && key < k->n && key < acap; key++)
        t[key].count = acc[key].count, t[key].bytes = acc[key].bytes;
    free(acc);
    *out = t;
    return rc;
}

int gh_domkeys_types(gh_domkeys *k, int retained, gh_cancel *cc, gh_err *err)
{
    if (k->types && (k->types_retained || !retained))
        return GH_OK;
    free(k->types);
    k->types = NULL;
    gh_domtree *d = k->d;
    gh_domkey_type *t;
    int rc;
    if (!retained) {
        if ((rc = counts(k, &t, err)))
            return rc;
        k->types = t;
        k->types_retained = 0;
        return GH_OK;
    }
    if ((rc = gh_dom_types(d, k->g, cc, err)))
        return rc;
    /* Every name's full name (a node of each), and the split keys made. */
    for (uint32_t w = 2; w <= d->n; w++) {
        uint32_t ni = gh_dom_is_group(d, w) ? NONAME : d->nameof[w];
        if (ni != NONAME && ni < k->nnames && (!k->seen[ni] || k->split[ni]))
            (void)gh_domkey_of(k, w);
    }
    if (k->oom)
        return gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    t = calloc((size_t)k->n + 1, sizeof *t);
    if (!t)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    for (uint32_t ni = 0; ni < k->nnames; ni++) {
        const gh_dom_type *x = k->split[ni] ? NULL : gh_dom_type_find(d, k->k[ni].name);
        if (x)
            t[ni] = (gh_domkey_type){x->count, x->bytes, x->exact ? x->rbytes : x->ubytes,
                                     x->exact ? x->robjs : x->uobjs, x->exact};
    }
    uint32_t keys = k->n;
    if (k->n > k->nnames && (rc = split_types(k, t, cc, err))) {
        free(t);
        return rc;
    }
    if (k->n != keys) { /* every split key was made by the pass above */
        free(t);
        return gh_errorf(err, GH_ENOMEM, "type names changed while counting");
    }
    k->types = t;
    k->types_retained = 1;
    return GH_OK;
}

static int by_retained(const void *a, const void *b, void *ctx)
{
    const gh_domtree *d = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (d->rbytes[x] != d->rbytes[y])
        return d->rbytes[x] < d->rbytes[y] ? 1 : -1;
    return (x > y) - (x < y);
}

int gh_domkeys_top(gh_domkeys *k, size_t limit, int fold, uint32_t **nodes, size_t *n, gh_err *err)
{
    gh_domtree *d = k->d;
    int rc = gh_dom_top(d, limit, fold, nodes, n, err);
    if (rc || !fold || !k->any_split || !limit)
        return rc;
    /* gh_dom_top folded by short name: the objects it folded only for that
     * (same short name, another full name) join its answer, and the
     * largest limit of both are the answer by key. */
    GH_VEC(uint32_t) v = {0};
    for (size_t i = 0; i < *n && rc == GH_OK; i++)
        if (GH_VEC_PUSH(&v, (*nodes)[i]))
            rc = gh_errorf(err, GH_ENOMEM, "out of memory");
    size_t had = v.n;
    for (uint32_t w = 2; w <= d->n && rc == GH_OK; w++) {
        uint32_t p = d->idom[w], ni = gh_dom_is_group(d, w) ? NONAME : d->nameof[w];
        if (ni == NONAME || ni >= k->nnames || !k->split[ni] || p <= GH_DOM_ROOT || gh_dom_is_group(d, p) ||
            d->nameof[p] != ni || gh_is_map_internal(k->k[ni].name) || gh_domkey_of(k, p) == gh_domkey_of(k, w))
            continue;
        if (GH_VEC_PUSH(&v, w))
            rc = gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    if (rc == GH_OK && k->oom)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    if (rc || v.n == had) {
        free(v.v);
        return rc;
    }
    qsort_r(v.v, v.n, sizeof *v.v, by_retained, d);
    free(*nodes);
    *nodes = v.v;
    *n = v.n < limit ? v.n : limit;
    return GH_OK;
}

int gh_domkeys_aggregate_all(gh_domkeys *k, const uint64_t *tops, gh_cancel *cc, gh_agg_all *out, gh_err *err)
{
    gh_domtree *d = k->d;
    if (!k->any_split) /* d's index is already by full name */
        return gh_graph_aggregate_all(d, k->g, tops, cc, out, err);
    /* The graph layer keys its rows by d->nameof: a copy of the tree whose
     * index is the keys stands in for d in this one call (it reads the tree
     * and its index; a split key is named by its full name, so the map
     * internals test still reads a name). */
    uint32_t *keyof = malloc(((size_t)d->n + 1) * sizeof *keyof);
    if (!keyof)
        return gh_errorf(err, GH_ENOMEM, "out of memory for paths of %u nodes", d->n);
    for (uint32_t w = 0; w <= d->n; w++)
        keyof[w] = gh_domkey_of(k, w);
    char **names = k->oom ? NULL : malloc(((size_t)k->n + 1) * sizeof *names);
    if (!names) {
        free(keyof);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    for (uint32_t key = 0; key < k->n; key++)
        names[key] = (char *)(key < k->nnames ? k->k[key].name : gh_domkey_full(k, key));
    gh_domtree v = *d;
    v.nameof = keyof;
    v.names = names;
    v.nnames = k->n;
    v.types = NULL;
    v.ntypes = 0;
    int rc = gh_graph_aggregate_all(&v, k->g, tops, cc, out, err);
    /* Arrays the graph layer builds on first use, if the call built them
     * for the copy, are the copy's. */
    if (v.cstart != d->cstart)
        free(v.cstart), free(v.child);
    if (v.pstart != d->pstart)
        free(v.pstart), free(v.pred);
    if (v.gstart != d->gstart)
        free(v.gstart), free(v.gto);
    if (v.ws_in != d->ws_in)
        free(v.ws_in), free(v.ws_seen), free(v.ws_out);
    free(keyof), free(names);
    return rc;
}
