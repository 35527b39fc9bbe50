/* Types of heap objects as the marker learns them: from the allocator
 * (malloc headers, mspan.largeType) and by propagation from typed roots
 * through pointers, slices, strings, interfaces, maps, channels and closures.
 *
 * A type here is an "object type": one Go type (a runtime descriptor, or a
 * DWARF type when the binary has no descriptor for it, or a runtime-internal
 * shape goheap knows, such as a map's buckets) repeated count times. Object
 * types are interned into a table and named by a 32-bit id, so the marker
 * keeps 4 bytes of type per object. */
#ifndef GOHEAP_TYPES_GOTYPE_H
#define GOHEAP_TYPES_GOTYPE_H

#include <stdint.h>

#include "base/error.h"
#include "dwarf/dwarfvars.h"
#include "pclntab/pclntab.h"
#include "rtype/typemask.h"
#include "rtype/typename.h"
#include "runtime/runtime.h"

typedef uint32_t gh_tid; /* 0: unknown */

/* Runtime-internal shapes with no descriptor of their own to name them. */
enum {
    GH_SYN_NONE = 0,
    GH_SYN_HMAP,      /* runtime.hmap of a classic map; aux = map type */
    GH_SYN_MAPEXTRA,  /* runtime.mapextra; aux = map type */
    GH_SYN_OVFSLICE,  /* the []*bmap a mapextra points to; aux = map type */
    GH_SYN_OVFARRAY,  /* its backing array of *bmap; aux = map type */
    GH_SYN_SWISSMAP,  /* internal/runtime/maps.Map; aux = map type */
    GH_SYN_DIRECTORY, /* a Swiss map's directory, [count]*maps.table; aux = map type */
    GH_SYN_TABLE,     /* internal/runtime/maps.table; aux = map type */
    GH_SYN_HCHAN,     /* runtime.hchan (with its buffer when pointer-free); aux = chan type */
    GH_SYN_STRING,    /* the bytes of a string */
    GH_SYN_CLOSURE,   /* a func value's closure; aux = the function's entry pc */
    GH_SYN_NKINDS
};

typedef struct gh_otype {
    uint64_t rtype;  /* descriptor of one value (0: DWARF or synthetic) */
    uint64_t die;    /* DWARF type of one value when there is no descriptor */
    uint64_t aux;    /* synthetic shapes: see GH_SYN_* */
    uint64_t count;  /* values in the object; 0 in a hint: as many as fit */
    uint8_t syn;     /* GH_SYN_* */
    uint8_t bound;   /* count is only what fits the slot (at most): nothing stated the length */
} gh_otype;

/* A pointer found while walking a typed value, and what it points to. */
typedef struct gh_hint {
    uint64_t value;  /* the pointer */
    gh_otype type;   /* the type of what it points to */
    uint64_t min_size; /* bytes the target must hold from value (a slice's cap * elem) */
} gh_hint;

typedef struct gh_types gh_types;

/* What types are read with, handed over by the session. All but rt may be
 * NULL: without masks descriptors give no pointer masks, without names
 * descriptors are named unknown<type 0x...>, without tab functions have no
 * names, without dv DWARF-only types and closures are not known. */
typedef struct gh_types_env {
    const gh_runtime *rt;
    gh_typemask_cache *masks;
    gh_typenames *names;
    const gh_pclntab *tab;
    gh_dwarf_vars *dv;
} gh_types_env;

/* NULL when out of memory. env is copied. */
gh_types *gh_types_new(const gh_types_env *env);
/* A copy of s that lives as long as ty; NULL when out of memory. */
const char *gh_types_keep(gh_types *ty, const char *s);
/* What ty reads with. */
const gh_types_env *gh_types_inputs(const gh_types *ty);
void gh_types_free(gh_types *ty);

/* The id of an object type (interned). 0 when out of memory or the table is full. */
gh_tid gh_types_intern(gh_types *ty, const gh_otype *ot);
const gh_otype *gh_types_get(const gh_types *ty, gh_tid id);
size_t gh_types_count(const gh_types *ty); /* ids are 1..count */

/* Bytes of one value of the type (a synthetic shape's fixed size; 0 when
 * unknown, e.g. a closure or a string's bytes). */
