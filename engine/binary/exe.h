/* The Go executable on the host: ELF sections and symbols (libelf) and DWARF
 * (libdw). Addresses here are link-time; add the load bias for PIE. */
#ifndef GOHEAP_BINARY_EXE_H
#define GOHEAP_BINARY_EXE_H

#include <stddef.h>
#include <stdint.h>

#include "base/arch.h"
#include "base/error.h"

typedef struct gh_sym {
    uint64_t addr, size;
    const char *name; /* points into the mapped string table */
    int is_func;
} gh_sym;

typedef struct gh_section {
    const char *name;
    uint64_t addr, size, offset;
    uint64_t flags; /* SHF_* */
    int nobits;
} gh_section;

typedef struct gh_exe gh_exe;
typedef struct gh_dwarf gh_dwarf;

int gh_exe_open(const char *path, gh_exe **out, gh_err *err);
/* Drops one reference; the last frees the executable. */
void gh_exe_close(gh_exe *e);
/* One more reference to e (closed once more), for sessions that share an
 * executable already parsed (gh_session_open_exe). The executable holds no
 * target state, only the file's: its sections, symbols and DWARF index.
 * References are not atomic: share an executable within one thread. */
gh_exe *gh_exe_ref(gh_exe *e);
const char *gh_exe_path(const gh_exe *e);

/* Symbol by exact name, or NULL. Binary search over a name-sorted index. */
const gh_sym *gh_exe_sym(const gh_exe *e, const char *name);
/* The data or function symbol containing addr, or NULL. */
const gh_sym *gh_exe_sym_at(const gh_exe *e, uint64_t addr);
size_t gh_exe_nsyms(const gh_exe *e);

/* All sections, in file order. */
const gh_section *gh_exe_sections(const gh_exe *e, size_t *n);
/* Section by name, or NULL. */
const gh_section *gh_exe_section(const gh_exe *e, const char *name);
/* The section's bytes in the mapped file, or NULL (NOBITS, out of file). */
const uint8_t *gh_exe_section_data(const gh_exe *e, const gh_section *s);
uint64_t gh_exe_entry(const gh_exe *e);
/* The executable's architecture (from its ELF machine). */
const gh_arch *gh_exe_arch(const gh_exe *e);

/* DWARF of the executable, or NULL when it has none (stripped with -w). */
gh_dwarf *gh_exe_dwarf(gh_exe *e);

#endif
