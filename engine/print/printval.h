/* Internal: typed values read from target memory as a tree of nodes, for the
 * print command. printval.c builds values of runtime descriptors or DWARF
 * types (printval_map.c the entries of both map implementations),
 * printval_out.c renders a tree as Go-like text or as JSON. Every read goes
 * through gh_read*; every loop is bounded by the options and a node budget,
 * so hostile memory gives error nodes, never a crash or a hang. */
#ifndef GOHEAP_PRINT_PRINTVAL_H
#define GOHEAP_PRINT_PRINTVAL_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"
#include "base/out.h"

#define PV_MAX_NODES 200000u   /* nodes in one tree */
#define PV_MAX_DEPTH 64        /* --depth */
#define PV_MAX_ELEMS 100000u   /* --elems */
#define PV_STRMAX 256          /* bytes of a string shown */
#define PV_MAX_WORDS 64        /* words of an untyped object shown */
#define PV_MIN_BYTES 64        /* bytes of a byte array or slice shown, at least (--elems when more) */

typedef enum {
    PV_NIL,     /* a nil pointer, map, chan, func, interface */
    PV_BOOL,    /* u */
    PV_INT,     /* i */
    PV_UINT,    /* u */
    PV_FLOAT,   /* text: Go's %v form ("2.5", "1e+06", "NaN") */
    PV_COMPLEX, /* text: "(1+2i)" */
    PV_STRING,  /* text/textlen: the bytes shown; len: the string's length */
    PV_PTR,     /* addr; text: the pointee's type name (NULL unknown) */
    PV_STRUCT,  /* kids: fields (name set) */
    PV_ARRAY,   /* len; kids: the first elements (bytes: text/textlen the first bytes, no kids) */
    PV_SLICE,   /* addr, len, cap; kids: the first elements (bytes: as arrays) */
    PV_MAP,     /* addr, len; kids: key, value, key, value...; text: "swiss" or "classic" */
    PV_IFACE,   /* text: the dynamic type's name; kids[0]: the value */
    PV_CHAN,    /* addr, len, cap, closed; text: the element type's name */
    PV_FUNC,    /* addr: the funcval; text: the function's name */
    PV_WORDS,   /* untyped memory: kids are PV_UINT (or PV_PTR for pointer words) named "+off" */
    PV_ERROR,   /* text: what could not be read */
} pv_kind;

typedef struct pv_node pv_node;
struct pv_node {
    pv_kind kind;
    char *type;   /* the value's static type name; NULL for a raw word */
    char *name;   /* a struct field's name, "+off" of a raw word */
    char *text;
    size_t textlen;
    int64_t i;
    uint64_t u, addr, len, cap;
    uint64_t off;    /* raw words: offset in the object */
    uint8_t elided;  /* composite past the depth limit: no kids */
    uint8_t closed;  /* chans */
    uint8_t bytes;   /* arrays and slices of uint8 */
    pv_node *kid;
    uint32_t nkid;
    size_t kcap;
};

typedef struct pv_opts {
    int depth;      /* levels of nesting expanded (the value printed is level 1) */
    uint64_t elems; /* elements of arrays, slices, maps shown */
} pv_opts;

typedef struct pv_ctx {
    gh_cancel *cc;  /* may be NULL */
    gh_graph *g;
    gh_types *ty;
    pv_opts o;
    size_t nodes;
    const gh_target *t; /* reads go through it; NULL: ty's target (an overlay adds bytes in no memory) */
} pv_ctx;

/* The target c reads through. */
const gh_target *pv_target(const pv_ctx *c);

/* A type: a runtime descriptor, or else a DWARF type (DIE offset). */
typedef struct pv_tref {
    uint64_t rt, die;
} pv_tref;

/* What a type is (a descriptor's facts, or DWARF's). */
typedef struct pv_tinfo {
    int kind;
    uint64_t size;
    pv_tref elem, key;
    uint64_t len;      /* arrays */
    uint32_t nfields;  /* structs */
    int iface_empty;
    int direct;        /* stored in an interface's data word itself */
    uint64_t rt;       /* the descriptor, 0 for a DWARF-only type */
} pv_tinfo;

