/* Closure captures from DWARF: where each captured variable sits in the
 * closure object (DW_AT_go_closure_offset, Go 1.23+), the receiver of method
 * values, and the check of the compiler's layout rule against the attribute. */
#include <dwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarfvars_int.h"

typedef struct cvec {
    gh_dclosure_var *v;
    size_t n, cap;
} cvec;

/* The function's own variables that carry DW_AT_go_closure_offset, in DWARF
 * order. */
static int closure_attr_vars(gh_dwarf_vars *dv, Dwarf_Die *fn, cvec *cv, gh_err *err)
{
    Dwarf_Die c;
    if (dwarf_child(fn, &c) != 0)
        return GH_OK;
    do {
        uint64_t off;
        Dwarf_Off type;
        if (dwarf_tag(&c) != DW_TAG_variable || gh_dw_udata(&c, GH_DW_AT_go_closure_offset, &off) != 0 ||
            gh_dw_ref(&c, DW_AT_type, &type) != 0)
            continue;
        if (cv->n >= GH_DWARF_MAX_LOCALS)
            return gh_errorf(err, GH_EFORMAT, "DWARF closure has over %u captured variables", GH_DWARF_MAX_LOCALS);
        gh_dclosure_var v = {dwarf_diename(&c), off, 0, type};
        gh_dtype t;
        int rc = gh_dwarf_type(dv, type, &t, err);
        if (rc)
            return rc;
        v.size = t.size;
        if (cv->n == cv->cap) {
            size_t cap = cv->cap ? cv->cap * 2 : 8;
            gh_dclosure_var *p = realloc(cv->v, cap * sizeof *p);
            if (!p)
                return gh_errorf(err, GH_ENOMEM, "out of memory for closure variables");
            cv->v = p;
            cv->cap = cap;
        }
        cv->v[cv->n++] = v;
    } while (dwarf_siblingof(&c, &c) == 0);
    return GH_OK;
}

