/* Layouts of the Go runtime's structs, read from the executable's DWARF by
 * name, so fields that move between releases are found, not assumed. */
#ifndef GOHEAP_DWARF_DWARF_H
#define GOHEAP_DWARF_DWARF_H

#include <stdint.h>

#include "base/error.h"

typedef struct gh_dwarf gh_dwarf;

typedef struct gh_field {
    uint64_t offset; /* from the start of the outermost struct */
    uint64_t size;   /* byte size of the field's type */
} gh_field;

/* Byte size of the named type ("runtime.mspan"): GH_OK, or GH_EFORMAT when
 * DWARF has no such type. These set no message: callers name what they miss. */
int gh_dwarf_type_size(gh_dwarf *d, const char *type, uint64_t *size);

/* Offset and size of a field given by a dotted path ("heapStats.stats"). */
int gh_dwarf_field(gh_dwarf *d, const char *type, const char *path, gh_field *out);

/* Number of named types indexed (for diagnostics). */
size_t gh_dwarf_ntypes(const gh_dwarf *d);

#endif
