/* paths ADDR: what keeps an object alive — the graph layer's paths
 * (graph/paths.c), rendered. */
#include <inttypes.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "graph/paths.h"

static void print_path(gh_session *s, const gh_graph *g, const gh_gpath *p, int json, gh_json *j, gh_out *out)
{
    const gh_root *r = gh_roots_get(g->roots, p->root);
    if (json) {
        gh_json_obj(j);
        gh_json_key(j, "root");
        gh_render_root_json(j, r, s->t, 0);
        gh_json_key(j, "hops");
        gh_json_arr(j);
    } else {
        char title[600];
        gh_render_root_title(r, title, sizeof title);
        gh_printf(out, "  %s\n", title);
    }
    for (size_t i = 0; i < p->n; i++) {
        const gh_path_hop *h = &p->hops[i];
        if (json) {
            gh_json_obj(j);
            gh_json_kaddr(j, "addr", h->addr);
            gh_json_kstr(j, "type", h->type);
            if (!h->note)
                gh_json_ku64(j, "size", h->size);
            gh_json_kstr(j, "field", h->field);
            if (h->note)
                gh_json_kstr(j, "note", h->note);
            gh_json_end(j, '}');
        } else if (h->note) {
            gh_printf(out, "    -> %-24s 0x%" PRIx64 " %s %s\n", h->field, h->addr, h->type, h->note);
        } else {
            gh_printf(out, "    -> %-24s 0x%" PRIx64 " %s\n", h->field, h->addr, h->type);
        }
    }
    if (json) {
        gh_json_end(j, ']');
        gh_json_end(j, '}');
    }
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t addr, max = 1;
    int json = a->val[0] != NULL;
    int rc = gh_parse_u64(a->pos[0], "address", &addr, err);
    if (rc || (a->val[1] && (rc = gh_parse_u64(a->val[1], "--max", &max, err))))
        return rc;
    if (max < 1 || max > GH_PATHS_MAX)
        return gh_errorf(err, GH_EARG, "paths: --max takes 1 to %d", GH_PATHS_MAX);
    gh_graph *g;
    if ((rc = gh_session_graph(s, &g, err)))
        return rc;
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
            print_path(s, g, &paths[i], 1, &j, out);
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
            print_path(s, g, &paths[i], 0, NULL, out);
        }
    }
    gh_gpaths_free(paths, np);
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document"},
    {"--max", 1, "up to N paths, each from a different root (default 1: the shortest)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_paths = {
    .name = "paths",
    .summary = "what keeps an object alive: shortest paths from GC roots",
    .usage = "paths ADDR [--max N] [--json]",
    .opts = opts,
    .example = "paths 0xc000123450 --max 5",
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
