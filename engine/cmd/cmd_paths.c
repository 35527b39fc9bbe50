/* paths ADDR: what keeps an object alive — the graph layer's paths
 * (graph/paths.c), rendered; with --retained each hop's retained size, and
 * paths --aggregate TYPE: every instance's path, summed by chain of fields
 * (graph/aggregate.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "graph/domkeys.h"
#include "graph/aggregate.h"
#include "graph/paths.h"
#include "graph/pending.h"
#include "heap/coverage.h"

#define SUB_PATHS 16 /* paths looked at for one that points into a tiny sub-object */

/* The instances of a full name (go/scanner.Scanner): its type alone where
 * two import paths share the short name, else the short name's. */
static int aggregate_full(gh_domtree *d, gh_graph *g, const char *type, gh_cancel *cc, gh_agg *ag, gh_err *err)
{
    gh_domkeys k;
    int rc = gh_domkeys_make(&k, d, g, err);
    if (rc)
        return rc;
    uint32_t key = gh_domkeys_find_full(&k, type);
    if (k.oom)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    else if (key == GH_DOM_NONAME)
        rc = gh_errorf(err, GH_ENOENT, "paths: no live object of type %.200s (see heap)", type);
    else if (key >= k.nnames)
        rc = gh_graph_aggregate_where(d, g, gh_domkey_name(&k, key), gh_domkey_same_full, (void *)type, cc, ag, err);
    else
        rc = gh_graph_aggregate(d, g, gh_domkey_name(&k, key), cc, ag, err);
    gh_domkeys_free(&k);
    return rc;
}

