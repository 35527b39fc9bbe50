/* goroutines: every goroutine with its status, wait reason, where it is and
 * who created it, or (--group) one row per distinct stack; goroutine ID
 * (alias bt): one goroutine's full backtrace with the live pointer words of
 * each frame and the heap objects they point to. */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/render.h"

/* --- filters: --with, --without, --label (Delve's goroutines -with) ---- */

typedef enum { F_USERLOC, F_CURLOC, F_GOLOC, F_STARTLOC, F_LABEL, F_RUNNING, F_USER } fkind;

typedef struct gfilter {
    fkind kind;
    int negate, has_re;
    regex_t re;
    char key[256];
    const char *value; /* F_LABEL: NULL when only the key must be there */
} gfilter;

static const struct {
    const char *name;
    fkind kind;
} fnames[] = {
    {"userloc", F_USERLOC}, {"user", F_USERLOC},   {"curloc", F_CURLOC},   {"goloc", F_GOLOC},
    {"creator", F_GOLOC},   {"startloc", F_STARTLOC}, {"start", F_STARTLOC}, {"label", F_LABEL},
};

static int parse_filter(const char *spec, const char *opt, int negate, gfilter *f, gh_err *err)
{
    memset(f, 0, sizeof *f);
    f->negate = negate;
    if (!strcmp(spec, "running") || !strcmp(spec, "user")) {
        f->kind = !strcmp(spec, "running") ? F_RUNNING : F_USER;
        return GH_OK;
    }
    const char *eq = strchr(spec, '=');
    size_t k = 0, nlen = eq ? (size_t)(eq - spec) : 0;
    while (k < sizeof fnames / sizeof fnames[0] && (strlen(fnames[k].name) != nlen || strncmp(spec, fnames[k].name, nlen)))
        k++;
    if (!eq || k == sizeof fnames / sizeof fnames[0])
        return gh_errorf(err, GH_EARG, "%s: \"%.100s\" is not one of userloc=REGEX, curloc=REGEX, goloc=REGEX, "
                                       "startloc=REGEX, label=KEY[=VALUE], running, user", opt, spec);
    f->kind = fnames[k].kind;
    const char *arg = eq + 1;
    if (f->kind == F_LABEL) {
        const char *v = strchr(arg, '=');
        size_t klen = v ? (size_t)(v - arg) : strlen(arg);
        if (!klen || klen >= sizeof f->key)
            return gh_errorf(err, GH_EARG, "%s: label=KEY=VALUE needs a key", opt);
        memcpy(f->key, arg, klen);
        f->value = v ? v + 1 : NULL;
        return GH_OK;
    }
    if (regcomp(&f->re, arg, REG_EXTENDED | REG_NOSUB))
        return gh_errorf(err, GH_EARG, "%s: bad regular expression \"%.100s\"", opt, arg);
    f->has_re = 1;
    return GH_OK;
}

/* "function file:line", what the location filters match. */
static int loc_matches(const regex_t *re, const char *fn, const char *file, int line)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s %s:%d", fn, file ? file : "?", line);
    return !regexec(re, buf, 0, NULL, 0);
}

static int frame_matches(const regex_t *re, const gh_frame *f)
{
    return f && loc_matches(re, f->function, f->file, f->line);
}

static int filter_matches(const gfilter *f, const gh_goroutine *g)
{
    int m = 0;
    switch (f->kind) {
    case F_USERLOC: m = frame_matches(&f->re, gh_goroutine_where(g)); break;
    case F_CURLOC: m = frame_matches(&f->re, gh_goroutine_top(g)); break;
    case F_GOLOC: m = g->creator && loc_matches(&f->re, g->creator, g->creator_file, g->creator_line); break;
    case F_STARTLOC: m = g->start && !regexec(&f->re, g->start, 0, NULL, 0); break;
    case F_RUNNING: m = g->status == GH_G_RUNNING; break;
    case F_USER: m = !g->system; break;
    case F_LABEL:
        for (size_t i = 0; i < g->nlabels && !m; i++)
            m = !strcmp(g->labels[i].key, f->key) && (!f->value || !strcmp(g->labels[i].value, f->value));
        break;
    }
    return f->negate ? !m : m;
}

static int matches(const gh_goroutine *g, const char *status, const regex_t *re, const gfilter *fs, size_t nf)
{
    if (status && strcmp(status, g->status_name) && (!g->wait_reason || strcmp(status, g->wait_reason)))
        return 0;
    for (size_t i = 0; i < nf; i++)
        if (!filter_matches(&fs[i], g))
            return 0;
    if (!re)
        return 1;
    for (size_t i = 0; i < g->nframes; i++)
        if (!regexec(re, g->frames[i].function, 0, NULL, 0))
            return 1;
    return 0;
}

