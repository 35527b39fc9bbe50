/* ADDR arguments: a number, or an expression of goheap's language
 * (print/expr.h), evaluated over the session's target. */
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

#include <inttypes.h>
#include <stdio.h>

#include "goroutine/goroutine.h"
#include "goroutine/unwind.h"

/* The frame --frame GOROUTINE:FRAME names, FRAME being a frame's number as
 * `goroutine GOROUTINE` lists them (0 the innermost, inlined calls counted)
 * or a function's name (its innermost frame), or @CFA, the frame whose CFA
 * that is (a debugger's selected frame): where its locals are, and the
 * stack-resident variables at its pc; GOROUTINE alone is its user frame.
 * *fv is the session's. */
static int frame_vars(gh_session *s, const char *spec, const gh_goroutine *g, size_t i, gh_expr_frame *f,
                      uint64_t *regs, gh_err *err);

/* --frame @CFA (a debugger's selected frame): the goroutine and frame whose
 * CFA (fp) it is. */
static int frame_at(const gh_goroutines *gs, const char *spec, const gh_goroutine **gp, size_t *ip, gh_err *err)
{
    uint64_t cfa;
    if (!gh_expr_number(spec + 1, &cfa))
        return gh_errorf(err, GH_EARG, "--frame %.200s: expected @ and a frame's CFA (its caller's stack pointer)",
                         spec);
    for (size_t k = 0; k < gs->n; k++) {
        const gh_goroutine *g = &gs->v[k];
        for (size_t i = 0; i < g->nframes; i++)
            if (g->frames[i].pframe < g->npframes && g->pframes[g->frames[i].pframe].fp == cfa) {
                *gp = g;
                *ip = i;
                return GH_OK;
            }
    }
    return gh_errorf(err, GH_EARG, "--frame %.200s: no goroutine has a Go frame there", spec);
}

static int select_frame(gh_session *s, const char *spec, gh_expr_frame *f, uint64_t *regs, gh_err *err)
{
    const gh_goroutines *gs;
    int rc = gh_session_goroutines_cached(s, &gs, err);
    if (rc)
        return rc;
    const gh_goroutine *g = NULL;
    size_t i = 0;
    if (spec[0] == '@') {
        if ((rc = frame_at(gs, spec, &g, &i, err)))
            return rc;
        return frame_vars(s, spec, g, i, f, regs, err);
    }
    char *end;
    const char *colon = strchr(spec, ':');
    unsigned long long goid = strtoull(spec, &end, 10);
    if (end == spec || (colon ? end != colon || !colon[1] : *end != 0))
        return gh_errorf(err, GH_EARG, "--frame %.200s: expected GOROUTINE:FRAME (8:main.worker, or 8:3 for the "
                         "fourth frame goroutine 8 lists)", spec);
    g = gh_goroutine_find(gs, (int64_t)goid);
    if (!g)
        return gh_errorf(err, GH_EARG, "--frame %.200s: no live goroutine %llu", spec, goid);
    if (g->stack_corrupt || !g->nframes)
        return gh_errorf(err, GH_EFORMAT, "--frame %.200s: goroutine %llu has no frames to read (%s)", spec, goid,
                         g->stop ? g->stop : "no backtrace");
    if (!colon) { /* GOROUTINE alone: where it is, its user frame, as goroutines says */
        const gh_frame *w = gh_goroutine_where(g);
        if (!w)
            return gh_errorf(err, GH_EARG, "--frame %.200s: goroutine %llu runs only the runtime's code: name a frame "
                             "(%llu:FUNCTION)", spec, goid, goid);
        return frame_vars(s, spec, g, (size_t)(w - g->frames), f, regs, err);
    }
    const char *which = colon + 1;
    i = g->nframes;
    unsigned long long num = strtoull(which, &end, 10);
    if (*end == 0 && end != which) {
        if (num >= g->nframes)
            return gh_errorf(err, GH_EARG, "--frame %.200s: goroutine %llu has %zu frames (0 to %zu)", spec, goid,
                             g->nframes, g->nframes - 1);
        i = (size_t)num;
    } else {
        size_t wl = strlen(which);
        for (i = 0; i < g->nframes; i++) {
            const char *fn = g->frames[i].function;
            size_t fl = fn ? strlen(fn) : 0;
            /* the name as printed, or its tail after an import path's '/' */
            if (fn && (!strcmp(fn, which) || (fl > wl && fn[fl - wl - 1] == '/' && !strcmp(fn + fl - wl, which))))
                break;
        }
        if (i == g->nframes)
            return gh_errorf(err, GH_EARG, "--frame %.200s: goroutine %llu has no frame of %.200s (see goroutine "
                             "%llu)", spec, goid, which, goid);
    }
    return frame_vars(s, spec, g, i, f, regs, err);
}

/* The i-th frame of g: where its variables are, and its registers where
 * the target still holds them (regs: GH_MAX_NREGS words). f->vars is a
 * copy the caller frees. */
