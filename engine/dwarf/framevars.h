/* Internal: the variables that live in a frame's stack slots at one pc, for
 * naming stack roots. Go's optimized code gives most locals location lists
 * (a slot for some pcs, a register for others), so the place is asked at
 * the frame's pc: DW_OP_fbreg locations (offsets from the CFA, i.e. from
 * fp on amd64) and the stack pieces of split ones (DW_OP_piece). Scopes
 * come from libdw's dwarf_getscopes: the function, its lexical blocks and
 * the inlined calls that hold pc. Answers are cached by pc. */
#ifndef GOHEAP_DWARF_FRAMEVARS_H
#define GOHEAP_DWARF_FRAMEVARS_H

#include <stddef.h>
#include <stdint.h>

#include "dwarf/dwarf.h"

#define GH_FVAR_STACK (-1)   /* gh_fvar.reg: the part is in a stack slot */
#define GH_FVAR_UNKNOWN (-2) /* gh_fvar.reg: optimized out, or an expression not evaluated */

typedef struct gh_fvar {
    const char *name;
    int64_t cfa_off; /* the slot: fp + cfa_off (reg GH_FVAR_STACK) */
    uint64_t size;   /* bytes in the slot (a piece of the variable, or all of it) */
    uint64_t type;   /* DIE offset of the variable's type in .debug_info, 0 unknown */
    int whole;       /* the slot holds all of the variable, not a piece */
    int is_param;
    /* Where the part is: GH_FVAR_STACK, a DWARF register number (the low
     * size bytes of it), or GH_FVAR_UNKNOWN. Only gh_framevars_parts_at
     * gives parts that are not in the stack. */
    int reg;
    uint64_t var_off; /* the part's offset in the variable */
    uint64_t var_size;/* the variable's size, 0 unknown */
    uint32_t var;     /* parts of one variable share it (and are adjacent) */
} gh_fvar;

typedef struct gh_framevars gh_framevars;

/* NULL when d has no DWARF or memory is short (then no names). bias: the
 * load bias (pcs asked for are run-time addresses). */
gh_framevars *gh_framevars_new(gh_dwarf *d, uint64_t bias);
void gh_framevars_free(gh_framevars *fv);

/* The stack-resident variables at pc (a run-time address inside the
 * function: the call instruction for a return address). *out stays valid
 * until the next call. *n 0 when DWARF says nothing about pc. */
void gh_framevars_at(gh_framevars *fv, uint64_t pc, const gh_fvar **out, size_t *n);

/* Every part of every variable at pc, those in registers and those not
 * known too, for reading one frame's locals where its registers are known
 * (not cached: *out stays valid until the next call of either function). */
void gh_framevars_parts_at(gh_framevars *fv, uint64_t pc, const gh_fvar **out, size_t *n);

#endif
