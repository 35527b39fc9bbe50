/* pprof OUT: the live heap as a pprof profile (export/pprof.h), by type or
 * by reference path, for go tool pprof's top, flame graphs and -diff_base. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "graph/domkeys.h"
#include "cmd/render.h"
#include "export/pprof.h"
#include "goheap/version.h"
#include "graph/aggregate.h"
#include "graph/retained.h"
#include "memprof/memprof.h"

#define MAX_FRAMES 4096 /* steps of a path kept; deeper ones are cut below the root */

/* A type's frame is named as text names it (domkeys.h): reflect's short
 * name, in full where two import paths share it or with --full-names, so
 * two such types are two frames (docs/typenames.md says why). */
static int by_type(gh_session *s, gh_domkeys *k, gh_pprof *p, int retained, uint64_t *nsamples, gh_err *err)
{
    int rc = gh_domkeys_types(k, retained, &s->cancel, err);
    for (uint32_t key = 0; key < k->n && rc == GH_OK; key++) {
        const gh_domkey_type *t = &k->types[key];
        if (!t->count)
            continue;
        const char *name = gh_domkey_text(k, s, key);
        int64_t v[3] = {(int64_t)t->count, (int64_t)t->bytes, retained ? (int64_t)t->rbytes : 0};
        rc = gh_pprof_add(p, &name, 1, v, err);
        (*nsamples)++;
    }
    return rc;
}

static int by_path(gh_session *s, gh_domkeys *k, gh_pprof *p, int retained, uint64_t *nsamples, gh_err *err)
{
    gh_graph *g = k->g;
    gh_domtree *d = k->d;
    uint64_t *tops = NULL;
    int rc = retained ? gh_domkeys_tops(k, &tops, err) : GH_OK;
    gh_agg_all ag;
    if (rc || (rc = gh_domkeys_aggregate_all(k, tops, &s->cancel, &ag, err))) {
        free(tops);
        return rc;
    }
    free(tops);
    const char **frames = malloc((MAX_FRAMES + 2) * sizeof *frames);
    char *title = malloc(600);
    if (!frames || !title) {
        free(frames), free(title);
        gh_agg_all_free(&ag);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ag.n && rc == GH_OK; i++) {
        const gh_agg_all_row *r = &ag.rows[i];
        /* Leaf first: the type, the steps up, the root. */
        size_t n = 0;
        frames[n++] = gh_domkey_text(k, s, r->name);
        uint32_t c = r->chain, group = 0;
        for (; c != UINT32_MAX; c = ag.chains[c].parent) {
            group = ag.chains[c].group;
            if (ag.chains[c].step && n < MAX_FRAMES)
                frames[n++] = ag.chains[c].step;
        }
        gh_render_group_title(d, g->roots, group, title, 600);
        frames[n++] = title;
        int64_t v[3] = {(int64_t)r->count, (int64_t)r->bytes, (int64_t)r->rbytes};
        rc = gh_pprof_add(p, frames, n, v, err);
        (*nsamples)++;
    }
    free(frames), free(title);
    gh_agg_all_free(&ag);
    return rc;
}

/* --by site: the runtime's own heap profile as /debug/pprof/heap writes it
 * (alloc_* and inuse_* scaled by the rate, the leading runtime frames
 * hidden, a "bytes" label), but inuse counts the sampled objects that are
 * live in the target. */
