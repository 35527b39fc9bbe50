/* Internal: the physical-frame walker shared by the goroutine reader and the
 * stack-root scanner (runtime/traceback.go unwinder, amd64 and arm64). */
#ifndef GOHEAP_GOROUTINE_UNWIND_H
#define GOHEAP_GOROUTINE_UNWIND_H

#include "goroutine/goroutine.h"

/* A walk's start: pc and sp, whether pc is where execution stopped (a
 * signal, a thread's registers) rather than a return address, whether it
 * is a system call's saved entry (SP-writing syscall functions unwind then),
 * and on link-register machines the link register (0 unknown: the runtime's
 * lr0; a frameless innermost function returns to it). */
typedef struct gh_ustart {
    uint64_t pc, sp;
    int trap, syscall;
    uint64_t lr;
} gh_ustart;

typedef struct gh_uresult {
    size_t n;          /* frames filled */
    int truncated;     /* stopped at max frames */
    char stop[200];    /* why it stopped before a top frame; "" when it reached one */
} gh_uresult;

/* Walks frames on the stack [lo, hi) from st until a top frame (goexit,
 * mstart, sigtramp...), filling up to max frames innermost first. Every
 * read is bounds-checked; a frame that cannot be unwound ends the walk with
 * res->stop set. Never fails. */
void gh_unwind(const gh_target *t, const gh_pclntab *tab, const gh_ustart *st, uint64_t lo, uint64_t hi,
               gh_pframe *out, size_t max, gh_uresult *res);

/* The pc to look a frame's position and inlining up at: the call
 * instruction for a return address, pc itself for a trap or an entry. */
static inline uint64_t gh_pframe_sympc(const gh_pframe *f)
{
    return !f->trap && f->pc > f->fn.entry ? f->pc - 1 : f->pc;
}

#endif
