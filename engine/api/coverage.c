/* Public API: what part of the heap a truncated core holds (heap/coverage.h). */
#include "api/api.h"
#include "heap/coverage.h"

int gh_heap_coverage_get(gh_session *s, gh_heap_coverage *out, gh_err *err)
{
    gh_graph *g;
    int rc = gh_api_graph(s, &g, err); /* reachability is known once marked */
    if (rc)
        return rc;
    const gh_heap *h = g->h;
    const gh_heap_cov *c = h->cov;
    uint64_t have = 0, want = 0;
    int truncated = gh_core_truncated(s->t, &have, &want);
    *out = (gh_heap_coverage){
        .truncated = truncated,
        .file_bytes = truncated ? have : 0,
        .file_bytes_expected = truncated ? want : 0,
        .percent = gh_heap_cov_percent(h),
        .complete = gh_heap_cov_complete(h),
        .reach_partial = g->reach_partial,
        .in_use_span_bytes = gh_heap_cov_total(h),
        .readable_span_bytes = h->inuse_span_bytes,
        .readable_spans = h->nspans_inuse,
        .unreadable_spans = c ? c->spans_lost : 0,
        .missing_span_records =
            c ? c->records_lost + (c->entries_lost > c->records_found ? c->entries_lost - c->records_found : 0) : 0,
    };
    return GH_OK;
}
