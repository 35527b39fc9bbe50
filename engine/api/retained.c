/* Public API: retained sizes from the dominator tree (graph/dominators.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "graph/domkeys.h"
#include "graph/retained.h"

static int tree(gh_session *s, gh_graph **g, gh_domtree **d, gh_err *err)
{
    gh_api_enter(s);
    int rc = gh_session_dominators(s, g, d, err);
    return rc ? rc : gh_dom_names(*d, *g, err);
}

static void fill(const gh_graph *g, const gh_domtree *d, const gh_obj *o, uint32_t w, gh_retained *out)
{
    *out = (gh_retained){.dominator_root = -1};
    gh_api_object(g, o, o->addr, &out->object);
    out->object.addr = o->addr; /* the slot, even for a tiny block */
    out->object.size = o->size;
    if (!w)
        return;
    out->bytes = d->rbytes[w];
    out->objects = d->robjs[w];
    uint32_t p = d->idom[w];
    if (gh_dom_is_group(d, p))
        out->dominator_root = d->groups[d->vertex[p] & ~GH_DOM_GROUP].first;
    else if (p > GH_DOM_ROOT)
        out->dominator = gh_dom_node_addr(d, g, p);
}

int gh_retained_get(gh_session *s, uint64_t addr, gh_retained *out, gh_err *err)
{
    gh_graph *g;
    gh_domtree *d;
    int rc = tree(s, &g, &d, err);
    if (rc)
        return rc;
    gh_obj o;
    if (!gh_heap_find(g->h, addr, &o))
        return gh_errorf(err, GH_ENOENT, "0x%" PRIx64 " is not inside an allocated heap object", addr);
    fill(g, d, &o, gh_dom_node(d, o.id), out);
    out->object.addr = o.addr; /* the slot, even inside a tiny block */
    out->object.size = o.size;
    return GH_OK;
}

int gh_retainers(gh_session *s, size_t limit, gh_retained **out, size_t *n, gh_err *err)
{
    *out = NULL;
    *n = 0;
    gh_graph *g;
    gh_domtree *d;
    uint32_t *nodes;
    size_t nn;
    int rc = tree(s, &g, &d, err);
    if (rc || (rc = gh_dom_top(d, limit, 0, &nodes, &nn, err)))
        return rc;
    gh_retained *v = calloc(nn ? nn : 1, sizeof *v);
    if (!v) {
        free(nodes);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < nn; i++) {
        gh_obj o;
        if (gh_heap_slot(g->h, d->vertex[nodes[i]], &o))
            fill(g, d, &o, nodes[i], &v[i]);
    }
    free(nodes);
    *out = v;
    *n = nn;
    return GH_OK;
}

void gh_retainers_free(gh_retained *v) { free(v); }

/* A full name (go/scanner.Scanner): the instances of its type alone, where
 * two import paths share its short name, else its short name's answer. */
static int full_retained(gh_session *s, gh_graph *g, gh_domtree *d, const char *type, gh_dom_type *out, gh_err *err)
{
    gh_domkeys k;
    int rc = gh_domkeys_make(&k, d, g, err);
    if (rc)
        return rc;
    uint32_t key = gh_domkeys_find_full(&k, type);
    if (k.oom)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    else if (key == GH_DOM_NONAME)
        rc = gh_errorf(err, GH_ENOENT, "no live object of type %.200s", type);
    else if (key >= k.nnames)
        rc = gh_dom_type_where(d, g, gh_domkey_name(&k, key), gh_domkey_same_full, (void *)type, &s->cancel, out, err);
    else if (!(rc = gh_dom_type_exact(d, g, gh_domkey_name(&k, key), &s->cancel, err)))
        *out = *gh_dom_type_find(d, gh_domkey_name(&k, key));
    gh_domkeys_free(&k);
    return rc;
}

