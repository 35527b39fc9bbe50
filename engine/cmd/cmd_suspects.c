/* suspects: a leak-suspects report in the manner of Eclipse MAT. Every
 * object, set of same-typed siblings or root group retaining at least a
 * share of the live heap, with its path from a root, its accumulation point
 * (where the many children hang) and what it retains by type. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "graph/domkeys.h"
#include "cmd/render.h"
#include "base/vec.h"
#include "graph/aggregate.h"
#include "graph/paths.h"
#include "graph/retained.h"

#define MAX_SUSPECTS 50
#define TYPES_SHOWN 10
#define DESCENT_SHARE 0.8 /* the accumulation point: where no child holds this much of its parent */

enum { S_OBJECT, S_GROUP, S_ROOT };

typedef struct suspect {
    int kind;
    uint32_t node;     /* the object, the largest of the group, or the root group */
    uint32_t parent;   /* S_GROUP: the node the siblings hang from */
    uint32_t name;     /* S_GROUP: their type (a key, domkeys.h) */
    uint64_t count, rbytes, robjs;
} suspect;

typedef struct finder {
    gh_domtree *d;
    gh_domkeys *k;     /* types by full name where a short one is shared */
    uint64_t thr;
    suspect v[MAX_SUSPECTS];
    size_t n;
    uint64_t more; /* suspects past MAX_SUSPECTS */
} finder;

/* A child with its type's key (GH_DOM_NONAME for a root group). */
typedef struct kid {
    uint32_t key, node;
} kid;

static int cmp_kid(const void *a, const void *b)
{
    const kid *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

/* The children of node, by type (same-typed siblings next to each other). */
static int sorted_kids(gh_domkeys *k, uint32_t node, kid **out, uint32_t *n, gh_err *err)
{
    const uint32_t *kids;
    uint32_t nk;
    int rc = gh_dom_children(k->d, node, &kids, &nk, err);
    if (rc)
        return rc;
    kid *v = malloc((nk ? nk : 1) * sizeof *v);
    if (!v)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < nk; i++)
        v[i] = (kid){gh_domkey_of(k, kids[i]), kids[i]};
    if (k->oom) {
        free(v);
        return gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    }
    qsort(v, nk, sizeof *v, cmp_kid);
    *out = v;
    *n = nk;
    return GH_OK;
}

static void add(finder *f, suspect s)
{
    if (f->n < MAX_SUSPECTS)
        f->v[f->n++] = s;
    else
        f->more++;
}

/* The suspects below node (the root or a root group): children over the
 * threshold, same-typed siblings together over it, root groups searched in
 * turn. Returns how many were found. */
static int search(finder *f, uint32_t node, size_t *found, gh_err *err)
{
    gh_domtree *d = f->d;
    kid *k;
    uint32_t nk;
    int rc = sorted_kids(f->k, node, &k, &nk, err);
    if (rc)
        return rc;
    *found = 0;
    for (uint32_t i = 0; i < nk && rc == GH_OK;) {
        uint32_t c = k[i].node;
        if (gh_dom_is_group(d, c)) {
            i++;
            if (d->rbytes[c] < f->thr)
                continue;
            size_t below = 0;
            if ((rc = search(f, c, &below, err)))
                break;
            if (!below)
                add(f, (suspect){S_ROOT, c, node, GH_DOM_NONAME, 1, d->rbytes[c], d->robjs[c]});
            *found += below ? below : 1;
            continue;
        }
        /* a run of one type */
        uint32_t name = k[i].key, j = i, big = c;
        uint64_t under = 0, ubytes = 0, uobjs = 0;
        for (; j < nk && !gh_dom_is_group(d, k[j].node) && k[j].key == name; j++) {
            uint32_t x = k[j].node;
            if (d->rbytes[x] >= f->thr) {
                add(f, (suspect){S_OBJECT, x, node, name, 1, d->rbytes[x], d->robjs[x]});
                (*found)++;
            } else {
                under++, ubytes += d->rbytes[x], uobjs += d->robjs[x];
                if (d->rbytes[x] > d->rbytes[big] || d->rbytes[big] >= f->thr)
                    big = x;
            }
        }
        if (under > 1 && ubytes >= f->thr) {
            add(f, (suspect){S_GROUP, big, node, name, under, ubytes, uobjs});
            (*found)++;
        }
        i = j;
    }
    free(k);
    return rc;
}

