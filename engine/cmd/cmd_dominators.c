/* dominators [ADDR]: the dominator tree, from the virtual root or below one
 * object, with same-typed siblings folded into one line. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "graph/domkeys.h"
#include "cmd/render.h"
#include "graph/paths.h"
#include "graph/retained.h"

#define MAX_DEPTH 64

typedef struct entry {
    uint32_t node;     /* the first (largest) node of the entry */
    uint32_t name;     /* type key (domkeys.h); GH_DOM_NONAME for a group */
    uint64_t count, rbytes, robjs;
} entry;

typedef struct view {
    gh_session *s;
    gh_graph *g;
    gh_domtree *d;
    gh_out *out;
    gh_json *j;
    uint32_t depth, limit;
    double minpct;
    gh_domkeys *k; /* types by full name where a short one is shared: folded apart, named in full */
} view;

/* Text's name of node x (in full where its short name is shared, or with
 * --full-names), and JSON's full_type of it. */
static const char *node_tname(const view *v, uint32_t x)
{
    return gh_domkey_text(v->k, v->s, gh_domkey_of(v->k, x));
}

static void node_full_json(const view *v, uint32_t x)
{
    gh_json_kstr(v->j, "full_type", gh_domkey_full(v->k, gh_domkey_of(v->k, x)));
}

static double pct(const view *v, uint64_t b)
{
    return v->g->live_bytes ? 100.0 * (double)b / (double)v->g->live_bytes : 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->rbytes != y->rbytes)
        return x->rbytes < y->rbytes ? 1 : -1;
    return (x->node > y->node) - (x->node < y->node);
}

/* Children by type key, then the largest first. */
static int cmp_by_name(const void *a, const void *b, void *ctx)
{
    const gh_domtree *d = ctx;
    const entry *p = a, *q = b;
    uint32_t x = p->node, y = q->node;
    if (p->name != q->name)
        return p->name < q->name ? -1 : 1;
    if (d->rbytes[x] != d->rbytes[y])
        return d->rbytes[x] < d->rbytes[y] ? 1 : -1;
    return (x > y) - (x < y);
}

/* The field through which a node hangs from its dominator, when the
 * dominator points to it itself ("" otherwise). */
static void field_of(const view *v, uint32_t node, char *buf, size_t cap)
{
    const gh_domtree *d = v->d;
    buf[0] = 0;
    if (gh_dom_is_group(d, node) || node <= GH_DOM_ROOT)
        return;
    uint32_t p = d->idom[node], slot = d->vertex[node];
    if (p > GH_DOM_ROOT && !gh_dom_is_group(d, p)) {
        gh_obj c;
        if (gh_heap_slot(v->g->h, slot, &c))
            gh_graph_field_to(v->g, d->vertex[p], &c, buf, cap);
    } else if (gh_dom_is_group(d, p)) {
        uint32_t r = v->g->parent[slot];
        if ((r & GH_PARENT_ROOT) && r != GH_PARENT_NONE && d->group_of[r & ~GH_PARENT_ROOT] == (d->vertex[p] & ~GH_DOM_GROUP))
            gh_graph_root_field(v->g, r & ~GH_PARENT_ROOT, slot, buf, cap);
    }
}

static void node_head(const view *v, uint32_t node, uint32_t level)
{
    const gh_domtree *d = v->d;
    char share[64], field[512];
    if (v->j) {
        if (node == GH_DOM_ROOT) {
            gh_json_kstr(v->j, "root", "all roots");
        } else if (gh_dom_is_group(d, node)) {
            gh_json_key(v->j, "root");
            gh_render_group_json(v->j, d, v->g->roots, v->s->t, d->vertex[node] & ~GH_DOM_GROUP);
        } else {
            gh_json_kaddr(v->j, "addr", gh_dom_node_addr(d, v->g, node));
            gh_json_kstr(v->j, "type", gh_dom_node_name(d, node));
            node_full_json(v, node);
            gh_json_ku64(v->j, "size", gh_dom_node_size(d, v->g, node));
            field_of(v, node, field, sizeof field);
            if (field[0])
                gh_json_kstr(v->j, "field", field);
        }
        gh_render_retained_json(v->j, d, v->g, node);
        return;
    }
    gh_render_share(d, v->g, node, share, sizeof share);
    gh_printf(v->out, "%*s", (int)(2 * level), "");
    if (node == GH_DOM_ROOT) {
        gh_printf(v->out, "all roots: %s in %" PRIu32 " objects\n", share, d->robjs[node]);
    } else if (gh_dom_is_group(d, node)) {
        char title[600];
        gh_render_group_title(d, v->g->roots, d->vertex[node] & ~GH_DOM_GROUP, title, sizeof title);
        gh_printf(v->out, "%s: %s\n", title, share);
    } else {
        field_of(v, node, field, sizeof field);
        gh_printf(v->out, "%s%s0x%" PRIx64 " %s: %s\n", field, field[0] ? " " : "", gh_dom_node_addr(d, v->g, node),
                  node_tname(v, node), share);
    }
}

