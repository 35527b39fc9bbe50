/* What part of a truncated core's heap the model covers (coverage.h). */
#include "heap/coverage.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/out.h"

void gh_heap_cov_free(gh_heap_cov *c)
{
    if (!c)
        return;
    free(c->lost);
    free(c);
}

uint64_t gh_heap_cov_total(const gh_heap *h)
{
    uint64_t runtime = h->stats.pages_in_use * GH_PAGE_SIZE, known = h->inuse_span_bytes;
    if (h->cov)
        known += h->cov->bytes_lost;
    return runtime > known ? runtime : known;
}

double gh_heap_cov_percent(const gh_heap *h)
{
    uint64_t total = gh_heap_cov_total(h);
    if (!h->cov || !total)
        return 100.0;
    return 100.0 * (double)h->inuse_span_bytes / (double)total;
}

int gh_heap_cov_complete(const gh_heap *h)
{
    return !h->cov || (!h->cov->spans_lost && h->inuse_span_bytes >= gh_heap_cov_total(h));
}

int gh_heap_cov_reach_partial(const gh_heap *h)
{
    return h->cov && (!gh_heap_cov_complete(h) || h->cov->reach_lost_reads);
}

void gh_heap_cov_set_reach(gh_heap *h, uint64_t lost_reads)
{
    if (!h->cov)
        return;
    h->cov->reach_known = 1;
    h->cov->reach_lost_reads = lost_reads;
}

int gh_heap_cov_missing(const gh_heap *h, uint64_t addr)
{
    const gh_heap_cov *c = h->cov;
    if (!c || gh_heap_span_of(h, addr))
        return 0;
    size_t lo = 0, hi = c->nlost;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->lost[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->nlost && addr >= c->lost[lo].base)
        return 1;
    /* Unknown spans: records or arena list entries were lost. */
    int unknown = c->records_lost || c->entries_lost > c->records_found;
    if (!unknown || gh_heap_cov_complete(h))
        return 0;
    if (c->arenas_lost)
        return 1;
    uint64_t i = (addr - h->arena_off) / GH_ARENA_SIZE - h->arena_lo;
    return i < h->arena_span && h->arena_map[i];
}

void gh_heap_cov_line(const gh_heap *h, char *buf, size_t cap)
{
    char a[32], b[32];
    uint64_t total = gh_heap_cov_total(h);
    if (gh_heap_cov_complete(h)) {
        snprintf(buf, cap, "heap: 100%% of in-use spans readable (%s); the core is truncated, but not where the heap is",
                 gh_human(total, a, sizeof a));
        return;
    }
    double pct = gh_heap_cov_percent(h);
    const gh_heap_cov *c = h->cov;
    uint64_t unknown = c->records_lost + (c->entries_lost > c->records_found ? c->entries_lost - c->records_found : 0);
    char extra[160] = "";
    if (c->spans_lost && unknown)
        snprintf(extra, sizeof extra, "; %" PRIu64 " spans' pages or bits and %" PRIu64 " span records missing",
                 c->spans_lost, unknown);
    else if (c->spans_lost)
        snprintf(extra, sizeof extra, "; %" PRIu64 " spans' pages or bits missing", c->spans_lost);
    else if (unknown)
        snprintf(extra, sizeof extra, "; %" PRIu64 " span records missing", unknown);
    /* Rounded down, so it never says 100% of a heap with a piece missing. */
    snprintf(buf, cap, "heap: %d%% of in-use spans readable (%s of %s%s); counts cover those only", (int)pct,
             gh_human(h->inuse_span_bytes, a, sizeof a), gh_human(total, b, sizeof b), extra);
}

const char *gh_heap_cov_reach_line(const gh_heap *h)
{
    if (!gh_heap_cov_reach_partial(h))
        return NULL;
    if (!gh_heap_cov_complete(h))
        return "reachability: partial: an object no root reached through readable memory may still be live "
               "through memory the truncation took; it is counted as not reached, not as garbage";
    return "reachability: partial: some memory read while collecting roots and marking (stacks, records) is "
           "missing; an object not reached through readable memory is counted as not reached, not as garbage";
}
