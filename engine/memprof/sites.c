/* From buckets to answers: which sampled objects are live, the allocation
 * site of each stack (as pprof shows a heap profile), stacks symbolized
 * through the function table, and the runtime's scaling of samples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/hash.h"
#include "base/vec.h"
#include "memprof/memprof.h"

#define STEP 1024 /* objects or buckets between interrupt checks */

int gh_memprof_liveness(gh_memprof *mp, const gh_heap *h, const gh_graph *g, gh_cancel *cc, gh_err *err)
{
    mp->live_counted = 0;
    for (size_t i = 0; i < mp->nb; i++)
        mp->b[i].live = 0;
    for (size_t i = 0; i < mp->nobj; i++) {
        if (i % STEP == 0) {
            gh_progress(cc, "counting live sampled objects", i, mp->nobj);
            if (gh_cancelled(cc))
                return gh_errorf(err, GH_EINTR, "interrupted while counting live sampled objects");
        }
        gh_obj o;
        if (gh_heap_find(h, mp->obj[i], &o) && gh_graph_live(g, o.id))
            mp->b[mp->obj_bucket[i]].live++;
    }
    gh_progress(cc, "counting live sampled objects", mp->nobj, mp->nobj);
    mp->live_counted = 1;
    return GH_OK;
}

int gh_memprof_is_runtime(const char *func)
{
    return !strncmp(func, "runtime.", 8) || !strncmp(func, "internal/runtime/", 17);
}

size_t gh_memprof_frames(const gh_memprof *mp, const gh_pclntab *tab, const gh_mp_bucket *b, gh_inl_frame *out,
                         size_t max)
{
    size_t total = 0;
    gh_inl_frame fr[32];
    for (uint32_t k = 0; k < b->nstk; k++) {
        uint64_t pc = mp->pcs[b->stk + k] - 1; /* a return address: the call is just before */
        uint64_t next = k + 1 < b->nstk ? mp->pcs[b->stk + k + 1] : 0;
        gh_func fn;
        size_t n = 0;
        if (!tab || gh_func_find(tab, pc, &fn, NULL) != GH_OK ||
            gh_func_frames(tab, &fn, pc, fr, 32, &n, NULL) != GH_OK || !n) {
            fr[0] = (gh_inl_frame){.name = "?", .file = "?", .line = 0, .pc = pc};
            n = 1;
        }
        /* As runtime.CallersFrames: the stack has a pc per inlined frame
         * (tracebackPCs), so a pc gives its innermost frame, and the outer
         * ones only where the stack lacks their pcs. */
        for (size_t j = 0; j < n && j < 32; j++) {
            if (j && next == fr[j].pc + 1)
                break;
            if (total < max)
                out[total] = fr[j];
            total++;
        }
    }
    return total;
}

/* The site of a stack: its first frame outside the runtime. */
static int site_frame(const gh_memprof *mp, const gh_pclntab *tab, const gh_mp_bucket *b, gh_inl_frame *site)
{
    gh_inl_frame fr[64];
    size_t n = gh_memprof_frames(mp, tab, b, fr, 64);
    if (!n)
        return 0;
    size_t i = 0;
    while (i < n && i < 64 && gh_memprof_is_runtime(fr[i].name))
        i++;
    *site = fr[i < n && i < 64 ? i : 0];
    return 1;
}

int gh_memprof_sites(gh_memprof *mp, const gh_pclntab *tab, gh_cancel *cc, gh_err *err)
{
    free(mp->sites);
    mp->sites = NULL;
    mp->nsites = 0;
    size_t cap = 0;
    gh_hmap bykey = {0};
    int rc = GH_OK;
    for (size_t i = 0; i < mp->nb && rc == GH_OK; i++) {
        /* Each bucket's stack is symbolized: a poll every few buckets. */
        if (i % (STEP / 16) == 0) {
            gh_progress(cc, "naming allocation sites", i, mp->nb);
            if (gh_cancelled(cc)) {
                rc = gh_errorf(err, GH_EINTR, "interrupted while naming allocation sites");
                break;
            }
        }
        gh_mp_bucket *b = &mp->b[i];
        gh_inl_frame f;
        if (!site_frame(mp, tab, b, &f))
            f = (gh_inl_frame){.name = "(no stack)", .file = "?", .line = 0};
        uint64_t key = gh_hash64(f.name, strlen(f.name), gh_hash64(f.file, strlen(f.file), (uint64_t)f.line));
        size_t s = GH_HMAP_END;
        for (size_t j = gh_hmap_first(&bykey, key); j != GH_HMAP_END; j = gh_hmap_next(&bykey, key, j)) {
            const gh_mp_site *x = &mp->sites[bykey.vals[j]];
            if (x->line == f.line && !strcmp(x->func, f.name) && !strcmp(x->file, f.file)) {
                s = bykey.vals[j];
                break;
            }
        }
        if (s == GH_HMAP_END) {
            if (gh_grow(&mp->sites, &cap, mp->nsites + 1, sizeof *mp->sites) ||
                gh_hmap_add(&bykey, key, mp->nsites)) {
                rc = gh_errorf(err, GH_ENOMEM, "out of memory for allocation sites");
                break;
            }
            s = mp->nsites++;
            mp->sites[s] = (gh_mp_site){.func = f.name, .file = f.file, .line = f.line, .pc = f.pc};
        }
        gh_mp_site *x = &mp->sites[s];
        b->site = (uint32_t)s;
        x->nbuckets++;
        x->live += b->live;
        x->live_bytes += b->live * b->size;
        x->sampled += b->sampled;
        x->sampled_bytes += b->sampled * b->size;
        x->allocs += b->allocs;
        x->alloc_bytes += b->allocs * b->size;
        x->frees += b->frees;
        x->free_bytes += b->frees * b->size;
    }
    gh_hmap_free(&bykey);
    gh_progress(cc, "naming allocation sites", mp->nb, mp->nb);
    return rc;
}

void gh_memprof_scale(uint64_t count, uint64_t avg_size, int64_t rate, int64_t *objects, int64_t *bytes)
{
    if (!count || !avg_size) {
        *objects = *bytes = 0;
        return;
    }
    if (rate <= 1) { /* every allocation sampled, or an unknown rate: as is */
        *objects = (int64_t)count;
        *bytes = (int64_t)(count * avg_size);
        return;
    }
    double scale = 1 / (1 - exp(-(double)avg_size / (double)rate));
    *objects = (int64_t)((double)count * scale);
    *bytes = (int64_t)((double)(count * avg_size) * scale);
}
