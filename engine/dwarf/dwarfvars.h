/* What the executable's DWARF says about variables and Go types, for naming
 * and typing roots: package-level variables by address, a function's stack
 * variables and closure captures, and types (kind, size, runtime type
 * descriptor, elements, fields). Built once per session, lazily. Every
 * address here is a run-time address (link-time address + load bias). */
#ifndef GOHEAP_DWARF_DWARFVARS_H
#define GOHEAP_DWARF_DWARFVARS_H

#include <stddef.h>
#include <stdint.h>

#include "dwarf/dwarf.h"
#include "target/target.h"
#include "base/cancel.h"
#include "base/error.h"

/* Limits against hostile DWARF. */
#define GH_DWARF_MAX_GLOBALS (1u << 22)
#define GH_DWARF_MAX_FUNCS (1u << 22)
#define GH_DWARF_MAX_LOCALS 65536   /* variables of one function */
#define GH_DWARF_MAX_FIELDS 65536   /* members of one struct */
#define GH_DWARF_MAX_TYPES (1u << 22) /* types described (cached) per session */
#define GH_DWARF_MAX_DEPTH 32       /* typedef chains, nested blocks, nested types */

/* Go's DWARF extensions (cmd/internal/dwarf). */
enum {
    GH_DW_AT_go_kind = 0x2900,
    GH_DW_AT_go_key = 0x2901,
    GH_DW_AT_go_elem = 0x2902,
    GH_DW_AT_go_embedded_field = 0x2903,
    GH_DW_AT_go_runtime_type = 0x2904,
    GH_DW_AT_go_closure_offset = 0x2907, /* Go 1.23+ */
};

typedef struct gh_dwarf_vars gh_dwarf_vars;

/* A package-level variable (DW_TAG_variable located by DW_OP_addr). */
typedef struct gh_dglobal {
    const char *name; /* "main.Index" */
    uint64_t addr, size;
    uint64_t type;    /* DIE offset of its type in .debug_info */
} gh_dglobal;

/* A variable of a function's frame at a fixed place: its location is one
 * DW_OP_fbreg, and the frame base is DW_OP_call_frame_cfa in Go. On amd64
 * the CFA is the caller's SP: fp = sp + spdelta + 8. */
typedef struct gh_dlocal {
    const char *name;
    int64_t cfa_off;  /* from the CFA */
    uint64_t size;    /* byte size of its type */
    uint64_t type;    /* DIE offset */
    int is_param;     /* DW_TAG_formal_parameter */
} gh_dlocal;

/* A variable a closure captured: where it is in the closure object (the
 * funcval the context register points to; the code pointer is at 0). By-
 * reference captures are named "&x" and are pointers. */
typedef struct gh_dclosure_var {
    const char *name;
    uint64_t offset, size;
    uint64_t type;    /* DIE offset */
} gh_dclosure_var;

/* A Go type as DWARF describes it. Typedefs are followed: name, kind and
 * rtype come from the first DIE of the chain that has them (Go's typedefs
 * for maps, channels and interfaces carry them, and point at runtime
 * structs); size, len and fields from the end of the chain. */
typedef struct gh_dtype {
    uint64_t off;      /* the DIE asked for */
    const char *name;  /* Go syntax ("map[string]*main.Entry"), or NULL */
    int kind;          /* GH_KIND_* (DW_AT_go_kind, else derived); 0 unknown */
    uint64_t size;
    uint64_t align;    /* from the layout (Go's rules for amd64) */
    uint64_t rtype;    /* run-time address of the type descriptor, 0 none */
    uint64_t elem;     /* DIE: pointers, arrays (DW_AT_type); slices, maps, chans (go_elem) */
    uint64_t key;      /* DIE: maps */
    uint64_t len;      /* arrays */
    size_t nfields;    /* structs */
} gh_dtype;

typedef struct gh_dfield {
    const char *name;
    uint64_t offset;
    uint64_t type;     /* DIE offset */
    int embedded;
} gh_dfield;

/* Builds the index from d (*out NULL and GH_OK when d has no DWARF): t is
 * the target closure code is read from (Go 1.22; may be NULL), bias the load bias, [types, etypes) the
 * run-time range of the main module's type descriptors (moduledata.types,
 * etypes; 0, 0: rtypes unknown), go_minor the release.
 * DW_AT_go_runtime_type is an offset from moduledata.types, except that Go
 * 1.22 writes uintptr's as a link-time address: a value past the range's
 * length is taken as an address when it lands inside it, else as none.
 * cc (may be NULL) is polled while the compile units are walked. */
