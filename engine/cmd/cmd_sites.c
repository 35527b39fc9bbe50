/* sites: the process's own heap profile, read from the core, with liveness
 * from the object graph: allocation sites by sampled live bytes, as
 * `go tool pprof -sample_index=inuse_space` shows /debug/pprof/heap, but
 * counting the sampled objects that are really reachable now, not the
 * runtime's view as of its last GC. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "memprof/memprof.h"

#define MAX_STACK_SHOWN 64 /* frames of a stack shown under its site */

/* What the runtime's settings say about sampling, for the header and JSON. */
static const char *rate_words(const gh_memprof *mp, char *buf, size_t cap)
{
    if (mp->disabled)
        snprintf(buf, cap, "off: the linker disabled memory profiling (the program never calls "
                           "runtime.MemProfile, runtime/pprof or net/http/pprof)");
    else if (mp->rate < 0)
        snprintf(buf, cap, "unknown (runtime.MemProfileRate not readable)");
    else if (mp->rate == 0)
        snprintf(buf, cap, "off: runtime.MemProfileRate is 0");
    else if (mp->rate == 1)
        snprintf(buf, cap, "every allocation sampled (runtime.MemProfileRate 1)");
    else
        snprintf(buf, cap, "one sample every %" PRId64 " bytes on average (runtime.MemProfileRate)", mp->rate);
    return buf;
}

typedef struct site_type {
    gh_tid type;   /* of the first live sampled object */
    int mixed;     /* live objects of more than one type */
    uint32_t id;   /* that object's slot */
    uint64_t size;
    int seen;
} site_type;

/* The type of each site's live sampled objects, from the graph. */
static site_type *site_types(const gh_memprof *mp, const gh_heap *h, const gh_graph *g)
{
    site_type *st = calloc(mp->nsites + 1, sizeof *st);
    if (!st)
        return NULL;
    for (size_t i = 0; i < mp->nobj; i++) {
        gh_obj o;
        if (!gh_heap_find(h, mp->obj[i], &o) || !gh_graph_live(g, o.id))
            continue;
        site_type *t = &st[mp->b[mp->obj_bucket[i]].site];
        if (!t->seen) {
            *t = (site_type){.type = g->type[o.id], .id = o.id, .size = o.size, .seen = 1};
        } else if (t->type != g->type[o.id]) {
            t->mixed = 1;
        }
    }
    return st;
}

static int cmp_site(const void *a, const void *b, void *ctx)
{
    const gh_mp_site *s = ctx;
    const gh_mp_site *x = &s[*(const uint32_t *)a], *y = &s[*(const uint32_t *)b];
    if (x->live_bytes != y->live_bytes)
        return x->live_bytes > y->live_bytes ? -1 : 1;
    if (x->alloc_bytes != y->alloc_bytes)
        return x->alloc_bytes > y->alloc_bytes ? -1 : 1;
    return (*(const uint32_t *)a > *(const uint32_t *)b) - (*(const uint32_t *)a < *(const uint32_t *)b);
}

static void json_frames(gh_json *j, const gh_inl_frame *fr, size_t n)
{
    gh_json_key(j, "frames");
    gh_json_arr(j);
    for (size_t k = 0; k < n; k++) {
        gh_json_obj(j);
        gh_json_kstr(j, "function", fr[k].name);
        gh_json_kstr(j, "file", fr[k].file);
        gh_json_ki64(j, "line", fr[k].line);
        gh_json_kbool(j, "inlined", fr[k].inlined);
        gh_json_end(j, '}');
    }
    gh_json_end(j, ']');
}

