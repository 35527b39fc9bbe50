/* A structure-aware fuzzer for goheap: the input is not a core but a recipe
 * of changes to runtime words of a real base core (a corpus core and its
 * executable), aimed at the structures one target exercises, so that
 * mutations reach the engine's model instead of being refused as a broken
 * ELF file at the first byte.
 *
 * The base core and executable are copied once into memory files
 * (memfd_create) that the engine opens by /proc/self/fd/N like any core;
 * each input writes its changes there, runs the target's commands on a new
 * session, and writes the original bytes back. The executable is parsed
 * once and shared by the sessions of inputs that leave it unchanged.
 *
 * A recipe is a sequence of 8-byte steps {class, op, site, arg: u8, u8, u16,
 * u32}: class picks one of the target's classes of sites (core ELF headers,
 * notes, spans, arenas, goroutines, data and bss, specials, heap objects,
 * executable sections), site one site of that class, arg an offset in it
 * and a value (op: set a word to an interesting value, flip a bit, add a
 * small delta, set a byte, copy a word from elsewhere in the site). */
#ifndef GOHEAP_FUZZ_H
#define GOHEAP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

enum {
    FZ_CORE_ELF,   /* the core's ELF header and program headers */
    FZ_CORE_NOTES, /* the core's notes: registers, auxv, NT_FILE */
    FZ_EXE_ELF,    /* the executable's ELF header and section headers */
    FZ_EXE_META,   /* the executable's pclntab, moduledata, buildinfo, symbols */
    FZ_EXE_DWARF,  /* the executable's .debug_* sections */
    FZ_HEAP,       /* mheap_, mspans, heapArenas, span bitmaps */
    FZ_ROOTS,      /* goroutines (g, stacks), data and bss, specials */
    FZ_OBJECTS,    /* heap objects: pointers, malloc headers, type descriptors */
    FZ_NCLASSES
};

/* One fuzz target: the classes its recipes change and the commands it runs
 * (ADDR in a command is replaced by a live object's address of the base). */
typedef struct fz_target {
    const char *name;
    unsigned classes;        /* 1 << FZ_* */
    const char *const *commands;
    int cut;                 /* the recipe's first step cuts the core short (a truncated copy) */
} fz_target;

extern const fz_target fz_targets[];
extern const size_t fz_ntargets;

/* Loads the base (GOHEAP_FUZZ_BASE: a directory with core and exe, or the
 * default corpus core next to the build) once. 0 on success. */
int fz_init(void);
/* Runs one recipe against a target. Never fails: whatever goheap does with
 * the changed core is fine, except crashing. */
void fz_run(const fz_target *t, const uint8_t *data, size_t size);
/* The same, hashing every command's output and error: with shared set as
 * fz_run does (the executable parsed once, when the recipe leaves it as it
 * is), or with the executable opened afresh as a user's session does. The
 * two must agree (fuzz_replay --check-shared). */
uint64_t fz_run_digest(const fz_target *t, const uint8_t *data, size_t size, int shared);
/* Sites of each class found in the base, for the campaign's log. */
size_t fz_sites(int cls);

#endif
