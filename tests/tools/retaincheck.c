/* retaincheck: the dominator tree's retained sizes against brute force.
 * For every live object (and every root group, and every type whose
 * retained size goheap computed exactly) it removes that object (group,
 * type), marks again from the roots over the pointer graph, and counts
 * what became unreachable: that must equal goheap's retained bytes and
 * objects. The re-marking walks the graph's edges and the roots' words
 * itself, in slot space; it shares nothing with the dominator code but
 * the definition of the root groups.
 * Prints one JSON line; for tests/integration/run.py. Not installed.
 *   retaincheck --exe EXE CORE [--max-objects N] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/out.h"
#include "graph/domkeys.h"
#include "goheap/goheap.h"
#include "graph/retained.h"
#include "session/session.h"

#define MAX_LISTED 10

static void fstdout(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    fwrite(s, 1, n, stdout);
}

typedef struct check {
    gh_graph *g;
    gh_domtree *d;
    uint32_t *rootslots;   /* per root: the slots it reaches, CSR */
    uint32_t *rootstart;
    size_t nroots;
    uint64_t *seen;
    uint32_t *queue;
    uint64_t *skip;        /* slots removed */
    uint64_t live_objs, live_bytes;
} check;

typedef struct coll {
    const gh_heap *h;
    uint32_t *v;
    size_t n, cap;
} coll;

static void push(coll *c, uint32_t s)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
        if (!c->v) {
            fprintf(stderr, "retaincheck: out of memory\n");
            exit(1);
        }
    }
    c->v[c->n++] = s;
}

static int word(void *ctx, uint64_t index, uint64_t addr, uint64_t value)
{
    coll *c = ctx;
    gh_obj o;
    (void)index, (void)addr;
    if (value && gh_heap_find(c->h, value, &o))
        push(c, o.id);
    return 0;
}

/* The slot's type has the full name ctx. */
static int same_full(const gh_graph *g, uint32_t slot, void *ctx)
{
    gh_tid t = g->type[slot];
    return t && t != GH_TID_TINY && !strcmp(gh_types_full_name(g->types, t), (const char *)ctx);
}

static int tb(const uint64_t *v, uint32_t i) { return v[i >> 6] >> (i & 63) & 1; }
static void sb(uint64_t *v, uint32_t i) { v[i >> 6] |= UINT64_C(1) << (i & 63); }

/* Marks from every root not in skip_group (UINT32_MAX: none), never
 * entering a slot in c->skip; returns what stays live. */
static void remark(check *c, uint32_t skip_group, uint64_t *objs, uint64_t *bytes)
{
    const gh_heap *h = c->g->h;
    const gh_edges *e = &c->g->edges;
    memset(c->seen, 0, (h->nslots + 64) / 64 * 8);
    size_t qn = 0;
    *objs = *bytes = 0;
    for (size_t r = 0; r < c->nroots; r++) {
        if (c->d->group_of[r] == skip_group)
            continue;
        for (uint32_t k = c->rootstart[r]; k < c->rootstart[r + 1]; k++) {
            uint32_t s = c->rootslots[k];
            if (tb(c->skip, s) || tb(c->seen, s))
                continue;
            sb(c->seen, s);
            c->queue[qn++] = s;
        }
    }
    for (size_t qh = 0; qh < qn; qh++) {
        uint32_t x = c->queue[qh];
        gh_obj o;
        gh_heap_slot(h, x, &o);
        (*objs)++;
        *bytes += o.size;
        for (uint32_t k = e->start[x]; k < e->start[x + 1]; k++) {
            uint32_t y = e->to[k];
            if (tb(c->skip, y) || tb(c->seen, y))
                continue;
            sb(c->seen, y);
            c->queue[qn++] = y;
        }
    }
}

