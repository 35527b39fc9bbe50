/* breakdown: memory by class, reconciled with the runtime's own accounting
 * read from the same target. Every difference is printed with its size. */
#include <inttypes.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "heap/breakdown.h"

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    gh_heap *h;
    int rc = gh_session_heap(s, &h, err);
    if (rc)
        return rc;
    gh_breakdown bd;
    gh_heap_breakdown(h, s->exe, &bd);
    const gh_breakdown_row *rows = bd.rows;
    const gh_breakdown_check *checks = bd.checks;
    size_t nrows = GH_BREAKDOWN_ROWS, nchecks = GH_BREAKDOWN_CHECKS;
    int bad = gh_breakdown_unexplained(&bd);

    if (a->val[0]) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_key(&j, "classes");
        gh_json_arr(&j);
        for (size_t i = 0; i < nrows; i++) {
            gh_json_obj(&j);
            gh_json_kstr(&j, "class", rows[i].group);
            gh_json_kstr(&j, "what", rows[i].what);
            gh_json_ku64(&j, "bytes", rows[i].bytes);
            if (rows[i].count)
                gh_json_ku64(&j, "count", rows[i].count);
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        gh_json_key(&j, "checks");
        gh_json_arr(&j);
        for (size_t i = 0; i < nchecks; i++) {
            gh_json_obj(&j);
            gh_json_kstr(&j, "check", checks[i].what);
            gh_json_ki64(&j, "goheap", checks[i].goheap);
            gh_json_ki64(&j, "runtime", checks[i].runtime);
            gh_json_ki64(&j, "difference", checks[i].goheap - checks[i].runtime);
            gh_json_kbool(&j, "ok", checks[i].goheap == checks[i].runtime);
            if (checks[i].explanation && checks[i].goheap != checks[i].runtime)
                gh_json_kstr(&j, "explanation", checks[i].explanation);
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        gh_json_ku64(&j, "unexplained_differences", (uint64_t)bad);
        /* Per span class: what the allocator holds, for plausibility checks. */
        uint64_t spans[256] = {0}, objs[256] = {0}, size[256] = {0};
        for (size_t i = 0; i < h->nspans; i++) {
            const gh_span *sp = &h->spans[i];
            if (sp->state != GH_SPAN_INUSE)
                continue;
            spans[sp->spanclass]++;
            objs[sp->spanclass] += sp->nalloc;
            if (sp->spanclass >= 2) /* large spans (class 0) differ in size */
                size[sp->spanclass] = sp->elemsize;
        }
        gh_json_key(&j, "span_classes");
        gh_json_arr(&j);
        for (int c = 0; c < 256; c++) {
            if (!spans[c])
                continue;
            gh_json_obj(&j);
            gh_json_ku64(&j, "sizeclass", (uint64_t)(c >> 1));
            gh_json_kbool(&j, "noscan", c & 1);
            gh_json_ku64(&j, "elemsize", size[c]);
            gh_json_ku64(&j, "spans", spans[c]);
            gh_json_ku64(&j, "objects", objs[c]);
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
        return GH_OK;
    }
    char b[32];
    gh_render_coverage_text(out, s);
    gh_printf(out, "%-8s %-60s %14s %10s %12s\n", "CLASS", "WHAT", "BYTES", "SIZE", "COUNT");
    for (size_t i = 0; i < nrows; i++) {
        gh_printf(out, "%-8s %-60s %14" PRIu64 " %10s", rows[i].group, rows[i].what, rows[i].bytes,
                  gh_human(rows[i].bytes, b, sizeof b));
        if (rows[i].count)
            gh_printf(out, " %12" PRIu64, rows[i].count);
        gh_puts(out, "\n");
    }
    gh_puts(out, "\nChecks against the runtime's own accounting:\n");
    for (size_t i = 0; i < nchecks; i++) {
        const gh_breakdown_check *c = &checks[i];
        if (c->goheap == c->runtime)
            gh_printf(out, "  ok    %s (%" PRId64 ")\n", c->what, c->goheap);
        else
            gh_printf(out, "  DIFF  %s: goheap %" PRId64 ", runtime %" PRId64 ", difference %" PRId64 "%s%s\n",
                      c->what, c->goheap, c->runtime, c->goheap - c->runtime, c->explanation ? " — " : "",
                      c->explanation ? c->explanation : "");
    }
    if (bad)
        gh_printf(out, "%d unexplained difference%s\n", bad, bad == 1 ? "" : "s");
    return GH_OK;
}

static const gh_optspec opts[] = {{"--json", 0, "one JSON document"}, {NULL, 0, NULL}};

const gh_command gh_cmd_breakdown = {
    .name = "breakdown",
    .summary = "memory by class, checked against the runtime's own statistics",
    .usage = "breakdown [--json]",
    .opts = opts,
    .example = "breakdown",
    .run = run,
};
