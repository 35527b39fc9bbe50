/* Checks of an ELF64 executable's header tables against its file. */
#ifndef GOHEAP_BINARY_EXEHDR_H
#define GOHEAP_BINARY_EXEHDR_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* GH_EFORMAT with a message naming the header when the program or section
 * header table, a loadable segment or a section lies outside the file, or a
 * loadable segment's file offset is not its address modulo its alignment.
 * map is the whole file (size bytes), already known to be ELF64. */
int gh_exe_check_headers(const uint8_t *map, size_t size, const char *path, gh_err *err);

#endif
