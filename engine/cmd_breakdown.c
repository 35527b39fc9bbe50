/* breakdown: memory by class, reconciled with the runtime's own accounting
 * read from the same target. Every difference is printed with its size. */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>

#include "cmd.h"

typedef struct row {
    const char *cls, *what;
    uint64_t bytes;
    uint64_t count; /* objects or spans, 0 when not meaningful */
} row;

typedef struct check {
    const char *name;
    int64_t goheap, runtime;
    const char *explain; /* set when a difference is expected */
} check;

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    gh_heap *h;
    int rc = gh_session_heap(s, &h, err);
    if (rc)
        return rc;
    const gh_heap_stats *st = &h->stats;

    uint64_t text = 0, rodata = 0, data = 0, bss = 0;
    size_t nsec;
    const gh_section *sec = gh_exe_sections(s->exe, &nsec);
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

    const row rows[] = {
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
    const char *skipped = h->bad_spans ? "goheap skipped inconsistent spans (see overview)" : NULL;
    const check checks[] = {
        {"in-use span bytes = mheap_.pagesInUse x 8 KiB", (int64_t)h->inuse_span_bytes,
         (int64_t)(st->pages_in_use * GH_PAGE_SIZE), skipped},
        {"in-use span bytes = heapStats.inHeap", (int64_t)h->inuse_span_bytes, st->in_heap, skipped},
        {"manual span bytes = heapStats.inStacks + inWorkBufs + inPtrScalarBits",
         (int64_t)h->manual_span_bytes, st->in_stacks + st->in_workbufs + st->in_ptrscalar, skipped},
        {"allocated slots = sum of mspan.allocCount", (int64_t)h->nobjects, (int64_t)alloccount, skipped},
        {"arena bytes >= bytes in spans", (int64_t)arena_bytes,
         (int64_t)(arena_bytes >= in_spans ? arena_bytes : in_spans), NULL},
    };
    size_t nrows = sizeof rows / sizeof rows[0], nchecks = sizeof checks / sizeof checks[0];
    int bad = 0;
    for (size_t i = 0; i < nchecks; i++)
        bad += checks[i].goheap != checks[i].runtime && !checks[i].explain;

    if (a->val[0]) {
        gh_json j;
        gh_json_init(&j, out);
        gh_json_obj(&j);
        gh_json_kstr(&j, "go_version", s->rt.ver.text);
        gh_json_key(&j, "classes");
        gh_json_arr(&j);
        for (size_t i = 0; i < nrows; i++) {
            gh_json_obj(&j);
            gh_json_kstr(&j, "class", rows[i].cls);
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
            gh_json_kstr(&j, "check", checks[i].name);
            gh_json_ki64(&j, "goheap", checks[i].goheap);
            gh_json_ki64(&j, "runtime", checks[i].runtime);
            gh_json_ki64(&j, "difference", checks[i].goheap - checks[i].runtime);
            gh_json_kbool(&j, "ok", checks[i].goheap == checks[i].runtime);
            if (checks[i].explain && checks[i].goheap != checks[i].runtime)
                gh_json_kstr(&j, "explanation", checks[i].explain);
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
    gh_printf(out, "%-8s %-60s %14s %10s %12s\n", "CLASS", "WHAT", "BYTES", "", "COUNT");
    for (size_t i = 0; i < nrows; i++) {
        gh_printf(out, "%-8s %-60s %14" PRIu64 " %10s", rows[i].cls, rows[i].what, rows[i].bytes,
                  gh_human(rows[i].bytes, b, sizeof b));
        if (rows[i].count)
            gh_printf(out, " %12" PRIu64, rows[i].count);
        gh_puts(out, "\n");
    }
    gh_puts(out, "\nChecks against the runtime's own accounting:\n");
    for (size_t i = 0; i < nchecks; i++) {
        const check *c = &checks[i];
        if (c->goheap == c->runtime)
            gh_printf(out, "  ok    %s (%" PRId64 ")\n", c->name, c->goheap);
        else
            gh_printf(out, "  DIFF  %s: goheap %" PRId64 ", runtime %" PRId64 ", difference %" PRId64 "%s%s\n",
                      c->name, c->goheap, c->runtime, c->goheap - c->runtime, c->explain ? " — " : "",
                      c->explain ? c->explain : "");
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
