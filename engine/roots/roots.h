/* GC roots: the regions of target memory the garbage collector scans before
 * anything else (data and bss, goroutine stacks, finalizer and cleanup
 * records, registers), each with a name a person understands. Providers
 * (globals.c, stackroots.c, specials.c) append regions to one set; the marker
 * (mark.c) scans them and remembers which root reached each object first. */
#ifndef GOHEAP_ROOTS_ROOTS_H
#define GOHEAP_ROOTS_ROOTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/cancel.h"
#include "base/error.h"
#include "dwarf/dwarfvars.h"
#include "goroutine/goroutine.h"
#include "heap/heap.h"
#include "pclntab/pclntab.h"
#include "runtime/runtime.h"

#include "goheap/goheap.h" /* GH_ROOT_*: the kinds */

const char *gh_root_kind_name(int kind); /* "global", "stack", ... */

/* One root region. Words are scanned at 8-byte steps from addr. */
typedef struct gh_root {
    uint8_t kind;          /* GH_ROOT_* */
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
    /* Cleanup records (mspan specials): the object the cleanup is attached
     * to. Unlike a finalizer's object nothing of it is scanned: it only
     * tells which object is pending finalization when it is unreachable
     * (graph/pending.c). 0 otherwise. */
    uint64_t owner;
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

/* Walks the pointer words of root r: the words its mask marks (every word of
 * a conservative or unmasked region), read through t (a register root's own
 * values); unreadable words are skipped, zero words included. fn gets the
 * word's index, its address (0 for a register) and its value; a non-zero
 * return stops the walk and is returned. */
typedef int (*gh_root_word_fn)(void *ctx, uint64_t index, uint64_t addr, uint64_t value);
int gh_root_each_word(const gh_root *r, const gh_target *t, gh_root_word_fn fn, void *ctx);

/* Bookkeeping a provider may report: words it could not scan and why. */
void gh_roots_note(gh_roots *rs, const char *fmt, ...);
size_t gh_roots_nnotes(const gh_roots *rs);
const char *gh_roots_get_note(const gh_roots *rs, size_t i);

/* What the providers read, handed to them by the session: the runtime model
 * (target, executable, layouts), the heap, the main module's function table
 * and the DWARF variable index. tab and dv may be NULL, with the reason in
 * tab_error and dv_error (dv_error NULL: the binary has no DWARF). */
typedef struct gh_roots_env {
    const gh_runtime *rt;
    const gh_heap *heap;
    const gh_pclntab *tab;
    const char *tab_error;
    gh_dwarf_vars *dv;
    const char *dv_error;
    gh_cancel *cc;        /* may be NULL */
} gh_roots_env;

/* Providers: each appends its roots to rs. A provider that cannot read part
 * of what it walks records a note (gh_roots_note) and goes on; it fails only
 * when it can give nothing trustworthy. */
int gh_roots_globals(const gh_roots_env *env, gh_roots *rs, gh_err *err);  /* globals.c */
int gh_roots_stacks(const gh_roots_env *env, gh_roots *rs, gh_err *err);   /* stackroots.c */
int gh_roots_specials(const gh_roots_env *env, gh_roots *rs, gh_err *err); /* specials.c */

/* All of them, in the order the marker prefers (globals, stacks, the
 * runtime's records), with progress reported to env->cc. */
int gh_roots_collect(const gh_roots_env *env, gh_roots **out, gh_err *err);

/* The pointer words of g (one of the target's goroutines), exactly the
 * words gh_roots_stacks makes roots of (stackroots.c). Free with
 * gh_gptrs_free. */
int gh_goroutine_pointers(const gh_roots_env *env, const gh_goroutine *g, gh_gptrs **out, gh_err *err);

#endif
