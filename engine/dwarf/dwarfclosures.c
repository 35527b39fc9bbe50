/* Closure captures from DWARF: where each captured variable sits in the
 * closure object (DW_AT_go_closure_offset, Go 1.23+), the receiver of method
 * values, and the check of the compiler's layout rule against the attribute. */
#include <dwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "dwarf/dwarfvars_int.h"

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
        if (gh_grow(&cv->v, &cv->cap, cv->n + 1, sizeof *cv->v))
            return gh_errorf(err, GH_ENOMEM, "out of memory for closure variables");
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

/* Go 1.22 (no DW_AT_go_closure_offset): where the closure's code loads
 * each variable. A closure reads what it captured through the context
 * register, RDX on amd64: `MOVQ off(DX), R` (R26 on arm64, below). DWARF's location list of a
 * captured variable starts, in register R, right after that load. Only that
 * exact pair is taken: a variable the code loads otherwise (or never) is
 * left out, never guessed. */
static const int dwarf_to_x86[16] = {0, 2, 1, 3, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15};

static int load_offset(gh_dwarf_vars *dv, uint64_t entry, uint64_t start, int x86reg, uint64_t *off)
{
    uint8_t code[256];
    if (start <= entry || start - entry > sizeof code || !dv->t || dv->t->arch != &gh_arch_amd64)
        return -1;
    size_t len = (size_t)(start - entry);
    if (gh_read(dv->t, entry, code, len, NULL))
        return -1;
    /* REX.W [+R] 8B modrm: mod 01 (disp8) or 10 (disp32), rm 010 (RDX). */
    for (int ilen = 4; ilen <= 7; ilen += 3) {
        if (len < (size_t)ilen)
            continue;
        const uint8_t *b = code + len - ilen;
        if ((b[0] != 0x48 && b[0] != 0x4c) || b[1] != 0x8b || (b[2] & 7) != 2)
            continue;
        int mod = b[2] >> 6, reg = (b[2] >> 3 & 7) | (b[0] == 0x4c ? 8 : 0);
        if (reg != x86reg || (ilen == 4 && mod != 1) || (ilen == 7 && mod != 2))
            continue;
        int64_t d = ilen == 4 ? (int8_t)b[3] : (int32_t)((uint32_t)b[3] | (uint32_t)b[4] << 8 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 24);
        if (d < 8 || d % 8)
            return -1; /* the code pointer is at 0; captures are word-aligned here */
        *off = (uint64_t)d;
        return 0;
    }
    return -1;
}

/* The same on arm64, whose context register is R26: `MOVD off(R26), R`,
 * the 64-bit LDR (immediate, unsigned offset) 0xf9400000 | imm12 << 10 |
 * 26 << 5 | R, right before DWARF places the variable in R (x0..x30 are
 * DWARF registers 0..30). */
static int load_offset_a64(gh_dwarf_vars *dv, uint64_t entry, uint64_t start, int reg, uint64_t *off)
{
    uint8_t b[4];
    if (start < entry + 4 || !dv->t || dv->t->arch != &gh_arch_arm64 || gh_read(dv->t, start - 4, b, 4, NULL))
        return -1;
    uint32_t ins = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    if ((ins & 0xffc003e0u) != (0xf9400000u | 26u << 5) || (int)(ins & 31) != reg)
        return -1;
    uint64_t d = (uint64_t)(ins >> 10 & 0xfff) * 8;
    if (d < 8)
        return -1; /* the code pointer is at 0 */
    *off = d;
    return 0;
}

static int closure_code_vars(gh_dwarf_vars *dv, Dwarf_Die *fn, uint64_t entry, cvec *cv, gh_err *err)
{
    int a64 = dv->t && dv->t->arch == &gh_arch_arm64;
    Dwarf_Die c;
    if (dwarf_child(fn, &c) != 0)
        return GH_OK;
    size_t seen = 0;
    do {
        if (++seen > GH_DWARF_MAX_LOCALS || dwarf_tag(&c) != DW_TAG_variable)
            continue;
        Dwarf_Attribute a;
        if (!dwarf_attr(&c, DW_AT_location, &a))
            continue;
        Dwarf_Addr base, start, end;
        Dwarf_Op *expr;
        size_t exprlen;
        if (dwarf_getlocations(&a, 0, &base, &start, &end, &expr, &exprlen) <= 0 || exprlen != 1)
            continue;
        unsigned atom = expr[0].atom;
        if (atom < DW_OP_reg0 || atom > (a64 ? DW_OP_reg30 : DW_OP_reg15))
            continue;
        uint64_t off;
        if (a64 ? load_offset_a64(dv, entry, start + dv->bias, (int)(atom - DW_OP_reg0), &off)
                : load_offset(dv, entry, start + dv->bias, dwarf_to_x86[atom - DW_OP_reg0], &off))
            continue;
        Dwarf_Off type;
        if (gh_dw_ref(&c, DW_AT_type, &type))
            continue;
        gh_dclosure_var v = {dwarf_diename(&c), off, 0, type};
        gh_dtype t;
        if (gh_dwarf_type(dv, type, &t, NULL) == GH_OK)
            v.size = t.size;
        if (gh_grow(&cv->v, &cv->cap, cv->n + 1, sizeof *cv->v))
            return gh_errorf(err, GH_ENOMEM, "out of memory for closure variables");
        cv->v[cv->n++] = v;
    } while (dwarf_siblingof(&c, &c) == 0);
    return GH_OK;
}

/* Tests: the code rule against DW_AT_go_closure_offset (Go 1.23+). *nvars
 * the variables the code rule found; GH_EFORMAT on the first that differs. */
int gh_dwarf_closure_code_check(gh_dwarf_vars *dv, uint64_t entry_pc, size_t *nvars, gh_err *err)
{
    Dwarf_Die die;
    dfunc *f;
    *nvars = 0;
    int rc = gh_dv_find_func(dv, entry_pc, &f, &die, err);
    if (rc)
        return rc;
    cvec code = {0}, attr = {0};
    if ((rc = closure_code_vars(dv, &die, entry_pc, &code, err)) || (rc = closure_attr_vars(dv, &die, &attr, err)))
        goto out;
    for (size_t i = 0; i < code.n && !rc; i++) {
        size_t k = 0;
        while (k < attr.n && strcmp(attr.v[k].name ? attr.v[k].name : "", code.v[i].name ? code.v[i].name : ""))
            k++;
        if (k == attr.n)
            continue; /* not a capture by DWARF's account: a local loaded from a context? */
        if (attr.v[k].offset != code.v[i].offset)
            rc = gh_errorf(err, GH_EFORMAT, "%s: code loads %s from %llu, DWARF says %llu",
                           dwarf_diename(&die) ? dwarf_diename(&die) : "?", code.v[i].name ? code.v[i].name : "?",
                           (unsigned long long)code.v[i].offset, (unsigned long long)attr.v[k].offset);
        (*nvars)++;
    }
out:
    free(code.v);
    free(attr.v);
    return rc;
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
        if (dv->go_minor >= 23)
            rc = closure_attr_vars(dv, &die, &cv, err);
        else if (!fm)
            rc = closure_code_vars(dv, &die, entry_pc, &cv, err);
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
