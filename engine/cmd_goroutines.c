/* goroutines: every goroutine with its status, wait reason, where it is and
 * who created it; goroutine ID (alias bt): one goroutine's full backtrace. */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "goheap/goroutine.h"

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* What the status column shows: the wait reason of a waiting goroutine, as
 * the runtime's traceback header does. */
static const char *state(const gh_goroutine *g)
{
    return g->wait_reason ? g->wait_reason : g->status_name;
}

static void json_frames(gh_json *j, const gh_goroutine *g)
{
    gh_json_key(j, "frames");
    gh_json_arr(j);
    for (size_t i = 0; i < g->nframes; i++) {
        const gh_frame *f = &g->frames[i];
        const gh_pframe *p = &g->pframes[f->pframe];
        gh_json_obj(j);
        gh_json_kstr(j, "function", f->function);
        gh_json_kstr(j, "file", f->file);
        gh_json_ki64(j, "line", f->line);
        gh_json_kaddr(j, "pc", p->pc);
        gh_json_kaddr(j, "sp", p->sp);
        gh_json_kaddr(j, "fp", p->fp);
        gh_json_kbool(j, "inlined", f->inlined);
        gh_json_end(j, '}');
    }
    gh_json_end(j, ']');
}

static void json_one(gh_json *j, const gh_goroutine *g, int frames)
{
    gh_json_obj(j);
    gh_json_ki64(j, "id", g->goid);
    gh_json_kstr(j, "status", g->status_name);
    gh_json_key(j, "wait_reason");
    if (g->wait_reason)
        gh_json_str(j, g->wait_reason);
    else
        gh_json_null(j);
    gh_json_kstr(j, "state", state(g));
    gh_json_kbool(j, "system", g->system);
    gh_json_kaddr(j, "gp", g->g);
    gh_json_key(j, "thread");
    if (g->tid)
        gh_json_i64(j, g->tid);
    else
        gh_json_null(j);
    if (g->start)
        gh_json_kstr(j, "start", g->start);
    gh_json_key(j, "creator");
    if (g->creator) {
        gh_json_obj(j);
        gh_json_kstr(j, "function", g->creator);
        gh_json_kstr(j, "file", g->creator_file);
        gh_json_ki64(j, "line", g->creator_line);
        gh_json_ki64(j, "goroutine", g->parent_goid);
        gh_json_end(j, '}');
    } else {
        gh_json_null(j);
    }
    const gh_frame *w = gh_goroutine_where(g);
    gh_json_key(j, "where");
    if (w) {
        gh_json_obj(j);
        gh_json_kstr(j, "function", w->function);
        gh_json_kstr(j, "file", w->file);
        gh_json_ki64(j, "line", w->line);
        gh_json_end(j, '}');
    } else {
        gh_json_null(j);
    }
    gh_json_kstr(j, "from", gh_gfrom_name(g->from));
    gh_json_kbool(j, "truncated", g->truncated);
    gh_json_key(j, "stop");
    if (g->stop)
        gh_json_str(j, g->stop);
    else
        gh_json_null(j);
    if (frames)
        json_frames(j, g);
    gh_json_end(j, '}');
}

static void json_notes(gh_json *j, const gh_goroutines *gs)
{
    gh_json_key(j, "notes");
    gh_json_arr(j);
    for (size_t i = 0; i < gs->nnotes; i++)
        gh_json_str(j, gs->notes[i]);
    gh_json_end(j, ']');
}

