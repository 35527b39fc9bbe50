/* paths ADDR: what keeps an object alive — the graph layer's paths
 * (graph/paths.c), rendered; with --retained each hop's retained size, and
 * paths --aggregate TYPE: every instance's path, summed by chain of fields
 * (graph/aggregate.c). */
#include <inttypes.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "graph/aggregate.h"
#include "graph/paths.h"

static int aggregate(gh_session *s, const char *type, uint64_t limit, int json, gh_out *out, gh_err *err)
{
    gh_graph *g;
    gh_domtree *d;
    gh_agg ag;
    int rc = gh_session_dominators(s, &g, &d, err);
    if (rc || (rc = gh_graph_aggregate(d, g, type, &s->cancel, &ag, err)))
        return rc;
    size_t shown = limit && limit < ag.n ? (size_t)limit : ag.n;
    char title[600], h1[32], h2[32];
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_kstr(&j, "type", type);
        gh_json_ku64(&j, "count", ag.count);
        gh_json_ku64(&j, "bytes", ag.bytes);
        gh_json_ku64(&j, "retained_bytes", ag.rbytes);
        gh_json_ku64(&j, "retained_objects", ag.robjs);
        gh_json_ku64(&j, "rows", ag.n);
        gh_json_key(&j, "paths");
        gh_json_arr(&j);
        for (size_t i = 0; i < shown; i++) {
            const gh_agg_row *r = &ag.rows[i];
            gh_json_obj(&j);
            gh_json_key(&j, "root");
            gh_render_group_json(&j, d, g->roots, s->t, r->group);
            gh_json_key(&j, "steps");
            gh_json_arr(&j);
            for (size_t k = 0; k < r->nsteps; k++)
                gh_json_str(&j, r->steps[k]);
            gh_json_end(&j, ']');
            gh_json_ku64(&j, "count", r->count);
            gh_json_ku64(&j, "bytes", r->bytes);
            gh_json_ku64(&j, "retained_bytes", r->rbytes);
            gh_json_ku64(&j, "retained_objects", r->robjs);
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
    } else {
        double pct = g->live_bytes ? 100.0 * (double)ag.rbytes / (double)g->live_bytes : 0;
        gh_printf(out, "%" PRIu64 " live %s, %s; they retain %s (%.1f%% of the live heap), along %zu path%s:\n",
                  ag.count, type, gh_human(ag.bytes, h1, sizeof h1), gh_human(ag.rbytes, h2, sizeof h2), pct, ag.n,
                  ag.n == 1 ? "" : "s");
        gh_printf(out, "%12s %12s %12s  %s\n", "retained", "objects", "bytes", "path");
        for (size_t i = 0; i < shown; i++) {
            const gh_agg_row *r = &ag.rows[i];
            gh_render_group_title(d, g->roots, r->group, title, sizeof title);
            gh_printf(out, "%12s %12" PRIu64 " %12s  %s", gh_human(r->rbytes, h1, sizeof h1), r->count,
                      gh_human(r->bytes, h2, sizeof h2), title);
            for (size_t k = 0; k < r->nsteps; k++)
                gh_printf(out, " → %s", r->steps[k]);
            gh_printf(out, "\n");
        }
        if (shown < ag.n)
            gh_printf(out, "(%zu more paths; --max N shows more)\n", ag.n - shown);
    }
    gh_agg_free(&ag);
    return GH_OK;
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t addr, max = 1;
    int json = a->val[0] != NULL, with_retained = a->val[2] != NULL;
    int rc;
    if (a->val[1] && (rc = gh_parse_u64(a->val[1], "--max", &max, err)))
        return rc;
    if (a->val[3]) {
        if (a->npos)
            return gh_errorf(err, GH_EARG, "paths: give an address or --aggregate TYPE, not both");
        return aggregate(s, a->val[3], a->val[1] ? max : 30, json, out, err);
    }
    if (!a->npos)
        return gh_errorf(err, GH_EARG, "paths: wrong number of arguments; usage: %s", gh_cmd_paths.usage);
    if ((rc = gh_parse_u64(a->pos[0], "address", &addr, err)))
        return rc;
    if (max < 1 || max > GH_PATHS_MAX)
        return gh_errorf(err, GH_EARG, "paths: --max takes 1 to %d", GH_PATHS_MAX);
    gh_graph *g;
    gh_domtree *d = NULL;
    if ((rc = gh_session_graph(s, &g, err)))
        return rc;
    /* Retained sizes when asked, or when the tree is built already. */
    if (with_retained && (rc = gh_session_dominators(s, &g, &d, err)))
        return rc;
    if (!d)
        d = g->dom;
    gh_obj o;
    if (!gh_heap_find(g->h, addr, &o))
        return gh_errorf(err, GH_EARG, "paths: 0x%" PRIx64 " is not inside an allocated heap object (see whatis)", addr);
    char tname[64];
    const char *tn = gh_graph_type_name(g, o.id, o.size, tname, sizeof tname);
    int live = gh_graph_live(g, o.id);
    gh_gpath *paths;
    size_t np;
    if ((rc = gh_graph_paths(g, o.id, max, &s->cancel, &paths, &np, err)))
        return rc;
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_key(&j, "target");
        gh_json_obj(&j);
        gh_json_kaddr(&j, "addr", o.addr);
        gh_json_kstr(&j, "type", tn);
        gh_json_ku64(&j, "size", o.size);
        gh_json_end(&j, '}');
        gh_json_kbool(&j, "live", live);
        gh_json_key(&j, "paths");
        gh_json_arr(&j);
        for (size_t i = 0; i < np; i++)
            gh_render_path_json(&j, s, g, &paths[i], d);
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
    } else if (!live) {
        gh_printf(out, "0x%" PRIx64 " %s (%" PRIu64 " bytes) is garbage: allocated, but no root reaches it\n", o.addr,
                  tn, o.size);
    } else {
        gh_printf(out, "0x%" PRIx64 " %s (%" PRIu64 " bytes) is live; %zu path%s:\n", o.addr, tn, o.size, np,
                  np == 1 ? "" : "s");
        for (size_t i = 0; i < np; i++) {
            if (i)
                gh_printf(out, "\n");
            gh_render_path_text(out, g, &paths[i], d, "  ");
        }
    }
    gh_gpaths_free(paths, np);
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document"},
    {"--max", 1, "up to N paths, each from a different root (default 1: the shortest); with --aggregate, N rows"},
    {"--retained", 0, "each hop's retained size (builds the dominator tree; shown anyway once built)"},
    {"--aggregate", 1, "every live object of type TYPE: their paths summed by root and chain of fields"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_paths = {
    .name = "paths",
    .summary = "what keeps an object alive: shortest paths from GC roots",
    .usage = "paths ADDR [--max N] [--retained] [--json] | --aggregate TYPE [--max N] [--json]",
    .opts = opts,
    .example = "paths 0xc000123450 --max 5",
    .min_pos = 0,
    .max_pos = 1,
    .run = run,
};
