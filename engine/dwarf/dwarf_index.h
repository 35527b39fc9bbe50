/* Internal: building the DWARF name index from an open Elf. */
#ifndef GOHEAP_DWARF_DWARF_INDEX_H
#define GOHEAP_DWARF_DWARF_INDEX_H

#include <elfutils/libdw.h>
#include <libelf.h>

#include "dwarf/dwarf.h"

/* NULL when the ELF has no usable DWARF. */
gh_dwarf *gh_dwarf_index_new(Elf *elf);
void gh_dwarf_index_free(gh_dwarf *d);

/* The libdw handle behind the index (dwarfvars.c reads variables and types
 * through it), or NULL. Owned by the index. */
Dwarf *gh_dwarf_libdw(gh_dwarf *d);

#endif
