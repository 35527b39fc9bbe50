/* The main module's runtime.moduledata: where the function table, the text
 * and the data sections of the Go program are, as the linker recorded them. */
#ifndef GOHEAP_RUNTIME_MODULEDATA_H
#define GOHEAP_RUNTIME_MODULEDATA_H

#include <stdint.h>

#include "runtime/runtime.h"

/* A Go slice header without its capacity. */
typedef struct gh_slice {
    uint64_t ptr, len; /* len in elements */
} gh_slice;

typedef struct gh_moduledata {
    uint64_t addr; /* where it was read */
    uint64_t pcHeader;
    gh_slice funcnametab, cutab, filetab, pctab, pclntable, ftab;
    uint64_t findfunctab, minpc, maxpc;
    uint64_t text, etext;
    uint64_t noptrdata, enoptrdata, data, edata, bss, ebss, noptrbss, enoptrbss;
    uint64_t types, etypes, rodata, gofunc;
    gh_slice textsectmap; /* []textsect; more than one only with split text */
    /* Pointer bitmaps of [data, edata) and [bss, ebss): ptr = bytedata, len =
     * n, the number of bits (one per 8-byte word). */
    gh_slice gcdatamask, gcbssmask;
    /* The GC programs the runtime makes those bitmaps from at start
     * (progToPointerMask): in the executable, where a truncated core cannot
     * lose them. */
    uint64_t gcdata, gcbss;
    uint64_t next; /* the next module on the list, or 0 */
    const char *layout;   /* "DWARF" or "built-in" */
} gh_moduledata;

/* Reads runtime.firstmoduledata. Field offsets come from the binary's DWARF,
 * or from a built-in table for the release when it has none. */
int gh_moduledata_read(const gh_runtime *rt, gh_moduledata *md, gh_err *err);

/* Reads the moduledata at addr (a module further down the md.next list). */
int gh_moduledata_read_at(const gh_runtime *rt, uint64_t addr, gh_moduledata *md, gh_err *err);

#endif