static int cmp_cvar(const void *a, const void *b)
{
    const gh_dclosure_var *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The receiver type a method value wrapper's name implies:
 * "main.(*Obj).Method-fm" -> "*main.Obj", "main.Printer.Print-fm" ->
 * "main.Printer" (the last dot outside brackets ends the receiver). */
static int receiver_name(const char *fn, char *out, size_t cap)
{
    size_t len = strlen(fn), depth = 0, dot = 0;
    if (len < 4 || strcmp(fn + len - 3, "-fm"))
        return -1;
    len -= 3;
    for (size_t i = 0; i < len; i++) {
        if (fn[i] == '[')
            depth++;
        else if (fn[i] == ']' && depth)
            depth--;
        else if (fn[i] == '.' && !depth)
            dot = i;
    }
    if (!dot)
        return -1;
    const char *star = strstr(fn, ".(*");
    if (star && (size_t)(star - fn) < dot) {
        size_t pkg = (size_t)(star - fn), tlen = dot - pkg - 4; /* ".(*" ... ")" */
        if (dot < pkg + 4 || fn[dot - 1] != ')' || pkg + tlen + 3 > cap)
            return -1;
        snprintf(out, cap, "*%.*s.%.*s", (int)pkg, fn, (int)tlen, star + 3);
        return 0;
    }
    if (dot + 1 > cap)
        return -1;
    snprintf(out, cap, "%.*s", (int)dot, fn);
    return 0;
}

/* A method value ("...-fm") holds its receiver at 8, after the code
 * pointer. DWARF names it (".this", with DW_AT_go_closure_offset) only when
 * the wrapper kept it in a variable; otherwise the method inlined into the
 * wrapper has the receiver as its first parameter: used when its type is
 * the one the wrapper's name says. */
static int method_value_receiver(gh_dwarf_vars *dv, Dwarf_Die *fn, cvec *cv, gh_err *err)
{
    char want[512];
    const char *name = dwarf_diename(fn);
    Dwarf_Die c, origin, param;
    Dwarf_Attribute a;
    if (!name || receiver_name(name, want, sizeof want) != 0 || dwarf_child(fn, &c) != 0)
        return GH_OK;
    do {
        if (dwarf_tag(&c) != DW_TAG_inlined_subroutine)
            continue;
        if (!dwarf_attr(&c, DW_AT_abstract_origin, &a) || !dwarf_formref_die(&a, &origin) ||
            dwarf_child(&origin, &param) != 0 || dwarf_tag(&param) != DW_TAG_formal_parameter)
            return GH_OK;
        Dwarf_Off type;
        gh_dtype t;
        if (gh_dw_ref(&param, DW_AT_type, &type) != 0 || gh_dwarf_type(dv, type, &t, err) != GH_OK || !t.name ||
            strcmp(t.name, want))
            return GH_OK;
        cv->v = malloc(sizeof *cv->v);
        if (!cv->v)
            return gh_errorf(err, GH_ENOMEM, "out of memory for closure variables");
        cv->v[0] = (gh_dclosure_var){".this", 8, t.size, type};
        cv->n = cv->cap = 1;
        return GH_OK;
    } while (dwarf_siblingof(&c, &c) == 0);
    return GH_OK;
}

int gh_dwarf_closure_vars(gh_dwarf_vars *dv, uint64_t entry_pc, const gh_dclosure_var **out, size_t *n,
                          gh_err *err)
{
    *out = NULL;
    *n = 0;
    Dwarf_Die die;
    dfunc *f;
    int rc = gh_dv_find_func(dv, entry_pc, &f, &die, err);
    if (rc)
        return rc;
    if (!f->cvars_done) {
        cvec cv = {0};
        const char *name = dwarf_diename(&die);
        int fm = name && strlen(name) > 3 && !strcmp(name + strlen(name) - 3, "-fm");
        /* Go 1.22 writes no closure offsets, and nothing in its DWARF tells a
         * captured variable from a local of the closure; nor does DWARF list
         * every captured variable in 1.23+ (unused ones are left out), so the
         * compiler's layout cannot be replayed over DWARF's list: no guess. */
        if (dv->go_minor < 23 && !fm)
            return gh_errorf(err, GH_EUNSUPP, "Go 1.%d DWARF records no closure offsets", dv->go_minor);
        if (dv->go_minor >= 23)
            rc = closure_attr_vars(dv, &die, &cv, err);
        if (rc == GH_OK && cv.n == 0 && fm)
            rc = method_value_receiver(dv, &die, &cv, err);
        if (rc) {
            free(cv.v);
            return rc;
        }
        if (cv.n)
            qsort(cv.v, cv.n, sizeof *cv.v, cmp_cvar);
        f->cvars = cv.v;
        f->ncvars = (uint32_t)cv.n;
        f->cvars_done = 1;
    }
    *out = f->cvars;
    *n = f->ncvars;
    return GH_OK;
}

int gh_dwarf_closure_rule_check(gh_dwarf_vars *dv, uint64_t entry_pc, size_t *nvars, gh_err *err)
{
    *nvars = 0;
    Dwarf_Die die;
    dfunc *f;
    int rc = gh_dv_find_func(dv, entry_pc, &f, &die, err);
    if (rc)
        return rc;
    cvec cv = {0};
    rc = closure_attr_vars(dv, &die, &cv, err);
    /* cmd/compile's closure struct (typecheck.NewClosureStructIter): the
     * code pointer, then each captured variable (a pointer when captured by
     * reference) rounded up to its type's alignment. */
    uint64_t at = 8;
    for (size_t i = 0; rc == GH_OK && i < cv.n; i++) {
        gh_dtype t;
        if ((rc = gh_dwarf_type(dv, cv.v[i].type, &t, err)))
            break;
        at = (at + t.align - 1) / t.align * t.align;
        if (at != cv.v[i].offset)
            rc = gh_errorf(err, GH_EFORMAT, "captured %s (%s, size %llu, align %llu): rule puts it at %llu, "
                           "DW_AT_go_closure_offset says %llu", cv.v[i].name ? cv.v[i].name : "?",
                           t.name ? t.name : "?", (unsigned long long)t.size, (unsigned long long)t.align,
                           (unsigned long long)at, (unsigned long long)cv.v[i].offset);
        at += t.size;
    }
    *nvars = cv.n;
    free(cv.v);
    return rc;
}
