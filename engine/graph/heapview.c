/* Counting and listing the objects of a graph. */
#include "graph/heapview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/pending.h"
#include "types/gotype_int.h"

#define MAX_UNKNOWN_SIZES 4096

int gh_typecount_build(const gh_graph *g, int with_garbage, gh_typecount *out, gh_err *err)
{
    memset(out, 0, sizeof *out);
    size_t nt = gh_types_count(g->types) + 1;
    /* Rows: one per type id, then one per distinct untyped size. */
    gh_typecount_row *v = calloc(nt + MAX_UNKNOWN_SIZES + 1, sizeof *v);
    uint64_t *usize = calloc(MAX_UNKNOWN_SIZES + 1, sizeof *usize);
    char *names = calloc(MAX_UNKNOWN_SIZES + 1, 32);
    uint64_t *tsize = calloc(nt, sizeof *tsize); /* a tiny value's bytes by type id, looked up once */
    if (!v || !usize || !names || !tsize) {
        free(v);
        free(usize);
        free(names);
        free(tsize);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    size_t nu = 0, tcur = 0;
    const gh_heap *h = g->h;
    for (size_t si = 0; si < h->nspans; si++) {
        const gh_span *sp = &h->spans[si];
        if (sp->state != GH_SPAN_INUSE)
            continue;
        for (uint32_t k = 0; k < sp->nelems; k++) {
            uint32_t id = sp->first + k;
            if (!gh_heap_allocated(h, id))
                continue;
            int live = gh_graph_live(g, id), pending = !live && gh_graph_is_pending(g, id);
            if (!live && !with_garbage)
                continue;
            gh_tid t = g->type[id];
            gh_typecount_row *r;
            if (t == GH_TID_TINY) {
                /* Slots come in order: a cursor, not a search per block. */
                size_t i0 = tcur;
                if (i0 >= g->ntiny || gh_tiny_slot(g->tiny[i0]) > id)
                    i0 = gh_graph_tiny_of(g, id, &(size_t){0});
                while (i0 < g->ntiny && gh_tiny_slot(g->tiny[i0]) < id)
                    i0++;
                size_t n = 0;
                while (i0 + n < g->ntiny && gh_tiny_slot(g->tiny[i0 + n]) == id)
                    n++;
                tcur = i0 + n;
                for (size_t i = i0; i < i0 + n; i++) {
                    r = &v[gh_tiny_type(g->tiny[i])];
                    uint64_t b = gh_graph_tiny_bytes(g, gh_tiny_type(g->tiny[i]), tsize, nt);
                    if (live) {
                        r->live++;
                        r->live_bytes += b;
                        r->tiny_live++;
                        r->tiny_live_bytes += b;
                    } else if (pending) {
                        r->pending++;
                        r->pending_bytes += b;
                    } else {
                        r->garbage++;
                        r->garbage_bytes += b;
                    }
                }
                continue;
            }
            if (t && t < nt) {
                r = &v[t];
            } else {
                /* Untyped: one row per slot size (linear scan: few sizes). */
                size_t u = 0;
                while (u < nu && usize[u] != sp->elemsize)
                    u++;
                if (u == nu && nu < MAX_UNKNOWN_SIZES)
                    usize[nu++] = sp->elemsize;
                r = &v[nt + (u < MAX_UNKNOWN_SIZES ? u : MAX_UNKNOWN_SIZES)];
            }
            if (live) {
                r->live++;
                r->live_bytes += sp->elemsize;
            } else if (pending) {
                r->pending++;
                r->pending_bytes += sp->elemsize;
            } else {
                r->garbage++;
                r->garbage_bytes += sp->elemsize;
            }
        }
    }
    for (size_t t = 1; t < nt; t++) {
        v[t].tid = (gh_tid)t;
        v[t].name = gh_types_name(g->types, (gh_tid)t);
    }
    for (size_t u = 0; u <= MAX_UNKNOWN_SIZES; u++) {
        char *nm = names + 32 * u;
        if (u < nu)
            snprintf(nm, 32, "unknown<%llu>", (unsigned long long)usize[u]);
        else
            snprintf(nm, 32, "unknown<other sizes>");
        v[nt + u].name = nm;
    }
    /* Compact away empty rows. */
    size_t k = 0;
    for (size_t i = 1; i < nt + MAX_UNKNOWN_SIZES + 1; i++)
        if (v[i].live || v[i].garbage || v[i].pending)
            v[k++] = v[i];
    free(usize);
    free(tsize);
    out->v = v;
    out->n = k;
    out->unknown_names = names;
    return GH_OK;
}

void gh_typecount_free(gh_typecount *tc)
{
    free(tc->v);
    free(tc->unknown_names);
    memset(tc, 0, sizeof *tc);
}

int gh_objects_next_view(const gh_graph *g, int live, int garbage, gh_objpos *pos, gh_objview *o)
{
    const gh_heap *h = g->h;
    for (; pos->span < h->nspans; pos->span++, pos->slot = 0) {
        const gh_span *sp = &h->spans[pos->span];
        if (sp->state != GH_SPAN_INUSE)
            continue;
        for (; pos->slot < sp->nelems; pos->slot++, pos->sub = 0, pos->in_tiny = 0) {
            uint32_t k = pos->slot, id = sp->first + k;
            if (!gh_heap_allocated(h, id))
                continue;
            int l = gh_graph_live(g, id), p = !l && gh_graph_is_pending(g, id);
            if ((l && !live) || (!l && !(garbage & (p ? GH_VIEW_PENDING : GH_VIEW_GARBAGE))))
                continue;
            *o = (gh_objview){.addr = sp->base + (uint64_t)k * sp->elemsize, .size = sp->elemsize, .id = id,
                              .live = l, .pending = p, .spanclass = sp->spanclass};
            gh_tid t = g->type[id];
            if (t == GH_TID_TINY) {
                size_t n, i0 = gh_graph_tiny_of(g, id, &n);
                if (pos->sub >= n)
                    continue;
                gh_tiny ti = g->tiny[i0 + pos->sub++];
                const gh_otype *ot = gh_types_get(g->types, gh_tiny_type(ti));
                o->addr += gh_tiny_off(ti);
                o->size = ot ? gh_types_size(g->types, ot) * ot->count : 0;
                o->tid = gh_tiny_type(ti);
                o->type = gh_types_name(g->types, gh_tiny_type(ti));
                o->typed = 1;
                o->tiny = 1;
                pos->in_tiny = 1;
                if (pos->sub < n)
                    return 1; /* stay on this slot */
                pos->slot++, pos->sub = 0, pos->in_tiny = 0;
                return 1;
            }
            o->tid = t;
            o->typed = t != 0;
            o->type = gh_graph_type_name(g, id, sp->elemsize, pos->tmp, sizeof pos->tmp);
            pos->slot++;
            return 1;
        }
    }
    return 0;
}

int gh_objects_each(const gh_graph *g, int live, int garbage, int (*fn)(void *ctx, const gh_objview *o), void *ctx)
{
    gh_objpos pos = {0};
    gh_objview o;
    while (gh_objects_next_view(g, live, garbage, &pos, &o)) {
        int rc = fn(ctx, &o);
        if (rc)
            return rc;
    }
    return 0;
}
