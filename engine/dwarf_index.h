/* Internal: building the DWARF name index from an open Elf. */
#ifndef GOHEAP_DWARF_INDEX_H
#define GOHEAP_DWARF_INDEX_H

#include <libelf.h>

#include "goheap/dwarf.h"

/* NULL when the ELF has no usable DWARF. */
gh_dwarf *gh_dwarf_index_new(Elf *elf);
void gh_dwarf_index_free(gh_dwarf *d);

#endif
