/* Objects pending finalization (see pending.h). */
#include "graph/pending.h"

#include <stdlib.h>
#include <string.h>

#include "base/vec.h"

static int by_id(const void *a, const void *b)
{
    const gh_pending_obj *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return (x->root > y->root) - (x->root < y->root);
}

void gh_pending_free(gh_pending *p)
{
    if (!p)
        return;
    free(p->v);
    free(p->bits);
    free(p);
}

int gh_graph_pending(gh_graph *g, gh_err *err)
{
    if (g->pending || g->partial || g->reach_partial)
        return GH_OK;
    const gh_heap *h = g->h;
    gh_pending *p = calloc(1, sizeof *p);
    size_t cap = 0;
    if (!p || !(p->bits = calloc((h->nslots + 63) / 64 + 1, 8))) {
        free(p);
        return gh_errorf(err, GH_ENOMEM, "out of memory for objects pending finalization");
    }
    size_t nr = g->roots ? gh_roots_count(g->roots) : 0;
    for (size_t i = 0; i < nr; i++) {
        const gh_root *r = gh_roots_get(g->roots, i);
        /* A finalizer record names its object; a queued finalizer (arg)
         * keeps its object live, so it is never pending. */
        uint64_t obj = r->kind == GH_ROOT_FINALIZER ? r->object : r->kind == GH_ROOT_CLEANUP ? r->owner : 0;
        gh_obj o;
        if (!obj || !gh_heap_find(h, obj, &o) || gh_graph_live(g, o.id))
            continue;
        if (gh_grow(&p->v, &cap, p->n + 1, sizeof *p->v)) {
            gh_pending_free(p);
            return gh_errorf(err, GH_ENOMEM, "out of memory for objects pending finalization");
        }
        p->v[p->n++] = (gh_pending_obj){o.id, (uint32_t)i};
        if (!((p->bits[o.id >> 6] >> (o.id & 63)) & 1)) {
            p->bits[o.id >> 6] |= 1ull << (o.id & 63);
            g->pending_objects++;
            g->pending_bytes += o.size;
        }
    }
    if (p->n)
        qsort(p->v, p->n, sizeof *p->v, by_id);
    /* They were counted as garbage by the marker. */
    g->garbage_objects -= g->pending_objects <= g->garbage_objects ? g->pending_objects : g->garbage_objects;
    g->garbage_bytes -= g->pending_bytes <= g->garbage_bytes ? g->pending_bytes : g->garbage_bytes;
    g->pending = p;
    return GH_OK;
}

const gh_pending_obj *gh_graph_pending_find(const gh_graph *g, uint32_t id, size_t *n)
{
    *n = 0;
    if (!gh_graph_is_pending(g, id))
        return NULL;
    const gh_pending *p = g->pending;
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (lo + *n < p->n && p->v[lo + *n].id == id)
        ++*n;
    return *n ? &p->v[lo] : NULL;
}
