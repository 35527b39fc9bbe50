/* Internal: what goroutine.c, goroutine_globals.c and stackroots.c share. */
#ifndef GOHEAP_GOROUTINE_GOROUTINE_INT_H
#define GOHEAP_GOROUTINE_GOROUTINE_INT_H

#include "goroutine/goroutine.h"

/* &runtime.allgs from the symbol table, or found by content. */
int gh_find_allgs(const gh_runtime *rt, const gh_glayout *L, uint64_t *allgs, char *source, size_t cap,
                  gh_err *err);

/* runtime.waitReasonStrings, copied: *n strings (0 when it cannot be found;
 * reasons are then printed by number). */
int gh_read_waitreasons(const gh_runtime *rt, char ***out, size_t *n, gh_err *err);
void gh_free_waitreasons(char **v, size_t n);

#endif
