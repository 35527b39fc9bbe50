/* Internal: the object-type table shared by gotype.c (interning, names,
 * descriptor facts), typewalk.c (hints and field names) and mark.c. */
#ifndef GOHEAP_TYPES_GOTYPE_INT_H
#define GOHEAP_TYPES_GOTYPE_INT_H

#include "base/hmap.h"
#include "types/gotype.h"
#include "rtype/typemask.h"

/* Limits against hostile descriptors and runaway tables. */
#define GH_TYPES_MAX (1u << 24)         /* object types interned */
#define GH_TYPES_MAX_FIELDS (1u << 16)  /* fields of one struct */
#define GH_TYPES_MAX_LEAVES (1u << 16)  /* pointer leaves of one value */
#define GH_TYPES_MAX_DEPTH 32           /* nesting while flattening */
#define GH_TYPES_RHOT 256               /* the rinfo cache in front of the table */

/* A pointer-holding word (or word pair) of a value. */
enum { L_PTR = 1, L_SLICE, L_STRING, L_EFACE, L_IFACE, L_MAP, L_CHAN, L_FUNC,
       L_POOL,   /* sync.Pool.local/victim: unsafe.Pointer to [size]sync.poolLocal, size in the next word */
       L_TRIENODE, /* *sync.node[K,V] of sync.Map's trie: an entry or an indirect, by its isEntry byte */
       L_CLEANUPARG /* AddCleanup's arg S, typed by the cleanup func(S) whose funcval is at offset alt
                       (elem 1: alt holds a pointer to the func value;
                       edie 1: the arg is captured by reference) */ };

typedef struct leaf {
    uint64_t off;
    uint64_t t;     /* the leaf's own type: descriptor, or DWARF DIE when dwarf */
    uint64_t elem;  /* L_PTR/L_SLICE: descriptor of the element, 0 unknown */
    uint64_t edie;  /* ... or its DWARF type */
    uint64_t alt;   /* L_TRIENODE: the indirect[K,V] descriptor (elem: entry[K,V]) */
    uint8_t kind;   /* L_* */
    uint8_t dwarf;  /* t is a DWARF DIE */
} leaf;

enum { RI_EMPTY, RI_OK, RI_FAIL };

typedef struct rinfo {
    uint64_t addr;
    int state;
    gh_rtype r;
    uint64_t elem, key, len; /* element (pointer, slice, array, chan, map), map key, array length */
    uint64_t bucket;         /* map: bucket (classic) or group (Swiss) descriptor */
    uint64_t fields;         /* struct: []abi.StructField */
    uint32_t nfields;
    uint8_t iface_empty;
    uint8_t leaves_state;    /* RI_* */
    uint8_t leaves_truncated;
    uint8_t shape;           /* 0 not yet known, 1 a concrete type, 2 a generic shape (go.shape.*) */
    leaf *leaves;
    uint32_t nleaves;
} rinfo;

struct gh_types {
    gh_types_env env;
    const gh_target *t;
    int minor;
    int swiss;
    gh_otype *ot;      /* by id */
    char **names;      /* by id, built on demand */
    char **fnames;     /* full names (import paths) by id, built on demand */
    size_t fnamescap;
    size_t n, otcap, namescap;
    gh_hmap idx;       /* hash of an object type -> its id */
    rinfo **rblocks;   /* descriptor facts, in blocks that never move: an rinfo * stays valid */
    size_t rn, nrblocks;
    gh_hmap raddr;     /* descriptor address -> index of its rinfo */
    struct rinfo *rhot[GH_TYPES_RHOT]; /* recently asked, by address bits */
    void *dwarf;       /* DWARF type facts (typewalk_dwarf.c), NULL until used */
    struct nentry *nv; /* descriptors by name (gh_types_by_name), built on first use */
    size_t nn, ncap;
    gh_hmap nidx;      /* hash of a name -> index into nv */
    int nbuilt;
    void *strs;        /* strings kept for the table's life (typeinfo.c) */
};

/* Frees what gh_types_keep kept (typeinfo.c). */
void gh_types_free_strs(gh_types *ty);

/* Whether a descriptor is a generic shape (its name holds "go.shape."),
 * which names no type a program made: such hints are dropped. */
