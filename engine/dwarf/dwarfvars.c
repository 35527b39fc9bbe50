/* The DWARF variable index: package-level variables by address and
 * functions by entry pc, from one walk over the compile units' top-level
 * entries; a function's frame variables are read from its entry on first
 * use and kept (closure captures: dwarfclosures.c). */
#include <dwarf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "dwarf/dwarf_index.h"
#include "dwarf/dwarfvars_int.h"

static int cmp_global(const void *a, const void *b)
{
    const gh_dglobal *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_func(const void *a, const void *b)
{
    const dfunc *x = a, *y = b;
    return x->pc < y->pc ? -1 : x->pc > y->pc;
}

/* A location expression of exactly one operation: DW_OP_addr, DW_OP_fbreg
 * or DW_OP_call_frame_cfa. Decoded here: Go writes expressions as
 * DW_FORM_block1, which libdw's dwarf_getlocation refuses in DWARF 4+
 * units. Anything else (location lists, registers, pieces) gives -1. */
static int one_op(Dwarf_Attribute *a, unsigned *atom, uint64_t *u, int64_t *sv)
{
    Dwarf_Block b;
    unsigned form = dwarf_whatform(a);
    if (form != DW_FORM_exprloc && form != DW_FORM_block1 && form != DW_FORM_block2 && form != DW_FORM_block4 &&
        form != DW_FORM_block)
        return -1;
    if (dwarf_formblock(a, &b) != 0 || b.length < 1)
        return -1;
    const unsigned char *p = b.data, *end = b.data + b.length;
    *atom = *p++;
    *u = 0;
    *sv = 0;
    switch (*atom) {
    case DW_OP_addr:
        if (end - p != 8)
            return -1;
        for (int i = 7; i >= 0; i--)
            *u = *u << 8 | p[i];
        return 0;
    case DW_OP_fbreg: {
        uint64_t v = 0;
        unsigned shift = 0;
        unsigned char c;
        do {
            if (p == end || shift >= 64)
                return -1;
            c = *p++;
            v |= (uint64_t)(c & 0x7f) << shift;
            shift += 7;
        } while (c & 0x80);
        if (shift < 64 && (c & 0x40))
            v |= ~UINT64_C(0) << shift;
        *sv = (int64_t)v;
        return p == end ? 0 : -1;
    }
    case DW_OP_call_frame_cfa:
        return p == end ? 0 : -1;
    default:
        return -1;
    }
}

/* The address of a variable located by one DW_OP_addr. */
static int location_addr(Dwarf_Die *die, uint64_t *addr)
{
    Dwarf_Attribute a;
    unsigned atom;
    int64_t sv;
    if (!dwarf_attr(die, DW_AT_location, &a) || one_op(&a, &atom, addr, &sv) != 0 || atom != DW_OP_addr)
        return -1;
    return 0;
}

static int add_global(gh_dwarf_vars *dv, Dwarf_Die *die, gh_err *err)
{
    uint64_t addr;
    Dwarf_Off type;
    const char *name = dwarf_diename(die);
    if (!name || location_addr(die, &addr) != 0 || gh_dw_ref(die, DW_AT_type, &type) != 0)
        return GH_OK; /* not a variable at a fixed address */
    if (dv->nglobals >= GH_DWARF_MAX_GLOBALS)
        return gh_errorf(err, GH_EFORMAT, "DWARF has over %u package-level variables", GH_DWARF_MAX_GLOBALS);
    if (gh_grow(&dv->globals, &dv->capglobals, dv->nglobals + 1, sizeof *dv->globals))
        return gh_errorf(err, GH_ENOMEM, "out of memory for DWARF variables");
    /* The size is filled in once every entry is read (a type may come later). */
    dv->globals[dv->nglobals++] = (gh_dglobal){name, addr + dv->bias, 0, type};
    return GH_OK;
}

static int add_func(gh_dwarf_vars *dv, Dwarf_Die *die, gh_err *err)
{
    Dwarf_Addr lo;
    if (dwarf_lowpc(die, &lo) != 0)
        return GH_OK; /* abstract (inlined-only) functions have no code */
    if (dv->nfuncs >= GH_DWARF_MAX_FUNCS)
        return gh_errorf(err, GH_EFORMAT, "DWARF has over %u functions", GH_DWARF_MAX_FUNCS);
    if (gh_grow(&dv->funcs, &dv->capfuncs, dv->nfuncs + 1, sizeof *dv->funcs))
        return gh_errorf(err, GH_ENOMEM, "out of memory for DWARF functions");
    dv->funcs[dv->nfuncs++] = (dfunc){.pc = lo + dv->bias, .die = dwarf_dieoffset(die)};
    return GH_OK;
}

static int walk_units(gh_dwarf_vars *dv, gh_cancel *cc, gh_err *err)
{
    Dwarf_Off off = 0, next;
    size_t hsize;
    int rc;
    /* Go puts package-level variables and functions at the top level of its
     * compile units: their children are skipped, not read. */
    for (uint64_t units = 0; dwarf_nextcu(dv->dw, off, &next, &hsize, NULL, NULL, NULL) == 0; units++) {
        if (units % 64 == 0) {
            gh_progress(cc, "indexing DWARF variables", units, 0);
            if (gh_cancelled(cc))
                return gh_errorf(err, GH_EINTR, "interrupted while indexing DWARF variables");
        }
        Dwarf_Die cu, child;
        if (dwarf_offdie(dv->dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
            do {
                int tag = dwarf_tag(&child);
                if (tag == DW_TAG_variable && (rc = add_global(dv, &child, err)))
                    return rc;
                if (tag == DW_TAG_subprogram && (rc = add_func(dv, &child, err)))
                    return rc;
            } while (dwarf_siblingof(&child, &child) == 0);
        }
        off = next;
    }
    return GH_OK;
}

int gh_dwarf_vars_open(gh_dwarf *d, const gh_target *t, uint64_t bias, uint64_t types, uint64_t etypes,
                       int go_minor, gh_cancel *cc, gh_dwarf_vars **out, gh_err *err)
{
    *out = NULL;
    Dwarf *dw = gh_dwarf_libdw(d);
    if (!dw)
        return GH_OK;
    gh_dwarf_vars *dv = calloc(1, sizeof *dv);
    if (!dv)
        return gh_errorf(err, GH_ENOMEM, "out of memory for the DWARF index");
    dv->dw = dw;
    dv->t = t;
    dv->bias = bias;
    dv->types = types;
    dv->etypes = etypes > types ? etypes : types;
    dv->go_minor = go_minor;
    int rc = walk_units(dv, cc, err);
    gh_progress(cc, "indexing DWARF variables", 1, 1); /* the phase ends (its total was unknown) */
    if (rc) {
        gh_dwarf_vars_free(dv);
        return rc;
    }
    /* Sizes; a variable whose type cannot be described covers nothing. */
    for (size_t i = 0; i < dv->nglobals; i++) {
        gh_dtype t;
        gh_err e;
        if (gh_dwarf_type(dv, dv->globals[i].type, &t, &e) == GH_OK && t.size < (UINT64_C(1) << 40))
            dv->globals[i].size = t.size;
    }
    if (dv->nglobals)
        qsort(dv->globals, dv->nglobals, sizeof *dv->globals, cmp_global);
    /* Overlapping variables cannot be told apart: keep the first of each. */
    size_t w = 0;
    for (size_t i = 0; i < dv->nglobals; i++) {
        if (w && dv->globals[i].addr < dv->globals[w - 1].addr + dv->globals[w - 1].size)
            continue;
        dv->globals[w++] = dv->globals[i];
    }
    dv->nglobals = w;
    if (dv->nfuncs)
        qsort(dv->funcs, dv->nfuncs, sizeof *dv->funcs, cmp_func);
    w = 0;
    for (size_t i = 0; i < dv->nfuncs; i++)
        if (!w || dv->funcs[i].pc != dv->funcs[w - 1].pc)
            dv->funcs[w++] = dv->funcs[i];
    dv->nfuncs = w;
    *out = dv;
    return GH_OK;
}

void gh_dwarf_vars_free(gh_dwarf_vars *dv)
{
    if (!dv)
        return;
    for (size_t i = 0; i < dv->nfuncs; i++) {
        free(dv->funcs[i].locals);
        free(dv->funcs[i].cvars);
    }
    free(dv->funcs);
    free(dv->globals);
    gh_dwarf_types_free(dv);
    free(dv);
}

size_t gh_dwarf_nglobals(const gh_dwarf_vars *dv) { return dv ? dv->nglobals : 0; }

const gh_dglobal *gh_dwarf_global(const gh_dwarf_vars *dv, size_t i)
{
    return dv && i < dv->nglobals ? &dv->globals[i] : NULL;
}

const gh_dglobal *gh_dwarf_global_at(const gh_dwarf_vars *dv, uint64_t addr)
{
    if (!dv)
        return NULL;
    size_t lo = 0, hi = dv->nglobals;
    while (lo < hi) { /* first variable past addr */
        size_t mid = lo + (hi - lo) / 2;
        if (dv->globals[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const gh_dglobal *g = &dv->globals[lo - 1];
    return addr - g->addr < g->size ? g : NULL;
}

size_t gh_dwarf_nfuncs(const gh_dwarf_vars *dv) { return dv ? dv->nfuncs : 0; }

uint64_t gh_dwarf_func_pc(const gh_dwarf_vars *dv, size_t i, const char **name)
{
    Dwarf_Die die;
    if (!dv || i >= dv->nfuncs)
        return 0;
    if (name)
        *name = dwarf_offdie(dv->dw, dv->funcs[i].die, &die) ? dwarf_diename(&die) : NULL;
    return dv->funcs[i].pc;
}

int gh_dv_find_func(gh_dwarf_vars *dv, uint64_t pc, dfunc **f, Dwarf_Die *die, gh_err *err)
{
    size_t lo = 0, hi = dv->nfuncs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dv->funcs[mid].pc < pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == dv->nfuncs || dv->funcs[lo].pc != pc)
        return gh_errorf(err, GH_EARG, "no DWARF function starts at 0x%llx", (unsigned long long)pc);
    if (!dwarf_offdie(dv->dw, dv->funcs[lo].die, die))
        return gh_errorf(err, GH_EFORMAT, "DWARF function entry at 0x%llx is unreadable",
                         (unsigned long long)dv->funcs[lo].die);
    *f = &dv->funcs[lo];
    return GH_OK;
}

/* ---- frame variables ---- */

typedef struct lvec {
    gh_dlocal *v;
    size_t n, cap;
} lvec;

/* The CFA offset of a variable that lives at one place: DW_OP_fbreg N (Go's
 * frame base is DW_OP_call_frame_cfa), or DW_OP_call_frame_cfa itself. A
 * location list (the variable moves between registers and stack slots over
 * the function) or a register location gives nothing: such variables have no
 * one home for the whole function. */
static int frame_offset(Dwarf_Die *die, int64_t *off)
{
    Dwarf_Attribute a;
    unsigned atom;
    uint64_t u;
    if (!dwarf_attr_integrate(die, DW_AT_location, &a) || one_op(&a, &atom, &u, off) != 0)
        return -1;
    if (atom == DW_OP_fbreg || atom == DW_OP_call_frame_cfa) /* the latter: the CFA itself, off 0 */
        return 0;
    return -1;
}

static int push_local(gh_dwarf_vars *dv, lvec *lv, Dwarf_Die *die, int64_t off, gh_err *err)
{
    if (lv->n >= GH_DWARF_MAX_LOCALS)
        return gh_errorf(err, GH_EFORMAT, "DWARF function has over %u variables", GH_DWARF_MAX_LOCALS);
    Dwarf_Attribute a;
    Dwarf_Die td;
    if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, &td))
        return GH_OK; /* untyped: nothing to say about it */
    gh_dlocal l = {dwarf_diename(die), off, 0, dwarf_dieoffset(&td), dwarf_tag(die) == DW_TAG_formal_parameter};
    gh_dtype t;
    gh_err e;
    if (gh_dwarf_type(dv, l.type, &t, &e) == GH_OK)
        l.size = t.size;
    if (gh_grow(&lv->v, &lv->cap, lv->n + 1, sizeof *lv->v))
        return gh_errorf(err, GH_ENOMEM, "out of memory for DWARF variables");
    lv->v[lv->n++] = l;
    return GH_OK;
}

static int collect_locals(gh_dwarf_vars *dv, Dwarf_Die *scope, int depth, lvec *lv, gh_err *err)
{
    Dwarf_Die c;
    if (dwarf_child(scope, &c) != 0)
        return GH_OK;
    int rc;
    do {
        int tag = dwarf_tag(&c);
        int64_t off;
        if (tag == DW_TAG_variable || tag == DW_TAG_formal_parameter) {
            if (frame_offset(&c, &off) == 0 && (rc = push_local(dv, lv, &c, off, err)))
                return rc;
        } else if (tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) {
            if (depth >= GH_DWARF_MAX_DEPTH)
                return gh_errorf(err, GH_EFORMAT, "DWARF scopes nest more than %d deep", GH_DWARF_MAX_DEPTH);
            if ((rc = collect_locals(dv, &c, depth + 1, lv, err)))
                return rc;
        }
    } while (dwarf_siblingof(&c, &c) == 0);
    return GH_OK;
}

int gh_dwarf_func_locals(gh_dwarf_vars *dv, uint64_t entry_pc, const gh_dlocal **out, size_t *n, gh_err *err)
{
    *out = NULL;
    *n = 0;
    Dwarf_Die die;
    dfunc *f;
    int rc = gh_dv_find_func(dv, entry_pc, &f, &die, err);
    if (rc)
        return rc;
    if (!f->locals_done) {
        lvec lv = {0};
        /* Offsets are from the CFA only when the frame base is the CFA. */
        Dwarf_Attribute a;
        unsigned atom;
        uint64_t u;
        int64_t sv;
        int cfa = dwarf_attr(&die, DW_AT_frame_base, &a) && one_op(&a, &atom, &u, &sv) == 0 &&
                  atom == DW_OP_call_frame_cfa;
        rc = cfa ? collect_locals(dv, &die, 0, &lv, err) : GH_OK;
        if (rc) {
            free(lv.v);
            return rc;
        }
        f->locals = lv.v;
        f->nlocals = (uint32_t)lv.n;
        f->locals_done = 1;
    }
    *out = f->locals;
    *n = f->nlocals;
    return GH_OK;
}

/* The type of the i-th formal parameter of the function entered at
 * entry_pc, wherever it lives (registers included: only its type is asked,
 * e.g. a cleanup function's argument type). */
int gh_dwarf_func_param_type(gh_dwarf_vars *dv, uint64_t entry_pc, size_t i, uint64_t *type, gh_err *err)
{
    Dwarf_Die die, c;
    dfunc *f;
    int rc = gh_dv_find_func(dv, entry_pc, &f, &die, err);
    if (rc)
        return rc;
    size_t k = 0, seen = 0;
    if (dwarf_child(&die, &c) == 0) {
        do {
            if (++seen > GH_DWARF_MAX_LOCALS)
                break;
            if (dwarf_tag(&c) != DW_TAG_formal_parameter)
                continue;
            Dwarf_Attribute a;
            bool out_param = dwarf_attr(&c, DW_AT_variable_parameter, &a) && dwarf_formflag(&a, &out_param) == 0 &&
                             out_param;
            if (out_param)
                continue; /* results come as variable parameters */
            if (k++ == i) {
                Dwarf_Off t;
                if (gh_dw_ref(&c, DW_AT_type, &t))
                    break;
                *type = t;
                return GH_OK;
            }
        } while (dwarf_siblingof(&c, &c) == 0);
    }
    return gh_errorf(err, GH_EARG, "function at 0x%llx has no parameter %zu in DWARF", (unsigned long long)entry_pc, i);
}
