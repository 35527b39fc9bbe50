/* Public API: retained sizes from the dominator tree (graph/dominators.h). */
#include <inttypes.h>
#include <stdlib.h>

#include "api/api.h"
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

int gh_type_retained(gh_session *s, const char *type, uint64_t *bytes, uint64_t *objects, int *exact, gh_err *err)
{
    gh_graph *g;
    gh_domtree *d;
    int rc = tree(s, &g, &d, err);
    if (rc)
        return rc;
    if (!type)
        return gh_errorf(err, GH_EARG, "no type named");
    if ((rc = gh_dom_type_exact(d, g, type, &s->cancel, err)))
        return rc;
    const gh_dom_type *t = gh_dom_type_find(d, type);
    *bytes = t->exact ? t->rbytes : t->ubytes;
    *objects = t->exact ? t->robjs : t->uobjs;
    *exact = t->exact;
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