static int matches(const gh_goroutine *g, const char *status, const regex_t *re)
{
    if (status && strcmp(status, g->status_name) && (!g->wait_reason || strcmp(status, g->wait_reason)))
        return 0;
    if (!re)
        return 1;
    for (size_t i = 0; i < g->nframes; i++)
        if (!regexec(re, g->frames[i].function, 0, NULL, 0))
            return 1;
    return 0;
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
        gh_json_init(&j, out);
        gh_json_obj(&j);
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

static int run_list(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    const char *status = a->val[1], *fre = a->val[2];
    uint64_t limit = UINT64_MAX;
    int rc;
    if (a->val[3] && (rc = gh_parse_u64(a->val[3], "--limit", &limit, err)))
        return rc;
    regex_t re;
    if (fre) {
        if (regcomp(&re, fre, REG_EXTENDED | REG_NOSUB))
            return gh_errorf(err, GH_EARG, "goroutines: bad --function regular expression \"%.100s\"", fre);
    }
    gh_goroutines *gs;
    if ((rc = gh_goroutines_load(s, &gs, err))) {
        if (fre)
            regfree(&re);
        return rc;
    }
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
    uint64_t shown = 0;
    if (a->val[0]) {
        gh_json j;
        gh_json_init(&j, out);
        gh_json_obj(&j);
        gh_json_kstr(&j, "go_version", s->rt.ver.text);
        gh_json_ku64(&j, "total", gs->n);
        gh_json_ku64(&j, "user", gs->nuser);
        gh_json_ku64(&j, "system", gs->nsystem);
        gh_json_ku64(&j, "dead", gs->ndead);
        gh_json_key(&j, "counts");
        gh_json_obj(&j);
        for (size_t k = 0; k < nnames; k++)
            gh_json_ku64(&j, names[k], counts[k]);
        gh_json_end(&j, '}');
        gh_json_key(&j, "goroutines");
        gh_json_arr(&j);
        for (size_t i = 0; i < gs->n && shown < limit; i++) {
            if (!matches(&gs->v[i], status, fre ? &re : NULL))
                continue;
            json_one(&j, &gs->v[i], 1);
            shown++;
        }
        gh_json_end(&j, ']');
        gh_json_ku64(&j, "shown", shown);
        json_notes(&j, gs);
        gh_json_end(&j, '}');
        goto done;
    }
    gh_printf(out, "%8s  %-24s %7s  %-50s %s\n", "ID", "STATUS", "THREAD", "WHERE", "CREATED BY");
    char where[512], tid[16];
    for (size_t i = 0; i < gs->n && shown < limit; i++) {
        const gh_goroutine *g = &gs->v[i];
        if (!matches(g, status, fre ? &re : NULL))
            continue;
        const gh_frame *w = gh_goroutine_where(g);
        if (!w && g->nframes)
            w = &g->frames[0];
        if (w)
            snprintf(where, sizeof where, "%s %s:%d", w->function, base(w->file), w->line);
        else
            snprintf(where, sizeof where, "? (%s)", g->stop ? g->stop : "no frames");
        snprintf(tid, sizeof tid, "%d", g->tid);
        gh_printf(out, "%8" PRId64 "  %-24s %7s  %-50s %s\n", g->goid, state(g), g->tid ? tid : "", where,
                  g->creator && g->goid != 1 ? g->creator : "");
        shown++;
    }
    gh_printf(out, "\n%zu goroutines (%zu user, %zu runtime), %zu dead; shown %" PRIu64 ":", gs->n, gs->nuser,
              gs->nsystem, gs->ndead, shown);
    for (size_t k = 0; k < nnames; k++)
        gh_printf(out, " %s %" PRIu64 "%s", names[k], counts[k], k + 1 < nnames ? "," : "");
    gh_puts(out, "\n");
    for (size_t i = 0; i < gs->nnotes; i++)
        gh_printf(out, "note: %s\n", gs->notes[i]);
done:
    if (fre)
        regfree(&re);
    gh_goroutines_free(gs);
    return rc;
}

/* Like the runtime's traceback: function, then file:line +offset. */
static void print_bt(const gh_goroutine *g, gh_out *out)
{
    gh_printf(out, "goroutine %" PRId64 " [%s]", g->goid, state(g));
    if (g->tid)
        gh_printf(out, " thread %d", g->tid);
    gh_printf(out, " gp=0x%" PRIx64 " (frames from %s):\n", g->g, gh_gfrom_name(g->from));
    for (size_t i = 0; i < g->nframes; i++) {
        const gh_frame *f = &g->frames[i];
        const gh_pframe *p = &g->pframes[f->pframe];
        gh_printf(out, "%s(%s)\n\t%s:%d", f->function, f->inlined ? "..." : "", f->file, f->line);
        if (!f->inlined)
            gh_printf(out, " +0x%" PRIx64 " pc=0x%" PRIx64 " sp=0x%" PRIx64 " fp=0x%" PRIx64, p->pc - p->fn.entry,
                      p->pc, p->sp, p->fp);
        gh_puts(out, "\n");
    }
    if (g->stop)
        gh_printf(out, "...%s: %s\n", g->truncated ? " truncated" : "", g->stop);
    if (g->creator && g->goid != 1) { /* main was started by the runtime itself */
        gh_printf(out, "created by %s", g->creator);
        if (g->parent_goid)
            gh_printf(out, " in goroutine %" PRId64, g->parent_goid);
        gh_printf(out, "\n\t%s:%d\n", g->creator_file, g->creator_line);
    }
}

static int run_one(gh_session *s, const gh_args *a, gh_out *out, gh_err *err)
{
    uint64_t id;
    int rc = gh_parse_u64(a->pos[0], "goroutine id", &id, err);
    if (rc)
        return rc;
    gh_goroutines *gs;
    if ((rc = gh_goroutines_load(s, &gs, err)))
        return rc;
    const gh_goroutine *g = gh_goroutine_find(gs, (int64_t)id);
    if (!g) {
        rc = gh_errorf(err, GH_EARG, "no live goroutine %" PRIu64 " (%zu live, %zu dead)", id, gs->n, gs->ndead);
    } else if (a->val[0]) {
        gh_json j;
        gh_json_init(&j, out);
        json_one(&j, g, 1);
    } else {
        print_bt(g, out);
    }
    gh_goroutines_free(gs);
    return rc;
}

static const gh_optspec list_opts[] = {
    {"--json", 0, "one JSON document (every frame of every goroutine shown)"},
    {"--status", 1, "only goroutines in this status or wait reason (waiting, \"chan receive\", ...)"},
    {"--function", 1, "only goroutines with a frame whose function matches this regular expression"},
    {"--limit", 1, "show at most N goroutines"},
    {"--layout", 0, "the runtime.g/m layouts and globals the reader uses, and where they came from"},
    {NULL, 0, NULL},
};

const gh_command gh_cmd_goroutines = {
    .name = "goroutines",
    .summary = "goroutines: status, wait reason, where they are, who created them",
    .usage = "goroutines [--status S] [--function REGEX] [--limit N] [--json]",
    .opts = list_opts,
    .example = "goroutines --function 'main\\.' --limit 20",
    .min_pos = 0,
    .max_pos = 0,
    .run = run_list,
};

static const gh_optspec one_opts[] = {{"--json", 0, "one JSON document"}, {NULL, 0, NULL}};

const gh_command gh_cmd_goroutine = {
    .name = "goroutine",
    .alias = "bt",
    .summary = "one goroutine's full backtrace, runtime frames included",
    .usage = "goroutine ID [--json]",
    .opts = one_opts,
    .example = "goroutine 1",
    .min_pos = 1,
    .max_pos = 1,
    .run = run_one,
};
