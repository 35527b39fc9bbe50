/* Collects every root of a target from the providers, in the order the
 * marker visits them: globals, stacks, finalizers and cleanups.
 * Breadth-first marking makes the first root to reach an object on a
 * shortest path the one named: a variable a program declared wins a tie
 * over the runtime's records (a finalizer's argument is still in the queue
 * while the finalizer goroutine runs with it). */
#include "roots/roots.h"

int gh_roots_collect(const gh_roots_env *env, gh_roots **out, gh_err *err)
{
    *out = NULL;
    gh_roots *rs = gh_roots_new();
    if (!rs)
        return gh_errorf(err, GH_ENOMEM, "out of memory for roots");
    gh_progress(env->cc, "collecting roots", 0, 3);
    int rc = gh_roots_globals(env, rs, err);
    gh_progress(env->cc, "collecting roots", 1, 3);
    if (!rc)
        rc = gh_roots_stacks(env, rs, err);
    gh_progress(env->cc, "collecting roots", 2, 3);
    if (!rc)
        rc = gh_roots_specials(env, rs, err);
    gh_progress(env->cc, "collecting roots", 3, 3);
    if (rc) {
        gh_roots_free(rs);
        return rc;
    }
    *out = rs;
    return GH_OK;
}
