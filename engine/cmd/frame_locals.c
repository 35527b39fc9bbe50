/* A goroutine's variables, frame by frame (goroutine ID --locals): every
 * variable DWARF places at each physical frame's pc, read as --frame reads
 * one (cmd_expr.c, print/expr_eval.c), shadowed ones too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cancel.h"
#include "base/vec.h"
#include "cmd/cmd.h"

#define LINE_MAX_CHARS 200
#define MAX_LOCALS 4096 /* per goroutine: a hostile DWARF cannot grow the list without end */

void gh_glocals_free(gh_glocals *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].line);
        pv_clear(&l->v[i].value);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Names the compiler makes (~r0 results, .autotmp) are not the program's. */
static int shown_name(const char *n) { return n && n[0] && n[0] != '~' && n[0] != '.'; }

static int one_frame(gh_session *s, const gh_goroutine *g, size_t i, gh_graph *gr, gh_types *ty, gh_glocals *out,
                     size_t *cap, gh_err *err)
{
    gh_expr_frame f;
    uint64_t regs[GH_MAX_NREGS];
    gh_err ferr = {0};
    if (gh_cmd_frame_open(s, g, i, &f, regs, &ferr))
        return ferr.code == GH_ENOMEM ? (*err = ferr, GH_ENOMEM) : GH_OK; /* no DWARF: no locals */
    gh_overlay *ov = malloc(sizeof *ov);
    if (!ov) {
        gh_cmd_frame_done(&f);
        return gh_errorf(err, GH_ENOMEM, "goroutine --locals: out of memory");
    }
    gh_overlay_init(ov, s->t);
    f.overlay = ov;
    gh_dwarf_vars *dv = NULL;
    if (gh_session_dwarfvars(s, &dv, NULL))
        dv = NULL;
    int rc = GH_OK;
    for (size_t k = 0; k < f.nvars && !rc; k++) {
        const gh_fvar *x = &f.vars[k];
        if ((k && x->var == f.vars[k - 1].var) || !shown_name(x->name))
            continue;
        if (out->n >= MAX_LOCALS)
            break;
        if (gh_grow(&out->v, cap, out->n + 1, sizeof *out->v)) {
            rc = gh_errorf(err, GH_ENOMEM, "goroutine --locals: out of memory");
            break;
        }
        gh_glocal *l = &out->v[out->n];
        memset(l, 0, sizeof *l);
        l->pframe = g->frames[i].pframe;
        l->name = x->name;
        l->param = x->is_param;
        pv_ctx c = {.cc = &s->cancel, .g = gr, .ty = ty, .o = {1, 4}, .t = &ov->t};
        gh_expr_env env = {&c, dv, s->exe, s->rt.bias, &f, NULL};
        char tmp[160];
        if (x->type) {
            const char *tn = pv_type_name(&c, pv_type_norm(&c, (pv_tref){0, x->type}), tmp, sizeof tmp);
            snprintf(l->type, sizeof l->type, "%s", tn);
        } else {
            snprintf(l->type, sizeof l->type, "?");
        }
        ov->len = 0; /* one variable at a time in the overlay */
        gh_xval v;
        const char *why = NULL;
        gh_err verr = {0};
        if (gh_expr_frame_var(&env, k, &v, &why, &verr)) {
            l->why = why ? why : "not readable";
        } else {
            l->in_registers = gh_overlay_addr(v.addr);
            pv_value(&c, &l->value, v.type, v.addr, 0);
            char line[LINE_MAX_CHARS + 4];
            pv_render_line(&l->value, line, sizeof line);
            l->line = strdup(line);
        }
        out->n++;
        if (gh_cancelled(&s->cancel))
            rc = gh_errorf(err, GH_EINTR, "goroutine --locals: interrupted");
    }
    free(ov);
    gh_cmd_frame_done(&f);
    return rc;
}

int gh_cmd_goroutine_locals(gh_session *s, const gh_goroutine *g, gh_graph *gr, gh_glocals *out, gh_err *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    gh_types *own = NULL, *ty = gr ? gr->types : NULL;
    if (!ty) {
        gh_types_env tenv;
        gh_session_types_env(s, &tenv);
        if (!(ty = own = gh_types_new(&tenv)))
            return gh_errorf(err, GH_ENOMEM, "goroutine --locals: out of memory");
    }
    int rc = GH_OK;
    /* each physical frame once: the frame the runtime prints with its pc
     * (not inlined); the variables of calls inlined into it are among its */
    for (size_t i = 0; i < g->nframes && !rc; i++)
        if (!g->frames[i].inlined)
            rc = one_frame(s, g, i, gr, ty, out, &cap, err);
    gh_types_free(own);
    if (rc)
        gh_glocals_free(out);
    return rc;
}
