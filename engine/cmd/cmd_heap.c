/* heap: live objects per type (and garbage with --all), largest first. */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "graph/graph.h"
#include "dwarf/dwarfvars.h"
#include "graph/heapview.h"
#include "graph/retained.h"

typedef struct row {
    const char *name;
    const char *full; /* with import paths (JSON full_type; text where name is shared or --full-names) */
    uint64_t count, bytes, gcount, gbytes;
    uint64_t tcount, tbytes; /* of count, bytes: values inside tiny blocks (no retained size of their own) */
    int typed; /* not unknown<N> */
    int bound; /* an array's length is what fits its slot ([≤N]T) */
    const char *show; /* as text names it */
    const gh_dom_type *ret; /* --retained: the type's retained size, NULL when none (tiny sub-objects) */
} row;

/* gh_dom_type_where's pick: the slot's type has the row's full name. */
static int same_full(const gh_graph *g, uint32_t slot, void *ctx)
{
    gh_tid t = g->type[slot];
    return t && t != GH_TID_TINY && !strcmp(gh_types_full_name(g->types, t), (const char *)ctx);
}

static int by_full(const void *a, const void *b) { return strcmp(((const row *)a)->full, ((const row *)b)->full); }
static int by_name(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->full, y->full);
}

static int by_size(const void *a, const void *b, void *count)
{
    const row *x = a, *y = b;
    int mode = *(const int *)count;
    uint64_t kx = mode == 1 ? x->count + x->gcount : x->bytes + x->gbytes;
    uint64_t ky = mode == 1 ? y->count + y->gcount : y->bytes + y->gbytes;
    if (mode == 2) { /* retained, exact or its lower bound */
        kx = x->ret ? (x->ret->exact ? x->ret->rbytes : x->ret->ubytes) : 0;
        ky = y->ret ? (y->ret->exact ? y->ret->rbytes : y->ret->ubytes) : 0;
    }
    if (kx != ky)
        return kx < ky ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* Whether name spells one of the shared short names (sorted) as a whole
 * type name inside it: "[8]*scanner.Scanner" holds "scanner.Scanner". */
static int names_shared(const char *name, const char **shared, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        size_t len = strlen(shared[k]);
        for (const char *p = strstr(name, shared[k]); p; p = strstr(p + 1, shared[k])) {
            char before = p > name ? p[-1] : ' ', after = p[len];
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./", before) &&
                (!after || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.", after)))
                return 1;
        }
    }
    return 0;
}

/* --- objects pending finalization (graph/pending.h), by type ----------- */

static int pending_pick(const gh_typecount_row *r, const regex_t *re)
{
    return r->pending && (!re || !regexec(re, r->name, 0, NULL, 0));
}

static void pending_json(gh_json *j, const gh_typecount *tc, const regex_t *re)
{
    uint64_t n = 0, b = 0;
    for (size_t i = 0; i < tc->n; i++)
        if (pending_pick(&tc->v[i], re))
            n += tc->v[i].pending, b += tc->v[i].pending_bytes;
    gh_json_ku64(j, "pending_objects", n);
    gh_json_ku64(j, "pending_bytes", b);
    gh_json_key(j, "pending_types");
    gh_json_arr(j);
    for (size_t i = 0; i < tc->n; i++) {
        if (!pending_pick(&tc->v[i], re))
            continue;
        gh_json_obj(j);
        gh_json_kstr(j, "type", tc->v[i].name);
        gh_json_ku64(j, "count", tc->v[i].pending);
        gh_json_ku64(j, "bytes", tc->v[i].pending_bytes);
        gh_json_end(j, '}');
    }
    gh_json_end(j, ']');
}

/* One line: their total, then the counts of the first few types. */
static void pending_text(gh_out *out, const gh_typecount *tc, const regex_t *re)
{
    uint64_t n = 0, b = 0;
    size_t ntypes = 0;
    for (size_t i = 0; i < tc->n; i++)
        if (pending_pick(&tc->v[i], re))
            n += tc->v[i].pending, b += tc->v[i].pending_bytes, ntypes++;
    char hb[32];
    gh_printf(out, "pending finalization (unreachable, with a finalizer or cleanup the next GC runs): %" PRIu64
                   " objects, %s",
              n, gh_human(b, hb, sizeof hb));
    size_t shown = 0;
    for (size_t i = 0; i < tc->n && shown < 4; i++)
        if (pending_pick(&tc->v[i], re))
            gh_printf(out, "%s%" PRIu64 " %s", shown++ ? ", " : ": ", tc->v[i].pending, tc->v[i].name);
    gh_puts(out, ntypes > shown ? ", ...\n" : "\n");
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    int json = a->val[0] != NULL, all = a->val[1] != NULL;
    uint64_t top = 0;
    int rc;
    if (a->val[2] && (rc = gh_parse_u64(a->val[2], "--top", &top, err)))
        return rc;
    int sort_count = 0;
    if (a->val[3]) {
        if (!strcmp(a->val[3], "count"))
            sort_count = 1;
        else if (!strcmp(a->val[3], "retained"))
            sort_count = 2;
        else if (strcmp(a->val[3], "bytes"))
            return gh_errorf(err, GH_EARG, "heap: --sort takes count, bytes or retained, not \"%.40s\"", a->val[3]);
    }
    regex_t re;
    int have_re = 0;
    if (a->val[4]) {
        if (regcomp(&re, a->val[4], REG_EXTENDED | REG_NOSUB))
            return gh_errorf(err, GH_EARG, "heap: --type: not a regular expression: \"%.80s\"", a->val[4]);
        have_re = 1;
    }
    gh_graph *g;
    /* Ctrl-C during marking: the counts so far, labelled, never cached. */
    if ((rc = gh_session_graph_partial(s, &g, err))) {
        if (have_re)
            regfree(&re);
        return rc;
    }
    gh_graph *own = g->partial ? g : NULL;
    int unreached = g->reach_partial; /* a truncated core: not reached is not garbage */
    int retained = a->val[5] != NULL && !g->partial;
    gh_domtree *d = NULL;
    if (sort_count == 2 && !a->val[5] && !g->partial)
        retained = 1;
    if (retained && ((rc = gh_session_dominators(s, &g, &d, err)) || (rc = gh_dom_types(d, g, &s->cancel, err)))) {
        if (have_re)
            regfree(&re);
        return rc;
    }
    gh_typecount tc;
    if ((rc = gh_typecount_build(g, all, &tc, err))) {
        gh_graph_free(own);
        if (have_re)
            regfree(&re);
        return rc;
    }
    /* Rows by full name: one type can be reached under several ids, and
     * two packages of one name give two types of one short name. */
    row *rows = calloc(tc.n ? tc.n : 1, sizeof *rows);
    if (!rows) {
        gh_typecount_free(&tc);
        gh_graph_free(own);
        if (have_re)
            regfree(&re);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    size_t nr = 0;
    for (size_t i = 0; i < tc.n; i++)
        rows[nr++] = (row){tc.v[i].name, tc.v[i].tid ? gh_types_full_name(g->types, tc.v[i].tid) : tc.v[i].name,
                           tc.v[i].live, tc.v[i].live_bytes, tc.v[i].garbage, tc.v[i].garbage_bytes,
                           tc.v[i].tiny_live, tc.v[i].tiny_live_bytes, tc.v[i].tid != 0, gh_types_length_bound(g->types, tc.v[i].tid), NULL, NULL};
    qsort(rows, nr, sizeof *rows, by_full);
    size_t k = 0;
    for (size_t i = 0; i < nr; i++) {
        if (k && !strcmp(rows[k - 1].full, rows[i].full)) {
            rows[k - 1].count += rows[i].count;
            rows[k - 1].bytes += rows[i].bytes;
            rows[k - 1].gcount += rows[i].gcount;
            rows[k - 1].gbytes += rows[i].gbytes;
            rows[k - 1].tcount += rows[i].tcount;
            rows[k - 1].tbytes += rows[i].tbytes;
        } else {
            rows[k++] = rows[i];
        }
    }
    nr = k;
    /* Text names a row by its full name where two rows share the short
     * one (or with --full-names). */
    qsort(rows, nr, sizeof *rows, by_name);
    gh_dom_type *ownret = NULL; /* retained sizes of rows whose short name is shared */
    const char **shared = calloc(nr ? nr : 1, sizeof *shared);
    size_t nshared = 0;
    for (size_t i = 0; shared && i + 1 < nr; i++)
        if (!strcmp(rows[i].name, rows[i + 1].name) && (!nshared || strcmp(shared[nshared - 1], rows[i].name)))
            shared[nshared++] = rows[i].name;
    for (size_t i = 0; i < nr; i++) {
        int clash = names_shared(rows[i].name, shared, nshared);
        rows[i].show = s->full_names || clash ? rows[i].full : rows[i].name;
        /* Retained sizes per type are kept by short name: two types of one
         * short name get theirs apart, each over its own instances (an
         * exact walk per type, as --type gives). */
        int dup = (i && !strcmp(rows[i - 1].name, rows[i].name)) || (i + 1 < nr && !strcmp(rows[i + 1].name, rows[i].name));
        if (retained && !dup)
            rows[i].ret = gh_dom_type_find(d, rows[i].name);
        else if (retained && rows[i].count) {
            if (!ownret && !(ownret = calloc(nr, sizeof *ownret)))
                rc = gh_errorf(err, GH_ENOMEM, "out of memory");
            else if (!(rc = gh_dom_type_where(d, g, rows[i].name, same_full, (void *)rows[i].full, &s->cancel,
                                              &ownret[i], err)))
                rows[i].ret = &ownret[i];
            else if (rc == GH_ENOENT) /* the tree names it otherwise: no retained size ("-") */
                rc = GH_OK;
            if (rc) {
                free(shared);
                free(ownret);
                free(rows);
                gh_typecount_free(&tc);
                gh_graph_free(own);
                if (have_re)
                    regfree(&re);
                return rc;
            }
        }
    }
    free(shared);
    k = 0;
    for (size_t i = 0; i < nr; i++)
        if ((rows[i].count || rows[i].gcount) &&
            (!have_re || regexec(&re, rows[i].name, 0, NULL, 0) == 0 || regexec(&re, rows[i].full, 0, NULL, 0) == 0))
            rows[k++] = rows[i];
    nr = k;
    /* The header's totals: the whole heap as the runtime counts it (a tiny
     * block once), or with --type the sums of the rows it picked. */
    uint64_t t_obj = g->live_objects, t_bytes = g->live_bytes, t_tobj = g->typed_objects, t_tbytes = g->typed_bytes;
    uint64_t t_gobj = g->garbage_objects, t_gbytes = g->garbage_bytes;
    if (have_re) {
        t_obj = t_bytes = t_tobj = t_tbytes = t_gobj = t_gbytes = 0;
        for (size_t i = 0; i < nr; i++) {
            t_obj += rows[i].count;
            t_bytes += rows[i].bytes;
            t_gobj += rows[i].gcount;
            t_gbytes += rows[i].gbytes;
            if (rows[i].typed) {
                t_tobj += rows[i].count;
                t_tbytes += rows[i].bytes;
            }
        }
    }
    qsort_r(rows, nr, sizeof *rows, by_size, &sort_count);
    size_t shown = top && top < nr ? (size_t)top : nr;
    if (!json && !top && shown > 40)
        shown = 40;
    /* Types picked by --type get their exact retained size, whatever the
     * walk costs. */
    for (size_t i = 0; retained && have_re && i < shown; i++)
        if (rows[i].ret && !rows[i].ret->exact &&
            (rc = gh_dom_type_exact(d, g, rows[i].name, &s->cancel, err))) {
            free(rows);
            free(ownret);
            gh_typecount_free(&tc);
            gh_graph_free(own);
            regfree(&re);
            return rc;
        }

    const gh_roots *rs = g->roots;
    char scan_note[640];
    gh_render_scan_note(g, scan_note, sizeof scan_note);
    /* What limits typing in this target, said once with the counts. */
    const char *limits[2];
    size_t nlimits = 0;
    gh_dwarf_vars *dv = NULL;
    if (gh_session_dwarfvars(s, &dv, NULL) || !dv)
        limits[nlimits++] = "the executable has no DWARF: variables carry no types, so objects only they reach "
                            "are counted by size (unknown<N>)";
    if (s->rt.ver.minor == 22 && g->untyped_under_closures)
        limits[nlimits++] = "Go 1.22 DWARF does not say where a closure keeps what it captured: objects "
                            "only closures reach are counted by size (unknown<N>)";
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        if (g->partial) {
            gh_json_kbool(&j, "interrupted", 1);
            gh_json_kbool(&j, "partial", 1);
            gh_json_ku64(&j, "marked_objects", g->mark_done);
            gh_json_ku64(&j, "allocated_objects", g->mark_total);
        }
        if (have_re)
            gh_json_kstr(&j, "type_regex", a->val[4]);
        gh_json_ku64(&j, "objects", t_obj);
        gh_json_ku64(&j, "bytes", t_bytes);
        gh_json_ku64(&j, "typed_bytes", t_tbytes);
        gh_json_ku64(&j, "typed_objects", t_tobj);
        /* The whole heap, --type or not; a tiny block counted once. */
        gh_json_ku64(&j, "heap_objects", g->live_objects);
        gh_json_ku64(&j, "heap_bytes", g->live_bytes);
        gh_json_ku64(&j, "heap_typed_bytes", g->typed_bytes);
        gh_json_ku64(&j, "tiny_blocks", g->tiny_blocks);
        gh_json_ku64(&j, "tiny_objects", g->tiny_objects);
        gh_json_ku64(&j, "tiny_object_bytes", g->tiny_typed_bytes);
        if (all && unreached) { /* a truncated core: unknown garbage, and what was not reached */
            const char *k[] = {"garbage_objects", "garbage_bytes", "heap_garbage_objects", "heap_garbage_bytes"};
            for (size_t i = 0; i < 4; i++) {
                gh_json_key(&j, k[i]);
                gh_json_null(&j);
            }
            gh_json_ku64(&j, "unreached_objects", t_gobj);
            gh_json_ku64(&j, "unreached_bytes", t_gbytes);
            gh_json_ku64(&j, "heap_unreached_objects", g->garbage_objects);
            gh_json_ku64(&j, "heap_unreached_bytes", g->garbage_bytes);
        } else if (all) {
            gh_json_ku64(&j, "garbage_objects", t_gobj);
            gh_json_ku64(&j, "garbage_bytes", t_gbytes);
            gh_json_ku64(&j, "heap_garbage_objects", g->garbage_objects);
            gh_json_ku64(&j, "heap_garbage_bytes", g->garbage_bytes);
        }
        if (all && !g->partial && !unreached)
            pending_json(&j, &tc, have_re ? &re : NULL);
        gh_json_ku64(&j, "rows", nr);
        gh_json_key(&j, "types");
        gh_json_arr(&j);
        for (size_t i = 0; i < shown; i++) {
            gh_json_obj(&j);
            gh_json_kstr(&j, "type", rows[i].name);
            gh_json_kstr(&j, "full_type", rows[i].full);
            if (rows[i].bound)
                gh_json_kbool(&j, "length_bound", 1);
            gh_json_ku64(&j, "count", rows[i].count);
            gh_json_ku64(&j, "bytes", rows[i].bytes);
            if (rows[i].tcount) { /* live values inside tiny blocks, of count and bytes */
                gh_json_ku64(&j, "tiny_count", rows[i].tcount);
                gh_json_ku64(&j, "tiny_bytes", rows[i].tbytes);
            }
            if (all) {
                gh_json_ku64(&j, unreached ? "unreached_count" : "garbage_count", rows[i].gcount);
                gh_json_ku64(&j, unreached ? "unreached_bytes" : "garbage_bytes", rows[i].gbytes);
            }
            const gh_dom_type *rt = rows[i].ret;
            if (rt && rt->exact) {
                gh_json_ku64(&j, "retained_bytes", rt->rbytes);
                gh_json_ku64(&j, "retained_objects", rt->robjs);
            } else if (rt) { /* over the work budget: only the lower bound is known */
                gh_json_ku64(&j, "retained_bytes_min", rt->ubytes);
                gh_json_ku64(&j, "retained_objects_min", rt->uobjs);
            }
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        gh_json_key(&j, "notes");
        gh_json_arr(&j);
        for (size_t i = 0; i < gh_roots_nnotes(rs); i++)
            gh_json_str(&j, gh_roots_get_note(rs, i));
        if (scan_note[0])
            gh_json_str(&j, scan_note);
        gh_json_end(&j, ']');
        gh_json_key(&j, "limits");
        gh_json_arr(&j);
        for (size_t i = 0; i < nlimits; i++)
            gh_json_str(&j, limits[i]);
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
    } else {
        char b1[32], b2[32];
        if (g->partial)
            gh_printf(out, "INTERRUPTED: partial result after marking %" PRIu64 " of %" PRIu64 " objects\n",
                      g->mark_done, g->mark_total);
        gh_render_coverage_text(out, s);
        /* The whole heap counts a tiny block once, as the runtime does; the
         * rows count the objects in it: say how the two add up. */
        char tiny[160] = "", pick[200] = "";
        if (!have_re && g->tiny_blocks)
            snprintf(tiny, sizeof tiny, " (%" PRIu64 " tiny block%s hold %" PRIu64 " small object%s; rows count those)",
                     g->tiny_blocks, g->tiny_blocks == 1 ? "" : "s", g->tiny_objects, g->tiny_objects == 1 ? "" : "s");
        if (have_re)
            snprintf(pick, sizeof pick, " in %zu type%s matching '%.80s' (whole heap: %" PRIu64 " objects, %s)", nr,
                     nr == 1 ? "" : "s", a->val[4], g->live_objects, gh_human(g->live_bytes, b2, sizeof b2));
        gh_printf(out, "live: %" PRIu64 " objects%s, %s%s; typed: %.1f%% of live bytes (%s)\n", t_obj, tiny,
                  gh_human(t_bytes, b1, sizeof b1), pick,
                  t_bytes ? 100.0 * (double)t_tbytes / (double)t_bytes : 100.0, gh_human(t_tbytes, b2, sizeof b2));
        if (all)
            gh_printf(out,
                      unreached ? "not reached through readable memory (allocated; live or garbage, unknown): %" PRIu64
                                  " objects, %s\n"
                                : "garbage (allocated, unreachable): %" PRIu64 " objects, %s\n",
                      t_gobj, gh_human(t_gbytes, b1, sizeof b1));
        if (all && !g->partial && !unreached)
            pending_text(out, &tc, have_re ? &re : NULL);
        /* Sizes in bytes and readable; type names cut to the terminal. */
        int room = gh_out_name_room(out, all ? 64 : 38);
        if (all)
            gh_printf(out, "%12s %12s %10s %12s %12s %s %s\n", "count", "bytes", "size",
                      unreached ? "unreached" : "garbage", unreached ? "unr.bytes" : "garb.bytes",
                      retained ? "   retained" : "", "type");
        else
            gh_printf(out, "%12s %12s %10s %s %s\n", "count", "bytes", "size", retained ? "   retained" : "", "type");
        for (size_t i = 0; i < shown; i++) {
            char h[32], rcell[40] = "";
            gh_human(rows[i].bytes, h, sizeof h);
            if (retained) {
                const gh_dom_type *rt = rows[i].ret;
                char rh[32];
                if (rt)
                    snprintf(rcell, sizeof rcell, "%s%10s", rt->exact ? " " : ">", gh_human(rt->exact ? rt->rbytes : rt->ubytes, rh, sizeof rh));
                else
                    snprintf(rcell, sizeof rcell, "%11s", "-");
            }
            int len = (int)strlen(rows[i].show), cut = room && len > room;
            int n = cut ? room - 3 : len;
            if (all)
                gh_printf(out, "%12" PRIu64 " %12" PRIu64 " %10s %12" PRIu64 " %12" PRIu64 " %s %.*s%s\n",
                          rows[i].count, rows[i].bytes, h, rows[i].gcount, rows[i].gbytes, rcell, n, rows[i].show,
                          cut ? "..." : "");
            else
                gh_printf(out, "%12" PRIu64 " %12" PRIu64 " %10s %s %.*s%s\n", rows[i].count, rows[i].bytes, h,
                          rcell, n, rows[i].show, cut ? "..." : "");
        }
        if (shown < nr)
            gh_printf(out, "(%zu more types; --top N shows more)\n", nr - shown);
        if (g->tiny_objects && !have_re)
            gh_printf(out, "(tiny blocks: pointer-free objects under 16 bytes share 16-byte blocks; the first line "
                           "counts each of the %" PRIu64 " blocks once (%" PRIu64 " bytes), the rows the %" PRIu64
                           " objects in them by their own sizes (%" PRIu64 " bytes))\n",
                      g->tiny_blocks, g->tiny_blocks * 16, g->tiny_objects, g->tiny_typed_bytes);
        int tiny_rows = 0;
        for (size_t i = 0; retained && i < shown; i++)
            tiny_rows |= rows[i].tcount != 0;
        if (tiny_rows)
            gh_printf(out, "(retained: a value inside a tiny block retains nothing of its own, since others share "
                           "its block; a row's retained size is its other instances')\n");
        for (size_t i = 0; i < gh_roots_nnotes(rs); i++)
            gh_printf(out, "note: %s\n", gh_roots_get_note(rs, i));
        if (scan_note[0])
            gh_printf(out, "note: %s\n", scan_note);
        for (size_t i = 0; i < nlimits; i++)
            gh_printf(out, "limit: %s\n", limits[i]);
        if (retained)
            gh_printf(out, "(retained: what would become unreachable if every object of the type were removed; "
                           "'>' a lower bound where the exact walk was over budget: --type gives it exactly)\n");
        else if (a->val[5] && g->partial)
            gh_printf(out, "(no retained sizes: marking was interrupted)\n");
    }
    free(rows);
    free(ownret);
    gh_typecount_free(&tc);
    gh_graph_free(own);
    if (have_re)
        regfree(&re);
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document"},
    {"--all", 0, "also count unreachable objects still allocated (garbage)"},
    {"--top", 1, "show the N largest types (text default 40, JSON all)"},
    {"--sort", 1, "order by bytes (default), count or retained"},
    {"--type", 1, "only types whose name matches this regular expression (POSIX ERE)"},
    {"--retained", 0, "add what each type retains (the dominator tree; see top)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_heap = {
    .name = "heap",
    .summary = "live heap objects by type: count and bytes",
    .usage = "heap [--all] [--top N] [--sort bytes|count|retained] [--type REGEX] [--retained] [--json]",
    .opts = opts,
    .example = "heap --top 20 --type '^main\\.'",
    .min_pos = 0,
    .max_pos = 0,
    .run = run,
};
