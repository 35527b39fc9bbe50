/* Internal: the naming context shared by typename.c (cache, modules, Str
 * names) and typename_build.c (names built from a descriptor's structure). */
#ifndef GOHEAP_RTYPE_TYPENAME_INT_H
#define GOHEAP_RTYPE_TYPENAME_INT_H

#include "base/hmap.h"
#include "rtype/typemask.h"
#include "rtype/typename.h"

typedef struct tn_entry {
    uint64_t key;
    int state; /* TN_OK, TN_FAIL */
    int code;
    char *s;   /* the name, or the failure's message */
} tn_entry;

enum { TN_OK = 1, TN_FAIL };

struct gh_typenames {
    const gh_target *t;
    const gh_runtime *rt; /* NULL when made from explicit modules */
    int go_minor;
    gh_module_types mods[GH_TYPENAME_MAX_MODULES];
    size_t nmods;
    uint64_t gen;
    tn_entry *v;       /* names and failures, in the order found */
    size_t n, cap;
    gh_hmap index;     /* descriptor address -> index into v */
    char *buf;     /* the name being built: GH_TYPENAME_MAX bytes and a NUL */
    size_t len;
    uint64_t visits; /* descriptors left to read in the current query */
    int full;        /* the current query names packages by import path (gh_typename_full) */
};

/* Cache keys of full names: the descriptor's address with this bit. */
#define TN_FULL_KEY (UINT64_C(1) << 63)

/* An abi.Name read from the target: flags byte, name, optional tag. */
typedef struct tn_name {
    uint8_t flags;
    uint64_t name_addr, name_len;
    uint64_t tag_addr, tag_len;
} tn_name;

enum { TN_NAME_EXPORTED = 1, TN_NAME_TAG = 2, TN_NAME_PKGPATH = 4, TN_NAME_EMBEDDED = 8 };

/* The module whose [types, etypes) holds addr, or NULL (reflect-made). */
const gh_module_types *tn_module(const gh_typenames *c, uint64_t addr);

/* Decodes the abi.Name at addr; with end non-zero its bytes must lie below
 * end (names resolved from a module's nameOff). */
int tn_read_name(gh_typenames *c, uint64_t addr, uint64_t end, tn_name *out, gh_err *err);

/* Appends bytes to the name being built; GH_EFORMAT past GH_TYPENAME_MAX. */
int tn_put(gh_typenames *c, const char *s, size_t n, gh_err *err);
int tn_puts(gh_typenames *c, const char *s, gh_err *err);
/* Appends n bytes of target memory at addr. */
int tn_put_mem(gh_typenames *c, uint64_t addr, uint64_t n, gh_err *err);

/* Appends the name of the type at addr (cached, Str, or built), depth
 * levels below the name asked for. */
int tn_append(gh_typenames *c, uint64_t addr, int depth, gh_err *err);

/* Appends the name of an unnamed composite type built from its structure
 * (typename_build.c). omit_func drops a function type's leading "func", as
 * interface methods are printed. */
int tn_build(gh_typenames *c, const gh_rtype *rt, int depth, int omit_func, gh_err *err);

#endif
