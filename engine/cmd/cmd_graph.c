/* graph ADDR: the neighbourhood of one object as a picture (Graphviz DOT)
 * or JSON: what it dominates, level by level, or who refers to it, up to
 * the roots; same-typed siblings folded into one node with a count. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "cmd/cmd.h"
#include "graph/domkeys.h"
#include "cmd/render.h"
#include "graph/paths.h"
#include "graph/retained.h"

#define MAX_DEPTH 8
#define MAX_NODES 2000 /* a picture, not the heap */

enum { K_OBJECT, K_FOLDED, K_ROOT, K_ALL_ROOTS, K_MORE };

typedef struct gnode {
    int kind;
    uint32_t node;       /* the object, root group or the largest of the folded */
    uint32_t count;      /* folded: how many */
    uint64_t rbytes, robjs;
    uint32_t level;
} gnode;

typedef struct gedge {
    uint32_t from, to;   /* gnode indexes */
    char label[96];
} gedge;

typedef struct pic {
    gh_session *s;
    gh_graph *g;
    gh_domtree *d;
    gh_domkeys k;       /* types by full name where a short one is shared (domkeys.h) */
    gnode *n;
    size_t nn, capn;
    gedge *e;
    size_t ne, cape;
    uint32_t limit;
    int referrers;
    int oom;
} pic;

static uint32_t add_node(pic *p, gnode x)
{
    if (p->nn == p->capn && gh_grow(&p->n, &p->capn, p->nn + 1, sizeof *p->n)) {
        p->oom = 1;
        return 0;
    }
    p->n[p->nn] = x;
    return (uint32_t)p->nn++;
}

static void add_edge(pic *p, uint32_t from, uint32_t to, const char *label)
{
    if (p->ne == p->cape && gh_grow(&p->e, &p->cape, p->ne + 1, sizeof *p->e)) {
        p->oom = 1;
        return;
    }
    gedge *e = &p->e[p->ne++];
    e->from = from, e->to = to;
    /* "[94].slots[0].elem" -> "[].slots[].elem": one label for folded siblings */
    size_t o = 0;
    for (const char *q = label; *q && o + 1 < sizeof e->label; q++) {
        if (*q == '[' && isdigit((unsigned char)q[1])) {
            const char *r = q + 1;
            while (isdigit((unsigned char)*r))
                r++;
            if (*r == ']') {
                if (o + 2 < sizeof e->label)
                    e->label[o++] = '[', e->label[o++] = ']';
                q = r;
                continue;
            }
        }
        e->label[o++] = *q;
    }
    e->label[o] = 0;
}

static int is_object(const gh_domtree *d, uint32_t w) { return w > GH_DOM_ROOT && !gh_dom_is_group(d, w); }

/* The field of from (an object or a root group) that points to the object to. */
static void field(const pic *p, uint32_t from, uint32_t to, char *buf, size_t cap)
{
    const gh_domtree *d = p->d;
    buf[0] = 0;
    if (!is_object(d, to))
        return;
    gh_obj c;
    if (!gh_heap_slot(p->g->h, d->vertex[to], &c))
        return;
    if (is_object(d, from)) {
        gh_graph_field_to(p->g, d->vertex[from], &c, buf, cap);
    } else if (gh_dom_is_group(d, from)) {
        uint32_t gi = d->vertex[from] & ~GH_DOM_GROUP;
        uint32_t r = p->g->parent[d->vertex[to]];
        if ((r & GH_PARENT_ROOT) && r != GH_PARENT_NONE && d->group_of[r & ~GH_PARENT_ROOT] == gi)
            gh_graph_root_field(p->g, r & ~GH_PARENT_ROOT, d->vertex[to], buf, cap);
    }
}

/* A neighbour with its type's key (GH_DOM_NONAME for the root and groups). */
typedef struct nb {
    uint32_t key, node;
} nb;

static int cmp_name_then_size(const void *a, const void *b, void *ctx)
{
    const gh_domtree *d = ctx;
    const nb *p = a, *q = b;
    uint32_t x = p->node, y = q->node;
    if (p->key != q->key)
        return p->key < q->key ? -1 : 1;
    if (p->key == GH_DOM_NONAME && x != y)
        return x < y ? -1 : 1; /* roots stay apart */
    if (d->rbytes[x] != d->rbytes[y])
        return d->rbytes[x] < d->rbytes[y] ? 1 : -1;
    return (x > y) - (x < y);
}