static int frame_vars(gh_session *s, const char *spec, const gh_goroutine *g, size_t i, gh_expr_frame *f,
                      uint64_t *regs, gh_err *err)
{
    const gh_frame *fr = &g->frames[i];
    if (fr->pframe >= g->npframes)
        return gh_errorf(err, GH_EFORMAT, "--frame %.200s: frame %zu has no physical frame", spec, i);
    const gh_pframe *pf = &g->pframes[fr->pframe];
    gh_framevars *fv = gh_session_framevars(s);
    if (!fv)
        return gh_errorf(err, GH_ENOENT, "--frame %.200s: the executable has no DWARF: its locals are not known", spec);
    *f = (gh_expr_frame){.function = fr->function ? fr->function : "?", .fp = pf->fp, .arch = s->t->arch};
    const gh_fvar *vars;
    size_t n;
    gh_framevars_parts_at(fv, gh_pframe_sympc(pf), &vars, &n);
    gh_fvar *copy = n ? malloc(n * sizeof *copy) : NULL;
    if (n && !copy)
        return gh_errorf(err, GH_ENOMEM, "--frame %.200s: out of memory", spec);
    if (n)
        memcpy(copy, vars, n * sizeof *copy);
    f->vars = copy;
    f->nvars = n;
    if (gh_goroutine_frame_regs(s->t, g, fr->pframe, regs, &f->known))
        f->regs = regs;
    return GH_OK;
}

/* Evaluates text with type table ty (NULL: a table of its own, so reading
 * globals needs no object graph); addr set: also the address it gives. */
static int eval(gh_session *s, const char *text, const char *cmd, gh_types *ty, gh_overlay *ov, gh_xval *v,
                uint64_t *addr, gh_err *err)
{
    uint64_t n;
    memset(v, 0, sizeof *v);
    gh_overlay_init(ov, s->t);
    if (gh_expr_number(text, &n)) {
        v->kind = GX_V_NUM;
        v->v = n;
        if (addr)
            *addr = n;
        return GH_OK;
    }
    gh_expr *e;
    int rc = gh_expr_parse(text, &e, err);
    if (rc)
        return gh_err_wrap(err, "%s", cmd), rc;
    gh_types *own = NULL;
    if (!ty) {
        gh_types_env tenv;
        gh_session_types_env(s, &tenv);
        if (!(ty = own = gh_types_new(&tenv))) {
            gh_expr_free(e);
            return gh_errorf(err, GH_ENOMEM, "%s: out of memory", cmd);
        }
    }
    gh_dwarf_vars *dv = NULL;
    if (gh_session_dwarfvars(s, &dv, NULL))
        dv = NULL;
    pv_ctx c = {.cc = &s->cancel, .ty = ty, .o = {1, 0}, .t = &ov->t};
    gh_expr_env env = {&c, dv, s->exe, s->rt.bias, NULL, NULL};
    gh_expr_frame frame = {0};
    uint64_t regs[GH_MAX_NREGS];
    gh_err ferr = {0};
    if (s->frame && (rc = select_frame(s, s->frame, &frame, regs, &ferr))) {
        if (s->frame[0] != '@' || rc == GH_ENOMEM || rc == GH_EINTR) {
            if (err)
                *err = ferr;
            gh_err_wrap(err, "%s", cmd);
            gh_expr_free(e);
            gh_types_free(own);
            return rc;
        }
        /* A debugger's selected frame that is no goroutine's (a signal
         * handler's, an assembly stub's) matters only to a lone name. */
        env.no_frame = ferr.msg;
        rc = GH_OK;
    } else if (s->frame) {
        frame.overlay = ov;
        env.frame = &frame;
    }
    rc = gh_expr_eval(e, &env, v, err);
    if (!rc && addr)
        rc = gh_expr_address(&env, v, text, addr, err);
    if (rc)
        gh_err_wrap(err, "%s", cmd);
    free((void *)frame.vars);
    gh_expr_free(e);
    gh_types_free(own);
    return rc;
}

int gh_cmd_eval(gh_session *s, const char *text, const char *cmd, gh_types *ty, gh_overlay *ov, gh_xval *v,
                gh_err *err)
{
    return eval(s, text, cmd, ty, ov, v, NULL, err);
}

int gh_cmd_addr(gh_session *s, const char *text, const char *cmd, uint64_t *addr, gh_err *err)
{
    gh_xval v;
    gh_overlay ov;
    return eval(s, text, cmd, NULL, &ov, &v, addr, err);
}

int gh_cmd_frame_open(gh_session *s, const gh_goroutine *g, size_t i, gh_expr_frame *f, uint64_t *regs,
                      gh_err *err)
{
    memset(f, 0, sizeof *f);
    if (i >= g->nframes)
        return gh_errorf(err, GH_EARG, "goroutine %lld has no frame %zu", (long long)g->goid, i);
    return frame_vars(s, "", g, i, f, regs, err);
}

void gh_cmd_frame_done(gh_expr_frame *f)
{
    free((void *)f->vars);
    f->vars = NULL;
    f->nvars = 0;
}
