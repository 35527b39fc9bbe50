/* Internal: the DWARF variable index shared by dwarfvars.c (globals, frames,
 * closures) and dwarftypes.c (types). */
#ifndef GOHEAP_DWARF_DWARFVARS_INT_H
#define GOHEAP_DWARF_DWARFVARS_INT_H

#include <elfutils/libdw.h>

#include "base/hmap.h"
#include "dwarf/dwarfvars.h"
#include "target/target.h"

/* Nesting of types by value (struct in array in struct ...) while computing
 * sizes and alignments: Go types nest far less, hostile DWARF may loop. */
#define GH_DWARF_MAX_NEST 64

typedef struct dfunc {
    uint64_t pc;    /* run-time entry */
    Dwarf_Off die;
    gh_dlocal *locals;
    gh_dclosure_var *cvars;
    uint32_t nlocals, ncvars;
    uint8_t locals_done, cvars_done;
} dfunc;

/* One described type; fields hold nfields entries. */
typedef struct dtype_slot {
    gh_dtype t;
    gh_dfield *fields;
} dtype_slot;

struct gh_dwarf_vars {
    Dwarf *dw;
    const gh_target *t; /* for closure code (Go 1.22): set by gh_session_dwarfvars */
    uint64_t bias, types, etypes;
    int go_minor;
    gh_dglobal *globals;
    size_t nglobals, capglobals;
    dfunc *funcs;
    size_t nfuncs, capfuncs;
    dtype_slot *tslots; /* described types, in the order described */
    size_t ntypes, captypes;
    gh_hmap tindex;     /* DIE offset -> index into tslots */
    uint64_t nest[GH_DWARF_MAX_NEST + 1]; /* types being described, outermost first */
};

/* The function entered at pc and its entry (dwarfvars.c). */
int gh_dv_find_func(gh_dwarf_vars *dv, uint64_t pc, dfunc **f, Dwarf_Die *die, gh_err *err);

/* Attribute helpers (dwarftypes.c). */
int gh_dw_ref(Dwarf_Die *die, unsigned at, Dwarf_Off *off); /* 0 when present */
int gh_dw_udata(Dwarf_Die *die, unsigned at, uint64_t *v);  /* 0 when present */
void gh_dwarf_types_free(gh_dwarf_vars *dv);

#endif