static int cmp_suspect(const void *a, const void *b)
{
    const suspect *x = a, *y = b;
    if (x->rbytes != y->rbytes)
        return x->rbytes < y->rbytes ? 1 : -1;
    return (x->node > y->node) - (x->node < y->node);
}

/* Where the memory accumulates below an object: down the largest child while
 * it holds most of its parent and is not of the parent's type (a list or a
 * tree is its own accumulation point); a map's internals climb back to the
 * map. */
static uint32_t accumulation(gh_domkeys *k, uint32_t x, gh_err *err)
{
    gh_domtree *d = k->d;
    uint32_t y = x;
    for (int steps = 0; steps < 100000; steps++) {
        const uint32_t *kids;
        uint32_t nk, big = 0;
        if (gh_dom_children(d, y, &kids, &nk, err))
            break;
        for (uint32_t i = 0; i < nk; i++)
            if (!big || d->rbytes[kids[i]] > d->rbytes[big])
                big = kids[i];
        if (!big || (double)d->rbytes[big] < DESCENT_SHARE * (double)d->rbytes[y] ||
            gh_domkey_of(k, big) == gh_domkey_of(k, y))
            break;
        y = big;
    }
    while (y != x && gh_is_map_internal(gh_dom_node_name(d, y)) && gh_is_map_internal(gh_dom_node_name(d, d->idom[y])))
        y = d->idom[y];
    return y;
}

/* The largest run of same-typed children of y: its type, count, bytes. */
static void biggest_children(gh_domkeys *k, uint32_t y, uint32_t *name, uint64_t *count, uint64_t *bytes)
{
    gh_domtree *d = k->d;
    kid *v;
    uint32_t nk;
    gh_err e;
    *name = GH_DOM_NONAME, *count = 0, *bytes = 0;
    if (sorted_kids(k, y, &v, &nk, &e))
        return;
    for (uint32_t i = 0; i < nk;) {
        uint32_t nm = v[i].key, j = i;
        uint64_t c = 0, b = 0;
        for (; j < nk && v[j].key == nm; j++)
            c++, b += d->rbytes[v[j].node];
        if (nm != GH_DOM_NONAME && b > *bytes)
            *name = nm, *count = c, *bytes = b;
        i = j;
    }
    free(v);
}

/* What hangs in a map: below its internals (buckets, tables, groups), the
 * first objects that are not map machinery, by type; the type retaining
 * most, with its count and retained bytes. */
static void map_entries(gh_domkeys *k, uint32_t map, uint32_t *name, uint64_t *count, uint64_t *bytes)
{
    gh_domtree *d = k->d;
    GH_VEC(kid) hang = {0};
    uint32_t *stack = NULL;
    size_t cap = 0, top = 0;
    gh_err e;
    *name = GH_DOM_NONAME, *count = 0, *bytes = 0;
    if (gh_grow(&stack, &cap, 1, sizeof *stack))
        goto done;
    stack[top++] = map;
    while (top) {
        uint32_t x = stack[--top];
        const uint32_t *kids;
        uint32_t nk;
        if (gh_dom_children(d, x, &kids, &nk, &e))
            goto done;
        for (uint32_t i = 0; i < nk; i++) {
            uint32_t c = kids[i], nm = gh_domkey_of(k, c);
            if (nm == GH_DOM_NONAME)
                continue;
            if (gh_is_map_internal(gh_domkey_name(k, nm))) {
                if (top == cap && gh_grow(&stack, &cap, top + 1, sizeof *stack))
                    goto done;
                stack[top++] = c;
            } else if (GH_VEC_PUSH(&hang, ((kid){nm, c}))) {
                goto done;
            }
        }
    }
    if (hang.n)
        qsort(hang.v, hang.n, sizeof *hang.v, cmp_kid);
    for (size_t i = 0, j; i < hang.n; i = j) {
        uint64_t c = 0, b = 0;
        for (j = i; j < hang.n && hang.v[j].key == hang.v[i].key; j++)
            c++, b += d->rbytes[hang.v[j].node];
        if (b > *bytes)
            *name = hang.v[i].key, *count = c, *bytes = b;
    }
done:
    free(hang.v), free(stack);
}