int gh_types_is_shape(gh_types *ty, uint64_t rtype);

/* The one concrete instance a shape stands for, or 0 (gotype.c). */
uint64_t gh_types_concrete(gh_types *ty, uint64_t shape);

/* The descriptor whose reflect name is name, 0 when none or ambiguous. */
uint64_t gh_types_by_name(gh_types *ty, const char *name);

/* The one descriptor whose reflect name or full name (import paths,
 * gh_typename_full_ref) is name, by a scan of every module's descriptors
 * (for a user's expression, not a hot path); 0 with why filled ("scanner.Scanner
 * names 2 types (go/scanner.Scanner, text/scanner.Scanner): ...") otherwise. */
uint64_t gh_types_find(gh_types *ty, const char *name, char *why, size_t cap);

rinfo *gh_types_rinfo_slow(gh_types *ty, uint64_t addr);

/* The facts of the descriptor at addr, NULL when unreadable: the small cache
 * inline, the table behind it. */
static inline rinfo *gh_types_rinfo(gh_types *ty, uint64_t addr)
{
    rinfo *hot = ty->rhot[(addr >> 3) & (GH_TYPES_RHOT - 1)];
    if (hot && hot->addr == addr)
        return hot->state == RI_OK ? hot : NULL;
    return gh_types_rinfo_slow(ty, addr);
}
int gh_types_field_at(gh_types *ty, const rinfo *ri, uint32_t i, uint64_t *name, uint64_t *typ, uint64_t *off);
/* A struct field's name from its abi.Name at nameaddr (typewalk.c); empty when
 * unreadable or longer than cap - 1. */
void gh_types_field_name(gh_types *ty, uint64_t nameaddr, char *out, size_t cap);
/* The function whose entry is pc, printed form, into tmp. */
const char *gh_types_funcname(gh_types *ty, uint64_t pc, char *tmp, size_t cap);
/* DWARF-typed values (typewalk_dwarf.c). */
uint64_t gh_types_dwarf_size(gh_types *ty, uint64_t die);
const char *gh_types_dwarf_name(gh_types *ty, uint64_t die, char *tmp, size_t cap);
/* The pointer leaves of a value of a DWARF type; NULL when unknown. */
const leaf *gh_types_dwarf_leaves(gh_types *ty, uint64_t die, uint32_t *n);
/* The descriptor of a DWARF type, 0 when it has none. */
uint64_t gh_types_dwarf_rtype(gh_types *ty, uint64_t die);
void gh_types_dwarf_free(gh_types *ty);
/* Appends the path to off in a value of a DWARF type. */
void gh_types_dwarf_path(gh_types *ty, uint64_t die, uint64_t off, char *buf, size_t cap);
/* Closures: the captured variables of the function at entry pc, from DWARF. */
int gh_types_walk_closure(gh_types *ty, uint64_t pc, uint64_t addr, uint64_t size, gh_hint_fn fn, void *ctx);
/* The pointer leaves of the closure entered at pc (NULL, *n 0 when unknown). */
const leaf *gh_types_closure_leaves(gh_types *ty, uint64_t pc, uint32_t *n);
void gh_types_closure_field(gh_types *ty, uint64_t pc, uint64_t off, char *buf, size_t cap);
/* The leaves of one value of a descriptor (cached); NULL when unreadable. */
const leaf *gh_types_rtype_leaves(gh_types *ty, uint64_t t, uint32_t *n);
/* Pointer mask of count values of a DWARF type (objects up to 64 words). */
int gh_types_dwarf_mask64(gh_types *ty, uint64_t die, uint64_t count, uint64_t *mask);
/* Hints for the func value (a *funcval) held in the word at word_addr. */
int gh_types_walk_funcval(gh_types *ty, uint64_t word_addr, gh_hint_fn fn, void *ctx);
/* The type S of a cleanup func(S) given its funcval; -1 when unknown. */
int gh_types_cleanup_arg(gh_types *ty, uint64_t fv, uint64_t *rtype, uint64_t *die);
/* Walks DWARF leaves over [addr, addr+size). */
int gh_types_walk_leaves(gh_types *ty, const leaf *lv, uint32_t n, uint64_t addr, uint64_t size, gh_hint_fn fn,
                         void *ctx);

#endif
