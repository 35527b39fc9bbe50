/* layout: the runtime struct layouts goheap reads with, and where they came
 * from (the binary's DWARF or the built-in table for binaries without it). */
#include <inttypes.h>

#include "cmd/cmd.h"
#include "cmd/render.h"

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    const gh_runtime *rt = &s->rt;
    const char *type, *path;
    uint64_t off, size;
    if (a->val[0]) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_kbool(&j, "greenteagc", (rt->exps & GH_EXP_GREENTEAGC) != 0);
        gh_json_kstr(&j, "layout_source", rt->layout_source);
        gh_json_kstr(&j, "globals_source", rt->globals_source);
        gh_json_kaddr(&j, "mheap", rt->mheap);
        gh_json_kaddr(&j, "memstats", rt->memstats);
        gh_json_kaddr(&j, "firstmoduledata", rt->firstmoduledata);
        gh_json_key(&j, "fields");
        gh_json_arr(&j);
        for (size_t i = 0; gh_layout_describe(i, &type, &path); i++) {
            gh_layout_get(&rt->L, i, &off, &size);
            gh_json_obj(&j);
            gh_json_kstr(&j, "type", type);
            gh_json_kstr(&j, "field", path);
            gh_json_ku64(&j, "offset", off);
            gh_json_ku64(&j, "size", size);
            gh_json_end(&j, '}');
        }
        gh_json_end(&j, ']');
        gh_json_end(&j, '}');
        return GH_OK;
    }
    gh_printf(out, "layouts from %s; runtime globals from %s\n", rt->layout_source, rt->globals_source);
    gh_printf(out, "runtime.mheap_ 0x%" PRIx64 ", runtime.memstats 0x%" PRIx64 ", runtime.firstmoduledata 0x%" PRIx64
                   "\n\n", rt->mheap, rt->memstats, rt->firstmoduledata);
    gh_printf(out, "%-24s %-28s %8s %6s\n", "TYPE", "FIELD", "OFFSET", "SIZE");
    for (size_t i = 0; gh_layout_describe(i, &type, &path); i++) {
        gh_layout_get(&rt->L, i, &off, &size);
        gh_printf(out, "%-24s %-28s %8" PRIu64 " %6" PRIu64 "\n", type, *path ? path : "(whole struct)", off, size);
    }
    return GH_OK;
}

static const gh_optspec opts[] = {{"--json", 0, "one JSON document"}, {NULL, 0, NULL}};

const gh_command gh_cmd_layout = {
    .name = "layout",
    .summary = "runtime struct layouts in use and where they came from",
    .usage = "layout [--json]",
    .opts = opts,
    .example = "layout",
    .run = run,
};
