/* Public API: the process's own heap profile (memprof/memprof.h): its
 * allocation sites and stacks with how many of their sampled objects are
 * live now, and the allocation stack of a sampled object. */
#include <limits.h>
#include <stdlib.h>

#include "api/api.h"
#include "memprof/memprof.h"

/* The profile with liveness and sites (live: the graph is marked). */
static int profile(gh_session *s, int live, gh_memprof **out, gh_err *err)
{
    gh_api_enter(s);
    return gh_session_memprof(s, live, out, err);
}

int gh_profile_get(gh_session *s, gh_profile_info *out, gh_err *err)
{
    gh_memprof *mp;
    int rc = profile(s, 1, &mp, err);
    if (rc)
        return rc;
    *out = (gh_profile_info){.rate = mp->rate, .disabled = mp->disabled, .nsites = mp->nsites, .nstacks = mp->nb,
                             .note = mp->note[0] ? mp->note : NULL};
    for (size_t i = 0; i < mp->nsites; i++) {
        const gh_mp_site *x = &mp->sites[i];
        out->live_objects += x->live, out->live_bytes += x->live_bytes;
        out->sampled_objects += x->sampled, out->sampled_bytes += x->sampled_bytes;
    }
    return GH_OK;
}

int gh_site_get(gh_session *s, size_t i, gh_site *out, gh_err *err)
{
    gh_memprof *mp;
    int rc = profile(s, 1, &mp, err);
    if (rc)
        return rc;
    if (i >= mp->nsites)
        return gh_errorf(err, GH_ENOENT, "no allocation site %zu (there are %zu)", i, mp->nsites);
    const gh_mp_site *x = &mp->sites[i];
    *out = (gh_site){.function = x->func, .file = x->file, .line = x->line, .pc = x->pc, .nstacks = x->nbuckets,
                     .live_objects = x->live, .live_bytes = x->live_bytes, .sampled_objects = x->sampled,
                     .sampled_bytes = x->sampled_bytes, .alloc_objects = x->allocs, .alloc_bytes = x->alloc_bytes,
                     .free_objects = x->frees, .free_bytes = x->free_bytes};
    return GH_OK;
}

/* Stack k's frames: all of them (malloc'd, *n), or NULL with an error. */
static int stack_frames(gh_session *s, size_t k, gh_memprof **mp, gh_inl_frame **fr, size_t *n, gh_err *err)
{
    *fr = NULL;
    *n = 0;
    int rc = profile(s, 1, mp, err);
    if (rc)
        return rc;
    if (k >= (*mp)->nb)
        return gh_errorf(err, GH_ENOENT, "no allocation stack %zu (there are %zu)", k, (*mp)->nb);
    gh_pclntab *tab = NULL;
    gh_err e;
    (void)gh_session_pclntab(s, &tab, &e); /* without it, frames are "?" */
    const gh_mp_bucket *b = &(*mp)->b[k];
    size_t total = gh_memprof_frames(*mp, tab, b, NULL, 0);
    if (!(*fr = malloc((total ? total : 1) * sizeof **fr)))
        return gh_errorf(err, GH_ENOMEM, "out of memory for %zu frames", total);
    *n = gh_memprof_frames(*mp, tab, b, *fr, total);
    return GH_OK;
}

int gh_profile_stack_get(gh_session *s, size_t k, gh_profile_stack *out, gh_err *err)
{
    gh_memprof *mp;
    gh_inl_frame *fr;
    size_t n;
    int rc = stack_frames(s, k, &mp, &fr, &n, err);
    if (rc)
        return rc;
    size_t user = 0;
    while (user < n && gh_memprof_is_runtime(fr[user].name))
        user++;
    free(fr);
    const gh_mp_bucket *b = &mp->b[k];
    *out = (gh_profile_stack){.site = b->site, .size = b->size, .live_objects = b->live,
                              .sampled_objects = b->sampled, .alloc_objects = b->allocs, .free_objects = b->frees,
                              .nframes = n, .user = user < n ? user : 0};
    return GH_OK;
}

int gh_profile_stack_frames(gh_session *s, size_t k, size_t start, gh_frame_info *buf, size_t max, gh_err *err)
{
    gh_memprof *mp;
    gh_inl_frame *fr;
    size_t n;
    int rc = stack_frames(s, k, &mp, &fr, &n, err);
    if (rc)
        return rc;
    size_t w = 0;
    for (size_t i = start; i < n && w < max && w < (size_t)INT_MAX; i++, w++)
        buf[w] = (gh_frame_info){.function = fr[i].name, .file = fr[i].file, .line = fr[i].line,
                                 .inlined = fr[i].inlined, .pc = fr[i].pc};
    free(fr);
    return (int)w;
}

int gh_object_alloc_stack(gh_session *s, uint64_t addr, size_t *stack, gh_err *err)
{
    *stack = GH_NO_STACK;
    gh_memprof *mp;
    gh_heap *h;
    int rc = profile(s, 0, &mp, err);
    if (rc || (rc = gh_session_heap(s, &h, err)))
        return rc;
    gh_obj o;
    if (!gh_heap_find(h, addr, &o))
        return gh_errorf(err, GH_ENOENT, "0x%llx is not inside an allocated heap object", (unsigned long long)addr);
    long b = gh_memprof_object(mp, o.addr, o.size);
    if (b >= 0)
        *stack = (size_t)b;
    return GH_OK;
}
