/* Goroutines grouped by identical stacks (status, wait reason, every
 * frame's function, file and line, and where a walk stopped), as
 * `goroutines --group` shows them: the question "what are my 10,000
 * goroutines doing" answered in a few lines. */
#ifndef GOHEAP_GOROUTINE_GROUP_H
#define GOHEAP_GOROUTINE_GROUP_H

#include "goroutine/goroutine.h"

#define GH_GROUP_IDS 8 /* goroutine ids kept per group */

typedef struct gh_ggroup {
    size_t first;     /* index of its first goroutine (in allgs order) */
    uint64_t count;
    int64_t ids[GH_GROUP_IDS]; /* the lowest ids, ascending */
    size_t nids;
    int64_t min_wait, max_wait; /* wait_minutes over the members that have one; -1 none */
} gh_ggroup;

/* Groups of the goroutines gs->v[sel[0..n)], largest first (ties: first
 * seen first). Free *out with free(). */
int gh_goroutines_group(const gh_goroutines *gs, const size_t *sel, size_t n, gh_ggroup **out, size_t *ngroups,
                        gh_err *err);

#endif
