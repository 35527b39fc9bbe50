/* top and retains: the biggest retainers, and what one object retains
 * (the dominator tree, graph/dominators.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "base/vec.h"
#include "graph/domkeys.h"
#include "cmd/render.h"
#include "graph/paths.h"
#include "graph/retained.h"

/* --- type names ------------------------------------------------------------- */

/* The graph type of node w, 0 for a group, a tiny block or an untyped slot. */
static gh_tid node_tid(const gh_domtree *d, const gh_graph *g, uint32_t w)
{
    if (w <= GH_DOM_ROOT || w > d->n || gh_dom_is_group(d, w))
        return 0;
    gh_tid t = g->type[d->vertex[w]];
    return t == GH_TID_TINY ? 0 : t;
}

/* Text's name of node w: in full where its short name is shared, or with
 * --full-names (docs/typenames.md). */
static const char *node_tname(gh_session *s, const gh_shortnames *sn, const gh_domtree *d, gh_graph *g, uint32_t w)
{
    return gh_render_tname(s, sn, g->types, node_tid(d, g, w), gh_dom_node_name(d, w));
}

static void node_full_json(gh_json *j, const gh_domtree *d, gh_graph *g, uint32_t w)
{
    gh_tid t = node_tid(d, g, w);
    if (t)
        gh_json_kstr(j, "full_type", gh_types_full_name(g->types, t));
}

/* --- top -------------------------------------------------------------------- */

static int run_top(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    int json = a->val[0] != NULL;
    uint64_t limit = 20;
    double minpct = 0;
    int rc;
    if ((a->val[1] && (rc = gh_parse_u64(a->val[1], "--limit", &limit, err))) ||
        (a->val[2] && (rc = gh_parse_percent(a->val[2], "--min-percent", &minpct, err))))
        return rc;
    if (limit > 100000)
        return gh_errorf(err, GH_EARG, "top: --limit takes 0 to 100000");
    gh_graph *g;
    gh_domtree *d;
    gh_domkeys keys;
    if ((rc = gh_session_dominators(s, &g, &d, err)) || (rc = gh_domkeys_make(&keys, d, g, err)))
        return rc;
    /* folded by type key: a chain of one full name, not of one short name */
    uint32_t *nodes;
    size_t n;
    if ((rc = gh_domkeys_top(&keys, (size_t)limit, a->val[3] == NULL, &nodes, &n, err))) {
        gh_domkeys_free(&keys);
        return rc;
    }
    const gh_shortnames *sn = &keys.sn;
    size_t shown = 0;
    while (shown < n && (g->live_bytes ? 100.0 * (double)d->rbytes[nodes[shown]] / (double)g->live_bytes : 0) >= minpct)
        shown++;
    gh_json j;
    char b1[32];
    if (json) {
        gh_render_begin(&j, out, s);
        gh_json_ku64(&j, "live_bytes", g->live_bytes);
        gh_json_ku64(&j, "live_objects", g->live_objects);
        gh_json_key(&j, "retainers");
        gh_json_arr(&j);
    } else {
        gh_printf(out, "live: %" PRIu64 " objects, %s; the %zu object%s retaining the most:\n", g->live_objects,
                  gh_human(g->live_bytes, b1, sizeof b1), shown, shown == 1 ? "" : "s");
        gh_printf(out, "%14s %7s %12s  %-18s %s\n", "retained", "share", "objects", "address", "type");
    }
    for (size_t i = 0; i < shown && rc == GH_OK; i++) {
        uint32_t w = nodes[i], slot = d->vertex[w];
        gh_gpath *paths = NULL;
        size_t np = 0;
        rc = gh_graph_paths(g, slot, 1, &s->cancel, &paths, &np, err);
        if (rc)
            break;
        uint64_t addr = gh_dom_node_addr(d, g, w);
        if (json) {
            gh_json_obj(&j);
            gh_json_kaddr(&j, "addr", addr);
            gh_json_kstr(&j, "type", gh_dom_node_name(d, w));
            node_full_json(&j, d, g, w);
            gh_json_ku64(&j, "size", gh_dom_node_size(d, g, w));
            gh_render_retained_json(&j, d, g, w);
            if (np) {
                gh_json_key(&j, "path");
                gh_render_path_json(&j, s, g, &paths[0], NULL);
            }
            gh_json_end(&j, '}');
        } else {
            double pct = g->live_bytes ? 100.0 * (double)d->rbytes[w] / (double)g->live_bytes : 0;
            gh_printf(out, "%14s %6.1f%% %12" PRIu32 "  0x%-16" PRIx64 " %s\n", gh_human(d->rbytes[w], b1, sizeof b1),
                      pct, d->robjs[w], addr, node_tname(s, sn, d, g, w));
            if (np) {
                char title[600];
                gh_render_root_title(gh_roots_get(g->roots, paths[0].root), title, sizeof title);
                gh_printf(out, "%36s from %s", "", title);
                for (size_t k = 1; k < paths[0].n; k++)
                    gh_printf(out, " -> %s", paths[0].hops[k].field[0] ? paths[0].hops[k].field : "?");
                gh_printf(out, "\n");
            }
        }
        gh_gpaths_free(paths, np);
    }
    free(nodes);
    gh_domkeys_free(&keys);
    if (rc)
        return rc;
    if (json) {
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
    } else if (shown == 0) {
        gh_printf(out, "(no object retains that much)\n");
    }
    return GH_OK;
}

