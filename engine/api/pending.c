/* Public API: objects pending finalization (graph/pending.h), each with the
 * finalizer or cleanup record that waits for it. */
#include "api/api.h"
#include "graph/pending.h"

/* The graph with its pending objects found (the session does that after
 * marking or loading; a graph without them has none). */
static int pending(gh_session *s, gh_graph **g, const gh_pending **p, gh_err *err)
{
    int rc = gh_api_graph(s, g, err);
    if (rc)
        return rc;
    if (!(*g)->pending && (rc = gh_graph_pending(*g, err)))
        return rc;
    *p = (*g)->pending;
    return GH_OK;
}

int gh_pending_count(gh_session *s, size_t *n, uint64_t *objects, uint64_t *bytes, gh_err *err)
{
    gh_graph *g;
    const gh_pending *p;
    int rc = pending(s, &g, &p, err);
    if (rc)
        return rc;
    *n = p ? p->n : 0;
    if (objects)
        *objects = g->pending_objects;
    if (bytes)
        *bytes = g->pending_bytes;
    return GH_OK;
}

int gh_pending_get(gh_session *s, size_t i, gh_pending_info *out, gh_err *err)
{
    gh_graph *g;
    const gh_pending *p;
    int rc = pending(s, &g, &p, err);
    if (rc)
        return rc;
    size_t n = p ? p->n : 0;
    if (i >= n)
        return gh_errorf(err, GH_ENOENT, "no pending finalization record %zu (there are %zu)", i, n);
    const gh_pending_obj *po = &p->v[i];
    gh_obj o;
    if (!gh_heap_slot(g->h, po->id, &o))
        return gh_errorf(err, GH_EFORMAT, "pending record %zu: slot %u is not in the heap", i, po->id);
    const gh_root *r = gh_roots_get(g->roots, po->root);
    *out = (gh_pending_info){.kind = r->kind, .function = r->name, .record = r->addr, .root = po->root};
    gh_api_object(g, &o, o.addr, &out->object);
    return GH_OK;
}

int gh_pending_find(gh_session *s, uint64_t addr, size_t *first, size_t *n, gh_err *err)
{
    *first = 0;
    *n = 0;
    gh_graph *g;
    const gh_pending *p;
    int rc = pending(s, &g, &p, err);
    if (rc)
        return rc;
    gh_obj o;
    if (!gh_heap_find(g->h, addr, &o))
        return gh_errorf(err, GH_ENOENT, "0x%llx is not inside an allocated heap object", (unsigned long long)addr);
    size_t k;
    const gh_pending_obj *po = gh_graph_pending_find(g, o.id, &k);
    if (po) {
        *first = (size_t)(po - p->v);
        *n = k;
    }
    return GH_OK;
}