static void show_stacks(gh_out *out, gh_json *j, int json, const gh_memprof *mp, const gh_pclntab *tab,
                        uint32_t site, gh_inl_frame *fr)
{
    if (json) {
        gh_json_key(j, "stacks");
        gh_json_arr(j);
    }
    for (size_t i = 0; i < mp->nb; i++) {
        const gh_mp_bucket *b = &mp->b[i];
        if (b->site != site)
            continue;
        size_t n = gh_memprof_frames(mp, tab, b, fr, MAX_STACK_SHOWN);
        size_t shown = n < MAX_STACK_SHOWN ? n : MAX_STACK_SHOWN;
        if (json) {
            gh_json_obj(j);
            gh_json_ku64(j, "size", b->size);
            gh_json_ku64(j, "live_objects", b->live);
            gh_json_ku64(j, "sampled_objects", b->sampled);
            gh_json_ku64(j, "alloc_objects", b->allocs);
            json_frames(j, fr, shown);
            gh_json_end(j, '}');
            continue;
        }
        gh_printf(out, "      stack: %" PRIu64 " live of %" PRIu64 " bytes each, %" PRIu64 " allocated\n", b->live,
                  b->size, b->allocs);
        for (size_t k = 0; k < shown; k++)
            gh_printf(out, "        %s%s %s:%d\n", fr[k].name, fr[k].inlined ? " (inlined)" : "", fr[k].file,
                      fr[k].line);
        if (n > shown)
            gh_printf(out, "        ... %zu more frames\n", n - shown);
    }
    if (json)
        gh_json_end(j, ']');
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    int json = a->val[0] != NULL, stacks = a->val[2] != NULL, all = a->val[3] != NULL;
    uint64_t limit = json ? UINT64_MAX : 30;
    int rc;
    if (a->val[1] && (rc = gh_parse_u64(a->val[1], "--limit", &limit, err)))
        return rc;
    gh_memprof *mp;
    gh_graph *g;
    gh_heap *h;
    gh_pclntab *tab = NULL;
    gh_err e;
    if ((rc = gh_session_memprof(s, 1, &mp, err)) || (rc = gh_session_graph(s, &g, err)) ||
        (rc = gh_session_heap(s, &h, err)))
        return rc;
    (void)gh_session_pclntab(s, &tab, &e);
    uint32_t *order = malloc((mp->nsites + 1) * sizeof *order);
    site_type *st = site_types(mp, h, g);
    gh_inl_frame *fr = malloc(MAX_STACK_SHOWN * sizeof *fr);
    if (!order || !st || !fr) {
        free(order), free(st), free(fr);
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    }
    size_t n = 0, live_sites = 0;
    uint64_t live = 0, live_bytes = 0, sampled = 0, sampled_bytes = 0;
    for (uint32_t i = 0; i < mp->nsites; i++) {
        const gh_mp_site *x = &mp->sites[i];
        live += x->live, live_bytes += x->live_bytes, sampled += x->sampled, sampled_bytes += x->sampled_bytes;
        live_sites += x->live != 0;
        if (all || json || x->live)
            order[n++] = i;
    }
    qsort_r(order, n, sizeof *order, cmp_site, mp->sites);
    char rw[200], b1[32], b2[32], tname[64];
    gh_json j;
    if (json) {
        gh_render_begin(&j, out, s);
        gh_json_ki64(&j, "rate", mp->rate);
        gh_json_kbool(&j, "disabled", mp->disabled);
        gh_json_kstr(&j, "sampling", rate_words(mp, rw, sizeof rw));
        gh_json_ku64(&j, "buckets", mp->nb);
        gh_json_ku64(&j, "live_objects", live);
        gh_json_ku64(&j, "live_bytes", live_bytes);
        gh_json_ku64(&j, "sampled_objects", sampled);
        gh_json_ku64(&j, "sampled_bytes", sampled_bytes);
        if (mp->note[0])
            gh_json_kstr(&j, "note", mp->note);
        gh_json_key(&j, "sites");
        gh_json_arr(&j);
    } else {
        gh_render_coverage_text(out, s);
        gh_printf(out, "memory profile: %s\n", rate_words(mp, rw, sizeof rw));
        gh_printf(out, "sampled objects live now: %" PRIu64 " (%s) at %zu site%s, of %" PRIu64
                       " sampled objects still allocated (%s); %zu stack%s\n",
                  live, gh_human(live_bytes, b1, sizeof b1), live_sites, live_sites == 1 ? "" : "s", sampled, gh_human(sampled_bytes, b2, sizeof b2), mp->nb, mp->nb == 1 ? "" : "s");
        if (mp->note[0])
            gh_printf(out, "note: %s\n", mp->note);
        if (mp->rate > 1)
            gh_printf(out, "counts are samples; est. scales them as go tool pprof does\n");
        if (mp->rate > 1)
            gh_printf(out, "%10s %12s %10s %12s %12s  %s\n", "live objs", "live bytes", "est. objs", "est. bytes",
                      "allocated", "site");
        else
            gh_printf(out, "%10s %12s %10s %12s  %s\n", "live objs", "live bytes", "size", "allocated", "site");
    }
    for (size_t i = 0; i < n && i < limit; i++) {
        const gh_mp_site *x = &mp->sites[order[i]];
        const site_type *t = &st[order[i]];
        const char *type = t->seen ? gh_graph_type_name(g, t->id, t->size, tname, sizeof tname) : NULL;
        int64_t eo, eb;
        gh_memprof_scale(x->live, x->live ? x->live_bytes / x->live : 0, mp->rate, &eo, &eb);
        if (json) {
            gh_json_obj(&j);
            gh_json_kstr(&j, "function", x->func);
            gh_json_kstr(&j, "file", x->file);
            gh_json_ki64(&j, "line", x->line);
            if (type) {
                gh_json_kstr(&j, "type", type);
                gh_json_kbool(&j, "mixed_types", t->mixed);
            }
            gh_json_ku64(&j, "live_objects", x->live);
            gh_json_ku64(&j, "live_bytes", x->live_bytes);
            gh_json_ki64(&j, "inuse_objects_est", eo);
            gh_json_ki64(&j, "inuse_space_est", eb);
            gh_json_ku64(&j, "sampled_objects", x->sampled);
            gh_json_ku64(&j, "sampled_bytes", x->sampled_bytes);
            gh_json_ku64(&j, "alloc_objects", x->allocs);
            gh_json_ku64(&j, "alloc_bytes", x->alloc_bytes);
            gh_json_ki64(&j, "runtime_inuse_objects", (int64_t)(x->allocs - x->frees));
            gh_json_ki64(&j, "runtime_inuse_bytes", (int64_t)(x->alloc_bytes - x->free_bytes));
            gh_json_ku64(&j, "stack_count", x->nbuckets);
            if (stacks)
                show_stacks(out, &j, 1, mp, tab, order[i], fr);
            gh_json_end(&j, '}');
            continue;
        }
        char where[700];
        snprintf(where, sizeof where, "%s %s:%d%s%s%s", x->func, x->file, x->line, type ? "  (" : "",
                 type ? type : "", type ? (t->mixed ? ", ...)" : ")") : "");
        if (mp->rate > 1)
            gh_printf(out, "%10" PRIu64 " %12" PRIu64 " %10" PRId64 " %12" PRId64 " %12" PRIu64 "  %s\n", x->live,
                      x->live_bytes, eo, eb, x->allocs, where);
        else
            gh_printf(out, "%10" PRIu64 " %12" PRIu64 " %10s %12" PRIu64 "  %s\n", x->live, x->live_bytes,
                      gh_human(x->live_bytes, b1, sizeof b1), x->allocs, where);
        if (stacks)
            show_stacks(out, NULL, 0, mp, tab, order[i], fr);
    }
    if (json) {
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
    } else {
        if (n > limit)
            gh_printf(out, "... %zu more sites (--limit N)\n", n - (size_t)limit);
        if (!n)
            gh_printf(out, "(no sampled object is live%s)\n", all ? "" : "; --all lists every site");
    }
    free(order), free(st), free(fr);
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document, every site"},
    {"--limit", 1, "sites shown (text: 30)"},
    {"--stacks", 0, "each site's stacks, inlined frames expanded"},
    {"--all", 0, "also sites none of whose sampled objects is live"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_sites = {
    .name = "sites",
    .summary = "allocation sites from the process's own heap profile, counting sampled objects live in the core",
    .usage = "sites [--limit N] [--stacks] [--all] [--json]",
    .opts = opts,
    .example = "sites --stacks --limit 5",
    .min_pos = 0,
    .max_pos = 0,
    .run = run,
};
