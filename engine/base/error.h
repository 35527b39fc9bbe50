/* Errors: every fallible engine function returns 0 or a negative GH_E* code
 * and fills a gh_err with a one-line message that names the problem. */
#ifndef GOHEAP_BASE_ERROR_H
#define GOHEAP_BASE_ERROR_H

#include <stddef.h>

#include "goheap/common.h"

/* Sets err (if not NULL) and returns code, so callers write
 * `return gh_errorf(err, GH_EFORMAT, "...", ...);`. */
int gh_errorf(gh_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message with context ("reading core: ..."). */
int gh_err_wrap(gh_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void gh_err_clear(gh_err *err);

#endif
