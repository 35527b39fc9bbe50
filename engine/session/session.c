/* The session: one target, its executable and the cached models built from them. */
#include "session/session.h"

#include "graph/dominators.h"
#include "graph/pending.h"
#include "heap/coverage.h"
#include "memprof/memprof.h"
#include "base/memcap.h"
#include "session/index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const gh_phase_names[GH_NPHASES] = {"open", "heap", "roots", "edges", "mark", "types", "index", "dominators",
                                                  "command"};

static uint64_t target_generation(const gh_session *s)
{
    return s->t->ops->generation ? s->t->ops->generation(s->t->ctx) : 0;
}

/* exe, when given, is a reference the session takes over; else exe_path
 * (or the target's own) is opened. */
static int session_open(gh_target *t, gh_exe *exe, const char *exe_path, const char *desc, gh_session **out,
                        gh_err *err)
{
    *out = NULL;
    gh_session *s = calloc(1, sizeof *s);
    if (!s) {
        gh_exe_close(exe);
        gh_target_close(t);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    s->t = t;
    s->exe = exe;
    s->threads = t->concurrent ? gh_edges_default_threads() : 1;
    gh_clock c0 = gh_clock_now();
    s->generation = target_generation(s);
    snprintf(s->desc, sizeof s->desc, "%s", desc ? desc : t->kind);
    if (!exe && !exe_path && t->ops->exe_path)
        exe_path = t->ops->exe_path(t->ctx);
    int rc;
    if (!exe && !exe_path) {
        rc = gh_errorf(err, GH_EARG, "the target names no executable: pass --exe");
        goto fail;
    }
    if (!exe && (rc = gh_exe_open(exe_path, &s->exe, err)))
        goto fail;
    if ((rc = gh_runtime_init(&s->rt, s->t, s->exe, err)))
        goto fail;
    if (s->rt.newer_than_tested)
        snprintf(s->warnings[s->nwarnings++], sizeof s->warnings[0],
                 "%s is newer than the newest Go release goheap was tested with", s->rt.ver.text);
    gh_clock_add(&s->phase[GH_PHASE_OPEN], c0);
    *out = s;
    return GH_OK;
fail:
    gh_session_close(s);
    return rc;
}

int gh_session_open(gh_target *t, const char *exe_path, const char *desc, gh_session **out, gh_err *err)
{
    return session_open(t, NULL, exe_path, desc, out, err);
}

int gh_session_open_exe(gh_target *t, gh_exe *exe, const char *desc, gh_session **out, gh_err *err)
{
    return session_open(t, gh_exe_ref(exe), NULL, desc, out, err);
}

/* Models that describe target memory, which a running process changes. */
static void drop_models(gh_session *s)
{
    gh_graph_free(s->graph);
    s->graph = NULL;
    gh_goroutines_free(s->goroutines);
    s->goroutines = NULL;
    gh_memprof_free(s->memprof);
    s->memprof = NULL;
    gh_roots_free(s->roots);
    s->roots = NULL;
    gh_heap_free(s->heap);
    s->heap = NULL;
    /* reflect can make new types at old addresses */
    gh_typenames_free(s->typenames);
    s->typenames = NULL;
}

void gh_session_close(gh_session *s)
{
    if (!s)
        return;
    drop_models(s);
    gh_dwarf_vars_free(s->dwarfvars);
    gh_framevars_free(s->framevars);
    free(s->dwarfvars_error);
    gh_typemask_cache_free(s->typemasks);
    gh_pclntab_free(s->pclntab);
    free(s->pclntab_error);
    gh_exe_close(s->exe);
    gh_target_close(s->t);
    if (s->free_target)
        free(s->t);
    free(s);
}

void gh_session_refresh(gh_session *s)
{
    uint64_t gen = target_generation(s);
    if (gen != s->generation) {
        drop_models(s);
        s->generation = gen;
    }
    gh_progress_reset(&s->cancel); /* a phase an interrupt left open starts over */
}

int gh_session_heap(gh_session *s, gh_heap **out, gh_err *err)
{
    if (!s->heap) {
        gh_clock c0 = gh_clock_now();
        gh_progress(&s->cancel, "loading heap", 0, 1);
        int rc = gh_heap_load(&s->rt, &s->cancel, &s->heap, err);
        gh_clock_add(&s->phase[GH_PHASE_HEAP], c0);
        gh_progress(&s->cancel, "loading heap", 1, 1);
        if (rc)
            return rc;
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

int gh_session_typenames(gh_session *s, gh_typenames **out, gh_err *err)
{
    if (!s->typenames) {
        int rc = gh_typenames_open(&s->rt, &s->typenames, err);
        if (rc)
            return rc;
    }
    *out = s->typenames;
    return GH_OK;
}

int gh_session_pclntab(gh_session *s, gh_pclntab **out, gh_err *err)
{
    *out = NULL;
    if (!s->pclntab) {
        gh_err e;
        int rc = gh_pclntab_open(&s->rt, &s->pclntab, &e);
        if (rc) {
            if (rc != GH_ENOMEM && !s->pclntab_error)
                s->pclntab_error = strdup(e.msg);
            if (err)
                *err = e;
            return rc;
        }
    }
    *out = s->pclntab;
    return GH_OK;
}

int gh_session_dwarfvars(gh_session *s, gh_dwarf_vars **out, gh_err *err)
{
    *out = NULL;
    if (!s->dwarfvars_tried) {
        gh_dwarf *d = s->rt.dwarf ? s->rt.dwarf : gh_exe_dwarf(s->exe);
        gh_moduledata md;
        gh_err e;
        int rc = GH_OK;
        if (gh_dwarf_libdw(d)) {
            if ((rc = gh_moduledata_read(&s->rt, &md, &e)))
                gh_err_wrap(&e, "DWARF variables");
            else
                rc = gh_dwarf_vars_open(d, s->t, s->rt.bias, md.types, md.etypes, s->rt.ver.minor, &s->cancel,
                                        &s->dwarfvars, &e);
        }
        if (rc) {
            if (rc == GH_ENOMEM || rc == GH_EINTR)
                return gh_errorf(err, rc, "%s", e.msg); /* tried again next time */
            free(s->dwarfvars_error);
            s->dwarfvars_error = strdup(e.msg);
        }
        s->dwarfvars_tried = 1;
    }
    if (s->dwarfvars_error)
        return gh_errorf(err, GH_EFORMAT, "%s", s->dwarfvars_error);
    *out = s->dwarfvars;
    return GH_OK;
}

gh_framevars *gh_session_framevars(gh_session *s)
{
    if (!s->framevars)
        s->framevars = gh_framevars_new(s->rt.dwarf ? s->rt.dwarf : gh_exe_dwarf(s->exe), s->rt.bias);
    return s->framevars;
}

void gh_session_types_env(gh_session *s, gh_types_env *env)
{
    gh_pclntab *tab;
    gh_typenames *tn;
    gh_dwarf_vars *dv;
    *env = (gh_types_env){.rt = &s->rt, .masks = gh_session_typemasks(s)};
    env->names = gh_session_typenames(s, &tn, NULL) ? NULL : tn;
    env->tab = gh_session_pclntab(s, &tab, NULL) ? NULL : tab;
    env->dv = gh_session_dwarfvars(s, &dv, NULL) ? NULL : dv;
}

int gh_session_roots_env(gh_session *s, gh_roots_env *env, gh_err *err)
{
    gh_pclntab *tab;
    gh_dwarf_vars *dv;
    *env = (gh_roots_env){.rt = &s->rt, .heap = s->heap, .cc = &s->cancel};
    gh_err e;
    int rc;
    if ((rc = gh_session_pclntab(s, &tab, &e)) == GH_ENOMEM || (!rc && !tab))
        return rc ? gh_errorf(err, rc, "%s", e.msg) : gh_errorf(err, GH_ENOMEM, "out of memory");
    env->tab = rc ? NULL : tab;
    env->tab_error = s->pclntab_error;
    if ((rc = gh_session_dwarfvars(s, &dv, &e)) == GH_ENOMEM)
        return gh_errorf(err, rc, "%s", e.msg);
    env->dv = rc ? NULL : dv;
    env->dv_error = s->dwarfvars_error;
    return GH_OK;
}

int gh_session_roots(gh_session *s, const gh_roots **out, gh_err *err)
{
    if (!s->roots) {
        gh_roots_env env;
        gh_heap *h;
        int rc = gh_session_heap(s, &h, err);
        if (rc || (rc = gh_session_roots_env(s, &env, err)))
            return rc;
        gh_clock c0 = gh_clock_now();
        uint64_t lost0 = gh_core_lost_reads(s->t);
        rc = gh_roots_collect(&env, &s->roots, err);
        s->roots_lost_reads = gh_core_lost_reads(s->t) - lost0;
        gh_clock_add(&s->phase[GH_PHASE_ROOTS], c0);
        if (rc)
            return rc;
    }
    *out = s->roots;
    return GH_OK;
}

static int session_graph(gh_session *s, gh_graph **out, int partial, gh_err *err)
{
    if (!s->graph) {
        gh_heap *h;
        const gh_roots *rs;
        gh_types_env tenv;
        gh_graph *g;
        int rc;
        if ((rc = gh_session_heap(s, &h, err)) || (rc = gh_session_roots(s, &rs, err)))
            return rc;
        gh_session_types_env(s, &tenv);
        if (gh_session_index_load(s, h, rs, &tenv, &g)) {
            s->graph = g;
            *out = g;
            return gh_graph_pending(g, err);
        }
        /* Per slot: marks, first reacher, type, edge start (13 bytes); per
         * pointer word of pointerful spans at most one 4-byte edge. */
        uint64_t scan_bytes = 0;
        for (size_t i = 0; i < h->nspans; i++)
            if (h->spans[i].state == GH_SPAN_INUSE && !gh_span_noscan(&h->spans[i]))
                scan_bytes += h->spans[i].npages * GH_PAGE_SIZE;
        uint64_t lost0 = gh_core_lost_reads(s->t);
        if ((rc = gh_mem_check(h->nslots * 13 + scan_bytes / 2, "the object graph", err)) ||
            (rc = gh_graph_build(h, rs, &tenv, s->threads, &s->cancel, partial, &g, err)))
            return rc;
        if (h->cov) { /* a truncated core: did the roots and marking read all they needed? */
            gh_heap_cov_set_reach(h, s->roots_lost_reads + gh_core_lost_reads(s->t) - lost0);
            g->reach_partial = gh_heap_cov_reach_partial(h);
        }
        const gh_clock *gp[] = {&g->t_edges, &g->t_mark, &g->t_types};
        for (int k = 0; k < 3; k++) {
            s->phase[GH_PHASE_EDGES + k].wall += gp[k]->wall;
            s->phase[GH_PHASE_EDGES + k].cpu += gp[k]->cpu;
        }
        if (g->partial) {
            *out = g; /* the caller's: never cached */
            return GH_OK;
        }
        s->graph = g;
        gh_session_index_save(s, g); /* the marker's totals: pending finalization is found after */
        if ((rc = gh_graph_pending(g, err)))
            return rc;
    }
    *out = s->graph;
    return GH_OK;
}

int gh_session_graph(gh_session *s, gh_graph **out, gh_err *err) { return session_graph(s, out, 0, err); }

int gh_session_graph_partial(gh_session *s, gh_graph **out, gh_err *err)
{
    return session_graph(s, out, 1, err);
}

int gh_session_dominators(gh_session *s, gh_graph **g, gh_domtree **out, gh_err *err)
{
    int rc = session_graph(s, g, 0, err);
    if (rc)
        return rc;
    if ((*g)->dom) {
        *out = (*g)->dom;
        return GH_OK;
    }
    if ((*g)->reach_partial) { /* an object reached through missing memory too would seem retained */
        char line[400];
        gh_heap_cov_line((*g)->h, line, sizeof line);
        return gh_errorf(err, GH_EMEM,
                         "retained sizes need the whole object graph, and the core is truncated: reachability is "
                         "partial (%s)", line);
    }
    if (gh_session_index_dom_load(s, *g, out)) {
        (*g)->dom = *out;
        return GH_OK;
    }
    /* 24 bytes a live object and 4 an edge (dominators.h) */
    if ((rc = gh_mem_check((*g)->live_objects * 24 + (*g)->edges.n * 4, "the dominator tree", err)))
        return rc;
    gh_clock c0 = gh_clock_now();
    rc = gh_graph_dominators(*g, &s->cancel, out, err);
    gh_clock_add(&s->phase[GH_PHASE_DOMINATORS], c0);
    if (rc == GH_OK)
        gh_session_index_dom_save(s, *g, *out);
    return rc;
}

int gh_session_memprof(gh_session *s, int live, gh_memprof **out, gh_err *err)
{
    gh_heap *h;
    int rc = gh_session_heap(s, &h, err);
    if (rc)
        return rc;
    if (!s->memprof) {
        gh_clock c0 = gh_clock_now();
        rc = gh_memprof_load(&s->rt, h, &s->cancel, &s->memprof, err);
        gh_clock_add(&s->phase[GH_PHASE_COMMAND], c0);
        if (rc)
            return rc;
    }
    gh_memprof *mp = s->memprof;
    if (live && !mp->live_counted) {
        gh_graph *g;
        gh_pclntab *tab = NULL;
        gh_err e;
        if ((rc = session_graph(s, &g, 0, err)))
            return rc;
        if ((rc = gh_memprof_liveness(mp, h, g, &s->cancel, err)))
            return rc;
        (void)gh_session_pclntab(s, &tab, &e); /* without it, sites are named "?" */
        if ((rc = gh_memprof_sites(mp, tab, &s->cancel, err))) {
            mp->live_counted = 0; /* named again next time */
            return rc;
        }
    }
    *out = mp;
    return GH_OK;
}

int gh_session_goroutines(gh_session *s, gh_goroutines **out, gh_err *err)
{
    gh_pclntab *tab;
    int rc = gh_session_pclntab(s, &tab, err);
    return rc ? rc : gh_goroutines_load(&s->rt, tab, &s->cancel, out, err);
}

int gh_session_goroutines_cached(gh_session *s, const gh_goroutines **out, gh_err *err)
{
    if (!s->goroutines) {
        int rc = gh_session_goroutines(s, &s->goroutines, err);
        if (rc)
            return rc;
    }
    *out = s->goroutines;
    return GH_OK;
}