static int aggregate(gh_session *s, const char *type, uint64_t limit, int json, gh_out *out, gh_err *err)
{
    gh_graph *g;
    gh_domtree *d;
    gh_agg ag;
    int rc = gh_session_dominators(s, &g, &d, err);
    if (rc)
        return rc;
    /* reflect's short name (every type of that name), else a full name */
    rc = gh_graph_aggregate(d, g, type, &s->cancel, &ag, err);
    if (rc == GH_ENOENT)
        rc = aggregate_full(d, g, type, &s->cancel, &ag, err);
    if (rc)
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

/* An object pending finalization: no path, but what will happen to it and
 * which finalizer or cleanup is waiting (pf, n of them). */
static int pending(gh_session *s, const gh_graph *g, const gh_obj *o, const char *tn, const gh_pending_obj *pf,
                   size_t n, int json, gh_out *out)
{
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_key(&j, "target");
        gh_json_obj(&j);
        gh_json_kaddr(&j, "addr", o->addr);
        gh_json_kstr(&j, "type", tn);
        gh_json_ku64(&j, "size", o->size);
        gh_json_end(&j, '}');
        gh_json_kbool(&j, "live", 0);
        gh_json_key(&j, "pending");
        gh_json_arr(&j);
        for (size_t i = 0; i < n; i++) {
            const gh_root *r = gh_roots_get(g->roots, pf[i].root);
            gh_json_obj(&j);
            gh_json_kstr(&j, "kind", gh_root_kind_name(r->kind));
            gh_json_kstr(&j, "function", r->name ? r->name : "?");
            gh_json_kaddr(&j, "record", r->addr);
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        gh_json_key(&j, "paths");
        gh_json_arr(&j);
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
        return GH_OK;
    }
    gh_printf(out, "0x%" PRIx64 " %s (%" PRIu64 " bytes) is pending finalization: no root reaches it, but", o->addr, tn,
              o->size);
    for (size_t i = 0; i < n; i++) {
        const gh_root *r = gh_roots_get(g->roots, pf[i].root);
        int fin = r->kind == GH_ROOT_FINALIZER;
        gh_printf(out, "%s it has a %s, %s (record 0x%" PRIx64 ")", i ? ";" : "", fin ? "finalizer" : "cleanup",
                  r->name ? r->name : "?", r->addr);
    }
    /* The runtime queues a finalizer and keeps its object until it ran;
     * a cleanup runs after its object was freed. */
    if (gh_roots_get(g->roots, pf[0].root)->kind == GH_ROOT_FINALIZER)
        gh_puts(out, ": the next GC queues it and keeps the object alive until it has run (what the object points "
                     "to is live already, through the finalizer record)\n");
    else
        gh_puts(out, ": the next GC frees the object and queues the cleanup\n");
    return GH_OK;
}

/* A truncated core: no path can be given because memory is missing, either
 * where addr is (o NULL) or on every path to the object o (no root reached
 * it through readable memory). */
static int unknown_path(gh_session *s, uint64_t addr, const gh_obj *o, const char *tn, int json, gh_out *out)
{
    const char *why = o ? "no root reached it through readable memory: what keeps it alive, if anything, is in memory "
                          "the truncated core does not hold"
                        : "it is in heap memory the truncated core does not hold (its span's record, pages or "
                          "allocation bits are missing)";
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_key(&j, "target");
        gh_json_obj(&j);
        gh_json_kaddr(&j, "addr", o ? o->addr : addr);
        if (o) {
            gh_json_kstr(&j, "type", tn);
            gh_json_ku64(&j, "size", o->size);
        }
        gh_json_end(&j, '}');
        gh_json_key(&j, "live");
        gh_json_null(&j); /* unknown */
        gh_json_kbool(&j, "memory_missing", 1);
        gh_json_kstr(&j, "why", why);
        gh_json_key(&j, "paths");
        gh_json_arr(&j);
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
        return GH_OK;
    }
    gh_render_coverage_text(out, s);
    if (o)
        gh_printf(out, "0x%" PRIx64 " %s (%" PRIu64 " bytes): path unknown, memory is missing: %s\n", o->addr, tn,
                  o->size, why);
    else
        gh_printf(out, "0x%" PRIx64 ": path unknown, memory is missing: %s\n", addr, why);
    return GH_OK;
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t addr, max = 1;
    int json = a->val[0] != NULL, with_retained = a->val[2] != NULL, raw = a->val[4] != NULL;
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
    if ((rc = gh_cmd_addr(s, a->pos[0], "paths", &addr, err)))
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
    if (!gh_heap_find(g->h, addr, &o)) {
        if (gh_heap_cov_missing(g->h, addr))
            return unknown_path(s, addr, NULL, NULL, json, out);
        return gh_errorf(err, GH_EARG, "paths: 0x%" PRIx64 " is not inside an allocated heap object (see whatis)", addr);
    }
    char tname[64];
    const char *tn = gh_graph_type_name(g, o.id, o.size, tname, sizeof tname);
    int live = gh_graph_live(g, o.id);
    if (!live && g->reach_partial)
        return unknown_path(s, addr, &o, tn, json, out);
    size_t npend;
    const gh_pending_obj *pf = live ? NULL : gh_graph_pending_find(g, o.id, &npend);
    if (pf)
        return pending(s, g, &o, tn, pf, npend, json, out);
    /* A tiny block: the typed sub-object holding addr, or none there. */
    uint64_t at = o.addr, size = o.size;
    int tiny = g->type[o.id] == GH_TID_TINY, sub = 0;
    char known[256] = "";
    if (tiny) {
        size_t n, k = gh_graph_tiny_of(g, o.id, &n), kn = 0;
        for (size_t i = k; i < k + n; i++) {
            const gh_otype *ot = gh_types_get(g->types, gh_tiny_type(g->tiny[i]));
            uint64_t b = o.addr + gh_tiny_off(g->tiny[i]), sz = ot ? gh_types_size(g->types, ot) * ot->count : 0;
            const char *nm = gh_types_name(g->types, gh_tiny_type(g->tiny[i]));
            if (!sub && addr >= b && addr < b + (sz ? sz : 1))
                sub = 1, at = b, size = sz, tn = nm;
            kn += (size_t)snprintf(known + kn, kn < sizeof known ? sizeof known - kn : 0, "%s%s at +%u",
                                   i > k ? ", " : "", nm, (unsigned)gh_tiny_off(g->tiny[i]));
            if (kn >= sizeof known)
                kn = sizeof known - 1;
        }
        if (!sub)
            tn = "tiny block";
    }
    gh_gpath *paths;
    size_t np;
    /* Into a sub-object: paths that point to it before those that reach
     * it through its neighbours in the block, from a few roots. */
    size_t want = sub && max < SUB_PATHS ? SUB_PATHS : (size_t)max;
    if ((rc = gh_graph_paths(g, o.id, want, &s->cancel, &paths, &np, err)))
        return rc;
    size_t direct = 0;
    for (size_t i = 0; tiny && i < np; i++) {
        size_t before = paths[i].n;
        if (!sub) {
            char *t = paths[i].n ? strdup("tiny block") : NULL;
            if (t) {
                free(paths[i].hops[paths[i].n - 1].type);
                paths[i].hops[paths[i].n - 1].type = t;
            }
        } else if ((rc = gh_gpath_narrow(g, &paths[i], at, size, tn, err))) {
            gh_gpaths_free(paths, np);
            return rc;
        } else if (paths[i].n == before) {
            gh_gpath p = paths[i];
            memmove(paths + direct + 1, paths + direct, (i - direct) * sizeof *paths);
            paths[direct++] = p;
        }
    }
    for (; np > max; np--) { /* the ones looked at beyond --max */
        gh_gpath *p = &paths[np - 1];
        for (size_t k = 0; k < p->n; k++)
            free(p->hops[k].type), free(p->hops[k].field);
        free(p->hops);
    }
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_key(&j, "target");
        gh_json_obj(&j);
        gh_json_kaddr(&j, "addr", at);
        gh_json_kstr(&j, "type", tn);
        gh_json_ku64(&j, "size", size);
        if (!tiny && gh_types_length_bound(g->types, g->type[o.id]))
            gh_json_kbool(&j, "length_bound", 1);
        if (tiny) {
            gh_json_kaddr(&j, "tiny_block", o.addr);
            gh_json_kbool(&j, "sub_object", sub);
        }
        gh_json_end(&j, '}');
        gh_json_kbool(&j, "live", live);
        gh_json_key(&j, "paths");
        gh_json_arr(&j);
        for (size_t i = 0; i < np; i++)
            gh_render_path_json(&j, s, g, &paths[i], d);
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
    } else if (tiny && !sub) {
        gh_printf(out, "0x%" PRIx64 " is in the tiny-allocator block at 0x%" PRIx64 " (16 bytes, shared by "
                       "pointer-free objects under 16 bytes), but in none of the objects known in it (%s); "
                       "the block is %s", addr, o.addr, known, live ? "live" : "garbage");
        gh_printf(out, live ? "; %zu path%s to it:\n" : "\n", np, np == 1 ? "" : "s");
        for (size_t i = 0; live && i < np; i++) {
            if (i)
                gh_printf(out, "\n");
            gh_render_path_text(out, g, &paths[i], d, "  ", (raw ? GH_PATH_RAW : 0) | (s->full_names ? GH_PATH_FULLNAMES : 0));
        }
    } else if (!live) {
        char note[640];
        gh_printf(out, "0x%" PRIx64 " %s (%" PRIu64 " bytes%s) is garbage: allocated, but no root reaches it\n", at,
                  tn, size, sub ? ", in a tiny block" : "");
        if (*gh_render_scan_note(g, note, sizeof note))
            gh_printf(out, "note: %s\n", note);
    } else {
        gh_render_coverage_text(out, s); /* a truncated core: every hop of these paths was read */
        /* The object's type in full where its short name is shared (or --full-names). */
        gh_shortnames sn;
        gh_tid ot = g->type[o.id];
        if (!sub && ot && ot != GH_TID_TINY && !strcmp(gh_types_name(g->types, ot), tn) &&
            gh_typenames_shared(g->types, &sn) == 0) {
            tn = gh_render_tname(s, &sn, g->types, ot, tn);
            gh_shortnames_free(&sn);
        }
        gh_printf(out, "0x%" PRIx64 " %s (%" PRIu64 " bytes%s) is live; %zu path%s:\n", at, tn, size,
                  sub ? ", in a tiny block" : "", np, np == 1 ? "" : "s");
        for (size_t i = 0; i < np; i++) {
            if (i)
                gh_printf(out, "\n");
            gh_render_path_text(out, g, &paths[i], d, "  ", (raw ? GH_PATH_RAW : 0) | (s->full_names ? GH_PATH_FULLNAMES : 0));
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
    {"--raw", 0, "the runtime's own hops (a map's header, tables, groups) instead of Go terms (m[\"key\"])"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_paths = {
    .name = "paths",
    .summary = "what keeps an object alive: shortest paths from GC roots",
    .usage = "paths ADDR [--max N] [--retained] [--raw] [--json] | --aggregate TYPE [--max N] [--json]",
    .opts = opts,
    .example = "paths 0xc000123450 --max 5",
    .addr_arg = 1,
    .min_pos = 0,
    .max_pos = 1,
    .run = run,
};
