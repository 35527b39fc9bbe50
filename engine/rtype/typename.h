/* Go type names from runtime type descriptors, exactly as reflect's
 * Type.String() prints them: the descriptor's own Str name for types in a
 * module's [types, etypes), and for types made at run time by reflect (whose
 * Str is an id in the runtime's reflectOffs map) the name built from their
 * structure the way reflect's SliceOf, MapOf, FuncOf, StructOf... built it.
 * Anything else is named `unknown<type 0x...>`: never a guess. */
#ifndef GOHEAP_RTYPE_TYPENAME_H
#define GOHEAP_RTYPE_TYPENAME_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "runtime/runtime.h"
#include "target/target.h"

/* Limits against hostile descriptors: bytes in one name (without the NUL),
 * nesting of element types, modules on the moduledata list, names cached. */
#define GH_TYPENAME_MAX 65536
#define GH_TYPENAME_MAX_DEPTH 64
#define GH_TYPENAME_MAX_MODULES 64
#define GH_TYPENAME_MAX_CACHED (1u << 16)

/* One module's type descriptors: [types, etypes), run-time addresses. */
typedef struct gh_module_types {
    uint64_t types, etypes;
} gh_module_types;

/* The modules on the list starting at runtime.firstmoduledata (moduledata
 * field offsets from DWARF), at most cap of them. GH_EFORMAT for a range that
 * is empty or implausible, or a list longer than cap (a cycle). */
int gh_typename_modules(const gh_runtime *rt, gh_module_types *mods, size_t cap, size_t *n,
                        gh_err *err);

/* A naming context: the modules and a cache of names by descriptor address. */
typedef struct gh_typenames gh_typenames;

/* From explicit modules (tests, or a caller that found them itself); NULL
 * when out of memory. go_minor is the Go 1.x minor release (22+). */
gh_typenames *gh_typenames_new(const gh_target *t, int go_minor, const gh_module_types *mods,
                               size_t n);
/* From a target's runtime model (reads the module list). */
int gh_typenames_open(const gh_runtime *rt, gh_typenames **out, gh_err *err);
void gh_typenames_free(gh_typenames *c);

/* The name of the type whose descriptor is at type_addr, into buf (always
 * NUL-terminated when cap > 0). On failure buf holds `unknown<type 0x...>`
 * and err says why: GH_EMEM unreadable, GH_EFORMAT a descriptor or name that
 * cannot be one, GH_EUNSUPP a descriptor that names no type goheap can know
 * (a 1.22-1.23 runtime-made GC bitmap, a named type outside every module),
 * GH_EARG a name longer than cap - 1 bytes. Failures are cached too. */
int gh_typename(gh_typenames *c, uint64_t type_addr, char *buf, size_t cap, gh_err *err);

/* The same name without a copy: *name (the name, or `unknown<type 0x...>`)
 * stays valid until the next call with c. */
int gh_typename_ref(gh_typenames *c, uint64_t type_addr, const char **name, gh_err *err);

/* The full name: every package named by its import path, as DWARF names
 * types ("go/ast.Ident", "[]*example.com/a/util.Item"), where reflect's
 * String() names it by its package name ("ast.Ident"). A named type takes
 * the path from its uncommon type (PkgPath); an unnamed composite is built
 * from its structure with full element names. A generic type's arguments
 * stay as its Str spells them (the descriptor records no structure for
 * them). Same validity rule as gh_typename_ref. */
int gh_typename_full_ref(gh_typenames *c, uint64_t type_addr, const char **name, gh_err *err);

/* The name built from the descriptor's structure, ignoring its own Str even
 * inside a module (what reflect would print had it made the type): checks the
 * structural builder against the compiler's strings. Not cached. */
int gh_typename_built(gh_typenames *c, uint64_t type_addr, char *buf, size_t cap, gh_err *err);

#endif
