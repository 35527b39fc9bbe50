/* diff OTHER_CORE: how the heap changed from this core to another of the
 * same program: per-type deltas of count, bytes and retained bytes, types
 * that appeared or vanished, the roots whose retained size grew, and the
 * biggest retainers of the other core against the same object here. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "binary/exe.h"
#include "cmd/cmd.h"
#include "graph/domkeys.h"
#include "cmd/render.h"
#include "graph/retained.h"

typedef struct side {
    gh_graph *g;
    gh_domtree *d;
    gh_domkeys k;  /* types by full name where a short one is shared (domkeys.h) */
} side;

/* A type of either side, by full name: two packages of one name are two
 * rows, and a type is matched across the cores by its import path. */
typedef struct trow {
    const char *name, *full; /* reflect's short name (JSON type), the full one (full_type) */
    const char *show;        /* as text names it */
    uint64_t count[2], bytes[2], retained[2];
    int exact[2];
} trow;

typedef struct rrow {
    char title[300];
    uint64_t retained[2];
} rrow;

static int load(gh_session *s, side *x, gh_err *err)
{
    int rc = gh_session_dominators(s, &x->g, &x->d, err);
    if (rc || (rc = gh_domkeys_make(&x->k, x->d, x->g, err)))
        return rc;
    return gh_domkeys_types(&x->k, 1, &s->cancel, err);
}

static int cmp_trow(const void *a, const void *b)
{
    const trow *x = a, *y = b;
    int64_t dx = (int64_t)(x->bytes[1] - x->bytes[0]), dy = (int64_t)(y->bytes[1] - y->bytes[0]);
    if (dx != dy)
        return dx < dy ? 1 : -1;
    return strcmp(x->full, y->full);
}

static int cmp_rrow(const void *a, const void *b)
{
    const rrow *x = a, *y = b;
    int64_t dx = (int64_t)(x->retained[1] - x->retained[0]), dy = (int64_t)(y->retained[1] - y->retained[0]);
    if (dx != dy)
        return dx < dy ? 1 : -1;
    return strcmp(x->title, y->title);
}

static int cmp_title(const void *a, const void *b) { return strcmp(((const rrow *)a)->title, ((const rrow *)b)->title); }

/* One side's types (keys with live objects), by full name. */
typedef struct tkey {
    const char *full;
    uint32_t key;
} tkey;

static int cmp_tkey(const void *a, const void *b) { return strcmp(((const tkey *)a)->full, ((const tkey *)b)->full); }

static int side_keys(const gh_domkeys *k, tkey **out, size_t *n, gh_err *err)
{
    tkey *v = malloc(((size_t)k->n + 1) * sizeof *v);
    if (!v)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    size_t m = 0;
    for (uint32_t key = 0; key < k->n; key++)
        if (k->types[key].count)
            v[m++] = (tkey){gh_domkey_full(k, key), key};
    qsort(v, m, sizeof *v, cmp_tkey);
    *out = v;
    *n = m;
    return GH_OK;
}

/* Every type of either side, by full name: both sides sorted, one merge.
 * Text names a row in full where its short name is shared on either side
 * (or with --full-names). */
