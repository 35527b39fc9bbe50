#include "goheap/session.h"

#include "goheap/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int gh_session_open(gh_target *t, const char *exe_path, const char *desc, gh_session **out, gh_err *err)
{
    *out = NULL;
    gh_session *s = calloc(1, sizeof *s);
    if (!s) {
        gh_target_close(t);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    s->t = t;
    snprintf(s->desc, sizeof s->desc, "%s", desc ? desc : t->kind);
    if (!exe_path && t->ops->exe_path)
        exe_path = t->ops->exe_path(t->ctx);
    int rc;
    if (!exe_path) {
        rc = gh_errorf(err, GH_EARG, "the target names no executable: pass --exe");
        goto fail;
    }
    if ((rc = gh_exe_open(exe_path, &s->exe, err)))
        goto fail;
    if ((rc = gh_runtime_init(&s->rt, s->t, s->exe, err)))
        goto fail;
    *out = s;
    return GH_OK;
fail:
    gh_session_close(s);
    return rc;
}

void gh_session_close(gh_session *s)
{
    if (!s)
        return;
    gh_graph_free(s->graph);
    gh_dwarf_vars_free(s->dwarfvars);
    gh_heap_free(s->heap);
    gh_typemask_cache_free(s->typemasks);
    gh_typenames_free(s->typenames);
    gh_pclntab_free(s->pclntab);
    gh_roots_free(s->roots);
    gh_exe_close(s->exe);
    gh_target_close(s->t);
    free(s);
}

int gh_session_heap(gh_session *s, gh_heap **out, gh_err *err)
{
    uint64_t gen = s->t->ops->generation ? s->t->ops->generation(s->t->ctx) : 0;
    if (s->heap && gen != s->heap_generation) {
        gh_heap_free(s->heap);
        s->heap = NULL;
    }
    if (!s->heap) {
        gh_session_progress(s, "loading heap", 0, 1);
        int rc = gh_heap_load(&s->rt, &s->heap, err);
        gh_session_progress(s, "loading heap", 1, 1);
        if (rc)
            return rc;
        s->heap_generation = gen;
        s->heap_loads++;
    }
    *out = s->heap;
    return GH_OK;
}

gh_typemask_cache *gh_session_typemasks(gh_session *s)
{
    if (!s->typemasks) {
        s->typemasks = gh_typemask_cache_new(s->t, s->rt.ver.minor);
        /* 1.24+: a mask slot can hold runtime.inProgress while being built. */
        uint64_t ip = gh_runtime_sym(&s->rt, "runtime.inProgress");
        if (s->typemasks && ip)
            gh_typemask_cache_set_inprogress(s->typemasks, ip);
    }
    return s->typemasks;
}

int gh_session_pclntab(gh_session *s, gh_pclntab **out, gh_err *err)
{
    if (!s->pclntab) {
        int rc = gh_pclntab_open(&s->rt, &s->pclntab, err);
        if (rc)
            return rc;
    }
    *out = s->pclntab;
    return GH_OK;
}

int gh_session_interrupted(const gh_session *s)
{
    return (s->interrupt && *s->interrupt) || (s->poll_interrupt && s->poll_interrupt(s->poll_ctx));
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define PROGRESS_DELAY_NS 250000000u /* a phase shorter than this is never shown */
#define PROGRESS_EVERY_NS 100000000u

void gh_session_progress(gh_session *s, const char *phase, uint64_t done, uint64_t total)
{
    if (!s->progress || !phase)
        return;
    uint64_t now = now_ns();
    if (!s->progress_phase || strcmp(phase, s->progress_phase)) {
        s->progress_phase = phase;
        s->progress_start_ns = now;
        s->progress_last_ns = 0;
    }
    if (total && done >= total) {
        if (s->progress_last_ns)
            s->progress(s->progress_ctx, phase, done, total);
        s->progress_phase = NULL;
        return;
    }
    if (now - s->progress_start_ns < PROGRESS_DELAY_NS ||
        (s->progress_last_ns && now - s->progress_last_ns < PROGRESS_EVERY_NS))
        return;
    s->progress_last_ns = now;
    s->progress(s->progress_ctx, phase, done, total);
}

int gh_session_typenames(gh_session *s, gh_typenames **out, gh_err *err)
{
    uint64_t gen = s->t->ops->generation ? s->t->ops->generation(s->t->ctx) : 0;
    if (s->typenames && gen != s->typenames_generation) {
        gh_typenames_free(s->typenames);
        s->typenames = NULL;
    }
    if (!s->typenames) {
        int rc = gh_typenames_open(&s->rt, &s->typenames, err);
        if (rc)
            return rc;
        s->typenames_generation = gen;
    }
    *out = s->typenames;
    return GH_OK;
}
