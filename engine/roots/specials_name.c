/* Names of finalizer and cleanup functions, as runtime.FuncForPC prints the
 * function the program passed to SetFinalizer or AddCleanup. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "roots/specials.h"

#define MAX_CLOSURE_WORDS 16

/* Name of the function entered at pc: 1 when pc is a function's entry (what
 * a funcval's first word holds), 0 otherwise. */
static int entry_name(const gh_spec_walk *w, uint64_t pc, char *buf, size_t cap, int need_entry)
{
    gh_func fn;
    if (!w->tab || gh_func_find(w->tab, pc, &fn, NULL))
        return 0;
    if (need_entry && fn.entry != pc)
        return 0;
    gh_funcname_for_print(gh_func_name(w->tab, &fn), buf, cap);
    return 1;
}

/* Go 1.24-1.25 AddCleanup passes the runtime a closure func() { cleanup(arg) }
 * (runtime.AddCleanup[...].func1). Its captured words follow the code
 * pointer in the order the body first uses them, so cleanup comes before arg
 * (and the generic dictionary, which holds type pointers, not code).
 * cleanup is captured by value in 1.24 (the word is the *funcval) and by
 * reference in 1.25 (a pointer to the *funcval: AddCleanup takes its
 * address). The first word that is a funcval, directly or through one
 * pointer, names the function the program passed. */
static int unwrap_cleanup(const gh_spec_walk *w, uint64_t fv, char *buf, size_t cap)
{
    uint64_t words = 4;
    if (w->heap) {
        gh_obj o;
        if (gh_heap_find(w->heap, fv, &o))
            words = (o.addr + o.size - fv) / 8;
    }
    if (words > MAX_CLOSURE_WORDS)
        words = MAX_CLOSURE_WORDS;
    for (uint64_t i = 1; i < words; i++) {
        uint64_t v, x, pc;
        if (gh_read_u64(w->t, fv + 8 * i, &v, NULL) || !v || gh_read_u64(w->t, v, &x, NULL))
            continue;
        if (entry_name(w, x, buf, cap, 1)) /* v is a funcval */
            return 1;
        if (x && !gh_read_u64(w->t, x, &pc, NULL) && entry_name(w, pc, buf, cap, 1)) /* v points to one */
            return 1;
    }
    return 0;
}

void gh_spec_funcval_name(const gh_spec_walk *w, uint64_t fv, int cleanup, char *buf, size_t cap)
{
    uint64_t pc;
    if (!fv) {
        snprintf(buf, cap, "nil function");
        return;
    }
    if (gh_read_u64(w->t, fv, &pc, NULL)) {
        snprintf(buf, cap, "function value 0x%" PRIx64 " (unreadable)", fv);
        return;
    }
    if (!entry_name(w, pc, buf, cap, 0)) {
        snprintf(buf, cap, "function at 0x%" PRIx64, pc);
        return;
    }
    if (cleanup && !strncmp(buf, "runtime.AddCleanup[", 19))
        unwrap_cleanup(w, fv, buf, cap); /* keeps the wrapper's name when nothing fits */
}