static int cmp_gnode(const void *a, const void *b)
{
    const gnode *x = a, *y = b;
    if (x->rbytes != y->rbytes)
        return x->rbytes < y->rbytes ? 1 : -1;
    return (x->node > y->node) - (x->node < y->node);
}

/* The neighbours of gnode i (dominated children, or referrers), folded by
 * type, the largest first, up to limit and a "more" node. */
static int expand(pic *p, uint32_t i, uint32_t level, gh_err *err)
{
    gh_domtree *d = p->d;
    uint32_t x = p->n[i].node;
    const uint32_t *list;
    uint32_t nl;
    int rc = p->referrers ? gh_dom_preds(d, p->g, x, &p->s->cancel, &list, &nl, err)
                          : gh_dom_children(d, x, &list, &nl, err);
    if (rc)
        return rc;
    nb *v = malloc((nl ? nl : 1) * sizeof *v);
    gnode *cand = malloc((nl ? nl : 1) * sizeof *cand);
    if (!v || !cand) {
        free(v), free(cand);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    for (uint32_t k = 0; k < nl; k++)
        v[k] = (nb){is_object(d, list[k]) ? gh_domkey_of(&p->k, list[k]) : GH_DOM_NONAME, list[k]};
    qsort_r(v, nl, sizeof *v, cmp_name_then_size, d);
    size_t nc = 0;
    for (uint32_t k = 0; k < nl;) {
        uint32_t w = v[k].node, j = k + 1;
        int obj = is_object(d, w);
        gnode c = {.kind = w == GH_DOM_ROOT ? K_ALL_ROOTS : obj ? K_OBJECT : K_ROOT, .node = w, .count = 1,
                   .rbytes = d->rbytes[w], .robjs = d->robjs[w], .level = level};
        for (; obj && j < nl && is_object(d, v[j].node) && v[j].key == v[k].key; j++) {
            c.kind = K_FOLDED;
            c.count++;
            c.rbytes += d->rbytes[v[j].node];
            c.robjs += d->robjs[v[j].node];
        }
        cand[nc++] = c;
        k = j;
    }
    qsort(cand, nc, sizeof *cand, cmp_gnode);
    uint64_t more = 0, more_bytes = 0;
    for (size_t k = 0; k < nc && !p->oom; k++) {
        if (k >= p->limit || p->nn >= MAX_NODES) {
            more += cand[k].count;
            more_bytes += cand[k].rbytes;
            continue;
        }
        uint32_t to = add_node(p, cand[k]);
        char f[512];
        if (p->referrers)
            field(p, cand[k].node, x, f, sizeof f);
        else
            field(p, x, cand[k].node, f, sizeof f);
        if (p->referrers)
            add_edge(p, to, i, f);
        else
            add_edge(p, i, to, f);
    }
    if (more && !p->oom) {
        uint32_t to = add_node(p, (gnode){.kind = K_MORE, .count = (uint32_t)more, .rbytes = more_bytes, .level = level});
        if (p->referrers)
            add_edge(p, to, i, "");
        else
            add_edge(p, i, to, "");
    }
    free(v), free(cand);
    return p->oom || p->k.oom ? gh_errorf(err, GH_ENOMEM, "out of memory") : GH_OK;
}

/* A node's type as text names it: in full where its short name is shared,
 * or with --full-names. */
static const char *tname(pic *p, uint32_t node)
{
    return gh_domkey_text(&p->k, p->s, gh_domkey_of(&p->k, node));
}

static void label(pic *p, const gnode *x, char *buf, size_t cap)
{
    const gh_domtree *d = p->d;
    char h[32], t[600];
    gh_human(x->rbytes, h, sizeof h);
    double pct = p->g->live_bytes ? 100.0 * (double)x->rbytes / (double)p->g->live_bytes : 0;
    switch (x->kind) {
    case K_OBJECT: {
        char s[32];
        gh_human(gh_dom_node_size(d, p->g, x->node), s, sizeof s);
        snprintf(buf, cap, "%s\n0x%" PRIx64 " (%s)\nretains %s, %.1f%%", tname(p, x->node),
                 gh_dom_node_addr(d, p->g, x->node), s, h, pct);
        break;
    }
    case K_FOLDED:
        snprintf(buf, cap, "%" PRIu32 " × %s\nretain %s, %.1f%%", x->count, tname(p, x->node), h, pct);
        break;
    case K_ROOT:
        gh_render_group_title(d, p->g->roots, d->vertex[x->node] & ~GH_DOM_GROUP, t, sizeof t);
        snprintf(buf, cap, "%s\nretains %s, %.1f%%", t, h, pct);
        break;
    case K_ALL_ROOTS:
        snprintf(buf, cap, "several roots together");
        break;
    default:
        snprintf(buf, cap, "%" PRIu32 " more\n%s", x->count, h);
    }
}

static void dot_str(gh_out *out, const char *s)
{
    gh_puts(out, "\"");
    for (; *s; s++) {
        char c[3] = {*s, 0, 0};
        if (*s == '"' || *s == '\\')
            c[0] = '\\', c[1] = *s;
        else if (*s == '\n')
            c[0] = '\\', c[1] = 'n';
        gh_puts(out, c);
    }
    gh_puts(out, "\"");
}

static void write_dot(pic *p, gh_out *out)
{
    char l[1024];
    gh_printf(out, "digraph goheap {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n"
                   "  edge [fontname=\"monospace\", fontsize=9];\n");
    for (size_t i = 0; i < p->nn; i++) {
        const gnode *x = &p->n[i];
        label(p, x, l, sizeof l);
        gh_printf(out, "  n%zu [label=", i);
        dot_str(out, l);
        gh_printf(out, "%s];\n", i == 0 ? ", style=bold" : x->kind == K_ROOT ? ", shape=ellipse"
                                  : x->kind == K_FOLDED                     ? ", style=dashed"
                                  : x->kind == K_MORE                        ? ", shape=plaintext"
                                                                             : "");
    }
    for (size_t i = 0; i < p->ne; i++) {
        gh_printf(out, "  n%u -> n%u [label=", p->e[i].from, p->e[i].to);
        dot_str(out, p->e[i].label);
        gh_printf(out, "];\n");
    }
    gh_printf(out, "}\n");
}

static void write_json(pic *p, gh_out *out)
{
    gh_json j;
    gh_render_begin(&j, out, p->s);
    gh_json_kstr(&j, "mode", p->referrers ? "referrers" : "dominators");
    gh_json_key(&j, "nodes");
    gh_json_arr(&j);
    static const char *const kinds[] = {"object", "folded", "root", "roots", "more"};
    for (size_t i = 0; i < p->nn; i++) {
        const gnode *x = &p->n[i];
        gh_json_obj(&j);
        gh_json_ku64(&j, "id", i);
        gh_json_kstr(&j, "kind", kinds[x->kind]);
        if (x->kind == K_OBJECT || x->kind == K_FOLDED) {
            gh_json_kaddr(&j, "addr", gh_dom_node_addr(p->d, p->g, x->node));
            gh_domkey_json(&j, &p->k, gh_domkey_of(&p->k, x->node));
        }
        if (x->kind == K_OBJECT)
            gh_json_ku64(&j, "size", gh_dom_node_size(p->d, p->g, x->node));
        if (x->kind == K_ROOT) {
            gh_json_key(&j, "root");
            gh_render_group_json(&j, p->d, p->g->roots, p->s->t, p->d->vertex[x->node] & ~GH_DOM_GROUP);
        }
        gh_json_ku64(&j, "count", x->count);
        gh_json_ku64(&j, "level", x->level);
        gh_json_ku64(&j, "retained_bytes", x->rbytes);
        gh_json_ku64(&j, "retained_objects", x->robjs);
        gh_json_end(&j, '}');
    }
    gh_json_end(&j, ']');
    gh_json_key(&j, "edges");
    gh_json_arr(&j);
    for (size_t i = 0; i < p->ne; i++) {
        gh_json_obj(&j);
        gh_json_ku64(&j, "from", p->e[i].from);
        gh_json_ku64(&j, "to", p->e[i].to);
        gh_json_kstr(&j, "label", p->e[i].label);
        gh_json_end(&j, '}');
    }
    gh_json_end(&j, ']');
    gh_json_end(&j, '}');
}

static void to_file(void *ctx, const char *s, size_t n) { fwrite(s, 1, n, ctx); }

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t addr, depth = 2, limit = 12;
    int rc = gh_cmd_addr(s, a->pos[0], "graph", &addr, err);
    if (rc || (a->val[0] && (rc = gh_parse_u64(a->val[0], "--depth", &depth, err))) ||
        (a->val[5] && (rc = gh_parse_u64(a->val[5], "--limit", &limit, err))))
        return rc;
    if (depth < 1 || depth > MAX_DEPTH)
        return gh_errorf(err, GH_EARG, "graph: --depth takes 1 to %d", MAX_DEPTH);
    if (limit < 1 || limit > 200)
        return gh_errorf(err, GH_EARG, "graph: --limit takes 1 to 200");
    int json = a->val[4] != NULL;
    if (a->val[2]) {
        if (!strcmp(a->val[2], "json"))
            json = 1;
        else if (strcmp(a->val[2], "dot"))
            return gh_errorf(err, GH_EARG, "graph: --format takes dot or json, not \"%.40s\"", a->val[2]);
    }
    pic p = {.s = s, .limit = (uint32_t)limit, .referrers = a->val[1] != NULL};
    if ((rc = gh_session_dominators(s, &p.g, &p.d, err)))
        return rc;
    gh_obj o;
    if (!gh_heap_find(p.g->h, addr, &o))
        return gh_errorf(err, GH_EARG, "graph: 0x%" PRIx64 " is not inside an allocated heap object (see whatis)", addr);
    uint32_t w = gh_dom_node(p.d, o.id);
    if (!w)
        return gh_errorf(err, GH_EARG, "graph: 0x%" PRIx64 " is garbage: no root reaches it", o.addr);
    if ((rc = gh_domkeys_make(&p.k, p.d, p.g, err)))
        return rc;
    add_node(&p, (gnode){.kind = K_OBJECT, .node = w, .count = 1, .rbytes = p.d->rbytes[w], .robjs = p.d->robjs[w]});
    /* Level by level: only single objects are expanded (a folded node is many). */
    size_t lo = 0;
    for (uint32_t level = 1; level <= depth && rc == GH_OK; level++) {
        size_t hi = p.nn;
        for (size_t i = lo; i < hi && rc == GH_OK && p.nn < MAX_NODES; i++)
            if (p.n[i].kind == K_OBJECT)
                rc = expand(&p, (uint32_t)i, level, err);
        lo = hi;
    }
    if (rc) {
        free(p.n), free(p.e);
        gh_domkeys_free(&p.k);
        return rc;
    }
    const char *file = a->val[3];
    FILE *f = NULL;
    if (file && !(f = fopen(file, "w"))) {
        free(p.n), free(p.e);
        gh_domkeys_free(&p.k);
        return gh_errorf(err, GH_EIO, "graph: cannot create %s", file);
    }
    gh_out fo = {to_file, f, 0};
    gh_out *dst = f ? &fo : out;
    if (json)
        write_json(&p, dst);
    else
        write_dot(&p, dst);
    if (f && fclose(f)) {
        free(p.n), free(p.e);
        gh_domkeys_free(&p.k);
        return gh_errorf(err, GH_EIO, "graph: cannot write %s", file);
    }
    if (f)
        gh_printf(out, "wrote %s: %zu nodes, %zu edges%s\n", file, p.nn, p.ne,
                  json ? "" : "; render it with: dot -Tsvg FILE > graph.svg");
    free(p.n), free(p.e);
    gh_domkeys_free(&p.k);
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--depth", 1, "levels from the object (default 2, at most 8)"},
    {"--referrers", 0, "who points to it, up to the roots, instead of what it dominates"},
    {"--format", 1, "dot (default; Graphviz) or json"},
    {"-o", 1, "write to this file instead of the output"},
    {"--json", 0, "the same as --format json"},
    {"--limit", 1, "at most N neighbours per node, the largest (default 12); the rest in one node"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_graph = {
    .name = "graph",
    .summary = "the neighbourhood of one object as a Graphviz picture: what it dominates, or who refers to it",
    .usage = "graph ADDR [--depth N] [--referrers] [--format dot|json] [-o OUT] [--limit N]",
    .opts = opts,
    .example = "graph 0xc000123450 --depth 3 -o session.dot",
    .addr_arg = 1,
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
