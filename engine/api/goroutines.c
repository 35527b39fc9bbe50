/* Public API: goroutines (in order of id), their frames, user and start frames, pprof labels, and the
 * live pointers of their frames. */
#include <stddef.h>
#include <stdlib.h>

#include "api/api.h"

static int goroutines(gh_session *s, const gh_goroutines **out, gh_err *err)
{
    gh_api_enter(s);
    return gh_session_goroutines_cached(s, out, err);
}

int gh_goroutine_count(gh_session *s, size_t *n, gh_err *err)
{
    const gh_goroutines *gs;
    int rc = goroutines(s, &gs, err);
    if (rc)
        return rc;
    *n = gs->n;
    return GH_OK;
}

static int one(gh_session *s, size_t i, const gh_goroutine **out, gh_err *err)
{
    const gh_goroutines *gs;
    int rc = goroutines(s, &gs, err);
    if (rc)
        return rc;
    if (i >= gs->n)
        return gh_errorf(err, GH_ENOENT, "no goroutine %zu (there are %zu)", i, gs->n);
    *out = &gs->v[i];
    return GH_OK;
}

int gh_goroutine_get(gh_session *s, size_t i, gh_goroutine_info *out, gh_err *err)
{
    const gh_goroutine *g;
    int rc = one(s, i, &g, err);
    if (rc)
        return rc;
    *out = (gh_goroutine_info){.id = g->goid, .parent_id = g->parent_goid, .g = g->g, .status = g->status_name,
                               .wait_reason = g->wait_reason, .wait_minutes = g->wait_minutes, .system = g->system,
                               .creator = g->creator, .creator_file = g->creator_file,
                               .creator_line = g->creator_line, .nframes = g->nframes, .stop = g->stop};
    return GH_OK;
}

int gh_goroutine_frame(gh_session *s, size_t i, size_t frame, gh_frame_info *out, gh_err *err)
{
    const gh_goroutine *g;
    int rc = one(s, i, &g, err);
    if (rc)
        return rc;
    if (frame >= g->nframes)
        return gh_errorf(err, GH_ENOENT, "goroutine %lld has %zu frames, not %zu", (long long)g->goid, g->nframes,
                         frame + 1);
    const gh_frame *f = &g->frames[frame];
    const gh_pframe *pf = f->pframe < g->npframes ? &g->pframes[f->pframe] : NULL;
    *out = (gh_frame_info){.function = f->function, .file = f->file, .line = f->line, .inlined = f->inlined,
                           .pc = pf ? pf->pc : 0, .sp = pf ? pf->sp : 0};
    return GH_OK;
}

void gh_variables_free(gh_variable *v) { free(v); }

int gh_goroutine_variables(gh_session *s, size_t i, gh_variable **out, size_t *n, gh_err *err)
{
    *out = NULL;
    *n = 0;
    const gh_goroutine *g;
    int rc = one(s, i, &g, err);
    if (rc)
        return rc;
    /* Objects and their types come from the graph where it can be had. */
    gh_graph *gr = NULL;
    if ((rc = gh_session_graph(s, &gr, err))) {
        if (rc == GH_ENOMEM || rc == GH_EINTR)
            return rc;
        gr = NULL;
    }
    gh_roots_env env;
    gh_gptrs *ps;
    if ((rc = gh_session_roots_env(s, &env, err)) || (rc = gh_goroutine_pointers(&env, g, &ps, err)))
        return rc;
    gh_variable *v = calloc(ps->n ? ps->n : 1, sizeof *v);
    if (!v) {
        gh_gptrs_free(ps);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t j = 0; j < ps->n; j++) {
        const gh_gptr *p = &ps->v[j];
        gh_obj o;
        int in = gr && p->value && gh_heap_find(gr->h, p->value, &o);
        if (p->conservative && !in)
            continue; /* a conservative word is a pointer only when it points into an object */
        /* The innermost frame of the physical frame holds it. */
        size_t fr = g->nframes;
        for (size_t f = 0; p->pframe != GH_GPTR_NOFRAME && f < g->nframes; f++)
            if (g->frames[f].pframe == p->pframe) {
                fr = f;
                break;
            }
        v[k] = (gh_variable){.frame = fr, .name = p->name, .addr = p->addr, .value = p->value,
                             .target = in ? o.id : GH_NO_OBJECT, .conservative = p->conservative};
        if (in && gr->type[o.id] && gr->type[o.id] != GH_TID_TINY)
            v[k].type = gh_types_name(gr->types, gr->type[o.id]);
        k++;
    }
    gh_gptrs_free(ps);
    *out = v;
    *n = k;
    return GH_OK;
}

/* --- goroutines as Delve lists them ---------------------------------------- */

int gh_goroutine_index(gh_session *s, int64_t id, size_t *i, gh_err *err)
{
    const gh_goroutines *gs;
    int rc = goroutines(s, &gs, err);
    if (rc)
        return rc;
    /* gs->v is sorted by id (goroutine.h). */
    size_t lo = 0, hi = gs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (gs->v[mid].goid < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= gs->n || gs->v[lo].goid != id)
        return gh_errorf(err, GH_ENOENT, "no goroutine with id %lld", (long long)id);
    *i = lo;
    return GH_OK;
}

static int frame_index(const gh_goroutine *g, const gh_frame *f, const char *what, size_t *frame, gh_err *err)
{
    if (!f)
        return gh_errorf(err, GH_ENOENT, "goroutine %lld has no %s (%zu frames%s)", (long long)g->goid, what,
                         g->nframes, g->nframes ? ", all the runtime's" : "");
    *frame = (size_t)(f - g->frames);
    return GH_OK;
}

int gh_goroutine_user_frame(gh_session *s, size_t i, size_t *frame, gh_err *err)
{
    const gh_goroutine *g;
    int rc = one(s, i, &g, err);
    return rc ? rc : frame_index(g, gh_goroutine_where(g), "user frame", frame, err);
}

int gh_goroutine_entry_frame(gh_session *s, size_t i, size_t *frame, gh_err *err)
{
    const gh_goroutine *g;
    int rc = one(s, i, &g, err);
    if (rc)
        return rc;
    if (!g->nframes)
        return gh_errorf(err, GH_ENOENT, "goroutine %lld has no frames", (long long)g->goid);
    return frame_index(g, gh_goroutine_start_frame(g), "start frame", frame, err);
}

_Static_assert(sizeof(gh_label) == sizeof(gh_glabel) && offsetof(gh_label, key) == offsetof(gh_glabel, key) &&
                   offsetof(gh_label, value) == offsetof(gh_glabel, value),
               "gh_label is gh_glabel");

int gh_goroutine_labels(gh_session *s, size_t i, const gh_label **out, size_t *n, const char **incomplete,
                        gh_err *err)
{
    *out = NULL;
    *n = 0;
    if (incomplete)
        *incomplete = NULL;
    const gh_goroutine *g;
    int rc = one(s, i, &g, err);
    if (rc)
        return rc;
    *out = g->nlabels ? (const gh_label *)g->labels : NULL;
    *n = g->nlabels;
    if (incomplete)
        *incomplete = g->labels_error;
    return GH_OK;
}
