/* A truncated core's heap coverage (heap/coverage.h) as commands say it: a
 * "coverage" object in every JSON document once the heap is loaded, and the
 * coverage line (and, where reachability is partial, why) in text. */
#include <inttypes.h>
#include <stdio.h>

#include "cmd/render.h"
#include "heap/coverage.h"

void gh_render_coverage_json(gh_json *j, const gh_session *s)
{
    const gh_heap *h = s->heap;
    if (!h || !h->cov)
        return;
    const gh_heap_cov *c = h->cov;
    uint64_t unknown = c->records_lost + (c->entries_lost > c->records_found ? c->entries_lost - c->records_found : 0);
    gh_json_key(j, "coverage");
    gh_json_obj(j);
    gh_json_kbool(j, "truncated", 1);
    gh_json_ku64(j, "file_bytes", c->file_size);
    gh_json_ku64(j, "file_bytes_expected", c->file_want);
    gh_json_kdouble(j, "percent", gh_heap_cov_percent(h));
    gh_json_kbool(j, "complete", gh_heap_cov_complete(h));
    gh_json_ku64(j, "in_use_span_bytes", gh_heap_cov_total(h));
    gh_json_ku64(j, "readable_span_bytes", h->inuse_span_bytes);
    gh_json_ku64(j, "readable_spans", h->nspans_inuse);
    gh_json_ku64(j, "unreadable_spans", c->spans_lost);
    gh_json_ku64(j, "unreadable_span_bytes", c->bytes_lost);
    gh_json_ku64(j, "missing_span_records", unknown);
    gh_json_ku64(j, "span_list_entries", c->records);
    gh_json_ku64(j, "span_list_entries_missing", c->entries_lost);
    gh_json_ku64(j, "arena_list_entries", c->arenas_listed);
    gh_json_ku64(j, "arena_list_entries_missing", c->arenas_lost);
    gh_json_ku64(j, "manual_spans_missing", c->manual_lost);
    gh_json_key(j, "reachability");
    if (c->reach_known || !gh_heap_cov_complete(h))
        gh_json_str(j, gh_heap_cov_reach_partial(h) ? "partial" : "complete");
    else
        gh_json_null(j); /* not marked yet: roots not read */
    gh_json_key(j, "missing_reads_marking");
    if (c->reach_known)
        gh_json_u64(j, c->reach_lost_reads);
    else
        gh_json_null(j);
    gh_json_end(j, '}');
}

void gh_render_coverage_text(gh_out *out, const gh_session *s)
{
    const gh_heap *h = s->heap;
    if (!h || !h->cov)
        return;
    char line[400];
    gh_heap_cov_line(h, line, sizeof line);
    gh_printf(out, "%s\n", line);
    const char *r = gh_heap_cov_reach_line(h);
    if (r)
        gh_printf(out, "%s\n", r);
}

int gh_render_reach_partial(const gh_session *s)
{
    return s->heap && gh_heap_cov_reach_partial(s->heap);
}

int gh_render_missing(const gh_session *s, uint64_t addr, const char *cmd, gh_err *err)
{
    if (!s->heap || !gh_heap_cov_missing(s->heap, addr))
        return GH_OK;
    char line[400];
    gh_heap_cov_line(s->heap, line, sizeof line);
    return gh_errorf(err, GH_EMEM,
                     "%s: 0x%" PRIx64 " is in heap memory the truncated core does not hold (its span's record, "
                     "pages or allocation bits are missing): unknown (%s)",
                     cmd, addr, line);
}
