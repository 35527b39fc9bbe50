/* objects: list heap objects, filtered by type, size and liveness (live,
 * garbage, pending finalization). */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "graph/graph.h"
#include "graph/heapview.h"

typedef struct lister {
    gh_out *out;
    gh_json *j;
    regex_t *re;
    uint64_t min, max, limit, matched, bytes, shown;
    int both;
    int unreached; /* a truncated core: not reached through readable memory is not garbage */
    const gh_graph *g;
    const gh_session *s;
    gh_shortnames sn; /* short names two import paths share: text names those in full */
} lister;

static int each(void *ctx, const gh_objview *o)
{
    lister *l = ctx;
    if (o->size < l->min || o->size > l->max)
        return 0;
    const char *full = o->tid ? gh_types_full_name(l->g->types, o->tid) : o->type;
    if (l->re && regexec(l->re, o->type, 0, NULL, 0) && regexec(l->re, full, 0, NULL, 0))
        return 0;
    l->matched++;
    l->bytes += o->size;
    if (l->shown >= l->limit)
        return 0;
    l->shown++;
    if (l->j) {
        gh_json_obj(l->j);
        gh_json_kaddr(l->j, "addr", o->addr);
        gh_json_kstr(l->j, "type", o->type);
        gh_json_kstr(l->j, "full_type", full);
        gh_json_ku64(l->j, "size", o->size);
        if (o->tid && gh_types_length_bound(l->g->types, o->tid))
            gh_json_kbool(l->j, "length_bound", 1);
        if (l->both) {
            gh_json_kbool(l->j, "live", o->live);
            gh_json_kbool(l->j, "pending", o->pending);
        }
        gh_json_end(l->j, '}');
    } else {
        gh_printf(l->out, "0x%016" PRIx64 " %10" PRIu64 "  %s%s\n", o->addr, o->size,
                  gh_render_tname(l->s, &l->sn, l->g->types, o->tid, o->type),
                  !l->both || o->live ? "" : o->pending ? "  (pending finalization)"
                                                   : l->unreached ? "  (not reached)" : "  (garbage)");
    }
    return 0;
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    int json = a->val[0] != NULL, garbage = a->val[5] != NULL, all = a->val[6] != NULL, pending = a->val[7] != NULL;
    if (garbage + all + pending > 1)
        return gh_errorf(err, GH_EARG, "objects: give one of --garbage, --pending and --all");
    lister l = {.out = out, .max = UINT64_MAX, .limit = json ? 1000 : 100, .both = all};
    int rc;
    if ((a->val[2] && (rc = gh_parse_u64(a->val[2], "--min-size", &l.min, err))) ||
        (a->val[3] && (rc = gh_parse_u64(a->val[3], "--max-size", &l.max, err))) ||
        (a->val[4] && (rc = gh_parse_u64(a->val[4], "--limit", &l.limit, err))))
        return rc;
    regex_t re;
    if (a->val[1]) {
        if (regcomp(&re, a->val[1], REG_EXTENDED | REG_NOSUB))
            return gh_errorf(err, GH_EARG, "objects: --type: not a regular expression: \"%.80s\"", a->val[1]);
        l.re = &re;
    }
    gh_graph *g;
    if ((rc = gh_session_graph(s, &g, err))) {
        if (l.re)
            regfree(&re);
        return rc;
    }
    int live = !garbage && !pending;
    int dead = all ? GH_VIEW_GARBAGE | GH_VIEW_PENDING : garbage ? GH_VIEW_GARBAGE : pending ? GH_VIEW_PENDING : 0;
    l.g = g;
    l.s = s;
    l.unreached = g->reach_partial;
    if (!json && gh_typenames_shared(g->types, &l.sn)) {
        if (l.re)
            regfree(&re);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    gh_json j;
    if (json) {
        gh_render_begin(&j, out, s);
        gh_json_key(&j, "objects");
        gh_json_arr(&j);
        l.j = &j;
    } else {
        gh_render_coverage_text(out, s);
        gh_printf(out, "%-18s %10s  %s\n", "address", "size", "type");
    }
    gh_objects_each(g, live, dead, each, &l);
    if (json) {
        gh_json_end(&j, ']');
        gh_json_ku64(&j, "matched", l.matched);
        gh_json_ku64(&j, "matched_bytes", l.bytes);
        gh_json_ku64(&j, "shown", l.shown);
        gh_json_end(&j, '}');
    } else {
        char b[32];
        gh_printf(out, "%" PRIu64 " %s matched (%s)%s\n", l.matched,
                  all ? "objects"
                  : garbage ? (l.unreached ? "objects not reached through readable memory" : "garbage objects")
                  : pending ? "objects pending finalization" : "live objects",
                  gh_human(l.bytes, b, sizeof b),
                  l.shown < l.matched ? "; --limit N shows more" : "");
    }
    if (l.re)
        regfree(&re);
    gh_shortnames_free(&l.sn);
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document"},
    {"--type", 1, "only objects whose type name matches this regular expression (POSIX ERE)"},
    {"--min-size", 1, "only objects of at least N bytes"},
    {"--max-size", 1, "only objects of at most N bytes"},
    {"--limit", 1, "list at most N objects (text default 100, JSON 1000); all are counted"},
    {"--garbage", 0, "unreachable objects still allocated (pending finalization left out), instead of live ones"},
    {"--all", 0, "live, garbage and pending objects"},
    {"--pending", 0, "unreachable objects with a finalizer or cleanup the next GC runs (pending finalization)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_objects = {
    .name = "objects",
    .summary = "list heap objects: filter by type, size, liveness",
    .usage = "objects [--type REGEX] [--min-size N] [--max-size N] [--limit N] [--garbage|--pending|--all] [--json]",
    .opts = opts,
    .example = "objects --type '^main\\.Session$' --limit 10",
    .min_pos = 0,
    .max_pos = 0,
    .run = run,
};