static int show(const view *v, uint32_t node, uint32_t level, gh_err *err);

static int children(const view *v, uint32_t node, uint32_t level, gh_err *err)
{
    gh_domtree *d = v->d;
    const uint32_t *kids;
    uint32_t nk;
    int rc = gh_dom_children(d, node, &kids, &nk, err);
    if (rc)
        return rc;
    entry *sorted = malloc((nk ? nk : 1) * sizeof *sorted);
    entry *e = malloc((nk ? nk : 1) * sizeof *e);
    if (!sorted || !e) {
        free(sorted), free(e);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < nk; i++)
        sorted[i] = (entry){kids[i], gh_domkey_of(v->k, kids[i]), 0, 0, 0};
    if (v->k->oom) {
        free(sorted), free(e);
        return gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    }
    qsort_r(sorted, nk, sizeof *sorted, cmp_by_name, d);
    size_t ne = 0;
    for (uint32_t i = 0; i < nk; i++) {
        uint32_t c = sorted[i].node, name = sorted[i].name;
        if (ne && name != GH_DOM_NONAME && e[ne - 1].name == name) {
            e[ne - 1].count++;
            e[ne - 1].rbytes += d->rbytes[c];
            e[ne - 1].robjs += d->robjs[c];
            continue;
        }
        e[ne++] = (entry){c, name, 1, d->rbytes[c], d->robjs[c]};
    }
    free(sorted);
    qsort(e, ne, sizeof *e, cmp_entry);
    uint64_t rest_bytes = 0, rest_n = 0;
    uint32_t shown = 0;
    if (v->j) {
        gh_json_key(v->j, "children");
        gh_json_arr(v->j);
    }
    for (size_t i = 0; i < ne && rc == GH_OK; i++) {
        if (shown >= v->limit || pct(v, e[i].rbytes) < v->minpct) {
            rest_bytes += e[i].rbytes;
            rest_n += e[i].count;
            continue;
        }
        shown++;
        if (e[i].count == 1) {
            rc = show(v, e[i].node, level, err);
            continue;
        }
        const char *name = node_tname(v, e[i].node);
        if (v->j) {
            gh_json_obj(v->j);
            gh_json_kbool(v->j, "group", 1);
            gh_domkey_json(v->j, v->k, e[i].name);
            gh_json_ku64(v->j, "count", e[i].count);
            gh_json_ku64(v->j, "retained_bytes", e[i].rbytes);
            gh_json_ku64(v->j, "retained_objects", e[i].robjs);
            gh_json_kdouble(v->j, "percent", pct(v, e[i].rbytes));
            gh_json_end(v->j, '}');
        } else {
            char h[32];
            gh_printf(v->out, "%*s%" PRIu64 " × %s: %s, %.1f%% (largest 0x%" PRIx64 ")\n", (int)(2 * level), "",
                      e[i].count, name, gh_human(e[i].rbytes, h, sizeof h), pct(v, e[i].rbytes),
                      gh_dom_node_addr(d, v->g, e[i].node));
        }
    }
    if (v->j) {
        gh_json_end(v->j, ']');
        if (rest_n) {
            gh_json_ku64(v->j, "more_objects", rest_n);
            gh_json_ku64(v->j, "more_bytes", rest_bytes);
        }
    } else if (rest_n) {
        char h[32];
        gh_printf(v->out, "%*s... %" PRIu64 " more, retaining %s\n", (int)(2 * level), "", rest_n,
                  gh_human(rest_bytes, h, sizeof h));
    }
    free(e);
    return rc;
}

