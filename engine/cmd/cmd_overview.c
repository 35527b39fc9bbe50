/* overview: what this target is, in a few lines. On a truncated core whose
 * heap cannot be read, or a core whose heap metadata is corrupt, it still
 * says what it can, and why the heap is not there, rather than nothing. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/render.h"
#include "heap/coverage.h"
#include "target/unpack.h"

static const char *exp_names[] = {"allocheaders", "swissmap", "greenteagc", "mapsplitgroup",
                                  "randomizedheapbase64"};

static int run(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    gh_heap *h = NULL;
    gh_err herr = {0};
    int rc = gh_session_heap(s, &h, &herr);
    /* Unreadable memory in a core known to be cut short, and heap metadata
     * refused as corrupt, are said in place. */
    int truncated = rc == GH_EMEM && gh_core_warning(s->t);
    if (rc && !truncated && rc != GH_EFORMAT) {
        *err = herr;
        return rc;
    }
    const gh_runtime *rt = &s->rt;
    const gh_thread *th;
    size_t nth = 0;
    if (s->t->ops->threads)
        s->t->ops->threads(s->t->ctx, &th, &nth);
    char exps[160] = "";
    for (unsigned i = 0; i < 5; i++)
        if (rt->exps & (1u << i)) {
            strcat(exps, exps[0] ? " " : "");
            strcat(exps, exp_names[i]);
        }
    if (a->val[0]) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_key(&j, "experiments");
        gh_json_arr(&j);
        for (unsigned i = 0; i < 5; i++)
            if (rt->exps & (1u << i))
                gh_json_str(&j, exp_names[i]);
        gh_json_end(&j, ']');
        gh_json_kstr(&j, "arch", rt->arch->name);
        gh_json_kstr(&j, "executable", gh_exe_path(s->exe));
        gh_json_kstr(&j, "main_package", rt->bi.path);
        gh_json_kaddr(&j, "load_bias", rt->bias);
        gh_json_kstr(&j, "target", s->desc);
        gh_json_ku64(&j, "threads", nth);
        /* Without a heap its counts are null, and heap_error says why. */
        const char *keys[] = {"arenas", "spans_in_use", "spans_manual", "spans_unswept", "objects", "object_bytes",
                              "bad_spans"};
        uint64_t vals[] = {h ? h->narenas : 0, h ? h->nspans_inuse : 0, h ? h->nspans_manual : 0,
                           h ? h->nspans_unswept : 0, h ? h->nobjects : 0, h ? h->object_bytes : 0,
                           h ? h->bad_spans : 0};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            gh_json_key(&j, keys[k]);
            if (h)
                gh_json_u64(&j, vals[k]);
            else
                gh_json_null(&j);
        }
        gh_json_key(&j, "heap_error");
        if (h)
            gh_json_null(&j);
        else
            gh_json_str(&j, herr.msg);
        gh_json_ku64(&j, "heap_loads", s->heap_loads);
        gh_json_kbool(&j, "newer_than_tested", rt->newer_than_tested);
        const gh_unpack_info *u = gh_core_unpacked(s->t);
        gh_json_key(&j, "decompressed"); /* null: the core was not compressed */
        if (u) {
            gh_json_obj(&j);
            gh_json_kstr(&j, "format", gh_pack_name(u->format));
            gh_json_ku64(&j, "compressed_bytes", u->packed);
            gh_json_ku64(&j, "bytes", u->size);
            gh_json_ku64(&j, "stored_bytes", u->stored);
            gh_json_key(&j, "seconds");
            char sec[32];
            snprintf(sec, sizeof sec, "%.3f", u->seconds);
            gh_json_raw(&j, sec);
            gh_json_kstr(&j, "directory", u->dir);
            gh_json_end(&j, '}');
        } else {
            gh_json_null(&j);
        }
        gh_json_end(&j, '}');
        return GH_OK;
    }
    char b1[32], b2[32];
    gh_printf(out, "Go version     %s%s\n", rt->ver.text,
              rt->newer_than_tested ? "  (newer than the newest release goheap was tested with)" : "");
    gh_printf(out, "Experiments    %s\n", exps[0] ? exps : "(none)");
    gh_printf(out, "Architecture   %s\n", rt->arch->name);
    gh_printf(out, "Executable     %s%s%s\n", gh_exe_path(s->exe), rt->bi.path[0] ? "  main package " : "",
              rt->bi.path);
    if (rt->bias)
        gh_printf(out, "Load bias      0x%" PRIx64 " (position-independent)\n", rt->bias);
    gh_printf(out, "Target         %s, %zu threads\n", s->desc, nth);
    if (gh_core_note(s->t))
        gh_printf(out, "Core file      %s\n", gh_core_note(s->t));
    uint64_t have, want;
    if (gh_core_truncated(s->t, &have, &want))
        gh_printf(out, "Core file      truncated: %" PRIu64 " of the %" PRIu64 " bytes its program headers describe "
                       "(%" PRIu64 ".%" PRIu64 "%%, rounded down)\n", have, want, have * 1000 / want / 10, have * 1000 / want % 10);
    if (!h && truncated) {
        gh_printf(out, "Heap           not readable, the core is truncated: %s\n", herr.msg);
        gh_printf(out, "               (mappings and read still answer; goroutines where their memory is in the core)\n");
        return GH_OK;
    }
    if (!h) {
        gh_printf(out, "Heap           refused: %s\n", herr.msg);
        gh_printf(out, "               (mappings, read and goroutines still answer)\n");
        return GH_OK;
    }
    gh_printf(out, "Heap           %" PRIu64 " arenas (%s reserved), %" PRIu64 " spans in use (%s), %" PRIu64
                   " manual spans\n",
              h->narenas, gh_human(h->narenas * (uint64_t)GH_ARENA_SIZE, b1, sizeof b1), h->nspans_inuse,
              gh_human(h->inuse_span_bytes, b2, sizeof b2), h->nspans_manual);
    gh_printf(out, "Objects        %" PRIu64 " allocated, %s\n", h->nobjects,
              gh_human(h->object_bytes, b1, sizeof b1));
    if (h->cov) { /* a truncated core: the counts above are of the spans it holds */
        char line[400];
        gh_heap_cov_line(h, line, sizeof line);
        gh_printf(out, "Coverage       %s\n", line);
    }
    if (h->nspans_unswept)
        gh_printf(out, "Sweep          %" PRIu64 " spans not yet swept since the last GC\n", h->nspans_unswept);
    return GH_OK;
}

static const gh_optspec opts[] = {{"--json", 0, "one JSON document"}, {NULL, 0, NULL}};

const gh_command gh_cmd_overview = {
    .name = "overview",
    .summary = "Go version, experiments, executable, target and heap counts",
    .usage = "overview [--json]",
    .opts = opts,
    .example = "overview --json",
    .run = run,
};