static int by_site(gh_session *s, const char *path, gh_out *out, int json, gh_err *err)
{
    gh_memprof *mp;
    gh_pclntab *tab = NULL;
    gh_err e;
    int rc = gh_session_memprof(s, 1, &mp, err);
    if (rc)
        return rc;
    (void)gh_session_pclntab(s, &tab, &e);
    gh_pprof *p = gh_pprof_new();
    gh_inl_frame *fr = malloc(GH_MP_MAX_STACK * 4 * sizeof *fr);
    gh_pprof_line *lines = malloc(32 * sizeof *lines);
    uint64_t *locs = malloc(GH_MP_MAX_STACK * 4 * sizeof *locs);
    if (!p || !fr || !lines || !locs) {
        gh_pprof_free(p), free(fr), free(lines), free(locs);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    char comment[1024];
    snprintf(comment, sizeof comment, "goheap %s: the runtime's heap profile in %s (Go %s), MemProfileRate %" PRId64 "%s",
             GOHEAP_VERSION_STRING, s->desc, s->rt.ver.text, mp->rate, mp->disabled ? " (disabled by the linker)" : "");
    if ((rc = gh_pprof_sample_type(p, "alloc_objects", "count", err)) ||
        (rc = gh_pprof_sample_type(p, "alloc_space", "bytes", err)) ||
        (rc = gh_pprof_sample_type(p, "inuse_objects", "count", err)) ||
        (rc = gh_pprof_sample_type(p, "inuse_space", "bytes", err)) ||
        (rc = gh_pprof_period(p, "space", "bytes", mp->rate > 0 ? mp->rate : 0, err)) ||
        (rc = gh_pprof_comment(p, comment, err)) ||
        (rc = gh_pprof_comment(p, "alloc: as the runtime published them at its last GC; inuse: the sampled "
                                  "objects goheap found live in the target, scaled as the runtime scales them", err)))
        goto done;
    uint64_t nsamples = 0, live = 0;
    for (size_t i = 0; i < mp->nb && rc == GH_OK; i++) {
        const gh_mp_bucket *b = &mp->b[i];
        if (!b->allocs && !b->live)
            continue;
        size_t nf = gh_memprof_frames(mp, tab, b, fr, GH_MP_MAX_STACK * 4);
        if (nf > GH_MP_MAX_STACK * 4)
            nf = GH_MP_MAX_STACK * 4;
        /* The frames of each pc make one location, innermost first. */
        size_t start = 0, nlocs = 0;
        int hide = 1;
        for (size_t k = 0; k < nf && rc == GH_OK; k++) {
            if (fr[k].inlined && k + 1 < nf && k - start < 31)
                continue; /* the next frame is its caller at the same pc */
            if (hide && gh_memprof_is_runtime(fr[k].name) && k + 1 < nf) {
                start = k + 1;
                continue;
            }
            hide = 0;
            size_t nl = 0;
            for (size_t q = start; q <= k; q++)
                lines[nl++] = (gh_pprof_line){.func = fr[q].name, .file = fr[q].file, .line = fr[q].line,
                                              .start_line = fr[q].startLine};
            rc = gh_pprof_location(p, fr[start].pc, lines, nl, &locs[nlocs++], err);
            start = k + 1;
        }
        int64_t v[4];
        gh_memprof_scale(b->allocs, b->size, mp->rate, &v[0], &v[1]);
        gh_memprof_scale(b->live, b->size, mp->rate, &v[2], &v[3]);
        if (rc == GH_OK)
            rc = gh_pprof_add_locs(p, locs, nlocs, v, "bytes", (int64_t)b->size, err);
        nsamples++;
        live += b->live;
    }
    if (rc == GH_OK)
        rc = gh_pprof_write(p, path, err);
    if (rc == GH_OK) {
        if (json) {
            gh_json j;
            gh_render_begin(&j, out, s);
            gh_json_kstr(&j, "file", path);
            gh_json_kstr(&j, "by", "site");
            gh_json_ku64(&j, "samples", nsamples);
            gh_json_ki64(&j, "rate", mp->rate);
            gh_json_ku64(&j, "live_sampled_objects", live);
            gh_json_end(&j, '}');
        } else {
            gh_printf(out, "wrote %s: %" PRIu64 " stacks of the runtime's heap profile (MemProfileRate %" PRId64
                           "%s), %" PRIu64 " sampled objects live\n",
                      path, nsamples, mp->rate, mp->disabled ? ", disabled by the linker" : "", live);
            gh_printf(out, "read it with: go tool pprof -sample_index=inuse_space -top %s\n", path);
        }
    }
done:
    gh_pprof_free(p), free(fr), free(lines), free(locs);
    return rc;
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    int json = a->val[0] != NULL, retained = a->val[2] != NULL, path = 0;
    if (a->val[1]) {
        if (!strcmp(a->val[1], "path"))
            path = 1;
        else if (!strcmp(a->val[1], "site")) {
            if (retained)
                return gh_errorf(err, GH_EARG, "pprof: --retained goes with --by type or path, not site");
            return by_site(s, a->pos[0], out, json, err);
        } else if (strcmp(a->val[1], "type"))
            return gh_errorf(err, GH_EARG, "pprof: --by takes type, path or site, not \"%.40s\"", a->val[1]);
    }
    gh_graph *g;
    gh_domtree *d;
    gh_domkeys keys;
    int rc = gh_session_dominators(s, &g, &d, err);
    if (rc || (rc = gh_domkeys_make(&keys, d, g, err)))
        return rc;
    gh_pprof *p = gh_pprof_new();
    if (!p) {
        gh_domkeys_free(&keys);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    char comment[1024];
    snprintf(comment, sizeof comment, "goheap %s: live heap of %s (Go %s), by %s", GOHEAP_VERSION_STRING,
             s->desc, s->rt.ver.text, path ? "reference path" : "type");
    if ((rc = gh_pprof_sample_type(p, "inuse_objects", "count", err)) ||
        (rc = gh_pprof_sample_type(p, "inuse_space", "bytes", err)) ||
        (retained && (rc = gh_pprof_sample_type(p, "retained_space", "bytes", err))) ||
        (rc = gh_pprof_comment(p, comment, err)) ||
        (rc = gh_pprof_comment(p, "inuse: live objects and their slot bytes, as goheap heap counts them", err)) ||
        (retained && (rc = gh_pprof_comment(p, path ? "retained_space: what the objects of the type on that path "
                                                      "retain, each retained byte counted once per type"
                                                    : "retained_space: what removing every object of the type "
                                                      "would free (a lower bound where heap --retained says >)",
                                            err)))) {
        gh_pprof_free(p);
        gh_domkeys_free(&keys);
        return rc;
    }
    uint64_t nsamples = 0;
    rc = path ? by_path(s, &keys, p, retained, &nsamples, err) : by_type(s, &keys, p, retained, &nsamples, err);
    if (rc == GH_OK)
        rc = gh_pprof_write(p, a->pos[0], err);
    gh_pprof_free(p);
    gh_domkeys_free(&keys);
    if (rc)
        return rc;
    char h[32];
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_kstr(&j, "file", a->pos[0]);
        gh_json_kstr(&j, "by", path ? "path" : "type");
        gh_json_ku64(&j, "samples", nsamples);
        gh_json_ku64(&j, "objects", g->live_objects);
        gh_json_ku64(&j, "bytes", g->live_bytes);
        gh_json_end(&j, '}');
    } else {
        gh_printf(out, "wrote %s: %" PRIu64 " samples by %s, %" PRIu64 " live objects, %s%s\n", a->pos[0], nsamples,
                  path ? "reference path" : "type", g->live_objects, gh_human(g->live_bytes, h, sizeof h),
                  retained ? ", with retained_space" : "");
        gh_printf(out, "read it with: go tool pprof -top %s%s\n", retained ? "-sample_index=retained_space " : "",
                  a->pos[0]);
    }
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document (what was written)"},
    {"--by", 1, "type (default): one sample per type; path: the chain from the root down, as goref; "
                "site: the runtime's own heap profile (see sites), inuse counted on live objects"},
    {"--retained", 0, "add a retained_space sample type (the dominator tree)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_pprof = {
    .name = "pprof",
    .summary = "write the live heap as a gzip'ed pprof profile, by type, reference path or allocation site",
    .usage = "pprof OUT [--by type|path|site] [--retained] [--json]",
    .opts = opts,
    .example = "pprof heap.pb.gz --by path --retained",
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