static void mismatch(gh_json *j, int *listed, const char *what, uint64_t id, uint64_t want_b, uint64_t want_o,
                     uint64_t got_b, uint64_t got_o)
{
    if ((*listed)++ >= MAX_LISTED)
        return;
    gh_json_obj(j);
    gh_json_kstr(j, "what", what);
    gh_json_ku64(j, "id", id);
    gh_json_ku64(j, "brute_bytes", want_b);
    gh_json_ku64(j, "brute_objects", want_o);
    gh_json_ku64(j, "goheap_bytes", got_b);
    gh_json_ku64(j, "goheap_objects", got_o);
    gh_json_end(j, '}');
}

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[1], "--exe")) {
        fprintf(stderr, "usage: retaincheck --exe EXE CORE [--max-objects N]\n");
        return 2;
    }
    uint64_t max_objects = UINT64_MAX;
    if (argc == 6 && !strcmp(argv[4], "--max-objects"))
        max_objects = strtoull(argv[5], NULL, 0);
    gh_err err;
    gh_target *t;
    gh_session *s;
    if (gh_core_open(argv[3], argv[2], &t, &err) || gh_session_open(t, argv[2], argv[3], &s, &err)) {
        fprintf(stderr, "retaincheck: %s\n", err.msg);
        return 1;
    }
    check c = {0};
    if (gh_session_dominators(s, &c.g, &c.d, &err) || gh_dom_types(c.d, c.g, NULL, &err)) {
        fprintf(stderr, "retaincheck: %s\n", err.msg);
        return 1;
    }
    gh_graph *g = c.g;
    gh_domtree *d = c.d;
    const gh_heap *h = g->h;
    /* What each root reaches, as the marker defines it. */
    c.nroots = gh_roots_count(g->roots);
    c.rootstart = calloc(c.nroots + 1, sizeof *c.rootstart);
    coll rs = {.h = h};
    for (size_t r = 0; r < c.nroots; r++) {
        const gh_root *root = gh_roots_get(g->roots, r);
        gh_root_each_word(root, s->t, word, &rs);
        gh_obj o;
        if (root->object && gh_heap_find(h, root->object, &o))
            for (uint32_t k = g->edges.start[o.id]; k < g->edges.start[o.id + 1]; k++)
                push(&rs, g->edges.to[k]);
        c.rootstart[r + 1] = (uint32_t)rs.n;
    }
    c.rootslots = rs.v;
    size_t nw = (h->nslots + 64) / 64;
    c.seen = calloc(nw, 8);
    c.skip = calloc(nw, 8);
    c.queue = malloc((h->nslots + 1) * sizeof *c.queue);
    if (!c.rootstart || !c.seen || !c.skip || !c.queue) {
        fprintf(stderr, "retaincheck: out of memory\n");
        return 1;
    }
    remark(&c, UINT32_MAX, &c.live_objs, &c.live_bytes);

    gh_out out = {fstdout, NULL, 0};
    gh_json j;
    gh_json_init(&j, &out);
    gh_json_obj(&j);
    gh_json_ku64(&j, "live_objects", c.live_objs);
    gh_json_ku64(&j, "live_bytes", c.live_bytes);
    gh_json_ku64(&j, "nodes", d->n);
    gh_json_ku64(&j, "root_retained_bytes", d->rbytes[GH_DOM_ROOT]);
    gh_json_ku64(&j, "root_retained_objects", d->robjs[GH_DOM_ROOT]);
    gh_json_key(&j, "mismatches");
    gh_json_arr(&j);
    int listed = 0;
    uint64_t bad = 0, objects = 0, groups = 0, types = 0, inexact = 0, ob, oo;
    if (d->rbytes[GH_DOM_ROOT] != c.live_bytes || d->robjs[GH_DOM_ROOT] != c.live_objs) {
        bad++;
        mismatch(&j, &listed, "all", 0, c.live_bytes, c.live_objs, d->rbytes[GH_DOM_ROOT], d->robjs[GH_DOM_ROOT]);
    }
    /* Every live object (or the first max_objects of them). */
    for (uint32_t id = 0; id < h->nslots && objects < max_objects; id++) {
        uint32_t w = gh_dom_node(d, id);
        if (!w)
            continue;
        sb(c.skip, id);
        remark(&c, UINT32_MAX, &oo, &ob);
        c.skip[id >> 6] = 0;
        objects++;
        uint64_t want_o = c.live_objs - oo, want_b = c.live_bytes - ob;
        if (want_o != d->robjs[w] || want_b != d->rbytes[w]) {
            bad++;
            gh_obj o;
            gh_heap_slot(h, id, &o);
            mismatch(&j, &listed, "object", o.addr, want_b, want_o, d->rbytes[w], d->robjs[w]);
        }
    }
    /* Every root group. */
    for (uint32_t gi = 0; gi < d->ngroups; gi++) {
        remark(&c, gi, &oo, &ob);
        groups++;
        uint32_t w = d->gnum[gi];
        uint64_t got_b = w ? d->rbytes[w] : 0, got_o = w ? d->robjs[w] : 0;
        if (c.live_objs - oo != got_o || c.live_bytes - ob != got_b) {
            bad++;
            mismatch(&j, &listed, "root group", gi, c.live_bytes - ob, c.live_objs - oo, got_b, got_o);
        }
    }
    /* Every type goheap sized exactly: all its instances removed at once. */
    for (size_t ti = 0; ti < d->ntypes; ti++) {
        const gh_dom_type *ty = &d->types[ti];
        if (!ty->exact) {
            inexact++;
            continue;
        }
        memset(c.skip, 0, nw * 8);
        for (uint32_t w = 2; w <= d->n; w++)
            if (!gh_dom_is_group(d, w) && !strcmp(gh_dom_node_name(d, w), ty->name))
                sb(c.skip, d->vertex[w]);
        remark(&c, UINT32_MAX, &oo, &ob);
        types++;
        if (c.live_objs - oo != ty->robjs || c.live_bytes - ob != ty->rbytes) {
            bad++;
            mismatch(&j, &listed, ty->name, ti, c.live_bytes - ob, c.live_objs - oo, ty->rbytes, ty->robjs);
        }
        /* The lower bound must be one. */
        if (ty->ubytes > ty->rbytes || ty->uobjs > ty->robjs) {
            bad++;
            mismatch(&j, &listed, "lower bound above exact", ti, ty->rbytes, ty->robjs, ty->ubytes, ty->uobjs);
        }
    }
    /* Types of one short name and different import paths (heap --retained
     * rows by full name): each full name's instances removed at once. */
    uint64_t split = 0;
    for (size_t ti = 0; ti < d->ntypes; ti++) {
        const char *first = NULL;
        int shared = 0;
        for (uint32_t w = 2; w <= d->n && !shared; w++) {
            gh_tid t = gh_dom_is_group(d, w) ? 0 : c.g->type[d->vertex[w]];
            if (!t || t == GH_TID_TINY || strcmp(gh_dom_node_name(d, w), d->types[ti].name))
                continue;
            const char *full = gh_types_full_name(c.g->types, t);
            if (!first)
                first = full;
            else if (strcmp(first, full))
                shared = 1;
        }
        for (uint32_t v = 2; shared && v <= d->n; v++) {
            gh_tid t = gh_dom_is_group(d, v) ? 0 : c.g->type[d->vertex[v]];
            if (!t || t == GH_TID_TINY || strcmp(gh_dom_node_name(d, v), d->types[ti].name))
                continue;
            const char *full = gh_types_full_name(c.g->types, t);
            int seen_before = 0; /* each full name once: at its first instance */
            for (uint32_t u = 2; u < v && !seen_before; u++) {
                gh_tid tu = gh_dom_is_group(d, u) ? 0 : c.g->type[d->vertex[u]];
                seen_before = tu && tu != GH_TID_TINY && !strcmp(gh_dom_node_name(d, u), d->types[ti].name) &&
                              !strcmp(gh_types_full_name(c.g->types, tu), full);
            }
            if (seen_before)
                continue;
            gh_dom_type got;
            if (gh_dom_type_where(d, c.g, d->types[ti].name, same_full, (void *)full, NULL, &got, &err)) {
                bad++;
                mismatch(&j, &listed, full, ti, 0, 0, UINT64_MAX, UINT64_MAX);
                continue;
            }
            memset(c.skip, 0, nw * 8);
            for (uint32_t w = 2; w <= d->n; w++)
                if (!gh_dom_is_group(d, w) && same_full(c.g, d->vertex[w], (void *)full) &&
                    !strcmp(gh_dom_node_name(d, w), d->types[ti].name))
                    sb(c.skip, d->vertex[w]);
            remark(&c, UINT32_MAX, &oo, &ob);
            split++;
            if (c.live_objs - oo != got.robjs || c.live_bytes - ob != got.rbytes) {
                bad++;
                mismatch(&j, &listed, full, ti, c.live_bytes - ob, c.live_objs - oo, got.rbytes, got.robjs);
            }
        }
    }
    /* The same through the commands' type index by full name (graph/domkeys.h:
     * suspects, pprof, diff) and through the public API by full name
     * (gh_type_retained): each key of a split short name against removing
     * its instances; the lower bound where it is not exact. */
    uint64_t keys_checked = 0;
    gh_domkeys k;
    if (gh_domkeys_make(&k, d, c.g, &err) || gh_domkeys_types(&k, 1, NULL, &err)) {
        bad++;
        mismatch(&j, &listed, err.msg, 0, 0, 0, UINT64_MAX, UINT64_MAX);
    } else {
        for (uint32_t key = k.nnames; key < k.n; key++) {
            const char *full = gh_domkey_full(&k, key);
            const gh_domkey_type *kt = &k.types[key];
            uint64_t count = 0, bytes = 0;
            memset(c.skip, 0, nw * 8);
            for (uint32_t w = 2; w <= d->n; w++)
                if (!gh_dom_is_group(d, w) && same_full(c.g, d->vertex[w], (void *)full) &&
                    !strcmp(gh_dom_node_name(d, w), gh_domkey_name(&k, key))) {
                    sb(c.skip, d->vertex[w]);
                    count++;
                    bytes += gh_dom_node_size(d, c.g, w);
                }
            remark(&c, UINT32_MAX, &oo, &ob);
            keys_checked++;
            uint64_t want_b = c.live_bytes - ob, want_o = c.live_objs - oo;
            if (kt->count != count || kt->bytes != bytes) {
                bad++;
                mismatch(&j, &listed, "key count", key, bytes, count, kt->bytes, kt->count);
            }
            if (kt->exact ? (kt->rbytes != want_b || kt->robjs != want_o) : (kt->rbytes > want_b || kt->robjs > want_o)) {
                bad++;
                mismatch(&j, &listed, full, key, want_b, want_o, kt->rbytes, kt->robjs);
            }
            uint64_t ab, ao;
            int ex;
            if (gh_type_retained(s, full, &ab, &ao, &ex, &err) || !ex || ab != want_b || ao != want_o) {
                bad++;
                mismatch(&j, &listed, "gh_type_retained by full name", key, want_b, want_o, ab, ao);
            }
        }
    }
    gh_domkeys_free(&k);
    gh_json_end(&j, ']');
    gh_json_ku64(&j, "split_keys_checked", keys_checked);
    gh_json_ku64(&j, "split_types_checked", split);
    gh_json_ku64(&j, "objects_checked", objects);
    gh_json_ku64(&j, "groups_checked", groups);
    gh_json_ku64(&j, "types_checked", types);
    gh_json_ku64(&j, "types_inexact", inexact);
    gh_json_ku64(&j, "bad", bad);
    gh_json_kdouble(&j, "dominators_seconds", d->seconds);
    gh_json_end(&j, '}');
    putchar('\n');
    free(c.rootstart), free(c.rootslots), free(c.seen), free(c.skip), free(c.queue);
    gh_session_close(s);
    return bad ? 1 : 0;
}
