/* The .go.buildinfo section: the Go version and module information the
 * linker writes into every Go 1.18+ binary, stripped ones included. */
#ifndef GOHEAP_BINARY_BUILDINFO_H
#define GOHEAP_BINARY_BUILDINFO_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct gh_buildinfo {
    int ptrsize;          /* 4 or 8 */
    int big_endian;
    char version[96];     /* "go1.25.14 X:greenteagc" */
    char path[256];       /* main package path, from the "path" line */
    char experiment[128]; /* value of "build GOEXPERIMENT=" if present */
    char buildmode[32];   /* value of "build -buildmode=" if present */
} gh_buildinfo;

/* Parses the section's bytes. Works on any byte range: lengths are checked
 * against len, and strings are truncated to the fields' sizes. */
int gh_buildinfo_parse(const uint8_t *data, size_t len, gh_buildinfo *bi, gh_err *err);

/* Reads an unsigned LEB128 varint from [*p, end); 0 on overflow or truncation. */
int gh_uvarint(const uint8_t **p, const uint8_t *end, uint64_t *out);

#endif
