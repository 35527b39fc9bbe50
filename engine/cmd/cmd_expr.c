/* ADDR arguments: a number, or an expression of goheap's language
 * (print/expr.h), evaluated over the session's target. */
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

/* Evaluates text with type table ty (NULL: a table of its own, so reading
 * globals needs no object graph); addr set: also the address it gives. */
static int eval(gh_session *s, const char *text, const char *cmd, gh_types *ty, gh_xval *v, uint64_t *addr,
                gh_err *err)
{
    uint64_t n;
    memset(v, 0, sizeof *v);
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
    pv_ctx c = {.cc = &s->cancel, .ty = ty, .o = {1, 0}};
    gh_expr_env env = {&c, dv, s->exe, s->rt.bias};
    rc = gh_expr_eval(e, &env, v, err);
    if (!rc && addr)
        rc = gh_expr_address(&env, v, text, addr, err);
    if (rc)
        gh_err_wrap(err, "%s", cmd);
    gh_expr_free(e);
    gh_types_free(own);
    return rc;
}

int gh_cmd_eval(gh_session *s, const char *text, const char *cmd, gh_types *ty, gh_xval *v, gh_err *err)
{
    return eval(s, text, cmd, ty, v, NULL, err);
}

int gh_cmd_addr(gh_session *s, const char *text, const char *cmd, uint64_t *addr, gh_err *err)
{
    gh_xval v;
    return eval(s, text, cmd, NULL, &v, addr, err);
}