/* The type histogram of a suspect: one object's, or the sum over the group. */
static int histogram(gh_session *s, gh_domkeys *k, const suspect *sp, uint64_t thr, gh_dom_hist **out, size_t *nout,
                     gh_err *err)
{
    gh_domtree *d = k->d;
    if (sp->kind != S_GROUP)
        return gh_domkeys_histogram(k, &sp->node, 1, &s->cancel, out, nout, err);
    kid *v;
    uint32_t nk, nm = 0;
    int rc = sorted_kids(k, sp->parent, &v, &nk, err);
    if (rc)
        return rc;
    uint32_t *members = malloc((nk ? nk : 1) * sizeof *members);
    if (!members) {
        free(v);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < nk; i++) /* the group (those over thr are suspects of their own) */
        if (!gh_dom_is_group(d, v[i].node) && v[i].key == sp->name && d->rbytes[v[i].node] < thr)
            members[nm++] = v[i].node;
    rc = gh_domkeys_histogram(k, members, nm, &s->cancel, out, nout, err);
    free(v), free(members);
    return rc;
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    int json = a->val[0] != NULL;
    double minpct = 10;
    int rc;
    if (a->val[1] && (rc = gh_parse_percent(a->val[1], "--min-percent", &minpct, err)))
        return rc;
    gh_graph *g;
    gh_domtree *d;
    gh_domkeys keys;
    if ((rc = gh_session_dominators(s, &g, &d, err)) || (rc = gh_domkeys_make(&keys, d, g, err)))
        return rc;
    finder f = {.d = d, .k = &keys, .thr = (uint64_t)((double)g->live_bytes * minpct / 100.0)};
    if (f.thr == 0)
        f.thr = 1;
    size_t found;
    if ((rc = search(&f, GH_DOM_ROOT, &found, err))) {
        gh_domkeys_free(&keys);
        return rc;
    }
    qsort(f.v, f.n, sizeof *f.v, cmp_suspect);
    gh_json j;
    char b1[64], b2[32];
    if (json) {
        gh_render_begin(&j, out, s);
        gh_json_kdouble(&j, "threshold_percent", minpct);
        gh_json_ku64(&j, "live_bytes", g->live_bytes);
        gh_json_ku64(&j, "live_objects", g->live_objects);
        gh_json_key(&j, "suspects");
        gh_json_arr(&j);
    } else {
        gh_printf(out, "live: %" PRIu64 " objects, %s. Suspects retain at least %.1f%% of it (%s).\n",
                  g->live_objects, gh_human(g->live_bytes, b1, sizeof b1), minpct, gh_human(f.thr, b2, sizeof b2));
        if (!f.n)
            gh_printf(out, "\nNo object, set of same-typed objects or root retains that much: the memory is spread "
                           "out (see %stop and %sdominators).\n", a->prefix, a->prefix);
    }
    for (size_t i = 0; i < f.n && rc == GH_OK; i++) {
        const suspect *sp = &f.v[i];
        uint32_t w = sp->node;
        double pct = g->live_bytes ? 100.0 * (double)sp->rbytes / (double)g->live_bytes : 0;
        gh_gpath *paths = NULL;
        size_t np = 0;
        uint32_t acc = 0, cname = GH_DOM_NONAME;
        uint64_t ccount = 0, cbytes = 0;
        gh_dom_hist *h = NULL;
        size_t nh = 0;
        if ((rc = histogram(s, &keys, sp, f.thr, &h, &nh, err)))
            break;
        if (sp->kind != S_ROOT) {
            if ((rc = gh_graph_paths(g, d->vertex[w], 1, &s->cancel, &paths, &np, err))) {
                free(h);
                break;
            }
            acc = sp->kind == S_OBJECT ? accumulation(&keys, w, err) : sp->parent;
            biggest_children(&keys, acc, &cname, &ccount, &cbytes);
            if (acc > GH_DOM_ROOT && !gh_dom_is_group(d, acc) && gh_is_map_internal(gh_dom_node_name(d, acc)))
                map_entries(&keys, acc, &cname, &ccount, &cbytes);
        }
        const char *kind = sp->kind == S_OBJECT ? "object" : sp->kind == S_GROUP ? "group" : "root";
        if (json) {
            gh_json_obj(&j);
            gh_json_kstr(&j, "kind", kind);
            if (sp->kind == S_ROOT) {
                gh_json_key(&j, "root");
                gh_render_group_json(&j, d, g->roots, s->t, d->vertex[w] & ~GH_DOM_GROUP);
            } else {
                gh_json_kaddr(&j, "addr", gh_dom_node_addr(d, g, w));
                gh_domkey_json(&j, &keys, sp->name);
            }
            gh_json_ku64(&j, "count", sp->count);
            gh_json_ku64(&j, "retained_bytes", sp->rbytes);
            gh_json_ku64(&j, "retained_objects", sp->robjs);
            gh_json_kdouble(&j, "percent", pct);
            if (np) {
                gh_json_key(&j, "path");
                gh_render_path_json(&j, s, g, &paths[0], NULL);
            }
            if (acc) {
                gh_json_key(&j, "accumulation");
                gh_json_obj(&j);
                if (gh_dom_is_group(d, acc) || acc == GH_DOM_ROOT) {
                    if (acc != GH_DOM_ROOT) {
                        gh_json_key(&j, "root");
                        gh_render_group_json(&j, d, g->roots, s->t, d->vertex[acc] & ~GH_DOM_GROUP);
                    }
                } else {
                    gh_json_kaddr(&j, "addr", gh_dom_node_addr(d, g, acc));
                    gh_domkey_json(&j, &keys, gh_domkey_of(&keys, acc));
                }
                gh_json_ku64(&j, "retained_bytes", d->rbytes[acc]);
                if (cname != GH_DOM_NONAME) {
                    gh_json_kstr(&j, "children_type", gh_domkey_name(&keys, cname));
                    gh_json_kstr(&j, "children_full_type", gh_domkey_full(&keys, cname));
                    gh_json_ku64(&j, "children_count", ccount);
                    gh_json_ku64(&j, "children_bytes", cbytes);
                }
                gh_json_end(&j, '}');
            }
            gh_json_key(&j, "types");
            gh_json_arr(&j);
            for (size_t k = 0; k < nh && k < TYPES_SHOWN; k++) {
                gh_json_obj(&j);
                gh_domkey_json(&j, &keys, h[k].name_index);
                gh_json_ku64(&j, "count", h[k].count);
                gh_json_ku64(&j, "bytes", h[k].bytes);
                gh_json_end(&j, '}');
            }
            gh_json_end(&j, ']');
            gh_json_end(&j, '}');
        } else {
            gh_human(sp->rbytes, b2, sizeof b2);
            gh_printf(out, "\nSuspect %zu: ", i + 1);
            if (sp->kind == S_OBJECT) {
                gh_printf(out, "one %s at 0x%" PRIx64 " retains %s (%.1f%%) in %" PRIu64 " objects.\n",
                          gh_domkey_text(&keys, s, sp->name), gh_dom_node_addr(d, g, w), b2, pct, sp->robjs);
            } else if (sp->kind == S_GROUP) {
                char title[600] = "";
                if (gh_dom_is_group(d, sp->parent))
                    gh_render_group_title(d, g->roots, d->vertex[sp->parent] & ~GH_DOM_GROUP, title, sizeof title);
                else if (sp->parent != GH_DOM_ROOT)
                    snprintf(title, sizeof title, "0x%" PRIx64 " %s", gh_dom_node_addr(d, g, sp->parent),
                             gh_domkey_text(&keys, s, gh_domkey_of(&keys, sp->parent)));
                gh_printf(out, "%" PRIu64 " instances of %s%s%s together retain %s (%.1f%%) in %" PRIu64 " objects.\n",
                          sp->count, gh_domkey_text(&keys, s, sp->name), title[0] ? ", held by " : "", title, b2, pct,
                          sp->robjs);
            } else {
                char title[600];
                gh_render_group_title(d, g->roots, d->vertex[w] & ~GH_DOM_GROUP, title, sizeof title);
                gh_printf(out, "%s retains %s (%.1f%%) in %" PRIu64 " objects, none of which retains %.1f%% alone.\n",
                          title, b2, pct, sp->robjs, minpct);
            }
            if (np) {
                gh_printf(out, "  Path%s:\n", sp->kind == S_GROUP ? " (of the largest)" : "");
                gh_render_path_text(out, g, &paths[0], d, "    ", s->full_names ? GH_PATH_FULLNAMES : 0);
            }
            if (acc > GH_DOM_ROOT && !gh_dom_is_group(d, acc) && (acc != w || ccount > 1))
                gh_printf(out, "  Accumulation point: %s0x%" PRIx64 " %s (retains %s)\n", acc == w ? "itself, " : "",
                          gh_dom_node_addr(d, g, acc), gh_domkey_text(&keys, s, gh_domkey_of(&keys, acc)),
                          gh_render_share(d, g, acc, b1, sizeof b1));
            else if (acc && acc != w && sp->kind == S_GROUP)
                gh_printf(out, "  Held by: %s\n", acc == GH_DOM_ROOT ? "several roots together" : "the root itself");
            if (acc && cname != GH_DOM_NONAME && ccount > 1)
                gh_printf(out, "  Holding %" PRIu64 " × %s (%s).\n", ccount, gh_domkey_text(&keys, s, cname),
                          gh_human(cbytes, b2, sizeof b2));
            gh_printf(out, "  Retained by type:\n    %12s %10s  %s\n", "count", "size", "type");
            for (size_t k = 0; k < nh && k < TYPES_SHOWN; k++)
                gh_printf(out, "    %12" PRIu64 " %10s  %s\n", h[k].count, gh_human(h[k].bytes, b2, sizeof b2),
                          gh_domkey_text(&keys, s, h[k].name_index));
            if (nh > TYPES_SHOWN)
                gh_printf(out, "    (%zu more types)\n", nh - TYPES_SHOWN);
        }
        free(h);
        gh_gpaths_free(paths, np);
    }
    if (rc == GH_OK && keys.oom)
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    gh_domkeys_free(&keys);
    if (rc)
        return rc;
    if (json) {
        gh_json_end(&j, ']');
        gh_json_ku64(&j, "more", f.more);
        gh_json_end(&j, '}');
    } else if (f.more) {
        gh_printf(out, "\n(%" PRIu64 " more suspects; raise --min-percent)\n", f.more);
    }
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document"},
    {"--min-percent", 1, "report what retains at least P% of the live heap (default 10)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_suspects = {
    .name = "suspects",
    .summary = "leak suspects: what retains a large share of the heap, and where it accumulates",
    .usage = "suspects [--min-percent P] [--json]",
    .opts = opts,
    .example = "suspects --min-percent 5",
    .min_pos = 0,
    .max_pos = 0,
    .run = run,
};
