/* roots: the GC roots goheap found, by kind, or every region with --list. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/render.h"

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    const gh_roots *rs;
    int rc = gh_session_roots(s, &rs, err);
    if (rc)
        return rc;
    int json = a->val[0] != NULL, list = a->val[1] != NULL;
    size_t n = gh_roots_count(rs);
    uint64_t regions[GH_ROOT_NKINDS] = {0}, words[GH_ROOT_NKINDS] = {0}, bytes[GH_ROOT_NKINDS] = {0};
    for (size_t i = 0; i < n; i++) {
        const gh_root *r = gh_roots_get(rs, i);
        regions[r->kind]++;
        words[r->kind] += gh_root_pointer_words(r);
        bytes[r->kind] += r->size;
    }
    char desc[1024];
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_key(&j, "kinds");
        gh_json_arr(&j);
        for (int k = 0; k < GH_ROOT_NKINDS; k++) {
            gh_json_obj(&j);
            gh_json_kstr(&j, "kind", gh_root_kind_name(k));
            gh_json_ku64(&j, "regions", regions[k]);
            gh_json_ku64(&j, "bytes", bytes[k]);
            gh_json_ku64(&j, "pointer_words", words[k]);
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        if (list) {
            gh_json_key(&j, "roots");
            gh_json_arr(&j);
            for (size_t i = 0; i < n; i++)
                gh_render_root_json(&j, gh_roots_get(rs, i), s->t, 1);
            gh_json_end(&j, ']');
        }
        gh_json_key(&j, "notes");
        gh_json_arr(&j);
        for (size_t i = 0; i < gh_roots_nnotes(rs); i++)
            gh_json_str(&j, gh_roots_get_note(rs, i));
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
        return GH_OK;
    }
    gh_printf(out, "%-10s %10s %14s %14s\n", "kind", "regions", "bytes", "pointer words");
    for (int k = 0; k < GH_ROOT_NKINDS; k++)
        gh_printf(out, "%-10s %10" PRIu64 " %14" PRIu64 " %14" PRIu64 "\n", gh_root_kind_name(k), regions[k],
                  bytes[k], words[k]);
    if (list) {
        gh_printf(out, "\n%-9s %-18s %8s %6s  %s\n", "kind", "addr", "size", "ptrs", "root");
        for (size_t i = 0; i < n; i++) {
            const gh_root *r = gh_roots_get(rs, i);
            gh_render_root_cell(r, desc, sizeof desc);
            gh_printf(out, "%-9s 0x%016" PRIx64 " %8" PRIu64 " %6" PRIu64 "  %s%s\n", gh_root_kind_name(r->kind),
                      r->addr, r->size, gh_root_pointer_words(r), desc, r->conservative ? " (conservative)" : "");
        }
    }
    for (size_t i = 0; i < gh_roots_nnotes(rs); i++)
        gh_printf(out, "note: %s\n", gh_roots_get_note(rs, i));
    return GH_OK;
}

static const gh_optspec opts[] = {
    {"--json", 0, "one JSON document"},
    {"--list", 0, "every root region, with its name (and its pointer values in JSON)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_roots = {
    .name = "roots",
    .summary = "the GC roots: globals, goroutine stacks, finalizers, cleanups",
    .usage = "roots [--list] [--json]",
    .opts = opts,
    .example = "roots --list",
    .min_pos = 0,
    .max_pos = 0,
    .run = run,
};
