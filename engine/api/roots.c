/* Public API: roots, their pointer words, and paths from them. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "graph/paths.h"

const char *gh_root_kind_str(int kind) { return gh_root_kind_name(kind); }

void gh_api_root(const gh_root *r, gh_root_info *out)
{
    *out = (gh_root_info){.kind = r->kind, .name = r->name, .goroutine = r->kind == GH_ROOT_STACK ? r->goid : -1,
                          .function = r->function, .variable = r->variable, .addr = r->addr, .size = r->size,
                          .registers = r->values != NULL, .conservative = r->conservative, .object = r->object};
}

static int roots(gh_session *s, const gh_roots **out, gh_err *err)
{
    gh_api_enter(s);
    return gh_session_roots(s, out, err);
}

int gh_root_count(gh_session *s, size_t *n, gh_err *err)
{
    const gh_roots *rs;
    int rc = roots(s, &rs, err);
    if (rc)
        return rc;
    *n = gh_roots_count(rs);
    return GH_OK;
}

int gh_root_get(gh_session *s, size_t i, gh_root_info *out, gh_err *err)
{
    const gh_roots *rs;
    int rc = roots(s, &rs, err);
    if (rc)
        return rc;
    if (i >= gh_roots_count(rs))
        return gh_errorf(err, GH_ENOENT, "no root %zu (there are %zu)", i, gh_roots_count(rs));
    gh_api_root(gh_roots_get(rs, i), out);
    return GH_OK;
}

typedef struct words {
    const gh_heap *h;
    size_t skip, n, max;
    gh_root_word *buf;
} words;

static int on_word(void *ctx, uint64_t index, uint64_t addr, uint64_t value)
{
    words *w = ctx;
    (void)index;
    if (!value)
        return 0;
    if (w->skip) {
        w->skip--;
        return 0;
    }
    if (w->n == w->max)
        return 1;
    gh_obj o;
    w->buf[w->n++] = (gh_root_word){.addr = addr, .value = value,
                                    .target = gh_heap_find(w->h, value, &o) ? o.id : GH_NO_OBJECT};
    return 0;
}

int gh_root_words(gh_session *s, size_t i, size_t start, gh_root_word *buf, size_t max, gh_err *err)
{
    const gh_roots *rs;
    gh_heap *h;
    int rc = roots(s, &rs, err);
    if (rc || (rc = gh_session_heap(s, &h, err)))
        return rc;
    if (i >= gh_roots_count(rs))
        return gh_errorf(err, GH_ENOENT, "no root %zu (there are %zu)", i, gh_roots_count(rs));
    if (max > INT32_MAX)
        max = INT32_MAX;
    words w = {.h = h, .skip = start, .buf = buf, .max = max};
    gh_root_each_word(gh_roots_get(rs, i), s->t, on_word, &w);
    return (int)w.n;
}

void gh_paths_free(gh_path *paths, size_t n)
{
    for (size_t i = 0; paths && i < n; i++) {
        for (size_t k = 0; k < paths[i].nhops; k++) {
            free((char *)paths[i].hops[k].type);
            free((char *)paths[i].hops[k].field);
        }
        free(paths[i].hops);
    }
    free(paths);
}

int gh_paths(gh_session *s, uint64_t addr, size_t max, gh_path **out, size_t *n, gh_err *err)
{
    *out = NULL;
    *n = 0;
    gh_graph *g;
    int rc = gh_api_graph(s, &g, err);
    if (rc)
        return rc;
    gh_obj o;
    if (!gh_heap_find(g->h, addr, &o))
        return gh_errorf(err, GH_ENOENT, "0x%" PRIx64 " is not inside an allocated heap object", addr);
    gh_gpath *gp;
    size_t np;
    if ((rc = gh_graph_paths(g, o.id, max, &s->cancel, &gp, &np, err)))
        return rc;
    gh_path *p = np ? calloc(np, sizeof *p) : NULL;
    if (np && !p) {
        gh_gpaths_free(gp, np);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    /* The hops' strings change hands: the public path frees them. */
    for (size_t i = 0; i < np; i++) {
        gh_api_root(gh_roots_get(g->roots, gp[i].root), &p[i].root);
        p[i].hops = calloc(gp[i].n ? gp[i].n : 1, sizeof *p[i].hops);
        if (!p[i].hops) {
            gh_paths_free(p, i);
            gh_gpaths_free(gp, np);
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        }
        for (size_t k = 0; k < gp[i].n; k++) {
            gh_path_hop *h = &gp[i].hops[k];
            p[i].hops[k] = (gh_hop){.addr = h->addr, .size = h->size, .id = h->id == UINT32_MAX ? GH_NO_OBJECT : h->id,
                                    .type = h->type, .field = h->field, .note = h->note};
            h->type = h->field = NULL;
        }
        p[i].nhops = gp[i].n;
    }
    gh_gpaths_free(gp, np);
    *out = p;
    *n = np;
    return GH_OK;
}
