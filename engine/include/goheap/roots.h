/* GC roots: the regions of target memory the garbage collector scans before
 * anything else (data and bss, goroutine stacks, finalizer and cleanup
 * records, registers), each with a name a person understands. Providers
 * (globals.c, stackroots.c, specials.c) append regions to one set; the marker
 * (mark.c) scans them and remembers which root reached each object first. */
#ifndef GOHEAP_ROOTS_H
#define GOHEAP_ROOTS_H

#include <stddef.h>
#include <stdint.h>

#include "goheap/error.h"

typedef enum {
    GH_ROOT_GLOBAL = 0, /* a package-level variable (data, bss) */
    GH_ROOT_STACK,      /* a goroutine's frame, or its registers */
    GH_ROOT_FINALIZER,  /* a finalizer: the object's referents and the function */
    GH_ROOT_CLEANUP,    /* a cleanup: its function and argument */
    GH_ROOT_RUNTIME,    /* anything else the runtime holds */
    GH_ROOT_NKINDS
} gh_root_kind;

const char *gh_root_kind_name(int kind); /* "global", "stack", ... */

/* One root region. Words are scanned at 8-byte steps from addr. */
typedef struct gh_root {
    uint8_t kind;          /* gh_root_kind */
    uint8_t conservative;  /* every word counts when it points into an allocated
                              object (asyncPreempt frames, registers); mask unused */
    uint64_t addr;         /* first byte in target memory; 0 for register values */
    uint64_t size;         /* bytes, a multiple of 8 */
    const uint8_t *mask;   /* size/8 bits, LSB first: the words the GC treats as
                              pointers. NULL with conservative == 0: every word */
    const uint64_t *values;/* register roots: the size/8 words themselves (addr 0) */
    /* The type of the value in the region, for typing what it points to:
     * a runtime type descriptor, or else a DWARF type (DIE offset in
     * .debug_info), or neither. */
    uint64_t rtype;
    uint64_t dwarf_type;
    /* Finalizer records: the object the finalizer is set on. Its pointer
     * words are roots (its referents stay alive) but the object itself is not
     * kept alive by them; the region (addr, size) then holds the record's
     * function pointer. 0 otherwise. */
    uint64_t object;
    /* Names, any may be NULL. global: name = Go variable ("main.Index"), or
     * ELF symbol, NULL for an unnamed word. finalizer/cleanup: name = the
     * function (runtime.FuncForPC form). stack: function, variable. */
    const char *name;
    const char *function;
    const char *variable;
    int64_t goid;          /* stack roots: goroutine id; -1 otherwise */
    /* A global word inside static data that has no symbol of its own (the
     * compiler's `var P = &T{...}`), reached through the named global `name`:
     * the static object's address and its runtime type (0 unknown). */
    uint64_t via, via_rtype;
    /* Finalizer and cleanup records: where the record holds its *funcval
     * (0: the region is that one word), and a queued finalizer's argument
     * (the object it will run on) with the type the finalizer was set with. */
    uint64_t fn_word;
    uint64_t arg, arg_rtype;
} gh_root;

typedef struct gh_roots gh_roots;

gh_roots *gh_roots_new(void); /* NULL when out of memory */
void gh_roots_free(gh_roots *rs);

/* Appends a copy of r: strings, mask and values are copied into the set, so
 * the caller's buffers may be reused. GH_EARG for a region whose size is not
 * a multiple of 8 or is over 1 GiB, GH_ENOMEM when out of memory. */
int gh_roots_add(gh_roots *rs, const gh_root *r, gh_err *err);

size_t gh_roots_count(const gh_roots *rs);
const gh_root *gh_roots_get(const gh_roots *rs, size_t i);

/* Bookkeeping a provider may report: words it could not scan and why. */
void gh_roots_note(gh_roots *rs, const char *fmt, ...);
size_t gh_roots_nnotes(const gh_roots *rs);
const char *gh_roots_get_note(const gh_roots *rs, size_t i);

/* Providers: each appends its roots to rs. A provider that cannot read part
 * of what it walks records a note (gh_roots_note) and goes on; it fails only
 * when it can give nothing trustworthy. */
struct gh_session;
int gh_roots_globals(struct gh_session *s, gh_roots *rs, gh_err *err);  /* globals.c */
int gh_roots_stacks(struct gh_session *s, gh_roots *rs, gh_err *err);   /* stackroots.c */
int gh_roots_specials(struct gh_session *s, gh_roots *rs, gh_err *err); /* specials.c */

/* All roots of the session's target, collected once and kept until the
 * target runs (roots_collect.c). */
int gh_session_roots(struct gh_session *s, const gh_roots **out, gh_err *err);

#endif
