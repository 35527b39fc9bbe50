/* Public API: the heap summary, objects, and an object's pointer words. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "graph/heapview.h"
#include "graph/paths.h"
#include "heap/heapscan.h"

int gh_api_graph(gh_session *s, gh_graph **out, gh_err *err)
{
    gh_api_enter(s);
    return gh_session_graph(s, out, err);
}

void gh_api_object(const gh_graph *g, const gh_obj *o, uint64_t addr, gh_object *out)
{
    gh_tid t = g->type[o->id];
    *out = (gh_object){.addr = o->addr, .size = o->size, .id = o->id, .type = t == GH_TID_TINY ? 0 : t,
                       .live = (uint8_t)gh_graph_live(g, o->id), .span_class = o->span->spanclass};
    if (t != GH_TID_TINY)
        return;
    /* A tiny block: the typed sub-object addr falls in, if any. */
    size_t n, i0 = gh_graph_tiny_of(g, o->id, &n);
    for (size_t i = i0; i < i0 + n; i++) {
        const gh_otype *ot = gh_types_get(g->types, gh_tiny_type(g->tiny[i]));
        uint64_t lo = o->addr + gh_tiny_off(g->tiny[i]), size = ot ? gh_types_size(g->types, ot) * ot->count : 0;
        if (addr >= lo && addr < lo + (size ? size : 1)) {
            out->addr = lo;
            out->size = size;
            out->type = gh_tiny_type(g->tiny[i]);
            out->tiny = 1;
            return;
        }
    }
}

int gh_heap_summary_get(gh_session *s, gh_heap_summary *out, gh_err *err)
{
    gh_graph *g;
    int rc = gh_api_graph(s, &g, err);
    if (rc)
        return rc;
    const gh_heap *h = g->h;
    *out = (gh_heap_summary){
        .objects = h->nobjects, .bytes = h->object_bytes,
        .live_objects = g->live_objects, .live_bytes = g->live_bytes,
        /* The API's garbage is every unreachable object, pending
         * finalization included (graph/pending.h). */
        .garbage_objects = g->garbage_objects + g->pending_objects,
        .garbage_bytes = g->garbage_bytes + g->pending_bytes,
        .typed_objects = g->typed_objects, .typed_bytes = g->typed_bytes,
        .spans = h->nspans_inuse, .arenas = h->narenas,
    };
    return GH_OK;
}

struct gh_object_iter {
    gh_session *s;
    const gh_graph *g;
    uint64_t generation; /* the session's, when the walk started */
    int live, garbage;
    gh_objpos pos;
};

int gh_objects_begin(gh_session *s, unsigned which, gh_object_iter **out, gh_err *err)
{
    *out = NULL;
    if (!which || which & ~(unsigned)GH_OBJECTS_ALL)
        return gh_errorf(err, GH_EARG, "objects: which must be GH_OBJECTS_LIVE, _GARBAGE or _ALL, not %u", which);
    gh_graph *g;
    int rc = gh_api_graph(s, &g, err);
    if (rc)
        return rc;
    gh_object_iter *it = calloc(1, sizeof *it);
    if (!it)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    *it = (gh_object_iter){.s = s, .g = g, .generation = s->generation, .live = (which & GH_OBJECTS_LIVE) != 0,
                           .garbage = which & GH_OBJECTS_GARBAGE ? GH_VIEW_GARBAGE | GH_VIEW_PENDING : 0};
    *out = it;
    return GH_OK;
}

size_t gh_objects_next(gh_object_iter *it, gh_object *buf, size_t max)
{
    /* The graph the walk started on is gone once the session dropped its
     * models (another call after the target ran): the walk ends. */
    if (!it || it->s->graph != it->g || it->s->generation != it->generation)
        return 0;
    size_t n = 0;
    gh_objview v;
    while (n < max && gh_objects_next_view(it->g, it->live, it->garbage, &it->pos, &v))
        buf[n++] = (gh_object){.addr = v.addr, .size = v.size, .id = v.id, .type = v.tid, .live = (uint8_t)v.live,
                               .span_class = v.spanclass, .tiny = (uint8_t)v.tiny};
    return n;
}

void gh_objects_end(gh_object_iter *it) { free(it); }

int gh_object_at(gh_session *s, uint64_t addr, gh_object *out, gh_err *err)
{
    gh_graph *g;
    int rc = gh_api_graph(s, &g, err);
    if (rc)
        return rc;
    gh_obj o;
    if (!gh_heap_find(g->h, addr, &o))
        return gh_errorf(err, GH_ENOENT, "0x%" PRIx64 " is not inside an allocated heap object", addr);
    gh_api_object(g, &o, addr, out);
    return GH_OK;
}

typedef struct edges {
    const gh_graph *g;
    const gh_obj *o;
    size_t skip, max, n;
    gh_edge *buf;
} edges;

static int on_word(void *ctx, uint64_t word_addr, uint64_t value)
{
    edges *e = ctx;
    if (!value)
        return 0;
    if (e->skip) {
        e->skip--;
        return 0;
    }
    if (e->n == e->max)
        return 1;
    gh_edge *x = &e->buf[e->n++];
    memset(x, 0, sizeof *x);
    x->offset = word_addr - e->o->addr;
    x->value = value;
    gh_obj to;
    x->target = gh_heap_find(e->g->h, value, &to) ? to.id : GH_NO_OBJECT;
    gh_tid t = e->g->type[e->o->id];
    if (t && t != GH_TID_TINY)
        gh_types_field(e->g->types, t, word_addr - gh_obj_data(e->o), x->field, sizeof x->field);
    if (!x->field[0])
        snprintf(x->field, sizeof x->field, "+%" PRIu64, x->offset);
    return 0;
}

int gh_object_edges(gh_session *s, uint32_t id, size_t start, gh_edge *buf, size_t max, gh_err *err)
{
    gh_graph *g;
    int rc = gh_api_graph(s, &g, err);
    if (rc)
        return rc;
    gh_obj o;
    if (!gh_heap_slot(g->h, id, &o) || !gh_heap_allocated(g->h, id))
        return gh_errorf(err, GH_ENOENT, "no allocated object has id %u", id);
    if (max > INT32_MAX)
        max = INT32_MAX;
    edges e = {.g = g, .o = &o, .skip = start, .max = max, .buf = buf};
    gh_err se;
    rc = gh_heap_scan_object(g->h, gh_types_inputs(g->types)->masks, &o, on_word, &e, NULL, &se);
    if (rc < 0)
        return gh_errorf(err, rc, "%s", se.msg);
    return (int)e.n;
}