/* A DWARF type with a descriptor becomes the descriptor. */
pv_tref pv_type_norm(pv_ctx *c, pv_tref t);
/* The facts of t; -1 when unreadable. */
int pv_type_info(pv_ctx *c, pv_tref t, pv_tinfo *ti);
/* Field i of struct t: its name, type and offset; -1 past the last or unreadable. */
int pv_type_field(pv_ctx *c, pv_tref t, uint32_t i, char *name, size_t cap, pv_tref *ft, uint64_t *off);

/* --- building (printval.c) --- */

/* Fills n with the value of type t at addr, depth levels below the top. */
void pv_value(pv_ctx *c, pv_node *n, pv_tref t, uint64_t addr, int depth);
/* Fills n with one heap object of object type ot whose data is at addr
 * (size bytes): arrays of count values, runtime-internal shapes. */
void pv_object(pv_ctx *c, pv_node *n, const gh_otype *ot, uint64_t addr, uint64_t size);
/* Fills n with size bytes at addr as raw words; ptrword(ctx, off) says
 * whether the word at off holds a pointer (NULL: none known). */
void pv_words(pv_ctx *c, pv_node *n, uint64_t addr, uint64_t size, int (*ptrword)(void *ctx, uint64_t off),
              void *ctx);
/* A new child of n (zeroed), or NULL when the node budget is spent or out of memory. */
pv_node *pv_kid(pv_ctx *c, pv_node *n);
void pv_set_type(pv_node *n, const char *type);
void pv_error(pv_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The type's name, into tmp when built. */
const char *pv_type_name(pv_ctx *c, pv_tref t, char *tmp, size_t cap);
/* The name of the type of the heap object starting at addr, NULL when addr
 * is no object's start or the object is untyped. */
const char *pv_target_type(pv_ctx *c, uint64_t addr, char *tmp, size_t cap);
/* Frees n's contents (not n itself). */
void pv_clear(pv_node *n);

/* --- maps (printval_map.c) --- */

/* n becomes the map of map descriptor maptype whose header (runtime.hmap or
 * maps.Map) is at hdr, with its first entries. */
void pv_map(pv_ctx *c, pv_node *n, uint64_t maptype, uint64_t hdr, int depth);
/* n becomes the entries of one Swiss table (maps.table) of map maptype. */
void pv_map_table(pv_ctx *c, pv_node *n, uint64_t maptype, uint64_t table, int depth);

/* Calls fn(ctx, key_addr, elem_addr) for every entry of the map of
 * descriptor maptype whose header is at hdr (keys and elems stored out of
 * line followed), until fn returns non-zero; *key and *elem are the map's key
 * and elem descriptors. -1 with why filled when the layout or the map's
 * memory cannot be read (bounded as print is). */
typedef int (*pv_map_fn)(void *ctx, uint64_t key, uint64_t elem);
int pv_map_each(pv_ctx *c, uint64_t maptype, uint64_t hdr, pv_map_fn fn, void *ctx, uint64_t *key, uint64_t *elem,
                char *why, size_t cap);

/* The key of the map slot that holds word (an address inside the bucket or
 * group, or array of them, at obj, of bucket or group descriptor group)
 * into k: 1 when word is in a slot's elem (*is_key 0) or key (*is_key 1),
 * 0 when the layout does not say or the key is unreadable. Keys stored out
 * of line (over 128 bytes) are given as the pointer in the slot, with
 * *out_of_line 1 (out_of_line may be NULL). */
int pv_map_slot_key(pv_ctx *c, uint64_t group, uint64_t obj, uint64_t word, pv_node *k, int *is_key,
                    int *out_of_line);

/* --- rendering (printval_out.c) --- */

/* Go's %v of a float64 (or a float32 when f32): shortest form that reads back. */
void pv_format_float(double v, int f32, char *buf, size_t cap);
/* Text: one line per field or element, indent levels of four spaces. */
void pv_render_text(const pv_node *n, gh_out *out, int indent);
/* The value on one line in buf (composites with their first elements and
 * fields in short form, cut with "..." at cap). */
void pv_render_line(const pv_node *n, char *buf, size_t cap);
/* JSON: the value only. */
void pv_render_json(const pv_node *n, gh_json *j);

#endif
