/* Variables in a frame's stack slots at a pc (see framevars.h). */
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "base/hmap.h"
#include "base/vec.h"
#include "dwarf/dwarf_index.h"
#include "dwarf/framevars.h"

#define MAX_SCOPES 64      /* nested blocks and inlined calls at one pc */
#define MAX_CHILDREN 65536 /* variables of one scope */
#define MAX_PIECES 64      /* DW_OP_piece parts of one location */
#define MAX_PCS (1u << 20) /* pcs cached */
#define MAX_RANGES (1u << 22) /* address ranges of all compile units */

/* Go writes no .debug_aranges, so libdw's dwarf_addrdie finds nothing: the
 * compile units' own ranges are indexed instead. */
typedef struct curange {
    uint64_t lo, hi;
    Dwarf_Off cu;
} curange;

typedef struct entry {
    size_t at, n; /* in fv->vars */
} entry;

struct gh_framevars {
    Dwarf *dw;
    uint64_t bias;
    entry *tab;       /* the variables of each pc asked, in the order asked */
    size_t ntab, captab;
    gh_hmap index;    /* pc -> index into tab */
    gh_fvar *vars;
    size_t nvars, capvars;
    gh_fvar *scratch; /* answer for a pc the cache cannot hold */
    size_t nscratch, capscratch;
    curange *ranges;  /* sorted by lo */
    size_t nranges;
};

static int cmp_range(const void *a, const void *b)
{
    const curange *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void index_units(gh_framevars *fv)
{
    size_t cap = 0;
    Dwarf_Off off = 0, next;
    size_t hsize;
    while (dwarf_nextcu(fv->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        Dwarf_Die cu;
        if (dwarf_offdie(fv->dw, off + hsize, &cu)) {
            Dwarf_Addr base, lo, hi;
            ptrdiff_t it = 0;
            while ((it = dwarf_ranges(&cu, it, &base, &lo, &hi)) > 0 && fv->nranges < MAX_RANGES) {
                if (gh_grow(&fv->ranges, &cap, fv->nranges + 1, sizeof *fv->ranges))
                    return;
                fv->ranges[fv->nranges++] = (curange){lo, hi, off + hsize};
            }
        }
        off = next;
    }
    if (fv->nranges)
        qsort(fv->ranges, fv->nranges, sizeof *fv->ranges, cmp_range);
}

static int unit_at(const gh_framevars *fv, uint64_t pc, Dwarf_Die *cu)
{
    size_t lo = 0, hi = fv->nranges;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fv->ranges[mid].lo <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo && pc < fv->ranges[lo - 1].hi && dwarf_offdie(fv->dw, fv->ranges[lo - 1].cu, cu);
}

gh_framevars *gh_framevars_new(gh_dwarf *d, uint64_t bias)
{
    Dwarf *dw = d ? gh_dwarf_libdw(d) : NULL;
    if (!dw)
        return NULL;
    gh_framevars *fv = calloc(1, sizeof *fv);
    if (fv) {
        fv->dw = dw;
        fv->bias = bias;
        index_units(fv);
    }
    return fv;
}

void gh_framevars_free(gh_framevars *fv)
{
    if (!fv)
        return;
    free(fv->tab);
    gh_hmap_free(&fv->index);
    free(fv->vars);
    free(fv->scratch);
    free(fv->ranges);
    free(fv);
}

static int push(gh_fvar **v, size_t *n, size_t *cap, const gh_fvar *x)
{
    if (gh_grow(v, cap, *n + 1, sizeof **v))
        return 0;
    (*v)[(*n)++] = *x;
    return 1;
}

/* The parts of one variable's location at pc: its stack parts, or with
 * all_parts those in registers and those not known too. */
static void add_var(gh_fvar **v, size_t *n, size_t *cap, Dwarf_Die *die, Dwarf_Addr pc, int is_param, int all_parts,
                    uint32_t ordinal)
{
    Dwarf_Attribute a;
    if (!dwarf_attr(die, DW_AT_location, &a))
        return;
    Dwarf_Op *ops;
    size_t len;
    int found = dwarf_getlocation_addr(&a, pc, &ops, &len, 1);
    if (found < 0 || (found != 1 && !all_parts))
        return;
    Dwarf_Attribute na, ta;
    const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &na));
    if (!name)
        return;
    gh_fvar x = {.name = name, .is_param = is_param, .var = ordinal};
    Dwarf_Die tdie;
    Dwarf_Word size = 0;
    if (dwarf_attr_integrate(die, DW_AT_type, &ta) && dwarf_formref_die(&ta, &tdie)) {
        x.type = dwarf_dieoffset(&tdie);
        if (dwarf_aggregate_size(&tdie, &size) != 0)
            size = 0;
    }
    x.var_size = size;
    if (found != 1 || !len) { /* in scope, but no place at this pc: optimized out here (gdb says so too) */
        x.reg = GH_FVAR_UNKNOWN;
        x.size = size;
        push(v, n, cap, &x);
        return;
    }
    /* Parts: each DW_OP_piece closes a part whose place came before it (one
     * part without pieces). A place is DW_OP_fbreg N, or
     * DW_OP_call_frame_cfa [DW_OP_plus_uconst N] (Go puts spilled arguments
     * at the CFA so), or DW_OP_regN / DW_OP_regx; anything else is not
     * evaluated, and a piece with no place is optimized out. */
    int reg = GH_FVAR_UNKNOWN, ops_seen = 0;
    int64_t off = 0;
    uint64_t at = 0;
    for (size_t i = 0, pieces = 0; i <= len && pieces < MAX_PIECES; i++) {
        unsigned atom = i < len ? ops[i].atom : DW_OP_piece;
        if (atom != DW_OP_piece)
            ops_seen++;
        if (atom == DW_OP_fbreg && ops_seen == 1) {
            reg = GH_FVAR_STACK;
            off = (int64_t)ops[i].number;
        } else if (atom == DW_OP_call_frame_cfa && ops_seen == 1) {
            reg = GH_FVAR_STACK;
            off = 0;
        } else if (atom == DW_OP_plus_uconst && reg == GH_FVAR_STACK && ops_seen == 2) {
            off += (int64_t)ops[i].number;
        } else if (atom >= DW_OP_reg0 && atom <= DW_OP_reg31 && ops_seen == 1) {
            reg = (int)(atom - DW_OP_reg0);
        } else if (atom == DW_OP_regx && ops_seen == 1 && ops[i].number < 4096) {
            reg = (int)ops[i].number;
        } else if (atom == DW_OP_piece) {
            pieces++;
            uint64_t psize = i < len ? ops[i].number : size;
            if (psize && (reg == GH_FVAR_STACK || all_parts)) {
                x.reg = reg;
                x.cfa_off = reg == GH_FVAR_STACK ? off : 0;
                x.size = psize;
                x.var_off = at;
                x.whole = i == len && at == 0;
                push(v, n, cap, &x);
            }
            at += psize;
            reg = GH_FVAR_UNKNOWN;
            ops_seen = 0;
            if (i < len && i + 1 == len)
                break; /* ended by a piece: no implicit last part */
        } else {
            reg = GH_FVAR_UNKNOWN; /* an expression we do not evaluate */
        }
    }
}