int gh_type_retained(gh_session *s, const char *type, uint64_t *bytes, uint64_t *objects, int *exact, gh_err *err)
{
    gh_graph *g;
    gh_domtree *d;
    int rc = tree(s, &g, &d, err);
    if (rc)
        return rc;
    if (!type)
        return gh_errorf(err, GH_EARG, "no type named");
    if ((rc = gh_dom_types(d, g, &s->cancel, err)))
        return rc;
    gh_dom_type t;
    if (gh_dom_type_find(d, type)) { /* reflect's name: every type of that name */
        if ((rc = gh_dom_type_exact(d, g, type, &s->cancel, err)))
            return rc;
        t = *gh_dom_type_find(d, type);
    } else if ((rc = full_retained(s, g, d, type, &t, err))) {
        return rc;
    }
    *bytes = t.exact ? t.rbytes : t.ubytes;
    *objects = t.exact ? t.robjs : t.uobjs;
    *exact = t.exact;
    return GH_OK;
}

int gh_root_retained(gh_session *s, size_t i, uint64_t *bytes, uint64_t *objects, gh_err *err)
{
    gh_graph *g;
    gh_domtree *d;
    int rc = tree(s, &g, &d, err);
    if (rc)
        return rc;
    if (i >= gh_roots_count(g->roots))
        return gh_errorf(err, GH_ENOENT, "no root %zu", i);
    uint32_t w = d->gnum[d->group_of[i]];
    *bytes = w ? d->rbytes[w] : 0;
    *objects = w ? d->robjs[w] : 0;
    return GH_OK;
}

/* --- the dominator tree's children ---------------------------------------- */

static int by_retained(const void *a, const void *b)
{
    const gh_retained *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return (x->object.addr > y->object.addr) - (x->object.addr < y->object.addr);
}

/* The children of node w, largest retained first, up to limit (0: all). */
static int children(gh_graph *g, gh_domtree *d, uint32_t w, size_t limit, gh_retained **out, size_t *n,
                    size_t *total, gh_err *err)
{
    const uint32_t *kids = NULL;
    uint32_t nk = 0;
    int rc = w ? gh_dom_children(d, w, &kids, &nk, err) : GH_OK;
    if (rc)
        return rc;
    gh_retained *v = calloc(nk ? nk : 1, sizeof *v);
    if (!v)
        return gh_errorf(err, GH_ENOMEM, "out of memory for %u dominated objects", nk);
    size_t k = 0;
    for (uint32_t i = 0; i < nk; i++) {
        gh_obj o;
        if (gh_dom_is_group(d, kids[i]) || !gh_heap_slot(g->h, d->vertex[kids[i]], &o))
            continue; /* only the virtual root has groups as children */
        fill(g, d, &o, kids[i], &v[k++]);
    }
    qsort(v, k, sizeof *v, by_retained);
    if (total)
        *total = k;
    *out = v;
    *n = limit && limit < k ? limit : k;
    return GH_OK;
}

int gh_dominated(gh_session *s, uint64_t addr, size_t limit, gh_retained **out, size_t *n, size_t *total,
                 gh_err *err)
{
    *out = NULL;
    *n = 0;
    if (total)
        *total = 0;
    gh_graph *g;
    gh_domtree *d;
    int rc = tree(s, &g, &d, err);
    if (rc)
        return rc;
    gh_obj o;
    if (!gh_heap_find(g->h, addr, &o))
        return gh_errorf(err, GH_ENOENT, "0x%" PRIx64 " is not inside an allocated heap object", addr);
    return children(g, d, gh_dom_node(d, o.id), limit, out, n, total, err);
}

int gh_root_dominated(gh_session *s, size_t i, size_t limit, gh_retained **out, size_t *n, size_t *total,
                      gh_err *err)
{
    *out = NULL;
    *n = 0;
    if (total)
        *total = 0;
    gh_graph *g;
    gh_domtree *d;
    int rc = tree(s, &g, &d, err);
    if (rc)
        return rc;
    if (i >= gh_roots_count(g->roots))
        return gh_errorf(err, GH_ENOENT, "no root %zu (there are %zu)", i, gh_roots_count(g->roots));
    return children(g, d, d->gnum[d->group_of[i]], limit, out, n, total, err);
}