static const gh_optspec top_opts[] = {
    {"--json", 0, "one JSON document"},
    {"--limit", 1, "at most N objects (default 20)"},
    {"--min-percent", 1, "only objects retaining at least P% of the live heap"},
    {"--all", 0, "also objects inside a chain of their own type (a list after its head) or a map's internals"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_top = {
    .name = "top",
    .summary = "the biggest retainers: objects by the memory only they keep alive",
    .usage = "top [--limit N] [--min-percent P] [--all] [--json]",
    .opts = top_opts,
    .example = "top --limit 10",
    .min_pos = 0,
    .max_pos = 0,
    .run = run_top,
};

/* --- retains ---------------------------------------------------------------- */

static int run_retains(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t addr, limit = 30;
    int json = a->val[0] != NULL;
    int rc = gh_cmd_addr(s, a->pos[0], "retains", &addr, err);
    if (rc || (a->val[1] && (rc = gh_parse_u64(a->val[1], "--top", &limit, err))))
        return rc;
    gh_graph *g;
    gh_domtree *d;
    if ((rc = gh_session_dominators(s, &g, &d, err)))
        return rc;
    gh_obj o;
    if (!gh_heap_find(g->h, addr, &o))
        return gh_errorf(err, GH_EARG, "retains: 0x%" PRIx64 " is not inside an allocated heap object (see whatis)",
                         addr);
    uint32_t w = gh_dom_node(d, o.id);
    gh_domkeys keys;
    if ((rc = gh_domkeys_make(&keys, d, g, err)))
        return rc;
    char tname[64];
    const char *tn = w ? gh_dom_node_name(d, w) : gh_graph_type_name(g, o.id, o.size, tname, sizeof tname);
    /* Its retained set by type: a short name two packages share is one
     * row per full name (domkeys.h). */
    gh_dom_hist *hr = NULL;
    size_t nhr = 0;
    if (w && (rc = gh_domkeys_histogram(&keys, &w, 1, &s->cancel, &hr, &nhr, err))) {
        gh_domkeys_free(&keys);
        return rc;
    }
    gh_tid ttid = w ? node_tid(d, g, w) : (g->type[o.id] == GH_TID_TINY ? 0 : g->type[o.id]);
    const char *ttext = gh_render_tname(s, &keys.sn, g->types, ttid, tn);
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_key(&j, "target");
        gh_json_obj(&j);
        gh_json_kaddr(&j, "addr", o.addr);
        gh_json_kstr(&j, "type", tn);
        if (ttid)
            gh_json_kstr(&j, "full_type", gh_types_full_name(g->types, ttid));
        gh_json_ku64(&j, "size", o.size);
        gh_json_end(&j, '}');
        gh_json_kbool(&j, "live", w != 0);
        gh_json_ku64(&j, "retained_bytes", w ? d->rbytes[w] : 0);
        gh_json_ku64(&j, "retained_objects", w ? d->robjs[w] : 0);
        gh_json_kdouble(&j, "percent", w && g->live_bytes ? 100.0 * (double)d->rbytes[w] / (double)g->live_bytes : 0);
        gh_json_key(&j, "types");
        gh_json_arr(&j);
        for (size_t i = 0; i < nhr; i++) {
            gh_json_obj(&j);
            gh_domkey_json(&j, &keys, hr[i].name_index);
            gh_json_ku64(&j, "count", hr[i].count);
            gh_json_ku64(&j, "bytes", hr[i].bytes);
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
    } else if (!w) {
        gh_printf(out, "0x%" PRIx64 " %s (%" PRIu64 " bytes) is garbage: it retains nothing\n", o.addr, ttext, o.size);
    } else {
        char b1[64], b2[32];
        gh_printf(out, "0x%" PRIx64 " %s (%" PRIu64 " bytes) retains %s in %" PRIu32 " object%s\n", o.addr, ttext,
                  o.size, gh_render_share(d, g, w, b1, sizeof b1), d->robjs[w], d->robjs[w] == 1 ? "" : "s");
        gh_printf(out, "%12s %12s %10s  %s\n", "count", "bytes", "size", "type");
        size_t shown = limit && limit < nhr ? (size_t)limit : nhr;
        for (size_t i = 0; i < shown; i++)
            gh_printf(out, "%12" PRIu64 " %12" PRIu64 " %10s  %s\n", hr[i].count, hr[i].bytes,
                      gh_human(hr[i].bytes, b2, sizeof b2), gh_domkey_text(&keys, s, hr[i].name_index));
        if (shown < nhr)
            gh_printf(out, "(%zu more types; --top N shows more)\n", nhr - shown);
    }
    free(hr);
    gh_domkeys_free(&keys);
    return GH_OK;
}

static const gh_optspec retains_opts[] = {
    {"--json", 0, "one JSON document"},
    {"--top", 1, "show the N largest types (text; default 30, 0 all)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_retains = {
    .name = "retains",
    .summary = "what one object keeps alive on its own: its retained set, by type",
    .usage = "retains ADDR [--top N] [--json]",
    .opts = retains_opts,
    .example = "retains 0xc000123450",
    .addr_arg = 1,
    .min_pos = 1,
    .max_pos = 1,
    .run = run_retains,
};
