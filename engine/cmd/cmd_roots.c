/* roots: the GC roots goheap found, by kind, or every region with --list. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "graph/dominators.h"

/* Root groups by what they retain, largest first. */
static int cmp_group(const void *a, const void *b, void *ctx)
{
    const gh_domtree *d = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uint32_t nx = d->gnum[x], ny = d->gnum[y];
    if (d->rbytes[nx] != d->rbytes[ny])
        return d->rbytes[nx] < d->rbytes[ny] ? 1 : -1;
    return (x > y) - (x < y);
}

static int retained(gh_session *s, int json, gh_json *j, gh_out *out, uint64_t limit, gh_err *err)
{
    gh_graph *g;
    gh_domtree *d;
    int rc = gh_session_dominators(s, &g, &d, err);
    if (rc)
        return rc;
    uint32_t *order = malloc((d->ngroups ? d->ngroups : 1) * sizeof *order);
    if (!order)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    size_t n = 0;
    for (uint32_t i = 0; i < d->ngroups; i++)
        if (d->gnum[i])
            order[n++] = i;
    qsort_r(order, n, sizeof *order, cmp_group, d);
    size_t shown = json || !limit || limit > n ? n : (size_t)limit;
    uint64_t shared = d->rbytes[GH_DOM_ROOT], shared_objs = d->robjs[GH_DOM_ROOT] ;
    for (size_t i = 0; i < n; i++)
        shared -= d->rbytes[d->gnum[order[i]]], shared_objs -= d->robjs[d->gnum[order[i]]];
    char title[600], share[64];
    if (json) {
        gh_json_key(j, "retained");
        gh_json_arr(j);
    } else {
        gh_printf(out, "\nretained by each root (what no other root keeps alive):\n  %-22s %18s  %s\n",
                  "retained, share", "objects", "root");
    }
    for (size_t i = 0; i < shown; i++) {
        uint32_t w = d->gnum[order[i]];
        if (json) {
            gh_json_obj(j);
            gh_json_key(j, "root");
            gh_render_group_json(j, d, g->roots, s->t, order[i]);
            gh_render_retained_json(j, d, g, w);
            gh_json_end(j, '}');
        } else {
            gh_render_group_title(d, g->roots, order[i], title, sizeof title);
            gh_printf(out, "  %-22s %10" PRIu32 " objects  %s\n", gh_render_share(d, g, w, share, sizeof share),
                      d->robjs[w], title);
        }
    }
    if (json) {
        gh_json_end(j, ']');
        gh_json_ku64(j, "shared_bytes", shared);
        gh_json_ku64(j, "shared_objects", shared_objs);
    } else {
        if (shown < n)
            gh_printf(out, "  (%zu more roots; --top N shows more)\n", n - shown);
        char h[32];
        gh_printf(out, "  %s in %" PRIu64 " objects is kept alive by more than one root\n",
                  gh_human(shared, h, sizeof h), shared_objs);
    }
    free(order);
    return GH_OK;
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    const gh_roots *rs;
    int rc = gh_session_roots(s, &rs, err);
    if (rc)
        return rc;
    int json = a->val[0] != NULL, list = a->val[1] != NULL, want_retained = a->val[2] != NULL;
    uint64_t limit = 20;
    if (a->val[3] && (rc = gh_parse_u64(a->val[3], "--top", &limit, err)))
        return rc;
    size_t n = gh_roots_count(rs);
    uint64_t regions[GH_ROOT_NKINDS] = {0}, words[GH_ROOT_NKINDS] = {0}, bytes[GH_ROOT_NKINDS] = {0};
    for (size_t i = 0; i < n; i++) {
        const gh_root *r = gh_roots_get(rs, i);
        regions[r->kind]++;
        words[r->kind] += gh_root_pointer_words(r);
        bytes[r->kind] += r->size;
    }
    char desc[1024];
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_key(&j, "kinds");
        gh_json_arr(&j);
        for (int k = 0; k < GH_ROOT_NKINDS; k++) {
            gh_json_obj(&j);
            gh_json_kstr(&j, "kind", gh_root_kind_name(k));
            gh_json_ku64(&j, "regions", regions[k]);
            gh_json_ku64(&j, "bytes", bytes[k]);
            gh_json_ku64(&j, "pointer_words", words[k]);
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        if (list) {
            gh_json_key(&j, "roots");
            gh_json_arr(&j);
            for (size_t i = 0; i < n; i++)
                gh_render_root_json(&j, gh_roots_get(rs, i), s->t, 1);
            gh_json_end(&j, ']');
        }
        if (want_retained && (rc = retained(s, 1, &j, out, limit, err)))
            return rc;
        gh_json_key(&j, "notes");
        gh_json_arr(&j);
        for (size_t i = 0; i < gh_roots_nnotes(rs); i++)
            gh_json_str(&j, gh_roots_get_note(rs, i));
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
        return GH_OK;
    }
    gh_printf(out, "%-10s %10s %14s %14s\n", "kind", "regions", "bytes", "pointer words");
    for (int k = 0; k < GH_ROOT_NKINDS; k++)
        gh_printf(out, "%-10s %10" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n", gh_root_kind_name(k), regions[k],
                  bytes[k], words[k]);
    if (list) {
        gh_printf(out, "\n%-9s %-18s %8s %6s  %s\n", "kind", "addr", "size", "ptrs", "root");
        for (size_t i = 0; i < n; i++) {
            const gh_root *r = gh_roots_get(rs, i);
            gh_render_root_cell(r, desc, sizeof desc);
            gh_printf(out, "%-9s 0x%016" PRIx64 " %8" PRIu64 " %6" PRIu64 "  %s%s\n", gh_root_kind_name(r->kind),
                      r->addr, r->size, gh_root_pointer_words(r), desc, r->conservative ? " (conservative)" : "");
        }
    }
    if (want_retained && (rc = retained(s, 0, NULL, out, limit, err)))
        return rc;
    for (size_t i = 0; i < gh_roots_nnotes(rs); i++)
        gh_printf(out, "note: %s\n", gh_roots_get_note(rs, i));
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document"},
    {"--list", 0, "every root region, with its name (and its pointer values in JSON)"},
    {"--retained", 0, "what each root (a global, a goroutine, a finalizer) alone keeps alive"},
    {"--top", 1, "with --retained: the N roots retaining most (text; default 20, 0 all)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_roots = {
    .name = "roots",
    .summary = "the GC roots: globals, goroutine stacks, finalizers, cleanups",
    .usage = "roots [--list] [--retained] [--top N] [--json]",
    .opts = opts,
    .example = "roots --list",
    .min_pos = 0,
    .max_pos = 0,
    .run = run,
};
