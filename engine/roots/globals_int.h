/* Internal: the global-roots provider (globals.c) and its attribution of
 * words inside unnamed static objects (globals_static.c). */
#ifndef GOHEAP_ROOTS_GLOBALS_INT_H
#define GOHEAP_ROOTS_GLOBALS_INT_H

#include <stdint.h>

#include "dwarf/dwarfvars.h"
#include "roots/roots.h"

#define GL_MAX_REGION (UINT64_C(1) << 30) /* bytes of data or bss in one module, of one root */
#define GL_MAX_UNNAMED (1u << 22)         /* unnamed words held for attribution at once */
#define GL_MAX_CANDS (1u << 20)           /* named words pointing into static data */

enum { OWN_NONE, OWN_VAR, OWN_SYM, OWN_VIA };

/* Who a pointer word belongs to. */
typedef struct gl_owner {
    int own;
    uint64_t base, size;  /* extent; size 0: unknown (static objects of unknown type) */
    const char *name;
    uint64_t dtype;       /* DWARF type of the value at base, 0 unknown */
    uint64_t rtype;
    int elem_array;       /* the value is an array of dtype of unknown length */
} gl_owner;

/* A word of a named owner that points into static data: a static object's
 * start, and (when DWARF says) that object's type and size. */
typedef struct gl_cand {
    uint64_t v, word;
    gl_owner from;
    gl_owner obj;         /* OWN_VIA owner of the object's words */
    int typed;            /* obj.size is the object's size */
} gl_cand;

/* An unnamed pointer word; cand is 1 + the candidate whose object holds
 * it, or 0. */
typedef struct gl_uword {
    uint64_t addr;
    uint32_t cand;
} gl_uword;

typedef struct gl_region {
    uint64_t lo, hi;      /* [lo, hi) */
    uint8_t *bytes;       /* its contents, or NULL: read word by word */
} gl_region;

typedef struct gl_ctx {
    const gh_roots_env *env;
    gh_roots *rs;
    gh_dwarf_vars *dv;
    int named;            /* the main module: DWARF and symbols name its words */
    gl_region reg[2];     /* data, bss */
    gl_uword *u;
    size_t nu, capu;
    gl_cand *k;
    size_t nk, capk;
    int cands_full;
} gl_ctx;

int gl_read_word(gl_ctx *c, uint64_t addr, uint64_t *v);
int gl_in_static(const gl_ctx *c, uint64_t a);
/* The named owner of addr (main module): a DWARF variable, else a sized
 * data symbol; OWN_NONE. */
int gl_owner_of(gl_ctx *c, uint64_t addr, gl_owner *o);
/* Remembers word (of owner o, holding v) as pointing into static data. */
int gl_add_cand(gl_ctx *c, uint64_t word, uint64_t v, const gl_owner *o, gh_err *err);
/* Gives the unnamed words c->u to the static objects the candidates lead to
 * (globals_static.c). */
int gl_attribute_static(gl_ctx *c, gh_err *err);

#endif
