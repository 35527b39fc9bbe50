/* Collects every root of a session's target from the providers, in the
 * order the marker visits them: globals, stacks, finalizers and cleanups.
 * Breadth-first marking makes the first root to reach an object on a
 * shortest path the one named: a variable a program declared wins a tie
 * over the runtime's records (a finalizer's argument is still in the queue
 * while the finalizer goroutine runs with it). */
#include "goheap/roots.h"
#include "goheap/session.h"

int gh_session_roots(gh_session *s, const gh_roots **out, gh_err *err)
{
    uint64_t gen = s->t->ops->generation ? s->t->ops->generation(s->t->ctx) : 0;
    if (s->roots && gen != s->roots_generation) {
        gh_roots_free(s->roots);
        s->roots = NULL;
    }
    if (!s->roots) {
        gh_roots *rs = gh_roots_new();
        if (!rs)
            return gh_errorf(err, GH_ENOMEM, "out of memory for roots");
        gh_session_progress(s, "collecting roots", 0, 3);
        int rc = gh_roots_globals(s, rs, err);
        gh_session_progress(s, "collecting roots", 1, 3);
        if (!rc)
            rc = gh_roots_stacks(s, rs, err);
        gh_session_progress(s, "collecting roots", 2, 3);
        if (!rc)
            rc = gh_roots_specials(s, rs, err);
        gh_session_progress(s, "collecting roots", 3, 3);
        if (rc) {
            gh_roots_free(rs);
            return rc;
        }
        s->roots = rs;
        s->roots_generation = gen;
    }
    *out = s->roots;
    return GH_OK;
}