static void collect_scope(Dwarf_Die *scope, Dwarf_Addr pc, int depth, gh_fvar **v, size_t *n, size_t *cap,
                          int all_parts, uint32_t *ordinal)
{
    Dwarf_Die child;
    if (depth > MAX_SCOPES || dwarf_child(scope, &child) != 0)
        return;
    size_t k = 0;
    do {
        int tag = dwarf_tag(&child);
        if (tag == DW_TAG_variable || tag == DW_TAG_formal_parameter)
            add_var(v, n, cap, &child, pc, tag == DW_TAG_formal_parameter, all_parts, (*ordinal)++);
        else if ((tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine) && dwarf_haspc(&child, pc) == 1)
            collect_scope(&child, pc, depth + 1, v, n, cap, all_parts, ordinal);
    } while (++k < MAX_CHILDREN && dwarf_siblingof(&child, &child) == 0);
}

static void collect(gh_framevars *fv, Dwarf_Addr pc, gh_fvar **v, size_t *n, size_t *cap, int all_parts)
{
    uint32_t ordinal = 0;
    Dwarf_Die cu, fn;
    if (!unit_at(fv, pc, &cu) || dwarf_child(&cu, &fn) != 0)
        return;
    size_t k = 0;
    do {
        if (dwarf_tag(&fn) == DW_TAG_subprogram && dwarf_haspc(&fn, pc) == 1) {
            collect_scope(&fn, pc, 0, v, n, cap, all_parts, &ordinal);
            return;
        }
    } while (++k < (1u << 22) && dwarf_siblingof(&fn, &fn) == 0);
}

void gh_framevars_at(gh_framevars *fv, uint64_t pc, const gh_fvar **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!fv)
        return;
    const uint64_t *i = gh_hmap_get(&fv->index, pc);
    if (i) {
        const entry *e = &fv->tab[*i];
        *out = e->n ? fv->vars + e->at : NULL;
        *n = e->n;
        return;
    }
    Dwarf_Addr lpc = pc - fv->bias;
    if (fv->ntab < MAX_PCS && !gh_grow(&fv->tab, &fv->captab, fv->ntab + 1, sizeof *fv->tab) &&
        !gh_hmap_put(&fv->index, pc, fv->ntab)) {
        size_t at = fv->nvars;
        collect(fv, lpc, &fv->vars, &fv->nvars, &fv->capvars, 0);
        entry *e = &fv->tab[fv->ntab++];
        *e = (entry){at, fv->nvars - at};
        *out = e->n ? fv->vars + at : NULL;
        *n = e->n;
        return;
    }
    fv->nscratch = 0;
    collect(fv, lpc, &fv->scratch, &fv->nscratch, &fv->capscratch, 0);
    *out = fv->scratch;
    *n = fv->nscratch;
}

void gh_framevars_parts_at(gh_framevars *fv, uint64_t pc, const gh_fvar **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!fv)
        return;
    fv->nscratch = 0;
    collect(fv, pc - fv->bias, &fv->scratch, &fv->nscratch, &fv->capscratch, 1);
    *out = fv->scratch;
    *n = fv->nscratch;
}
