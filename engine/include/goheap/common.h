/* libgoheap: what every public header shares — the export macro, error
 * codes and the error record, and the session handle.
 *
 * Every fallible call returns GH_OK (0) or a negative GH_E* code and, when
 * its gh_err argument is not NULL, fills it with a one-line message that
 * names the problem ("core.123: truncated: segment 4 ends past the file").
 * Nothing in the library aborts, prints, or exits. */
#ifndef GOHEAP_COMMON_H
#define GOHEAP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GOHEAP_BUILDING) && defined(__GNUC__)
#define GH_API __attribute__((visibility("default")))
#else
#define GH_API
#endif

/* Error codes. New codes may be added in a minor release; treat an unknown
 * negative value as a failure with its message. */
enum {
    GH_OK = 0,
    GH_EIO = -1,       /* a file cannot be opened, read or mapped */
    GH_EFORMAT = -2,   /* input is not what it claims: not ELF, not a core, corrupt, truncated */
    GH_ENOTGO = -3,    /* not a Go program */
    GH_EVERSION = -4,  /* a Go release goheap does not support (too old, or unknown) */
    GH_EMEM = -5,      /* target memory is not readable at an address */
    GH_ENOMEM = -6,    /* out of host memory */
    GH_EARG = -7,      /* a bad argument from the caller */
    GH_EINTR = -8,     /* interrupted: the interrupt callback asked to stop */
    GH_EUNSUPP = -9,   /* not supported for this input */
    GH_ENOENT = -10,   /* no such object, type, root or goroutine */
};

/* The message of the last failure of one call. Plain data: put it on the
 * stack, pass its address, read msg when a call returned non-zero. */
typedef struct gh_err {
    int code;
    char msg[512];
} gh_err;

/* A short description of a code ("target memory not readable"). */
GH_API const char *gh_strerror(int code);

/* One open target (a core file, a live process, or a target the caller
 * supplies) with the models goheap builds from it. Opaque. */
typedef struct gh_session gh_session;

#ifdef __cplusplus
}
#endif

#endif
