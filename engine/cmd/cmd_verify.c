/* verify: reads every pointer word of every allocated object through the
 * pointer layouts and says where the pointers lead. On a sound core nearly
 * every pointer leads to an allocated object or mapped memory; many that do
 * not mean a layout was misread or the core is damaged. */
#include <inttypes.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "heap/heapscan.h"

typedef struct tally {
    const gh_heap *h;
    const gh_region *reg;
    size_t nreg;
    uint64_t words, nil, heap_obj, heap_free, manual, mapped, unmapped;
    uint64_t first_bad_word, first_bad_value;
} tally;

static int mapped(const tally *t, uint64_t v)
{
    size_t lo = 0, hi = t->nreg;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v < t->reg[mid].start)
            hi = mid;
        else if (v >= t->reg[mid].end)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static int count(void *ctx, uint64_t word, uint64_t v)
{
    tally *t = ctx;
    t->words++;
    gh_obj o;
    const gh_span *sp;
    if (!v)
        t->nil++;
    else if (gh_heap_find(t->h, v, &o))
        t->heap_obj++;
    else if ((sp = gh_heap_span_of(t->h, v)) && sp->state == GH_SPAN_MANUAL)
        t->manual++;
    else if (sp)
        t->heap_free++;
    else if (mapped(t, v))
        t->mapped++;
    else {
        if (!t->unmapped++) {
            t->first_bad_word = word;
            t->first_bad_value = v;
        }
    }
    return 0;
}

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    gh_heap *h;
    int rc = gh_session_heap(s, &h, err);
    if (rc)
        return rc;
    gh_typemask_cache *tc = gh_session_typemasks(s);
    if (!tc)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    tally t = {.h = h};
    if (s->t->ops->regions)
        s->t->ops->regions(s->t->ctx, &t.reg, &t.nreg);
    uint64_t objects = 0, untyped = 0, errors = 0;
    char first_error[sizeof err->msg] = "";
    for (size_t i = 0; i < h->nspans; i++) {
        const gh_span *sp = &h->spans[i];
        if (sp->state != GH_SPAN_INUSE)
            continue;
        for (uint32_t k = 0; k < sp->nelems; k++) {
            if (!gh_heap_allocated(h, sp->first + k))
                continue;
            if ((k & 1023) == 0 && gh_session_interrupted(s))
                return gh_errorf(err, GH_EINTR, "interrupted: verify stopped after %llu objects",
                                 (unsigned long long)objects);
            gh_obj o;
            gh_heap_obj(h, sp, k, &o);
            int u;
            gh_err e2;
            objects++;
            if (gh_heap_scan_object(h, tc, &o, count, &t, &u, &e2)) {
                if (!errors++)
                    snprintf(first_error, sizeof first_error, "%s", e2.msg);
            }
            untyped += u;
        }
    }
    if (a->val[0]) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_ku64(&j, "objects", objects);
        gh_json_ku64(&j, "pointer_words", t.words);
        gh_json_ku64(&j, "nil", t.nil);
        gh_json_ku64(&j, "to_heap_objects", t.heap_obj);
        gh_json_ku64(&j, "to_free_heap_slots", t.heap_free);
        gh_json_ku64(&j, "to_manual_spans", t.manual);
        gh_json_ku64(&j, "to_other_mapped", t.mapped);
        gh_json_ku64(&j, "to_unmapped", t.unmapped);
        if (t.unmapped) {
            gh_json_kaddr(&j, "first_unmapped_word", t.first_bad_word);
            gh_json_kaddr(&j, "first_unmapped_value", t.first_bad_value);
        }
        gh_json_ku64(&j, "objects_without_type", untyped);
        gh_json_ku64(&j, "scan_errors", errors);
        if (errors)
            gh_json_kstr(&j, "first_scan_error", first_error);
        gh_json_end(&j, '}');
        return GH_OK;
    }
    gh_printf(out, "%" PRIu64 " objects, %" PRIu64 " pointer words:\n", objects, t.words);
    gh_printf(out, "  %12" PRIu64 "  nil\n", t.nil);
    gh_printf(out, "  %12" PRIu64 "  to allocated heap objects\n", t.heap_obj);
    gh_printf(out, "  %12" PRIu64 "  to free heap slots\n", t.heap_free);
    gh_printf(out, "  %12" PRIu64 "  to manual spans (stacks)\n", t.manual);
    gh_printf(out, "  %12" PRIu64 "  to other mapped memory (binary, off-heap runtime memory)\n", t.mapped);
    gh_printf(out, "  %12" PRIu64 "  to unmapped addresses", t.unmapped);
    if (t.unmapped)
        gh_printf(out, " (first: 0x%" PRIx64 " holds 0x%" PRIx64 ")", t.first_bad_word, t.first_bad_value);
    gh_puts(out, "\n");
    if (untyped)
        gh_printf(out, "%" PRIu64 " objects with no type published yet (caught mid-allocation)\n", untyped);
    if (errors)
        gh_printf(out, "%" PRIu64 " objects could not be scanned, first: %s\n", errors, first_error);
    return GH_OK;
}

static const gh_optspec opts[] = {{"--json", 0, "one JSON document"}, {NULL, 0, NULL}};

const gh_command gh_cmd_verify = {
    .name = "verify",
    .summary = "read every object's pointer words and check where they lead",
    .usage = "verify [--json]",
    .opts = opts,
    .example = "verify",
    .run = run,
};
