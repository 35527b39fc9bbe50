/* The memory breakdown and its checks against the runtime's statistics. */
#include "heap/breakdown.h"

#include <elf.h>
#include <string.h>

void gh_heap_breakdown(const gh_heap *h, const gh_exe *exe, gh_breakdown *out)
{
    const gh_heap_stats *st = &h->stats;
    uint64_t text = 0, rodata = 0, data = 0, bss = 0;
    size_t nsec;
    const gh_section *sec = gh_exe_sections(exe, &nsec);
    for (size_t i = 0; i < nsec; i++) {
        if (!(sec[i].flags & SHF_ALLOC))
            continue;
        if (sec[i].flags & SHF_EXECINSTR)
            text += sec[i].size;
        else if (sec[i].nobits)
            bss += sec[i].size;
        else if (sec[i].flags & SHF_WRITE)
            data += sec[i].size;
        else
            rodata += sec[i].size;
    }
    uint64_t arena_bytes = h->narenas * (uint64_t)GH_ARENA_SIZE;
    uint64_t in_spans = h->inuse_span_bytes + h->manual_span_bytes;
    uint64_t free_pages = arena_bytes > in_spans ? arena_bytes - in_spans : 0;
    uint64_t alloccount = 0;
    for (size_t i = 0; i < h->nspans; i++)
        if (h->spans[i].state == GH_SPAN_INUSE)
            alloccount += h->spans[i].alloccount;

    const gh_breakdown_row rows[GH_BREAKDOWN_ROWS] = {
        {"binary", "text (code)", text, 0},
        {"binary", "read-only data (rodata, pclntab, types)", rodata, 0},
        {"binary", "data", data, 0},
        {"binary", "bss", bss, 0},
        {"heap", "allocated objects", h->object_bytes, h->nobjects},
        {"heap", "free slots in in-use spans", h->free_slot_bytes, 0},
        {"heap", "span tails (heap bits, inline mark bits, rounding)", h->span_tail_bytes, 0},
        {"manual", "manual spans (goroutine stacks, GC work buffers)", h->manual_span_bytes, h->nspans_manual},
        {"arena", "arena pages in no span (free; released to the OS included)", free_pages, 0},
        {"runtime", "span structures (memstats.mspan_sys)", st->mspan_sys, 0},
        {"runtime", "per-P caches (memstats.mcache_sys)", st->mcache_sys, 0},
        {"runtime", "profiling buckets (memstats.buckhash_sys)", st->buckhash_sys, 0},
        {"runtime", "GC metadata (memstats.gcMiscSys)", st->gcmisc_sys, 0},
        {"runtime", "other runtime allocations (memstats.other_sys)", st->other_sys, 0},
    };
    const char *skipped = h->cov ? "the core is truncated: goheap counts the spans it holds (see overview)"
                          : h->bad_spans ? "goheap skipped inconsistent spans (see overview)"
                                         : NULL;
    const gh_breakdown_check checks[GH_BREAKDOWN_CHECKS] = {
        {"in-use span bytes = mheap_.pagesInUse x 8 KiB", (int64_t)h->inuse_span_bytes,
         (int64_t)(st->pages_in_use * GH_PAGE_SIZE), skipped},
        {"in-use span bytes = heapStats.inHeap", (int64_t)h->inuse_span_bytes, st->in_heap, skipped},
        {"manual span bytes = heapStats.inStacks + inWorkBufs + inPtrScalarBits",
         (int64_t)h->manual_span_bytes, st->in_stacks + st->in_workbufs + st->in_ptrscalar, skipped},
        {"allocated slots = sum of mspan.allocCount", (int64_t)h->nobjects, (int64_t)alloccount, skipped},
        {"arena bytes >= bytes in spans", (int64_t)arena_bytes,
         (int64_t)(arena_bytes >= in_spans ? arena_bytes : in_spans), NULL},
    };
    memcpy(out->rows, rows, sizeof rows);
    memcpy(out->checks, checks, sizeof checks);
}

int gh_breakdown_unexplained(const gh_breakdown *b)
{
    int bad = 0;
    for (size_t i = 0; i < GH_BREAKDOWN_CHECKS; i++)
        bad += b->checks[i].goheap != b->checks[i].runtime && !b->checks[i].explanation;
    return bad;
}