static void free_filters(gfilter *fs, size_t nf)
{
    for (size_t i = 0; i < nf; i++)
        if (fs[i].has_re)
            regfree(&fs[i].re);
}

/* What the WHERE column shows: the user frame; for the runtime's own
 * goroutines the function they started in (runtime.bgsweep says more than
 * the runtime.gopark they all share); else the top frame. */
static void where_text(const gh_goroutine *g, char *buf, size_t cap)
{
    const gh_frame *w = gh_goroutine_where(g);
    if (!w)
        w = gh_goroutine_start_frame(g);
    if (w)
        snprintf(buf, cap, "%s %s:%d", w->function, gh_render_basename(w->file), w->line);
    else
        snprintf(buf, cap, "? (%s)", g->stop ? g->stop : "no frames");
}

static int layout(gh_session *s, const gh_goroutines *gs, int json, gh_out *out)
{
    gh_glayout L;
    char src[96];
    gh_err e;
    if (gh_glayout_resolve(&s->rt, &L, src, sizeof src, &e))
        snprintf(src, sizeof src, "none: %.80s", e.msg);
    const char *type, *path;
    uint64_t off, size;
    if (json) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_kstr(&j, "layout_source", src);
        gh_json_kaddr(&j, "allgs", gs->allgs);
        gh_json_kstr(&j, "allgs_source", gs->allgs_source);
        gh_json_ku64(&j, "wait_reasons", gs->nwaitreasons);
        gh_json_key(&j, "fields");
        gh_json_arr(&j);
        for (size_t i = 0; gh_glayout_describe(i, &type, &path); i++) {
            gh_glayout_get(&L, i, &off, &size);
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
    gh_printf(out, "layouts from %s; runtime.allgs 0x%" PRIx64 " from %s; %zu wait reasons\n\n", src, gs->allgs,
              gs->allgs_source, gs->nwaitreasons);
    gh_printf(out, "%-16s %-16s %8s %6s\n", "TYPE", "FIELD", "OFFSET", "SIZE");
    for (size_t i = 0; gh_glayout_describe(i, &type, &path); i++) {
        gh_glayout_get(&L, i, &off, &size);
        gh_printf(out, "%-16s %-16s %8" PRIu64 " %6" PRIu64 "\n", type, *path ? path : "(whole struct)", off, size);
    }
    return GH_OK;
}

/* --- groups of goroutines with one stack -------------------------------- */

static int run_list(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    const char *status = a->val[1], *fre = a->val[2];
    uint64_t limit = UINT64_MAX;
    int rc;
    if (a->val[3] && (rc = gh_parse_u64(a->val[3], "--limit", &limit, err)))
        return rc;
    gfilter fs[3];
    size_t nf = 0;
    char label[600];
    if (a->val[6]) {
        if (!strchr(a->val[6], '='))
            return gh_errorf(err, GH_EARG, "--label: KEY=VALUE, not \"%.100s\"", a->val[6]);
        snprintf(label, sizeof label, "label=%s", a->val[6]);
        if ((rc = parse_filter(label, "--label", 0, &fs[nf], err)))
            return rc;
        nf++;
    }
    for (int k = 7; k <= 8; k++) {
        if (a->val[k] && (rc = parse_filter(a->val[k], k == 7 ? "--with" : "--without", k == 8, &fs[nf], err))) {
            free_filters(fs, nf);
            return rc;
        }
        nf += a->val[k] != NULL;
    }
    regex_t re;
    if (fre) {
        if (regcomp(&re, fre, REG_EXTENDED | REG_NOSUB)) {
            free_filters(fs, nf);
            return gh_errorf(err, GH_EARG, "goroutines: bad --function regular expression \"%.100s\"", fre);
        }
    }
    gh_goroutines *gs;
    if ((rc = gh_session_goroutines(s, &gs, err))) {
        if (fre)
            regfree(&re);
        free_filters(fs, nf);
        return rc;
    }
    size_t *sel = NULL, nsel = 0, ngroups = 0;
    gh_ggroup *groups = NULL;
    if (a->val[4]) {
        rc = layout(s, gs, a->val[0] != NULL, out);
        goto done;
    }
    /* Counts by status over every goroutine, filters or not. */
    const char *names[64];
    uint64_t counts[64];
    size_t nnames = 0;
    for (size_t i = 0; i < gs->n; i++) {
        const char *st = gs->v[i].status_name;
        size_t k = 0;
        while (k < nnames && strcmp(names[k], st))
            k++;
        if (k == nnames && nnames < 64) {
            names[nnames] = st;
            counts[nnames++] = 0;
        }
        if (k < nnames)
            counts[k]++;
    }
    sel = malloc((gs->n ? gs->n : 1) * sizeof *sel);
    if (!sel) {
        rc = gh_errorf(err, GH_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < gs->n; i++)
        if (matches(&gs->v[i], status, fre ? &re : NULL, fs, nf))
            sel[nsel++] = i;
    if (a->val[5] && (rc = gh_goroutines_group(gs, sel, nsel, &groups, &ngroups, err)))
        goto done;
    uint64_t shown = a->val[5] ? (ngroups < limit ? ngroups : limit) : (nsel < limit ? nsel : limit);
    if (a->val[0]) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_json_ku64(&j, "total", gs->n);
        gh_json_ku64(&j, "user", gs->nuser);
        gh_json_ku64(&j, "system", gs->nsystem);
        gh_json_ku64(&j, "dead", gs->ndead);
        gh_json_key(&j, "counts");
        gh_json_obj(&j);
        for (size_t k = 0; k < nnames; k++)
            gh_json_ku64(&j, names[k], counts[k]);
        gh_json_end(&j, '}');
        gh_render_goroutines_now(&j, gs);
        gh_json_ku64(&j, "matched", nsel);
        if (a->val[5]) {
            gh_render_groups_json(&j, gs, groups, ngroups, limit);
            gh_json_ku64(&j, "ngroups", ngroups);
        } else {
            gh_json_key(&j, "goroutines");
            gh_json_arr(&j);
            for (uint64_t i = 0; i < shown; i++)
                gh_render_goroutine_json(&j, &gs->v[sel[i]], 1, NULL, NULL, NULL);
            gh_json_end(&j, ']');
        }
        gh_json_ku64(&j, "shown", shown);
        gh_render_goroutines_notes(&j, gs);
        gh_json_end(&j, '}');
        goto done;
    }
    if (a->val[5]) {
        gh_render_groups_text(out, gs, groups, ngroups, limit);
        gh_printf(out, "\n%zu goroutines (%zu user, %zu runtime), %zu dead; %zu matched in %zu groups, shown %" PRIu64
                       ":",
                  gs->n, gs->nuser, gs->nsystem, gs->ndead, nsel, ngroups, shown);
    } else {
        int any_labels = 0;
        for (uint64_t i = 0; i < shown; i++)
            any_labels |= gs->v[sel[i]].nlabels || gs->v[sel[i]].labels_error;
        gh_printf(out, "%8s  %-24s %7s  %-50s %s\n", "ID", "STATUS", "THREAD", "WHERE",
                  any_labels ? "CREATED BY                                        LABELS" : "CREATED BY");
        char where[512], tid[16], st[128], by[512], lb[1024];
        for (uint64_t i = 0; i < shown; i++) {
            const gh_goroutine *g = &gs->v[sel[i]];
            where_text(g, where, sizeof where);
            snprintf(tid, sizeof tid, "%d", g->tid);
            if (g->creator && g->goid != 1) /* main was started by the runtime itself */
                snprintf(by, sizeof by, "%s %s:%d", g->creator, gh_render_basename(g->creator_file), g->creator_line);
            else
                by[0] = 0;
            gh_render_labels(g, lb, sizeof lb);
            if (g->labels_error)
                snprintf(lb + strlen(lb), sizeof lb - strlen(lb), "%s(%s)", *lb ? " " : "", g->labels_error);
            gh_printf(out, "%8" PRId64 "  %-24s %7s  %-50s %s", g->goid, gh_render_gstate_long(g, st, sizeof st),
                      g->tid ? tid : "", where, by);
            if (*lb)
                gh_printf(out, "%*s  %s", (int)(strlen(by) < 48 ? 48 - strlen(by) : 0), "", lb);
            gh_puts(out, "\n");
        }
        gh_printf(out, "\n%zu goroutines (%zu user, %zu runtime), %zu dead; shown %" PRIu64 ":", gs->n, gs->nuser,
                  gs->nsystem, gs->ndead, shown);
    }
    for (size_t k = 0; k < nnames; k++)
        gh_printf(out, " %s %" PRIu64 "%s", names[k], counts[k], k + 1 < nnames ? "," : "");
    gh_puts(out, "\n");
    for (size_t i = 0; i < gs->nnotes; i++)
        gh_printf(out, "note: %s\n", gs->notes[i]);
done:
    free(sel);
    free(groups);
    if (fre)
        regfree(&re);
    free_filters(fs, nf);
    gh_goroutines_free(gs);
    return rc;
}

/* Like the runtime's traceback: function, then file:line +offset; under
 * each physical frame its live pointer words. */
static int run_one(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t id;
    int rc = gh_parse_u64(a->pos[0], "goroutine id", &id, err);
    if (rc)
        return rc;
    gh_goroutines *gs;
    if ((rc = gh_session_goroutines(s, &gs, err)))
        return rc;
    const gh_goroutine *g = gh_goroutine_find(gs, (int64_t)id);
    gh_gptrs *ps = NULL;
    gh_graph *gr = NULL;
    gh_glocals lv = {0};
    char graph_note[640] = "";
    if (!g) {
        rc = gh_errorf(err, GH_EARG, "no live goroutine %" PRIu64 " (%zu live, %zu dead)", id, gs->n, gs->ndead);
        goto done;
    }
    if (g->stack_corrupt) { /* no backtrace and no stack words to show */
        rc = gh_errorf(err, GH_EFORMAT, "goroutine %" PRIu64 " (g at 0x%" PRIx64 "): %s", id, g->g, g->stop);
        goto done;
    }
    /* The heap graph types what the words point to; without it (a heap that
     * cannot be read) the backtrace and the words are still shown. */
    if ((rc = gh_session_graph(s, &gr, err))) {
        if (rc == GH_ENOMEM || rc == GH_EINTR)
            goto done;
        snprintf(graph_note, sizeof graph_note, "heap objects are not known (%s): pointers are shown without "
                                                "types, conservative words not at all", err->msg);
        gh_err_clear(err);
        gr = NULL;
        rc = GH_OK;
    }
    gh_roots_env env;
    if ((rc = gh_session_roots_env(s, &env, err)) || (rc = gh_goroutine_pointers(&env, g, &ps, err)))
        goto done;
    if (a->val[1] && (rc = gh_cmd_goroutine_locals(s, g, gr, &lv, err)))
        goto done;
    if (a->val[0]) {
        gh_json j;
        gh_render_begin(&j, out, s);
        gh_render_goroutine_fields(&j, g, 1, ps, gr, graph_note, a->val[1] ? &lv : NULL);
        gh_json_end(&j, '}');
    } else {
        gh_render_backtrace(g, ps, gr, a->val[1] ? &lv : NULL, out);
        for (size_t i = 0; i < ps->nnotes; i++)
            gh_printf(out, "note: %s\n", ps->notes[i]);
        if (*graph_note)
            gh_printf(out, "note: %s\n", graph_note);
    }
done:
    gh_glocals_free(&lv);
    gh_gptrs_free(ps);
    gh_goroutines_free(gs);
    return rc;
}

static const gh_optspec list_opts[] = {
    {"--json", 0, "one JSON document (every frame of every goroutine shown)"},
    {"--status", 1, "only goroutines in this status or wait reason (waiting, \"chan receive\", ...)"},
    {"--function", 1, "only goroutines with a frame whose function matches this regular expression"},
    {"--limit", 1, "show at most N goroutines"},
    {"--layout", 0, "the runtime.g/m layouts and globals the reader uses, and where they came from"},
    {"--group", 0, "one row per distinct stack (status, wait reason, every frame's function and file:line), "
                   "largest group first; --limit counts groups"},
    {"--label", 1, "only goroutines with this pprof label: KEY=VALUE"},
    {"--with", 1, "only goroutines matching: userloc=REGEX (user frame), curloc=REGEX (top frame), goloc=REGEX "
                  "(creator), startloc=REGEX (start function), label=KEY[=VALUE], running, user (not the "
                  "runtime's); REGEX against \"function file:line\""},
    {"--without", 1, "only goroutines not matching (as --with)"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_goroutines = {
    .name = "goroutines",
    .summary = "goroutines: status, wait reason, where they are, who created them",
    .usage = "goroutines [--status S] [--function REGEX] [--label KEY=VALUE] [--with F] [--without F] [--limit N] "
             "[--group] [--json]",
    .opts = list_opts,
    .example = "goroutines --function 'main\\.' --limit 20",
    .min_pos = 0,
    .max_pos = 0,
    .run = run_list,
};

static const gh_optspec one_opts[] = {
    {"--json", 0, "one JSON document"},
    {"--locals", 0, "each frame's variables as DWARF places them at its pc, with their values (registers where "
                    "the frame still has them), or why there is none"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_goroutine = {
    .name = "goroutine",
    .alias = "bt",
    .summary = "one goroutine's full backtrace, runtime frames included, with each frame's live pointers",
    .usage = "goroutine ID [--locals] [--json]",
    .opts = one_opts,
    .example = "goroutine 1",
    .min_pos = 1,
    .max_pos = 1,
    .run = run_one,
};