uint64_t gh_types_size(gh_types *ty, const gh_otype *ot);
/* 1 when id is an array whose length is only what fits its slot (named
 * [≤N]T): JSON says "length_bound". */
int gh_types_length_bound(const gh_types *ty, gh_tid id);
/* Whether one value holds pointers: -1 unknown. */
int gh_types_has_pointers(gh_types *ty, const gh_otype *ot);
/* Pointer mask of count values as one uint64 for objects up to 64 words:
 * bit w set when word w holds a pointer. GH_EUNSUPP past 64 words. */
int gh_types_mask64(gh_types *ty, const gh_otype *ot, uint64_t *mask, gh_err *err);

/* The name Go would print: "main.Entry", "[64]main.Pair", "map.bucket[string]int",
 * "runtime.hmap", "string", "closure main.f.func1". Stays valid while ty lives. */
const char *gh_types_name(gh_types *ty, gh_tid id);
/* The same with every package named by its import path, as DWARF names
 * types ("go/ast.Ident" for "ast.Ident"; rtype/typename.h,
 * gh_typename_full_ref). */
const char *gh_types_full_name(gh_types *ty, gh_tid id);

/* What an object type is: names stay valid while ty lives. */
typedef struct gh_typeinfo {
    const char *name;
    int kind;           /* GH_KIND_* of one value, GH_KIND_RUNTIME for a synthetic shape, 0 unknown */
    uint64_t size;      /* of one value, 0 unknown */
    uint64_t count;
    uint64_t rtype;
    size_t nfields;     /* of a struct */
} gh_typeinfo;
int gh_types_info(gh_types *ty, gh_tid id, gh_typeinfo *out, gh_err *err);

/* Field i of a struct type: its type is interned (a new id when it was not
 * yet in the table). */
typedef struct gh_fieldinfo {
    const char *name;
    uint64_t offset, size;
    gh_tid type;
    const char *type_name;
    int kind;
    int embedded;
} gh_fieldinfo;
int gh_types_field_info(gh_types *ty, gh_tid id, size_t i, gh_fieldinfo *out, gh_err *err);

/* Walks an object of type id whose data starts at addr (size bytes) and
 * calls fn for every pointer whose target type the type says. Values are
 * read from the target. A non-zero return from fn stops the walk. */
typedef int (*gh_hint_fn)(void *ctx, uint64_t word_addr, const gh_hint *h);
int gh_types_walk(gh_types *ty, gh_tid id, uint64_t addr, uint64_t size, gh_hint_fn fn, void *ctx, gh_err *err);

/* The same with the object's bytes at host (NULL: asked of the target). */
int gh_types_walk_at(gh_types *ty, gh_tid id, uint64_t addr, uint64_t size, const uint8_t *host, gh_hint_fn fn,
                     void *ctx, gh_err *err);

/* The same for a value of a descriptor or a DWARF type (a root region). */
int gh_types_walk_value(gh_types *ty, uint64_t rtype, uint64_t die, uint64_t addr, uint64_t size, gh_hint_fn fn,
                        void *ctx, gh_err *err);

/* How the word at offset off of a value of the type is named from the
 * value: ".Next", "[3].Name", ".<map value>". Empty when unknown. */
void gh_types_field(gh_types *ty, gh_tid id, uint64_t off, char *buf, size_t cap);
/* The descriptor of the innermost field at off in an object of type id
 * (the one gh_types_field names), 0 when unknown (no descriptor, a runtime
 * shape, padding). */
uint64_t gh_types_field_rtype(gh_types *ty, gh_tid id, uint64_t off);
void gh_types_value_field(gh_types *ty, uint64_t rtype, uint64_t die, uint64_t off, char *buf, size_t cap);

/* Whether the word at off of an object of type id (or, with id 0, of a
 * value of descriptor rtype or DWARF type die) is the data word of an
 * interface: GH_IFACE_EMPTY (the word before is an *abi.Type),
 * GH_IFACE_ITAB (the word before is an *itab), 0 when it is not one or the
 * type does not say. */
enum { GH_IFACE_EMPTY = 1, GH_IFACE_ITAB = 2 };
int gh_types_iface_at(gh_types *ty, gh_tid id, uint64_t rtype, uint64_t die, uint64_t off);

#endif