static int type_rows(const gh_session *s, side *sd, trow **out, size_t *n, gh_err *err)
{
    tkey *kv[2] = {NULL, NULL};
    size_t nk[2] = {0, 0};
    int rc = side_keys(&sd[0].k, &kv[0], &nk[0], err);
    if (rc || (rc = side_keys(&sd[1].k, &kv[1], &nk[1], err))) {
        free(kv[0]);
        return rc;
    }
    size_t na = nk[0], nb = nk[1], i = 0, j = 0, k = 0;
    trow *r = calloc(na + nb + 1, sizeof *r);
    if (!r) {
        free(kv[0]), free(kv[1]);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    while (i < na || j < nb) {
        const tkey *a = i < na ? &kv[0][i] : NULL, *b = j < nb ? &kv[1][j] : NULL;
        int c = !a ? 1 : !b ? -1 : strcmp(a->full, b->full);
        trow *t = &r[k++];
        const gh_domkeys *ks = c <= 0 ? &sd[0].k : &sd[1].k;
        uint32_t key = c <= 0 ? a->key : b->key;
        t->name = gh_domkey_name(ks, key);
        t->full = gh_domkey_full(ks, key);
        t->show = s->full_names || gh_shortnames_holds(&sd[0].k.sn, t->name) ||
                          gh_shortnames_holds(&sd[1].k.sn, t->name)
                      ? t->full
                      : t->name;
        for (int side_ = 0; side_ < 2; side_++) {
            const tkey *x = side_ == 0 ? (c <= 0 ? a : NULL) : (c >= 0 ? b : NULL);
            if (!x)
                continue;
            const gh_domkey_type *y = &sd[side_].k.types[x->key];
            t->count[side_] = y->count;
            t->bytes[side_] = y->bytes;
            t->retained[side_] = y->rbytes;
            t->exact[side_] = y->exact;
        }
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
    }
    free(kv[0]), free(kv[1]);
    qsort(r, k, sizeof *r, cmp_trow);
    *out = r;
    *n = k;
    return GH_OK;
}

/* Root groups by title on both sides, merged. */
static int root_rows(side *sd, rrow **out, size_t *n, gh_err *err)
{
    rrow *r[2] = {NULL, NULL};
    size_t nr[2] = {0, 0};
    for (int x = 0; x < 2; x++) {
        const gh_domtree *d = sd[x].d;
        r[x] = calloc(d->ngroups + 1, sizeof *r[x]);
        if (!r[x]) {
            free(r[0]);
            return gh_errorf(err, GH_ENOMEM, "out of memory");
        }
        for (uint32_t gi = 0; gi < d->ngroups; gi++) {
            uint32_t w = d->gnum[gi];
            rrow *q = &r[x][nr[x]++];
            gh_render_group_title(d, sd[x].g->roots, gi, q->title, sizeof q->title);
            q->retained[x] = w ? d->rbytes[w] : 0;
        }
        qsort(r[x], nr[x], sizeof *r[x], cmp_title);
    }
    rrow *m = calloc(nr[0] + nr[1] + 1, sizeof *m);
    if (!m) {
        free(r[0]), free(r[1]);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    size_t i = 0, j = 0, k = 0;
    while (i < nr[0] || j < nr[1]) {
        int c = i == nr[0] ? 1 : j == nr[1] ? -1 : strcmp(r[0][i].title, r[1][j].title);
        rrow *q = &m[k];
        if (c <= 0)
            *q = r[0][i];
        else
            *q = r[1][j];
        if (c >= 0)
            q->retained[1] = r[1][j].retained[1];
        if (c > 0)
            q->retained[0] = 0;
        /* the same title twice on one side (two unnamed roots): summed */
        if (k && !strcmp(m[k - 1].title, q->title)) {
            m[k - 1].retained[0] += q->retained[0];
            m[k - 1].retained[1] += q->retained[1];
        } else {
            k++;
        }
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
    }
    free(r[0]), free(r[1]);
    qsort(m, k, sizeof *m, cmp_rrow);
    *out = m;
    *n = k;
    return GH_OK;
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    int json = a->val[0] != NULL;
    uint64_t top = 20;
    int rc;
    if (a->val[2] && (rc = gh_parse_u64(a->val[2], "--top", &top, err)))
        return rc;
    /* The other core, with the given executable or this session's. */
    const char *exe = a->val[1] ? a->val[1] : gh_exe_path(s->exe);
    gh_target *t;
    gh_session *o = NULL;
    char desc[600];
    snprintf(desc, sizeof desc, "core %s", a->pos[0]);
    gh_err e2;
    if (gh_core_open(a->pos[0], exe, &t, &e2) || gh_session_open(t, exe, desc, &o, &e2))
        return gh_errorf(err, e2.code ? e2.code : GH_EIO, "diff: %s: %s", a->pos[0], e2.msg);
    o->cancel = s->cancel; /* the same interrupt and progress */
    o->index_mode = s->index_mode;
    snprintf(o->index_dir, sizeof o->index_dir, "%s", s->index_dir);
    side sd[2];
    memset(sd, 0, sizeof sd);
    trow *types = NULL;
    rrow *roots = NULL;
    size_t nt = 0, nroot = 0;
    if ((rc = load(s, &sd[0], err)) || (rc = load(o, &sd[1], err)) || (rc = type_rows(s, sd, &types, &nt, err)) ||
        (rc = root_rows(sd, &roots, &nroot, err))) {
        free(types);
        gh_domkeys_free(&sd[0].k), gh_domkeys_free(&sd[1].k);
        gh_session_close(o);
        return rc;
    }
    /* The other core's biggest retainers, against the same object here
     * (same address, same type): long-lived objects keep their address. */
    uint32_t *big = NULL;
    size_t nbig = 0;
    rc = gh_domkeys_top(&sd[1].k, (size_t)top, 1, &big, &nbig, err);
    char h1[32], h2[32], h3[32];
    gh_json j;
    if (rc == GH_OK && json) {
        gh_render_begin(&j, out, s);
        gh_json_kstr(&j, "base", s->desc);
        gh_json_kstr(&j, "other", o->desc);
        gh_json_key(&j, "live");
        gh_json_obj(&j);
        gh_json_ku64(&j, "objects_base", sd[0].g->live_objects);
        gh_json_ku64(&j, "objects_other", sd[1].g->live_objects);
        gh_json_ku64(&j, "bytes_base", sd[0].g->live_bytes);
        gh_json_ku64(&j, "bytes_other", sd[1].g->live_bytes);
        gh_json_end(&j, '}');
        gh_json_key(&j, "types");
        gh_json_arr(&j);
        for (size_t i = 0; i < nt; i++) {
            const trow *r = &types[i];
            gh_json_obj(&j);
            gh_json_kstr(&j, "type", r->name);
            gh_json_kstr(&j, "full_type", r->full);
            gh_json_ku64(&j, "count_base", r->count[0]);
            gh_json_ku64(&j, "count_other", r->count[1]);
            gh_json_ki64(&j, "count_delta", (int64_t)(r->count[1] - r->count[0]));
            gh_json_ku64(&j, "bytes_base", r->bytes[0]);
            gh_json_ku64(&j, "bytes_other", r->bytes[1]);
            gh_json_ki64(&j, "bytes_delta", (int64_t)(r->bytes[1] - r->bytes[0]));
            gh_json_ku64(&j, "retained_base", r->retained[0]);
            gh_json_ku64(&j, "retained_other", r->retained[1]);
            gh_json_ki64(&j, "retained_delta", (int64_t)(r->retained[1] - r->retained[0]));
            gh_json_kbool(&j, "retained_exact", (!r->count[0] || r->exact[0]) && (!r->count[1] || r->exact[1]));
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        /* by short name (two of one short name are both there), and in the
         * same order by full name */
        for (int k = 0; k < 4; k++) {
            int side_ = k & 1, full = k >> 1;
            gh_json_key(&j, side_ ? (full ? "appeared_full_types" : "appeared")
                                  : (full ? "vanished_full_types" : "vanished"));
            gh_json_arr(&j);
            for (size_t i = 0; i < nt; i++)
                if (!types[i].count[side_ ? 0 : 1] && types[i].count[side_ ? 1 : 0])
                    gh_json_str(&j, full ? types[i].full : types[i].name);
            gh_json_end(&j, ']');
        }
        gh_json_key(&j, "roots");
        gh_json_arr(&j);
        for (size_t i = 0; i < nroot && i < top; i++) {
            if (roots[i].retained[1] == roots[i].retained[0])
                continue;
            gh_json_obj(&j);
            gh_json_kstr(&j, "root", roots[i].title);
            gh_json_ku64(&j, "retained_base", roots[i].retained[0]);
            gh_json_ku64(&j, "retained_other", roots[i].retained[1]);
            gh_json_ki64(&j, "retained_delta", (int64_t)(roots[i].retained[1] - roots[i].retained[0]));
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        gh_json_key(&j, "retainers");
        gh_json_arr(&j);
    } else if (rc == GH_OK) {
        int64_t dobj = (int64_t)(sd[1].g->live_objects - sd[0].g->live_objects);
        int64_t dbytes = (int64_t)(sd[1].g->live_bytes - sd[0].g->live_bytes);
        gh_printf(out, "live: %" PRIu64 " objects, %s here; %" PRIu64 " objects, %s in %s (%+" PRId64 " objects, %s%s)\n",
                  sd[0].g->live_objects, gh_human(sd[0].g->live_bytes, h1, sizeof h1), sd[1].g->live_objects,
                  gh_human(sd[1].g->live_bytes, h2, sizeof h2), a->pos[0], dobj, dbytes < 0 ? "-" : "+",
                  gh_human((uint64_t)(dbytes < 0 ? -dbytes : dbytes), h3, sizeof h3));
        gh_printf(out, "\n%10s %12s %12s %12s  %s\n", "count", "bytes", "retained", "(other)", "type: growth, largest first");
        size_t shown = 0;
        for (size_t i = 0; i < nt && shown < top; i++) {
            const trow *r = &types[i];
            if (r->bytes[1] == r->bytes[0] && r->count[1] == r->count[0])
                continue;
            int64_t db = (int64_t)(r->bytes[1] - r->bytes[0]), dr = (int64_t)(r->retained[1] - r->retained[0]);
            char sb[40], sr[40];
            snprintf(sb, sizeof sb, "%s%s", db < 0 ? "-" : "+", gh_human((uint64_t)(db < 0 ? -db : db), h1, sizeof h1));
            snprintf(sr, sizeof sr, "%s%s", dr < 0 ? "-" : "+", gh_human((uint64_t)(dr < 0 ? -dr : dr), h2, sizeof h2));
            gh_printf(out, "%+10" PRId64 " %12s %12s %12s  %s%s\n", (int64_t)(r->count[1] - r->count[0]), sb, sr,
                      gh_human(r->bytes[1], h3, sizeof h3), r->show,
                      !r->count[0] ? " (appeared)" : !r->count[1] ? " (vanished)" : "");
            shown++;
        }
        gh_printf(out, "\nroots whose retained size changed, most growth first:\n  %-10s %s\n", "change", "root");
        for (size_t i = 0, k = 0; i < nroot && k < 10; i++) {
            int64_t dr = (int64_t)(roots[i].retained[1] - roots[i].retained[0]);
            if (!dr)
                continue;
            k++;
            gh_printf(out, "  %s%-10s %s\n", dr < 0 ? "-" : "+", gh_human((uint64_t)(dr < 0 ? -dr : dr), h1, sizeof h1),
                      roots[i].title);
        }
        gh_printf(out, "\nthe other core's biggest retainers, against the same object here:\n  %-18s %10s  %-11s  %s\n",
                  "address", "retained", "change", "type");
    }
    for (size_t i = 0; rc == GH_OK && i < nbig; i++) {
        uint32_t w = big[i];
        uint64_t addr = gh_dom_node_addr(sd[1].d, sd[1].g, w);
        uint32_t key = gh_domkey_of(&sd[1].k, w);
        const char *name = gh_domkey_name(&sd[1].k, key), *full = gh_domkey_full(&sd[1].k, key);
        const char *show = s->full_names || gh_shortnames_holds(&sd[0].k.sn, name) ||
                                   gh_shortnames_holds(&sd[1].k.sn, name)
                               ? full
                               : name;
        gh_obj ob;
        uint64_t before = 0;
        int found = 0;
        if (gh_heap_find(sd[0].g->h, addr, &ob) && ob.addr == addr) { /* the same object: same address and type */
            uint32_t v = gh_dom_node(sd[0].d, ob.id);
            if (v && !strcmp(gh_domkey_full(&sd[0].k, gh_domkey_of(&sd[0].k, v)), full)) {
                before = sd[0].d->rbytes[v];
                found = 1;
            }
        }
        if (json) {
            gh_json_obj(&j);
            gh_json_kaddr(&j, "addr", addr);
            gh_json_kstr(&j, "type", name);
            gh_json_kstr(&j, "full_type", full);
            gh_json_ku64(&j, "retained_other", sd[1].d->rbytes[w]);
            if (found) {
                gh_json_ku64(&j, "retained_base", before);
                gh_json_ki64(&j, "retained_delta", (int64_t)(sd[1].d->rbytes[w] - before));
            } else {
                gh_json_kbool(&j, "new", 1);
            }
            gh_json_end(&j, '}');
        } else {
            int64_t dr = (int64_t)(sd[1].d->rbytes[w] - before);
            char change[48];
            snprintf(change, sizeof change, "%s%s", found ? (dr < 0 ? "-" : "+") : "",
                     found ? gh_human((uint64_t)(dr < 0 ? -dr : dr), h2, sizeof h2) : "(not here)");
            gh_printf(out, "  0x%-16" PRIx64 " %10s  %-11s  %s\n", addr, gh_human(sd[1].d->rbytes[w], h1, sizeof h1),
                      change, show);
        }
    }
    if (rc == GH_OK && json) {
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
    }
    if (rc == GH_OK && (sd[0].k.oom || sd[1].k.oom))
        rc = gh_errorf(err, GH_ENOMEM, "out of memory for type names");
    free(big), free(types), free(roots);
    gh_domkeys_free(&sd[0].k), gh_domkeys_free(&sd[1].k);
    gh_session_close(o);
    return rc;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document"},
    {"--exe", 1, "the other core's executable (default: this session's)"},
    {"--top", 1, "rows of types, roots and retainers (default 20)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_diff = {
    .name = "diff",
    .summary = "how the heap changed from this core to another: types, roots and retainers that grew",
    .usage = "diff OTHER_CORE [--exe OTHER_EXE] [--top N] [--json]",
    .opts = opts,
    .example = "diff later.core --top 10",
    .min_pos = 1,
    .max_pos = 1,
    .run = run,
};