int gh_dwarf_vars_open(gh_dwarf *d, const gh_target *t, uint64_t bias, uint64_t types, uint64_t etypes,
                       int go_minor, gh_cancel *cc, gh_dwarf_vars **out, gh_err *err);
void gh_dwarf_vars_free(gh_dwarf_vars *dv);

/* Package-level variables, by address. */
size_t gh_dwarf_nglobals(const gh_dwarf_vars *dv);
const gh_dglobal *gh_dwarf_global(const gh_dwarf_vars *dv, size_t i);
/* The variable whose [addr, addr + size) holds addr, or NULL. */
const gh_dglobal *gh_dwarf_global_at(const gh_dwarf_vars *dv, uint64_t addr);

/* The frame variables of the function entered at entry_pc (the
 * DW_TAG_subprogram with that low_pc), its lexical blocks and inlined calls
 * included, that live at one place for the whole function. Variables with
 * location lists or in registers are left out. GH_EARG when no function
 * starts there. The array stays valid with dv. */
int gh_dwarf_func_locals(gh_dwarf_vars *dv, uint64_t entry_pc, const gh_dlocal **out, size_t *n, gh_err *err);

/* The type (DIE offset) of the i-th parameter of the function entered at
 * entry_pc, results excluded, wherever the parameter lives. */
int gh_dwarf_func_param_type(gh_dwarf_vars *dv, uint64_t entry_pc, size_t i, uint64_t *type, gh_err *err);

/* The captured variables of the closure entered at entry_pc, by offset.
 * Go 1.23+: the variables with DW_AT_go_closure_offset (DWARF leaves out
 * captures the closure never reads, so offsets may have gaps). Go 1.22
 * records no offsets and nothing marks a captured variable (the compiler's
 * layout cannot be replayed over DWARF's list either: see
 * gh_dwarf_closure_rule_check); there the offsets come from the code: each
 * MOVQ off(DX), R right before DWARF's location list puts a variable in R
 * (gh_dwarf_closure_code_check checks that rule on 1.23+). Method values ("...-fm", every release): the
 * receiver at 8, named ".this", from DWARF's ".this" or else from the first
 * parameter of the method inlined into the wrapper when its type is the one
 * the wrapper's name says; *n 0 when neither. */
int gh_dwarf_closure_vars(gh_dwarf_vars *dv, uint64_t entry_pc, const gh_dclosure_var **out, size_t *n,
                          gh_err *err);

/* The type at DIE offset die_off, and its i-th field (structs). GH_EFORMAT
 * for an offset that is not a type DIE, a typedef cycle, ...; GH_EARG for i
 * past the last field. */
int gh_dwarf_type(gh_dwarf_vars *dv, uint64_t die_off, gh_dtype *out, gh_err *err);
int gh_dwarf_type_field(gh_dwarf_vars *dv, uint64_t die_off, size_t i, gh_dfield *out, gh_err *err);

/* Closure layout rule check (tests): the offsets the compiler's closure
 * struct gives the captured variables of entry_pc (code pointer at 0, then
 * each in DWARF order at its type's alignment) compared with
 * DW_AT_go_closure_offset. *nvars the variables with the attribute;
 * GH_OK when every one matches, GH_EFORMAT with the first mismatch named. */
int gh_dwarf_closure_rule_check(gh_dwarf_vars *dv, uint64_t entry_pc, size_t *nvars, gh_err *err);

/* Go 1.22 closure rule check (tests): the offsets the closure's code loads
 * its variables from (MOVQ off(DX), R right before DWARF places the variable
 * in R) against DW_AT_go_closure_offset on a 1.23+ binary. */
int gh_dwarf_closure_code_check(gh_dwarf_vars *dv, uint64_t entry_pc, size_t *nvars, gh_err *err);

/* Functions with a DWARF entry, by entry pc (tests and tools). */
size_t gh_dwarf_nfuncs(const gh_dwarf_vars *dv);
uint64_t gh_dwarf_func_pc(const gh_dwarf_vars *dv, size_t i, const char **name);

#endif
