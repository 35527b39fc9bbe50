/* verify: where every pointer word of every allocated object leads
 * (heap/verify.c), rendered. */
#include <inttypes.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "heap/verify.h"

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    gh_heap *h;
    int rc = gh_session_heap(s, &h, err);
    if (rc)
        return rc;
    gh_typemask_cache *tc = gh_session_typemasks(s);
    if (!tc)
        return gh_errorf(err, GH_ENOMEM, "out of memory");
    const gh_region *reg = NULL;
    size_t nreg = 0;
    if (s->t->ops->regions)
        s->t->ops->regions(s->t->ctx, &reg, &nreg);
    gh_heap_check t;
    if ((rc = gh_heap_verify(h, tc, reg, nreg, &s->cancel, &t, err)))
        return rc;
    uint64_t objects = t.objects, untyped = t.untyped, errors = t.errors;
    const char *first_error = t.first_error;
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
    gh_render_coverage_text(out, s);
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