static int show(const view *v, uint32_t node, uint32_t level, gh_err *err)
{
    if (v->j)
        gh_json_obj(v->j);
    node_head(v, node, level);
    int rc = GH_OK;
    if (level < v->depth)
        rc = children(v, node, level + 1, err);
    if (v->j)
        gh_json_end(v->j, '}');
    return rc;
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    int json = a->val[0] != NULL;
    uint64_t depth = 3, limit = 10, addr = 0;
    double minpct = 1;
    int rc;
    if ((a->val[1] && (rc = gh_parse_u64(a->val[1], "--depth", &depth, err))) ||
        (a->val[2] && (rc = gh_parse_percent(a->val[2], "--min-percent", &minpct, err))) ||
        (a->val[3] && (rc = gh_parse_u64(a->val[3], "--limit", &limit, err))) ||
        (a->npos && (rc = gh_cmd_addr(s, a->pos[0], "dominators", &addr, err))))
        return rc;
    if (depth > MAX_DEPTH)
        return gh_errorf(err, GH_EARG, "dominators: --depth takes 0 to %d", MAX_DEPTH);
    if (limit < 1 || limit > 100000)
        return gh_errorf(err, GH_EARG, "dominators: --limit takes 1 to 100000");
    gh_graph *g;
    gh_domtree *d;
    if ((rc = gh_session_dominators(s, &g, &d, err)))
        return rc;
    uint32_t node = GH_DOM_ROOT;
    if (a->npos) {
        gh_obj o;
        if (!gh_heap_find(g->h, addr, &o))
            return gh_errorf(err, GH_EARG,
                             "dominators: 0x%" PRIx64 " is not inside an allocated heap object (see whatis)", addr);
        node = gh_dom_node(d, o.id);
        if (!node)
            return gh_errorf(err, GH_EARG, "dominators: 0x%" PRIx64 " is garbage: no root reaches it", o.addr);
    }
    gh_json j;
    gh_domkeys keys;
    if ((rc = gh_domkeys_make(&keys, d, g, err)))
        return rc;
    view v = {s, g, d, out, json ? &j : NULL, (uint32_t)depth, (uint32_t)limit, minpct, &keys};
    if (json) {
        gh_render_begin(&j, out, s);
        gh_json_key(&j, "node");
    } else if (node != GH_DOM_ROOT) {
        /* Where the object hangs: its chain of dominators up to a root. */
        uint32_t x = d->idom[node];
        char title[600];
        gh_printf(out, "dominated by:");
        for (int k = 0; x > GH_DOM_ROOT && k < 8; k++, x = d->idom[x]) {
            if (gh_dom_is_group(d, x)) {
                gh_render_group_title(d, g->roots, d->vertex[x] & ~GH_DOM_GROUP, title, sizeof title);
                gh_printf(out, " %s", title);
            } else {
                gh_printf(out, " 0x%" PRIx64 " %s <-", gh_dom_node_addr(d, g, x), node_tname(&v, x));
            }
        }
        gh_printf(out, "%s\n", x > GH_DOM_ROOT ? " ..." : "");
    }
    rc = show(&v, node, 0, err);
    gh_domkeys_free(&keys);
    if (json && !rc)
        gh_json_end(&j, '}');
    return rc;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document"},
    {"--depth", 1, "levels below the start (default 3)"},
    {"--min-percent", 1, "hide children retaining under P% of the live heap (default 1)"},
    {"--limit", 1, "at most N lines under each node (default 10)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_dominators = {
    .name = "dominators",
    .summary = "the dominator tree: what holds the memory, from the roots down",
    .usage = "dominators [ADDR] [--depth N] [--min-percent P] [--limit N] [--json]",
    .opts = opts,
    .example = "dominators --depth 4 --min-percent 5",
    .addr_arg = 1,
    .min_pos = 0,
    .max_pos = 1,
    .run = run,
};
