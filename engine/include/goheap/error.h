/* Errors: every fallible engine function returns 0 or a negative GH_E* code
 * and fills a gh_err with a one-line message that names the problem. */
#ifndef GOHEAP_ERROR_H
#define GOHEAP_ERROR_H

#include <stddef.h>

enum {
    GH_OK = 0,
    GH_EIO = -1,        /* cannot open, read or map a file */
    GH_EFORMAT = -2,    /* input is not what it claims (not ELF, not a core, corrupt) */
    GH_ENOTGO = -3,     /* not a Go program */
    GH_EVERSION = -4,   /* unsupported Go version */
    GH_EMEM = -5,       /* target memory not readable at an address */
    GH_ENOMEM = -6,     /* out of host memory */
    GH_EARG = -7,       /* bad argument from the user */
    GH_EINTR = -8,      /* interrupted by the user */
    GH_EUNSUPP = -9,    /* not implemented for this input */
};

typedef struct gh_err {
    int code;
    char msg[512];
} gh_err;

/* Sets err (if not NULL) and returns code, so callers write
 * `return gh_errorf(err, GH_EFORMAT, "...", ...);`. */
int gh_errorf(gh_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message with context ("reading core: ..."). */
int gh_err_wrap(gh_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void gh_err_clear(gh_err *err);

#endif
